"""Clip cache: one file per synthesized sentence, keyed by everything that shapes its sound.

Beside the clips it keeps each turn as leveled for the episode, so an unchanged turn is not leveled again.
It lives in a folder, or behind an fsspec URL (`s3://bucket/podcast`, `file:///shared/podcast`) that every
node of a cluster reaches: content-addressed, so nodes writing the same key write the same bytes.
"""

from __future__ import annotations

import hashlib
import re
import struct
import uuid
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, overload

from .errors import AssemblyError, ConfigError
from .files import atomic_path, default_cache_dir, writing
from .model import Clip, LeveledTurn, WordTime

_MAGIC_V1 = b"PODCLIP1"  # PCM only: still read, so caches from earlier versions stay valid
_MAGIC = b"PODCLIP2"  # PCM, then the engine's word times
_HEADER = struct.Struct("<8sIQ32s")  # magic, sample rate (Hz), PCM byte count, sha256 of everything after it
_WORD = struct.Struct("<II")  # start, end (ms)
_T = TypeVar("_T")
_TURN_MAGIC = b"PODTURN1"
_TURN_HEADER = struct.Struct("<8sdQ32s")  # magic, ceiling (dBTP), PCM byte count, sha256 of everything after it
_SPAN = struct.Struct("<QQ")  # a sentence's start, end (samples)
PAUSE_KEY = "-"  # stands for a sentence with nothing to say (a stage note such as （笑）): no clip
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")  # scheme://...: an fsspec location, not a folder


def clip_key(fingerprint: str, text: str) -> str:
    """Cache key of one sentence: the engine fingerprint (engine, version, voice, prosody) and text."""
    return hashlib.sha256(f"{fingerprint}\0{text}".encode()).hexdigest()


def turn_key(*parts: str) -> str:
    """Cache key of a leveled turn: its sentences' clip keys and how leveling is done."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def is_url(location: Path | str) -> bool:
    """Whether a cache location is an fsspec URL rather than a folder."""
    return isinstance(location, str) and _URL.match(location) is not None


class ClipCache:
    """Stores clips atomically and verifies each on read, so a torn or corrupt file is never played."""

    def __init__(self, directory: Path | str | None = None) -> None:
        root = directory or default_cache_dir()
        remote = isinstance(root, str) and is_url(root)
        self._store: _Remote | _Folder = _Remote(str(root)) if remote else _Folder(Path(root))
        # What another process or node is given to open the same cache: a URL, or this folder's absolute path.
        self.location = str(root) if remote else str(Path(root).absolute())

    def has(self, key: str) -> bool:
        """Whether a clip is stored under key (not checked: get() verifies)."""
        return self._store.exists(f"clips/{key[:2]}/{key}.clip")

    def get(self, key: str) -> Clip | None:
        """The stored clip, or None when absent or corrupt (a corrupt one is removed with a warning)."""
        return self._store.read(f"clips/{key[:2]}/{key}.clip", _decode, "synthesizing it again")

    def put(self, key: str, clip: Clip) -> None:
        """Store a clip: written to a temporary file first, then renamed into place."""
        body = clip.pcm + b"".join(_WORD.pack(w.start_ms, w.end_ms) for w in clip.words)
        header = _HEADER.pack(_MAGIC, clip.sample_rate, len(clip.pcm), hashlib.sha256(body).digest())
        self._store.write(f"clips/{key[:2]}/{key}.clip", header + body)

    def get_turn(self, key: str) -> LeveledTurn | None:
        """A turn as leveled by an earlier render, or None (a corrupt one is removed with a warning)."""
        return self._store.read(f"turns/{key[:2]}/{key}.turn", _decode_turn, "leveling it again")

    def put_turn(self, key: str, turn: LeveledTurn) -> None:
        """Store a leveled turn, atomically like a clip."""
        body = turn.pcm + b"".join(_SPAN.pack(start, end) for start, end in turn.sentence_spans)
        header = _TURN_HEADER.pack(_TURN_MAGIC, turn.ceiling_db, len(turn.pcm), hashlib.sha256(body).digest())
        self._store.write(f"turns/{key[:2]}/{key}.turn", header + body)

    def get_render(self, key: str) -> str | None:
        """What a batch noted after rendering an episode under key (a digest of its files), or None."""
        return self._store.read(f"renders/{key[:2]}/{key}.txt", _decode_note, "rendering it again")

    def put_render(self, key: str, note: str) -> None:
        """Note what rendering under key produced, so an unchanged episode is not rendered again."""
        self._store.write(f"renders/{key[:2]}/{key}.txt", note.encode())


def _decode_note(data: bytes) -> str | None:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        return None


class _Folder:
    """The cache in a folder: each entry written beside its place and renamed into it, so no reader sees half."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def read(self, name: str, decode: Callable[[bytes], _T | None], remedy: str) -> _T | None:
        path = self.root / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:  # a folder where the file should be, a cache made by another user (EACCES)...
            raise AssemblyError(
                f"{path}: cannot read the clip cache ({exc.strerror or exc}); "
                "remove that entry or fix its permissions, or set PODCAST_CACHE_DIR to another folder"
            ) from exc
        value = decode(data)
        if value is None:
            warnings.warn(f"clip cache: {path} is corrupt; {remedy}", stacklevel=3)
            path.unlink(missing_ok=True)
        return value

    def write(self, name: str, data: bytes) -> None:
        path = self.root / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            message = f"{path.parent}: cannot create the clip cache ({exc.strerror}); set PODCAST_CACHE_DIR"
            raise AssemblyError(message) from exc
        with atomic_path(path) as tmp, writing(path):
            tmp.write_bytes(data)


class _Remote:
    """The cache behind an fsspec URL: one object per entry, each put whole, so a reader never sees half of one."""

    def __init__(self, url: str) -> None:
        try:
            import fsspec
        except ImportError as exc:
            raise ConfigError(f"cache {url}: a URL cache needs fsspec; run: pip install 'podcast[ray]'") from exc
        try:
            self.fs: Any = fsspec.filesystem(url.split("://", 1)[0])
        except (ImportError, ValueError) as exc:  # s3:// without s3fs, an unknown scheme
            raise ConfigError(f"cache {url}: {exc}") from exc
        self.url = url.rstrip("/")
        self.root = self.fs._strip_protocol(self.url)
        # Local files are renamed into place; an object store's put is already all or nothing.
        self.atomic_rename = "file" in (
            self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        )

    def exists(self, name: str) -> bool:
        return bool(self.fs.exists(f"{self.root}/{name}"))

    def read(self, name: str, decode: Callable[[bytes], _T | None], remedy: str) -> _T | None:
        path = f"{self.root}/{name}"
        try:
            data = self.fs.cat_file(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AssemblyError(f"{self.url}/{name}: cannot read the clip cache ({exc})") from exc
        value = decode(data)
        if value is None:
            warnings.warn(f"clip cache: {self.url}/{name} is corrupt; {remedy}", stacklevel=3)
            self.fs.rm_file(path)
        return value

    def write(self, name: str, data: bytes) -> None:
        path = f"{self.root}/{name}"
        try:
            if not self.atomic_rename:
                self.fs.pipe_file(path, data)
                return
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            temporary = f"{path}.{uuid.uuid4().hex}.tmp"  # beside it: a rename within one folder is atomic
            self.fs.pipe_file(temporary, data)
            self.fs.mv(temporary, path)
        except OSError as exc:
            raise AssemblyError(f"{self.url}/{name}: cannot write the clip cache ({exc})") from exc


class CachedClips(Sequence["Clip | None"]):
    """A turn's clips as the cache holds them, read each time they are used.

    What synthesis hands on to assembly: an episode's clips are never all in memory at once, so a three-hour
    episode costs no more memory than a short one. Two are equal when they hold the same audio.
    """

    __slots__ = ("_cache", "keys")

    def __init__(self, cache: ClipCache, keys: Sequence[str]) -> None:
        self._cache = cache
        self.keys = tuple(keys)  # one per sentence; PAUSE_KEY where nothing is said

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> Clip | None: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Clip | None, ...]: ...
    def __getitem__(self, index: int | slice) -> Clip | None | tuple[Clip | None, ...]:
        if isinstance(index, slice):
            return tuple(self._load(key) for key in self.keys[index])
        return self._load(self.keys[index])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # equal by content, which is not kept

    def _load(self, key: str) -> Clip | None:
        if key == PAUSE_KEY:
            return None
        clip = self._cache.get(key)
        if clip is None:
            raise AssemblyError(
                f"{self._cache.location}: clip {key[:12]} left the cache while the episode was assembled; "
                "render again (nothing else is lost)"
            )
        return clip


def _decode(data: bytes) -> Clip | None:
    """Parse and verify a cache file's bytes."""
    if len(data) < _HEADER.size:
        return None
    magic, rate, size, digest = _HEADER.unpack_from(data)
    body = memoryview(data)[_HEADER.size :]  # a view: a long clip is copied once, into its Clip
    words_size = len(body) - size
    if magic not in (_MAGIC, _MAGIC_V1) or rate <= 0 or hashlib.sha256(body).digest() != digest:
        return None
    if words_size < 0 or words_size % _WORD.size or (magic == _MAGIC_V1 and words_size):
        return None
    words = tuple(WordTime(*_WORD.unpack_from(body, at)) for at in range(size, len(body), _WORD.size))
    return Clip(pcm=bytes(body[:size]), sample_rate=rate, words=words)


def _decode_turn(data: bytes) -> LeveledTurn | None:
    """Parse and verify a leveled turn's bytes."""
    if len(data) < _TURN_HEADER.size:
        return None
    magic, ceiling, size, digest = _TURN_HEADER.unpack_from(data)
    body = memoryview(data)[_TURN_HEADER.size :]
    if magic != _TURN_MAGIC or hashlib.sha256(body).digest() != digest or size > len(body) or size % 2:
        return None
    if (len(body) - size) % _SPAN.size:
        return None
    spans = tuple(_SPAN.unpack_from(body, at) for at in range(size, len(body), _SPAN.size))
    return LeveledTurn(pcm=bytes(body[:size]), sentence_spans=spans, ceiling_db=ceiling)

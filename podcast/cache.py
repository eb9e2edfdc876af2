"""Clip cache on disk: one file per synthesized sentence, keyed by everything that shapes its sound.

Beside the clips it keeps each turn as leveled for the episode, so an unchanged turn is not leveled again.
"""

from __future__ import annotations

import hashlib
import struct
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .errors import AssemblyError
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


def clip_key(fingerprint: str, text: str) -> str:
    """Cache key of one sentence: the engine fingerprint (engine, version, voice, prosody) and text."""
    return hashlib.sha256(f"{fingerprint}\0{text}".encode()).hexdigest()


def turn_key(*parts: str) -> str:
    """Cache key of a leveled turn: its sentences' clip keys and how leveling is done."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class ClipCache:
    """Stores clips atomically and verifies each on read, so a torn or corrupt file is never played."""

    def __init__(self, directory: Path | None = None) -> None:
        root = directory or default_cache_dir()
        self.directory = root / "clips"
        self.turns = root / "turns"

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.clip"

    def get(self, key: str) -> Clip | None:
        """The stored clip, or None when absent or corrupt (a corrupt one is removed with a warning)."""
        return _read(self._path(key), _decode, "synthesizing it again")

    def put(self, key: str, clip: Clip) -> None:
        """Store a clip: written to a temporary file first, then renamed into place."""
        body = clip.pcm + b"".join(_WORD.pack(w.start_ms, w.end_ms) for w in clip.words)
        header = _HEADER.pack(_MAGIC, clip.sample_rate, len(clip.pcm), hashlib.sha256(body).digest())
        _write(self._path(key), header, body)

    def get_turn(self, key: str) -> LeveledTurn | None:
        """A turn as leveled by an earlier render, or None (a corrupt one is removed with a warning)."""
        return _read(self.turns / key[:2] / f"{key}.turn", _decode_turn, "leveling it again")

    def put_turn(self, key: str, turn: LeveledTurn) -> None:
        """Store a leveled turn, atomically like a clip."""
        body = turn.pcm + b"".join(_SPAN.pack(start, end) for start, end in turn.sentence_spans)
        header = _TURN_HEADER.pack(_TURN_MAGIC, turn.ceiling_db, len(turn.pcm), hashlib.sha256(body).digest())
        _write(self.turns / key[:2] / f"{key}.turn", header, body)


def _read(path: Path, decode: Callable[[bytes], _T | None], remedy: str) -> _T | None:
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


def _write(path: Path, header: bytes, body: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        message = f"{path.parent}: cannot create the clip cache ({exc.strerror}); set PODCAST_CACHE_DIR"
        raise AssemblyError(message) from exc
    with atomic_path(path) as tmp, writing(path):
        tmp.write_bytes(header + body)


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

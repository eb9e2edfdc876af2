"""Clip cache on disk: one file per synthesized sentence, keyed by everything that shapes its sound."""

from __future__ import annotations

import hashlib
import os
import struct
import warnings
from pathlib import Path

from .errors import AssemblyError
from .files import atomic_path, writing
from .model import Clip, WordTime

_MAGIC_V1 = b"PODCLIP1"  # PCM only: still read, so caches from earlier versions stay valid
_MAGIC = b"PODCLIP2"  # PCM, then the engine's word times
_HEADER = struct.Struct("<8sIQ32s")  # magic, sample rate (Hz), PCM byte count, sha256 of everything after it
_WORD = struct.Struct("<II")  # start, end (ms)


def default_cache_dir() -> Path:
    """$PODCAST_CACHE_DIR, else $XDG_CACHE_HOME/podcast, else ~/.cache/podcast."""
    if env := os.environ.get("PODCAST_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "podcast"


def clip_key(fingerprint: str, text: str) -> str:
    """Cache key of one sentence: the engine fingerprint (engine, version, voice, prosody) and text."""
    return hashlib.sha256(f"{fingerprint}\0{text}".encode()).hexdigest()


class ClipCache:
    """Stores clips atomically and verifies each on read, so a torn or corrupt file is never played."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = (directory or default_cache_dir()) / "clips"

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.clip"

    def get(self, key: str) -> Clip | None:
        """The stored clip, or None when absent or corrupt (a corrupt one is removed with a warning)."""
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        clip = _decode(data)
        if clip is None:
            warnings.warn(f"clip cache: {path} is corrupt; synthesizing it again", stacklevel=2)
            path.unlink(missing_ok=True)
        return clip

    def put(self, key: str, clip: Clip) -> None:
        """Store a clip: written to a temporary file first, then renamed into place."""
        path = self._path(key)
        body = clip.pcm + b"".join(_WORD.pack(w.start_ms, w.end_ms) for w in clip.words)
        header = _HEADER.pack(_MAGIC, clip.sample_rate, len(clip.pcm), hashlib.sha256(body).digest())
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

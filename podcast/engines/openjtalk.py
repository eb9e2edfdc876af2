"""Open JTalk's HTS voice "mei" through pyopenjtalk-plus: offline, many times faster than real time."""

from __future__ import annotations

import asyncio
import threading
from importlib.metadata import version
from typing import ClassVar

import numpy as np

from ..errors import EngineError
from ..model import Clip, Voice

VOICES = ["mei"]


class OpenJTalkEngine:
    """Synthesizes with pyopenjtalk.tts; half_tone and speed make one voice serve several speakers."""

    name: ClassVar[str] = "openjtalk"
    concurrency: ClassVar[int] = 1  # one global HTS engine inside pyopenjtalk

    def __init__(self) -> None:
        try:
            import pyopenjtalk
        except ImportError as exc:
            raise EngineError(
                f"openjtalk engine needs pyopenjtalk-plus ({exc}); run: pip install pyopenjtalk-plus"
            ) from exc
        self._pyopenjtalk = pyopenjtalk
        self._version = version("pyopenjtalk-plus")
        self._lock = threading.Lock()  # speed/half_tone are set on the shared engine per call

    def voices(self) -> list[str]:
        return list(VOICES)

    def fingerprint(self, voice: Voice) -> str:
        return f"pyopenjtalk-plus {self._version}|{voice.name}|speed={voice.speed:g}|half_tone={voice.half_tone:g}"

    async def synthesize(self, text: str, voice: Voice) -> Clip:
        return await asyncio.to_thread(self._synthesize, text, voice)

    def reading(self, text: str) -> str:
        """The katakana Open JTalk's frontend makes of text: what tts() will say (`podcast readings`)."""
        with self._lock:
            return str(self._pyopenjtalk.g2p(text, kana=True))

    def _synthesize(self, text: str, voice: Voice) -> Clip:
        with self._lock:
            try:
                audio, rate = self._pyopenjtalk.tts(text, speed=voice.speed, half_tone=voice.half_tone)
            except Exception as exc:  # the C extension raises plain RuntimeError
                raise EngineError(f"openjtalk failed on {text[:30]!r}: {exc}") from exc
        if len(audio) == 0:
            raise EngineError(f"openjtalk produced no audio for {text[:30]!r}")
        # Output is float64 already in int16 range; loud syllables overshoot, so clip before the cast.
        pcm = np.clip(audio, -32768, 32767).astype("<i2").tobytes()
        return Clip(pcm=pcm, sample_rate=int(rate))


ENGINE = OpenJTalkEngine

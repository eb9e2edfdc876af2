"""Open JTalk's HTS voice "mei" through pyopenjtalk-plus: offline, many times faster than real time."""

from __future__ import annotations

import asyncio
import os
import queue
from importlib.metadata import version
from typing import Any, ClassVar

import numpy as np

from ..errors import EngineError
from ..model import Clip, Voice
from . import disable_onnxruntime_telemetry

VOICES = ["mei"]


class OpenJTalkEngine:
    """Synthesizes as pyopenjtalk.tts does; half_tone and speed make one voice serve several speakers."""

    name: ClassVar[str] = "openjtalk"
    # pyopenjtalk.tts shares one HTS engine behind a lock; with one engine of our own per call in flight
    # (HTS synthesis releases the GIL) every core works.
    concurrency: ClassVar[int] = os.cpu_count() or 1

    def __init__(self) -> None:
        disable_onnxruntime_telemetry()  # pyopenjtalk-plus loads onnxruntime for its reading model
        try:
            import pyopenjtalk
        except ImportError as exc:
            raise EngineError(
                f"openjtalk engine needs pyopenjtalk-plus ({exc}); run: pip install pyopenjtalk-plus"
            ) from exc
        self._pyopenjtalk = pyopenjtalk
        self._version = version("pyopenjtalk-plus")
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()  # HTS engines not in use; one made per call short

    def voices(self) -> list[str]:
        return list(VOICES)

    def fingerprint(self, voice: Voice) -> str:
        return f"pyopenjtalk-plus {self._version}|{voice.name}|speed={voice.speed:g}|half_tone={voice.half_tone:g}"

    async def synthesize(self, text: str, voice: Voice) -> Clip:
        return await asyncio.to_thread(self._synthesize, text, voice)

    def reading(self, text: str) -> str:
        """The katakana Open JTalk's frontend makes of text: what tts() will say (`podcast readings`)."""
        try:
            return str(self._pyopenjtalk.g2p(text, kana=True))
        except Exception as exc:  # the C extension raises plain RuntimeError, e.g. on text over ~8 kB
            raise EngineError(f"openjtalk cannot read {text[:30]!r}: {exc}") from exc

    def _synthesize(self, text: str, voice: Voice) -> Clip:
        from pyopenjtalk.htsengine import HTSEngine

        try:
            labels = self._pyopenjtalk.extract_fullcontext(text)  # the shared frontend locks itself
            try:
                hts = self._idle.get_nowait()
            except queue.Empty:  # synth's semaphore bounds how many are ever made
                hts = HTSEngine(self._pyopenjtalk.DEFAULT_HTS_VOICE)
            try:
                hts.set_speed(voice.speed)
                hts.add_half_tone(voice.half_tone)  # sets, despite its name
                audio, rate = hts.synthesize(labels), hts.get_sampling_frequency()
            finally:
                self._idle.put(hts)
        except Exception as exc:  # the C extension raises plain RuntimeError
            raise EngineError(f"openjtalk failed on {text[:30]!r}: {exc}") from exc
        if len(audio) == 0:
            raise EngineError(f"openjtalk produced no audio for {text[:30]!r}")
        # Output is float64 already in int16 range; loud syllables overshoot, so clip before the cast.
        pcm = np.clip(audio, -32768, 32767).astype("<i2").tobytes()
        return Clip(pcm=pcm, sample_rate=int(rate))


ENGINE = OpenJTalkEngine

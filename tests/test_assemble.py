"""Assembly: trimming, pauses, per-turn leveling, cue and chapter times, MP3 encoding."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from podcast import assemble, loudness
from podcast.errors import AssemblyError
from podcast.model import Clip, SpokenTurn, WordTime

from .audio import decode, measure_file, mix_samples
from .conftest import small_script

RATE = 24_000


def tone(ms: int, amplitude: float, *, lead_ms: int = 0, tail_ms: int = 0, hz: float = 220.0) -> Clip:
    """A clip of a tone with digital silence around it, like a TTS engine's output."""
    t = np.arange(RATE * ms // 1000) / RATE
    body = amplitude * np.sin(2 * np.pi * hz * t)
    signal = np.concatenate([np.zeros(RATE * lead_ms // 1000), body, np.zeros(RATE * tail_ms // 1000)])
    return Clip(pcm=(signal * 32767).astype("<i2").tobytes(), sample_rate=RATE)


def spoken_turns(amplitudes: tuple[float, ...] = (0.05, 0.5, 0.2, 0.9)) -> list[SpokenTurn]:
    turns = small_script().turns
    sentence_counts = [2, 1, 1, 2]
    result = []
    for turn, n, amp in zip(turns, sentence_counts, amplitudes, strict=True):
        clips = tuple(tone(800, amp, lead_ms=200, tail_ms=300, hz=200 + 50 * i) for i in range(n))
        result.append(SpokenTurn(turn, tuple(f"文{i}。" for i in range(n)), clips, fresh=True))
    return result


def test_trim_removes_silence_but_keeps_onsets() -> None:
    samples, lead_ms = assemble.trim_clip(tone(800, 0.5, lead_ms=300, tail_ms=400))
    ms = len(samples) * 1000 // assemble.SAMPLE_RATE
    assert 800 <= ms <= 800 + 2 * assemble.TRIM_KEEP_MS + 20
    assert 300 - assemble.TRIM_KEEP_MS - 10 <= lead_ms <= 300 - assemble.TRIM_KEEP_MS


def test_cues_follow_the_engines_word_times_where_it_gives_them() -> None:
    """A breath after the last word is kept in the audio but left out of the sentence's cue."""
    timed = dataclasses.replace(
        tone(800, 0.5, lead_ms=200, tail_ms=300), words=(WordTime(200, 500), WordTime(500, 700))
    )
    turns = spoken_turns()
    turns[0] = dataclasses.replace(turns[0], clips=(timed, turns[0].clips[1]))
    plain, worded = assemble.mix(small_script(), spoken_turns()), assemble.mix(small_script(), turns)
    lead_ms = assemble.trim_clip(timed)[1]
    assert abs(worded.cues[0].start_ms - (plain.cues[0].start_ms + 200 - lead_ms)) <= 1
    assert abs(worded.cues[0].end_ms - worded.cues[0].start_ms - 500) <= 1  # words run 200..700 ms, tone to 1000
    assert plain.cues[0].end_ms - plain.cues[0].start_ms >= 800  # without word times: the trimmed clip
    assert worded.cues[1:] == plain.cues[1:] and worded.duration_ms == plain.duration_ms


def test_layout_adds_exact_pauses_and_cues() -> None:
    mix = assemble.mix(small_script(), spoken_turns())
    speech = [end - start for start, end in mix.turn_spans]
    gaps = (
        assemble.LEAD_IN_MS
        + assemble.TURN_GAP_MS  # host -> sam
        + assemble.CHAPTER_GAP_MS  # chapter 2
        + assemble.TURN_GAP_MS  # host -> brad
        + assemble.TAIL_MS
    )
    expected_ms = gaps + sum(speech) * 1000 // assemble.SAMPLE_RATE
    assert abs(mix.duration_ms - expected_ms) <= 2
    assert [c.speaker for c in mix.cues] == ["聞き手", "聞き手", "サム", "聞き手", "ブラッド", "ブラッド"]
    assert mix.cues[0].start_ms == assemble.LEAD_IN_MS
    assert all(a.end_ms <= b.start_ms for a, b in zip(mix.cues, mix.cues[1:], strict=False))
    # Sentences within one turn are SENTENCE_GAP_MS apart.
    assert mix.cues[1].start_ms - mix.cues[0].end_ms in range(
        assemble.SENTENCE_GAP_MS - 1, assemble.SENTENCE_GAP_MS + 2
    )
    # Chapter 2 starts just before its first word, in the chapter pause.
    first, second = mix.chapters
    assert (first.title, first.start_ms, first.end_ms) == ("始まり", 0, second.start_ms)
    assert second.start_ms == mix.cues[3].start_ms - assemble.CHAPTER_LEAD_MS
    assert second.end_ms == mix.duration_ms


def test_every_turn_is_leveled_on_its_own() -> None:
    quiet_and_loud = assemble.mix(small_script(), spoken_turns())
    samples = mix_samples(quiet_and_loud).astype(np.float32) / 32768
    for start, end in quiet_and_loud.turn_spans:
        turn = samples[start:end]
        assert loudness.loudness(turn) == pytest.approx(loudness.TURN_TARGET_LUFS, abs=0.2)
        assert loudness.true_peak_db(turn) <= loudness.PEAK_CEILING_DBTP + 0.1
    # Changing one speaker's audio leaves every other turn's samples exactly as they were.
    changed = assemble.mix(small_script(), spoken_turns((0.05, 0.1, 0.2, 0.9)))
    for index in (0, 2, 3):
        a, b = quiet_and_loud.turn_spans[index], changed.turn_spans[index]
        assert np.array_equal(mix_samples(quiet_and_loud)[a[0] : a[1]], mix_samples(changed)[b[0] : b[1]])


def test_unspoken_sentence_becomes_a_pause_with_a_cue() -> None:
    turns = spoken_turns()
    turns[0] = SpokenTurn(turns[0].turn, ("はい。", "（笑）"), (tone(500, 0.3), None), fresh=True)
    mix = assemble.mix(small_script(), turns)
    note = mix.cues[1]
    assert note.text == "（笑）"
    assert note.end_ms - note.start_ms == assemble.UNSPOKEN_GAP_MS
    start = note.start_ms * assemble.SAMPLE_RATE // 1000
    assert not np.any(mix_samples(mix)[start : start + assemble.SAMPLE_RATE * 300 // 1000])


def test_mp3_round_trip_keeps_duration_and_loudness(tmp_path: Path) -> None:
    mix = assemble.mix(small_script(), spoken_turns())
    path = tmp_path / "e.mp3"
    assemble.encode_mp3(mix, path)
    decoded = decode(path)
    assert abs(len(decoded) * 1000 // assemble.SAMPLE_RATE - mix.duration_ms) <= 30
    measured = measure_file(path)
    assert measured["lufs"] == pytest.approx(loudness.TARGET_LUFS, abs=1.0)
    assert measured["true_peak_db"] <= -1.0


def test_encode_into_missing_folder_is_assembly_error(tmp_path: Path) -> None:
    mix = assemble.mix(small_script(), spoken_turns())
    with pytest.raises(AssemblyError, match="could not encode MP3"):
        assemble.encode_mp3(mix, tmp_path / "no" / "such" / "e.mp3")

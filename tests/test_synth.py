"""Synthesis scheduling: cache hits, resume, bounded concurrency, voice checks (FakeEngine)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from podcast.cache import ClipCache
from podcast.errors import ConfigError, EngineError
from podcast.model import Chapter, Script, Turn, Voice
from podcast.synth import SynthesisProgress, check_voices, synthesize_script
from podcast.text import estimate_ms

from .conftest import FakeEngine, small_script

VOICES = {"host": Voice("fake", "mid"), "sam": Voice("fake", "low"), "brad": Voice("fake", "high")}


def run(engine: FakeEngine, voices: dict[str, Voice] = VOICES, **options: object) -> list:  # type: ignore[type-arg]
    return asyncio.run(synthesize_script(small_script(), voices, engine, ClipCache(), **options))  # type: ignore[arg-type]


def test_every_sentence_synthesized_once_then_cached(fake_engine: FakeEngine) -> None:
    first = run(fake_engine)
    spoken = [c[0] for c in fake_engine.calls]
    # The stage note (笑) is not sent to the engine; everything else is, sentence by sentence.
    assert sorted(spoken) == sorted(
        [
            "こんにちは。",
            "今日はよろしくお願いします",
            "はい、よろしくお願いします。",
            "ブラッド、十年後はどうなっていますか?",
            "予測は苦手です。",
            "でも楽しみです。",
        ]
    )
    assert [t.fresh for t in first] == [True] * 4
    fake_engine.calls.clear()
    second = run(fake_engine)
    assert fake_engine.calls == []
    assert [t.fresh for t in second] == [False] * 4
    assert [t.clips for t in second] == [t.clips for t in first]  # a cache hit equals fresh synthesis


def test_changing_one_voice_resynthesizes_only_that_speaker(fake_engine: FakeEngine) -> None:
    run(fake_engine)
    fake_engine.calls.clear()
    result = run(fake_engine, {**VOICES, "host": dataclasses.replace(VOICES["host"], speed=1.2)})
    assert [t.fresh for t in result] == [True, False, True, False]
    assert {voice for _, voice in fake_engine.calls} == {"mid"}


def test_concurrency_is_bounded_and_progress_reported(fake_engine: FakeEngine) -> None:
    seen: list[SynthesisProgress] = []
    run(fake_engine, concurrency=1, progress=seen.append)
    assert fake_engine.max_in_flight == 1
    spoken = ["こんにちは。", "今日はよろしくお願いします", "はい、よろしくお願いします。"]  # （笑） weighs nothing
    spoken += ["ブラッド、十年後はどうなっていますか?", "予測は苦手です。", "でも楽しみです。"]
    total = sum(estimate_ms(s) for s in spoken)
    assert seen[0] == SynthesisProgress(0, total, 0, 0, 4)
    assert seen[-1] == SynthesisProgress(total, total, total, 4, 4)
    assert [p.done_ms for p in seen] == sorted(p.done_ms for p in seen)
    assert [p.turns_done for p in seen] == sorted(p.turns_done for p in seen)


def test_turns_count_as_done_with_their_last_sentence(fake_engine: FakeEngine) -> None:
    """From the cache every sentence finishes before the first turn would be gathered: the count must not wait."""
    run(fake_engine)
    seen: list[SynthesisProgress] = []
    run(fake_engine, progress=seen.append)
    assert any(p.turns_done > 0 and p.done_ms < p.total_ms for p in seen), [(p.done_ms, p.turns_done) for p in seen]
    assert [p.turns_done for p in seen] == sorted(p.turns_done for p in seen)
    assert seen[-1].turns_done == seen[-1].turns


def test_progress_weighs_speech_not_turns(fake_engine: FakeEngine) -> None:
    # One long turn and three one-word turns: after the long one, most of the work is done, not a quarter.
    long = Turn("host", "今日はパン屋の朝の仕事について、仕込みから焼き上がりまで順番に詳しく伺います。" * 3)
    short = [Turn("sam", "はい。"), Turn("host", "ええ。"), Turn("sam", "どうぞ。")]
    script = Script("重さの試験", small_script().speakers, (Chapter("一", (long, *short)),))
    seen: list[SynthesisProgress] = []
    asyncio.run(synthesize_script(script, VOICES, fake_engine, ClipCache(), concurrency=1, progress=seen.append))
    after_long = next(p for p in seen if p.turns_done == 1)
    assert after_long.done_ms / after_long.total_ms > 0.9
    assert seen[-1].fresh_ms == seen[-1].total_ms  # all synthesized now: the ETA's throughput counts all of it
    again: list[SynthesisProgress] = []
    asyncio.run(synthesize_script(script, VOICES, fake_engine, ClipCache(), progress=again.append))
    assert again[-1].done_ms == again[-1].total_ms and again[-1].fresh_ms == 0  # from the cache: took no time


def test_engine_failure_names_the_turn(fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(text: str, voice: Voice) -> None:
        raise EngineError("service said no")

    monkeypatch.setattr(fake_engine, "synthesize", broken)
    with pytest.raises(EngineError, match=r"turn at line 1: service said no"):
        run(fake_engine)


def test_missing_voice_and_unknown_voice_are_config_errors(fake_engine: FakeEngine) -> None:
    with pytest.raises(ConfigError, match="speaker 'brad' has no voice"):
        run(fake_engine, {"host": VOICES["host"], "sam": VOICES["sam"]})
    with pytest.raises(ConfigError, match=r"v.yaml: speaker 'sam': fake has no voice 'lo' \(did you mean 'low'\?\)"):
        check_voices(fake_engine, {"sam": Voice("fake", "lo")}, source="v.yaml")


def test_interrupted_run_resumes_from_the_cache(
    fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = fake_engine.synthesize
    calls = 0

    async def dies_on_the_fourth(text: str, voice: Voice) -> object:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise KeyboardInterrupt  # what Ctrl-C looks like inside the event loop
        return await real(text, voice)

    monkeypatch.setattr(fake_engine, "synthesize", dies_on_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        run(fake_engine, concurrency=1)
    monkeypatch.setattr(fake_engine, "synthesize", real)
    fake_engine.calls.clear()
    resumed = run(fake_engine)
    assert len(fake_engine.calls) == 6 - 3  # the three finished sentences came from the cache
    uninterrupted = asyncio.run(synthesize_script(small_script(), VOICES, FakeEngine(), ClipCache(tmp_path)))
    assert [t.clips for t in uninterrupted] == [t.clips for t in resumed]


def test_markdown_in_a_turn_is_neither_read_out_nor_captioned(fake_engine: FakeEngine) -> None:
    script = small_script()
    first = script.chapters[0]
    marked = dataclasses.replace(first.turns[1], text="**はい**、[資料](https://example.com/a.pdf)を見ました。")
    script = dataclasses.replace(
        script, chapters=(dataclasses.replace(first, turns=(first.turns[0], marked)), *script.chapters[1:])
    )
    spoken = asyncio.run(synthesize_script(script, VOICES, fake_engine, ClipCache()))
    assert ("はい、資料を見ました。", "low") in fake_engine.calls
    assert spoken[1].sentences == ("はい、資料を見ました。",)  # what the captions show

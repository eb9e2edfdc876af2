"""The edge engine against a local server speaking the edge-tts protocol, with edge-tts itself unchanged."""

from __future__ import annotations

import asyncio
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import edge_tts
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydub import AudioSegment
from typer.testing import CliRunner

from podcast import assemble, engines
from podcast.cache import ClipCache
from podcast.cli import app
from podcast.engines import edge
from podcast.engines.edge import (
    REQUEST_BYTES,
    batch_sizes,
    reaches_text_end,
    request_bytes,
    request_text,
    split_answer,
    split_for_service,
    truncation,
    word_owners,
)
from podcast.errors import EngineError
from podcast.model import SpokenTurn, Voice, WordTime
from podcast.text import split_sentences

from .conftest import E2E, REPO
from .edge_server import (
    BREATH_MS,
    CUT_PLACES,
    MS_PER_CHAR,
    Answer,
    FakeEdge,
    Ordering,
    answer,
    edge_tts_pointed_at,
    fake_speech,
)

NANAMI = Voice(engine="edge", name="ja-JP-NanamiNeural")
# Invented text for the protocol tests: kana, kanji, punctuation and, in the mixed set, what XML escapes.
JAPANESE = "あいうえおかきくけこさしすはまよらりるれろをんアイカキーッ今日明天気料理星宇宙話。、！？「」…（）　"
MIXED = JAPANESE + "ABCxyz0129ＡＢ１２ &<>\"'.,!?-"
TEXTS = (
    st.one_of(
        st.text(alphabet=st.sampled_from(JAPANESE), min_size=1, max_size=60),
        st.text(alphabet=st.sampled_from(MIXED), min_size=1, max_size=60),
    )
    .map(str.strip)
    .filter(bool)
)  # edge-tts strips what it sends


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEdge]:
    """A FakeEdge that edge-tts talks to; fast timeouts and backoff so the retry tests take a second."""
    fake = FakeEdge()
    fake.start()
    monkeypatch.setenv("PODCAST_EDGE_TIMEOUT", "5")
    monkeypatch.setenv("PODCAST_EDGE_RETRIES", "8")
    monkeypatch.setenv("PODCAST_EDGE_BACKOFF", "0.01")
    engines.unregister("edge")  # a fresh instance; _load_builtins' setdefault would not restore it
    from podcast.engines.edge import EdgeEngine

    engines.register("edge", EdgeEngine)
    try:
        with edge_tts_pointed_at(fake.url):
            yield fake
    finally:
        fake.stop()


def render(output: Path, *extra: str) -> tuple[int, str, dict[str, object]]:
    result = CliRunner().invoke(app, ["render", str(E2E), "-o", str(output), "--engine", "edge", "--json", *extra])
    summary = json.loads(result.stdout) if result.exit_code == 0 else {}
    return result.exit_code, result.stderr, summary


def test_episode_renders_through_the_local_service(server: FakeEdge, tmp_path: Path) -> None:
    code, err, summary = render(tmp_path / "out")
    assert code == 0, err
    assert summary["engine"] == "edge"
    voices = {voice for voice, _ in server.texts}
    assert voices == {
        "Microsoft Server Speech Text to Speech Voice (ja-JP, NanamiNeural)",
        "Microsoft Server Speech Text to Speech Voice (ja-JP, KeitaNeural)",
    }
    # One request per speaker's stretch of speech: the host's two sentences of the first turn go together.
    assert "今日はよろしくお願いします。星野さん、宇宙で料理を始めたきっかけは何ですか？" in {
        t for _, t in server.texts
    }
    audio = AudioSegment.from_file(io.BytesIO(Path(str(summary["audio"])).read_bytes()), format="mp3", codec="mp3")
    spoken_ms = MS_PER_CHAR * sum(len(text) for _, text in server.texts)
    assert len(audio) > spoken_ms * 0.8  # every sentence's tone made it into the mix
    vtt = Path(str(summary["transcript_vtt"])).read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and "<v 星野>よろしくお願いします。" in vtt


def test_cue_times_come_from_the_word_boundaries(server: FakeEdge, tmp_path: Path) -> None:
    """Each sentence's cue spans its words, cut out of its request's answer; the breath after them is not captioned."""
    code, err, summary = render(tmp_path / "out")
    assert code == 0, err
    spoken = {text: MS_PER_CHAR * len(text) for _, text in server.texts}
    vtt = Path(str(summary["transcript_vtt"])).read_text(encoding="utf-8")
    cues = re.findall(r"(\d+):(\d\d):(\d\d)\.(\d{3}) --> (\d+):(\d\d):(\d\d)\.(\d{3})\n<v [^>]+>(.+)", vtt)
    checked = 0
    for *times, text in cues:
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, times)
        length = (h2 - h1) * 3_600_000 + (m2 - m1) * 60_000 + (s2 - s1) * 1000 + ms2 - ms1
        if any(text in request for request in spoken):  # sentences the lexicon left alone reach the server as written
            assert abs(length - MS_PER_CHAR * len(text)) <= 30, (text, length)
            checked += 1
    assert checked >= 7 and len(spoken) < checked  # sentences of batched requests, each with its own cue
    audio = AudioSegment.from_file(io.BytesIO(Path(str(summary["audio"])).read_bytes()), format="mp3", codec="mp3")
    assert len(audio) > sum(spoken.values()) + len(spoken) * BREATH_MS * 0.8  # breaths are in the audio


def test_word_times_of_a_split_sentence_run_on_across_its_pieces(server: FakeEdge) -> None:
    text = "あ" * 400 + "。"  # 1203 bytes: sent as two requests
    clip = asyncio.run(engines.get_engine("edge").synthesize(text, Voice(engine="edge", name="ja-JP-NanamiNeural")))
    assert len(server.texts) == 2
    starts = [word.start_ms for word in clip.words]
    assert starts == sorted(starts) and len(starts) == len(set(starts)) == 201
    # Each decoded piece outlasts its words by the codec delay and frame rounding (~30 ms).
    assert abs(clip.words[-1].end_ms - (clip.duration_ms - BREATH_MS)) <= 2 * 30


def test_one_request_per_speakers_stretch_of_speech(server: FakeEdge, tmp_path: Path) -> None:
    """A speaker's consecutive sentences go in one request: the guest's two turns in a row are one; a stage
    note is not sent; a chapter heading starts a new request even for the same speaker."""
    code, err, _ = render(tmp_path / "out", "--concurrency", "1")
    assert code == 0, err
    assert [text for _, text in server.texts] == [
        "今日はよろしくお願いします。星野さん、宇宙で料理を始めたきっかけは何ですか？",
        "よろしくお願いします。子供の頃から星と料理が好きでした。宇宙食は味が薄いと聞いて、何とかしたいと思ったんです",
        "それは面白いですね。",
        "これからの夢を教えてください。",
        "月面に小さな食堂を開きたいです。地球が見える窓際の席を用意します。",
    ]


def test_a_changed_sentence_re_requests_only_its_request(server: FakeEdge, tmp_path: Path) -> None:
    source = tmp_path / "talk.txt"
    source.write_text(E2E.read_text(encoding="utf-8"), encoding="utf-8")
    args = ["render", str(source), "--engine", "edge", "--json"]
    first = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "one")])
    assert first.exit_code == 0, first.stderr
    server.texts.clear()
    source.write_text(source.read_text(encoding="utf-8").replace("席を用意", "席も用意"), encoding="utf-8")
    second = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "two")])
    assert second.exit_code == 0, second.stderr
    assert server.texts == [(server.texts[0][0], "月面に小さな食堂を開きたいです。地球が見える窓際の席も用意します。")]
    summaries = [json.loads(result.stdout) for result in (first, second)]
    assert summaries[1]["clips_synthesized"] == 1  # one turn
    vtts = [Path(str(summary["transcript_vtt"])).read_text(encoding="utf-8") for summary in summaries]
    assert vtts[1] == vtts[0].replace("席を用意", "席も用意")  # every other cue where it was


def test_a_cut_batched_answer_retries_the_whole_request(server: FakeEdge, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut anywhere that loses speech, a batched request is asked again whole, and its clips come out as clean."""
    texts = ["今日は晴れです。", "明日の天気を教えてください。", "星が見えるといいですね！"]
    engine = engines.get_engine("edge")
    clean = asyncio.run(engine.synthesize_batch(texts, NANAMI))  # type: ignore[attr-defined]
    assert len(server.texts) == 1
    faults = ["truncate@after-audio", "drop@in-audio", "truncate@in-batch", "drop@after-batch", "truncate"]
    server.faults = list(faults)
    server.texts.clear()
    clips = asyncio.run(engine.synthesize_batch(texts, NANAMI))  # type: ignore[attr-defined]
    assert server.served == faults and server.texts == [(server.texts[0][0], "".join(texts))]
    assert all(not planned.whole(cut) for _, planned, cut in server.cuts)
    assert clips == clean


def test_a_batched_answer_is_cut_into_sentence_clips_at_their_words(server: FakeEdge) -> None:
    texts = ["はい。", "そうですね、ＡＩ＆料理の話です。", "Q&Aはこちら。"]
    clips = asyncio.run(engines.get_engine("edge").synthesize_batch(texts, NANAMI))  # type: ignore[attr-defined]
    alone = [asyncio.run(engines.get_engine("edge").synthesize(text, NANAMI)) for text in texts]
    for text, clip, single in zip(texts, clips, alone, strict=True):
        assert clip.words[0].start_ms == 0  # each clip starts at its first word
        assert clip.words[-1].end_ms == MS_PER_CHAR * len(text)  # and its words span the sentence
        assert [(w.start_ms, w.end_ms) for w in clip.words] == [(w.start_ms, w.end_ms) for w in single.words]
    assert sum(len(clip.pcm) for clip in clips[:-1]) == 2 * 24 * MS_PER_CHAR * len("".join(texts[:-1]))
    assert clips[-1].duration_ms >= clips[-1].words[-1].end_ms + BREATH_MS  # the breath stays with the last


def test_a_stretch_longer_than_one_request_is_sent_in_requests_edge_tts_does_not_split(server: FakeEdge) -> None:
    texts = [f"{n}番目の文では、A&Bとその先を少し長めに話します。" for n in range(60)]  # & is 5 bytes once escaped
    engine = engines.get_engine("edge")
    sizes = engine.batches(texts)  # type: ignore[attr-defined]
    assert len(sizes) == 2 and sum(sizes) == len(texts)
    start = 0
    for size in sizes:
        clips = asyncio.run(engine.synthesize_batch(texts[start : start + size], NANAMI))  # type: ignore[attr-defined]
        assert len(clips) == size
        start += size
    assert [text for _, text in server.texts] == [request_text(texts[: sizes[0]]), request_text(texts[sizes[0] :])]
    assert all(request_bytes(text) <= REQUEST_BYTES for _, text in server.texts)


# Sentences as synthesize_script batches them: each with something to say.
SPEAKABLE = TEXTS.filter(lambda text: any(char.isalnum() for char in text))
SENTENCES = st.lists(SPEAKABLE.map(lambda text: text + "。"), min_size=1, max_size=6)


@given(texts=st.lists(st.text(alphabet=st.sampled_from(MIXED), min_size=1, max_size=400), max_size=30))
@settings(max_examples=200, deadline=None)
def test_batches_fill_requests_up_to_the_limit_edge_tts_keeps_whole(texts: list[str]) -> None:
    sizes = batch_sizes(texts, 1000)
    assert sum(sizes) == len(texts) and all(sizes)
    start = 0
    for size in sizes:
        group = texts[start : start + size]
        assert size == 1 or request_bytes(request_text(group)) <= 1000
        if start + size < len(texts):  # as many as fit
            assert request_bytes(request_text(texts[start : start + size + 1])) > 1000
        start += size
    start = 0
    for size in batch_sizes(texts):  # at the real limit, edge-tts sends each batch as it is, in one request
        text = request_text(texts[start : start + size])
        start += size
        if size > 1 or request_bytes(text) <= REQUEST_BYTES:  # (one sentence alone is never that long)
            chunks = list(edge_tts.communicate.split_text_by_byte_length(escape(text), REQUEST_BYTES))
            assert len(chunks) <= 1


@pytest.mark.parametrize(
    ("texts", "spoken", "owners"),
    [
        (["はい。", "そうです。"], ["はい", "そう", "です"], [0, 1, 1]),
        (["はい。", "そうです。"], ["はい", "。", "そう", "です", "。"], [0, 0, 1, 1, 1]),  # punctuation: spoken before
        (["二〇二六年。", "晴れ。"], ["2026年", "晴れ"], [0, 1]),  # a reworded word: the first letter not yet said
        (["今日は", "二〇二六年。"], ["今日", "は", "2026年"], [0, 0, 1]),  # one starting a sentence
        (["はい、はい。", "はい。"], ["はい", "はい", "はい"], [0, 0, 1]),
        (["ＡＩ。", "ok"], ["ai", "OK"], [0, 1]),
    ],
)
def test_each_word_of_a_batched_answer_belongs_to_its_sentence(
    texts: list[str], spoken: list[str], owners: list[int]
) -> None:
    assert word_owners(texts, spoken) == owners


def test_split_answer_cuts_between_sentences_and_keeps_every_sample() -> None:
    pcm = bytes(range(256)) * 24  # 6144 bytes: 128 ms at 24 kHz
    words = (WordTime(0, 30), WordTime(30, 50), WordTime(70, 100), WordTime(100, 120))
    clip = edge.Clip(pcm=pcm, sample_rate=24_000, words=words)
    first, second = split_answer(clip, [0, 0, 1, 1], 2) or []
    assert first.pcm + second.pcm == pcm
    assert first.duration_ms == 60  # midway in the pause from 50 to 70 ms
    assert first.words == words[:2] and second.words == (WordTime(10, 40), WordTime(40, 60))
    assert split_answer(clip, [0, 0, 0, 0], 2) is None  # a sentence without a word cannot be placed


@given(texts=SENTENCES, seed=st.integers(0, 2**16), ordering=st.sampled_from(["interleaved", "boundaries-first"]))
@settings(max_examples=200, deadline=None)
def test_no_cut_batched_answer_is_accepted_and_a_whole_one_splits(
    texts: list[str], seed: int, ordering: Ordering
) -> None:
    """The truncation check on a request of several sentences: accepted exactly when all of them came."""
    text = request_text(texts)
    planned = answer(text, fake_speech(text, "voice", "+0Hz"), ordering=ordering, seed=seed)
    verdicts = [judged_whole(text, planned, count) for count in range(len(planned.messages) + 1)]
    assert verdicts == [planned.whole(count) for count in range(len(planned.messages) + 1)]
    owners = word_owners(texts, [word.text for word in planned.words])
    assert sorted(set(owners)) == list(range(len(texts)))  # every sentence found, so the answer can be cut


def test_turns_leveled_while_requests_are_out_make_the_same_episode(
    server: FakeEdge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each turn is leveled as soon as its clips are in (the CPU waits on the service anyway): same bytes as after."""
    leveled: list[str] = []
    level_ahead = assemble.level_ahead

    def counted(turn: SpokenTurn, cache: ClipCache) -> None:
        leveled.append(turn.key)
        level_ahead(turn, cache)

    monkeypatch.setattr(assemble, "level_ahead", counted)
    code, err, ahead = render(tmp_path / "ahead", "--concurrency", "1")
    assert code == 0, err
    assert len(leveled) == 6  # every turn, each once
    monkeypatch.setattr(assemble, "level_ahead", lambda turn, cache: None)
    monkeypatch.setenv("PODCAST_CACHE_DIR", str(tmp_path / "cache2"))
    code, err, after = render(tmp_path / "after", "--concurrency", "1")
    assert code == 0, err
    for name in ("audio", "transcript_vtt", "chapters_json"):
        assert Path(str(ahead[name])).read_bytes() == Path(str(after[name])).read_bytes(), name


def test_concurrency_cap_is_observed_by_the_server(server: FakeEdge, tmp_path: Path) -> None:
    server.latency_s = 0.2
    code, err, _ = render(tmp_path / "out", "--concurrency", "3")
    assert code == 0, err
    assert server.max_active == 3


@pytest.mark.parametrize("ordering", ["interleaved", "boundaries-first"])
def test_every_fault_is_retried_and_the_episode_equals_a_clean_run(
    server: FakeEdge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ordering: Ordering
) -> None:
    """Every kind of fault, streams cut at every place that loses speech or nothing: the same bytes as a clean run."""
    server.ordering = ordering
    code, err, clean = render(tmp_path / "clean")
    assert code == 0, err
    monkeypatch.setenv("PODCAST_CACHE_DIR", str(tmp_path / "cache2"))  # synthesize everything again
    monkeypatch.setenv("PODCAST_EDGE_TIMEOUT", "2")  # the stalled request's wait
    # A cut in the breath after the last word keeps every word and is accepted with less breath: not here.
    places = [p for p in CUT_PLACES if p != "in-breath" and (ordering == "interleaved" or p != "after-audio")]
    cuts = [f"{kind}@{place}" for kind in ("drop", "truncate") for place in places] + ["drop", "truncate"]
    faults = ["403", "429", "500", "503", "noaudio", "stall", *cuts]
    server.faults = list(faults)
    code, err, faulty = render(tmp_path / "faulty")
    assert code == 0, err
    assert sorted(server.served) == sorted(faults)
    assert sorted(fault for fault, _, _ in server.cuts) == sorted(cuts)
    for fault, planned, count in server.cuts:  # every cut lost speech, but the one just before turn.end
        assert planned.whole(count) is fault.endswith("@before-end"), fault
    assert Path(str(faulty["audio"])).read_bytes() == Path(str(clean["audio"])).read_bytes()
    clean_vtt = Path(str(clean["transcript_vtt"])).read_text(encoding="utf-8")
    assert Path(str(faulty["transcript_vtt"])).read_text(encoding="utf-8") == clean_vtt


def test_a_stream_cut_on_every_try_fails_naming_the_sentence(
    server: FakeEdge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODCAST_EDGE_RETRIES", "1")
    server.faults = ["truncate@after-audio"] * 2
    code, err, _ = render(tmp_path / "out", "--concurrency", "1", "-q")
    assert code == 2
    assert re.fullmatch(
        r"Error: .*e2e_interview\.txt: turn at line 4: edge-tts failed 2 times on '今日はよろしくお願いします。.*': "
        r"truncated answer: the words stop at '.+', before the end of the text \(check the network, then rerun\)\n",
        err,
    ), err
    assert [fault for fault, _, _ in server.cuts] == server.served == ["truncate@after-audio"] * 2


def test_a_cut_in_the_breath_keeps_every_word_and_is_accepted(server: FakeEdge) -> None:
    """What the engine cannot see: after the last word's audio only the breath is lost, and it is accepted."""
    text = "明日の天気を教えてください。"
    clean = asyncio.run(engines.get_engine("edge").synthesize(text, NANAMI))
    planned = answer(text, fake_speech(text, "voice", "+0Hz"))
    count = planned.cuts("in-breath")[0]
    assert planned.whole(count) and len(planned.sent(count)[1]) < len(planned.sent(len(planned.messages))[1])
    server.faults = [f"truncate@{count}"]
    clip = asyncio.run(engines.get_engine("edge").synthesize(text, NANAMI))
    assert [cut for _, _, cut in server.cuts] == [count]
    assert clip.words == clean.words
    assert clip.words[-1].end_ms <= clip.duration_ms < clean.duration_ms


def test_stalled_server_times_out_naming_the_turn(
    server: FakeEdge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODCAST_EDGE_TIMEOUT", "0.3")
    monkeypatch.setenv("PODCAST_EDGE_RETRIES", "1")
    server.faults = ["stall"] * 100
    code, err, _ = render(tmp_path / "out", "--concurrency", "1")
    assert code == 2
    assert re.fullmatch(
        r"(Synthesizing: 0% of [0-9:]+ of speech \(0/6 turns\)\n)?"
        r"Error: .*e2e_interview\.txt: turn at line \d+: edge-tts failed 2 times on '.+': "
        r"no answer within 0\.3 s \(check the network, then rerun\)\n",
        err,
    ), err


def test_a_failed_render_keeps_its_clips_and_the_rerun_finishes_the_rest(
    server: FakeEdge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err, clean = render(tmp_path / "clean", "--concurrency", "1")
    assert code == 0, err
    requests = len(server.texts)
    monkeypatch.setenv("PODCAST_CACHE_DIR", str(tmp_path / "cache2"))
    monkeypatch.setenv("PODCAST_EDGE_RETRIES", "1")
    server.texts.clear()
    server.faults = ["", "", "500", "500"]  # two requests answered, then the service fails both tries of the third
    code, err, _ = render(tmp_path / "out", "--concurrency", "1", "-q")
    assert code == 2
    assert re.fullmatch(
        r"Error: .*: turn at line \d+: edge-tts failed 2 times on '.+': service answered HTTP 500 .*\n", err
    )
    assert len(server.texts) == 2
    made = sum(len(split_sentences(text)) for _, text in server.texts)
    assert len(list((tmp_path / "cache2" / "clips").rglob("*.clip"))) == made == 5  # finished work is kept
    assert not list((tmp_path / "out").rglob("*.mp3"))  # and no partial episode
    code, err, resumed = render(tmp_path / "out")
    assert code == 0, err
    assert len(server.texts) == requests  # only the requests still missing were made
    assert Path(str(resumed["audio"])).read_bytes() == Path(str(clean["audio"])).read_bytes()


def test_repeated_403_is_retried(server: FakeEdge, tmp_path: Path) -> None:
    server.faults = ["403", "403", "403"]  # edge-tts retries a 403 once itself (clock skew); ours goes on
    code, err, _ = render(tmp_path / "out", "--concurrency", "1")
    assert code == 0, err
    assert server.served == ["403", "403", "403"]


def test_client_errors_fail_at_once(server: FakeEdge, tmp_path: Path) -> None:
    server.faults = ["404", "404"]
    code, err, _ = render(tmp_path / "out", "--concurrency", "1", "-q")
    assert code == 2
    assert server.served == ["404"]
    assert err.endswith(": turn at line 4: edge-tts: service answered HTTP 404 Invalid response status\n"), err


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("短い。", 1000, ["短い。"]),
        ("一文目。二文目。三文目。", 24, ["一文目。二文目。", "三文目。"]),
        ("あいうえおかきくけこ", 12, ["あいうえ", "おかきく", "けこ"]),
        ("", 1000, []),
    ],
)
def test_long_text_is_split_at_sentence_ends_under_the_byte_limit(text: str, limit: int, expected: list[str]) -> None:
    pieces = split_for_service(text, limit)
    assert pieces == expected
    assert all(len(piece.encode("utf-8")) <= limit for piece in pieces)


@pytest.mark.parametrize(
    ("text", "spoken", "reached"),
    [
        ("今日はいい天気。", ["今日", "は", "いい", "天気"], True),
        ("今日はいい天気。", ["今日", "は", "いい"], False),
        ("はい、はい。", ["はい"], False),  # the text's last word, but said once, not twice
        ("はい、はい。", ["はい", "、", "はい", "。"], True),  # punctuation boundaries say nothing
        ("  そうですね……！ ", ["そう", "です", "ね"], True),
        ("ＡＩの話です", ["ai", "の", "話", "です"], True),  # width and case
        ("Q&A、どうぞ", ["Q&A", "どうぞ"], True),
        ("Don't stop", ["Don&apos;t", "stop"], True),  # an escape edge-tts leaves in
        ("二〇二六年の話", ["2026年", "の", "話"], True),  # a reworded word is passed over
        ("二〇二六年の話", ["2026年", "の"], False),
        ("はい。", [], False),
        ("（……）", [], True),  # nothing to say
    ],
)
def test_the_words_reach_the_end_of_the_text(text: str, spoken: list[str], reached: bool) -> None:
    assert reaches_text_end(text, spoken) is reached


def test_truncation_says_what_is_missing() -> None:
    words = [WordTime(100, 300), WordTime(300, 500)]
    assert truncation("今日は晴れ。", ["今日", "は晴れ"], words, 6 * 500) is None
    assert truncation("今日は晴れ。", ["今日", "は晴れ"], words, 6 * 499) == (
        "truncated audio (499 ms, words run to 500 ms)"
    )
    assert truncation("今日は晴れ。", ["今日", "は"], words, 6 * 800) == (
        "truncated answer: the words stop at 'は', before the end of the text"
    )
    assert truncation("今日は晴れ。", [], [], 6 * 800) == "truncated answer: no word boundaries came with the audio"


def test_a_cut_after_a_phrase_leaves_words_and_audio_ending_together() -> None:
    """The real ordering's trap: judged by audio against the last word alone, this cut answer looks whole."""
    text = "宇宙で料理を始めたきっかけは何ですか？"
    planned = answer(text, fake_speech(text, "voice", "+0Hz"))
    count = planned.cuts("after-audio")[0]
    words, audio = planned.sent(count)
    assert len(audio) // edge.MP3_BYTES_PER_MS >= words[-1].end_ms  # the audio check alone passes
    assert not planned.whole(count)
    reason = truncation(text, [w.text for w in words], [WordTime(0, w.end_ms) for w in words], len(audio))
    assert reason == f"truncated answer: the words stop at {words[-1].text!r}, before the end of the text"


def judged_whole(text: str, planned: Answer, count: int) -> bool:
    """Whether the engine accepts what a client has after count messages: audio, and no truncation."""
    words, audio = planned.sent(count)
    times = [WordTime(word.offset // 10_000, word.end_ms) for word in words]
    return bool(audio) and truncation(text, [word.text for word in words], times, len(audio)) is None


@given(text=TEXTS, seed=st.integers(0, 2**16), ordering=st.sampled_from(["interleaved", "boundaries-first"]))
@settings(max_examples=300, deadline=None)
def test_no_cut_answer_is_accepted_and_no_whole_one_rejected(text: str, seed: int, ordering: Ordering) -> None:
    """Every cut point of the answers the fake service sends: accepted exactly when all the speech came."""
    planned = answer(text, fake_speech(text, "voice", "+0Hz"), ordering=ordering, seed=seed)
    verdicts = [judged_whole(text, planned, count) for count in range(len(planned.messages) + 1)]
    assert verdicts == [planned.whole(count) for count in range(len(planned.messages) + 1)]
    assert verdicts[-2:] == [True, True]  # cut just before turn.end, and not cut at all


@given(text=TEXTS, where=st.floats(0, 1), kind=st.sampled_from(["drop", "truncate"]))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_real_client_accepts_a_cut_stream_only_when_all_speech_came(
    server: FakeEdge, monkeypatch: pytest.MonkeyPatch, text: str, where: float, kind: str
) -> None:
    monkeypatch.setenv("PODCAST_EDGE_RETRIES", "0")
    count = round(where * (len(answer(text, fake_speech(text, "voice", "+0Hz")).messages) - 1))
    server.faults = [f"{kind}@{count}"]
    server.cuts.clear()
    try:
        clip = asyncio.run(engines.get_engine("edge").synthesize(text, NANAMI))
    except EngineError as exc:
        ((_, planned, cut),) = server.cuts
        assert not planned.whole(cut), str(exc)
        assert re.search(r": (truncated (answer|audio)|NoAudioReceived)", str(exc)), exc
    else:
        ((_, planned, cut),) = server.cuts
        assert planned.whole(cut)
        assert len(clip.words) == len(planned.words)
        assert clip.duration_ms >= clip.words[-1].end_ms  # the audio read back holds every word
    assert cut == count


def test_auto_uses_edge_when_the_probe_answers(
    server: FakeEdge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def answers(timeout: float = 0) -> None:
        return None

    monkeypatch.setattr(edge, "probe", answers)
    result = CliRunner().invoke(app, ["render", str(E2E), "-o", str(tmp_path), "--engine", "auto", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["engine"] == "edge"


def test_auto_falls_back_to_kokoro_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    async def unreachable(timeout: float = 0) -> str:
        return "speech.platform.bing.com unreachable (no network)"

    monkeypatch.setattr(edge, "probe", unreachable)
    with pytest.warns(UserWarning, match=r"^engine auto: edge-tts service not reachable \(speech.platform"):
        assert asyncio.run(engines.resolve_engine("auto")) == "kokoro"
    assert asyncio.run(engines.resolve_engine("openjtalk")) == "openjtalk"


def test_voices_command_lists_bundled_edge_voices_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    async def offline() -> list[object]:
        raise OSError("no network")

    monkeypatch.setattr(edge_tts, "list_voices", offline)
    result = CliRunner().invoke(app, ["voices", "--engine", "edge", "--lang", "ja"])
    assert result.exit_code == 0
    assert result.stderr == "Warning: edge-tts voice list unavailable (OSError); showing the bundled list\n"
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "ja-JP-KeitaNeural                  ja-JP   Male",
        "ja-JP-NanamiNeural                 ja-JP   Female",
        "de-DE-FlorianMultilingualNeural    de-DE   Male",
    ]
    assert lines[-1] == "14 voices; put one under speakers: or pool: in voices.yaml"


def test_voices_command_filters_the_online_list_by_language(monkeypatch: pytest.MonkeyPatch) -> None:
    async def online() -> list[dict[str, str]]:
        return [
            {"ShortName": "ja-JP-NanamiNeural", "Locale": "ja-JP", "Gender": "Female"},
            {"ShortName": "en-US-AriaNeural", "Locale": "en-US", "Gender": "Female"},
            {"ShortName": "en-US-AndrewMultilingualNeural", "Locale": "en-US", "Gender": "Male"},
        ]

    monkeypatch.setattr(edge_tts, "list_voices", online)
    result = CliRunner().invoke(app, ["voices", "-e", "edge", "--lang", "ja"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "ja-JP-NanamiNeural              ja-JP   Female\n"
        "en-US-AndrewMultilingualNeural  en-US   Male\n"
        "2 voices; put one under speakers: or pool: in voices.yaml\n"
    )


def test_voices_command_for_an_offline_engine_and_an_unknown_one() -> None:
    result = CliRunner().invoke(app, ["voices", "--engine", "openjtalk"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[3:] == [
        "mei          ja-JP   Female  Open JTalk's mei",
        "mei_bright   ja-JP   Female  mei, alpha 0.65, 3 semitones lower",
        "5 voices; put one under speakers: or pool: in voices.yaml",
        "Voices too alike measure as one person (benchmarks/voices.md): never cast two in one episode",
    ]
    result = CliRunner().invoke(app, ["voices", "--engine", "egde"])
    assert (result.exit_code, result.stderr) == (2, "Error: unknown engine 'egde' (did you mean 'edge'?)\n")


@pytest.mark.slow  # three renders of the short interview against a 300 ms fake service, each in its own process
def test_bench_sets_edge_requests_beside_a_one_request_per_turn_peer(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text("# Benchmark report\n\nthe rest of the report\n", encoding="utf-8")
    command = [sys.executable, str(REPO / "benchmarks" / "bench.py"), "--edge-requests", "--input", str(E2E)]
    result = subprocess.run([*command, "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "edge_requests.json").read_text(encoding="utf-8"))
    runs = data["runs"]
    assert [runs[name]["requests"] for name in ("c1", "c4")] == [5, 5]  # one per speaker's stretch in a chapter
    assert runs["peer"]["answered"] == runs["peer"]["turns"] == 4  # one per speaker turn, chapters unseen
    assert set(data["figures"]) == {
        "c1_to_peer",
        "c4_to_peer",
        "c1_synthesis_to_peer_requests",
        "c4_synthesis_to_peer_requests",
    }
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# Benchmark report\n\nthe rest of the report\n\n<!-- edge-requests -->\n")
    assert (
        "| podcast render, concurrency 1 | 5 |" in report and "| sequential peer, one request per turn | 4 |" in report
    )
    subprocess.run([*command, "--out", str(tmp_path)], capture_output=True, check=True)
    assert (tmp_path / "report.md").read_text(encoding="utf-8").count("<!-- edge-requests -->") == 1  # replaced

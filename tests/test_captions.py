"""Speech-to-text exports: SRT, WebVTT and JSON segments, found by content inside parse_transcript."""

from __future__ import annotations

from pathlib import Path

import pytest

from podcast.errors import TranscriptError
from podcast.transcript import parse_transcript, read_transcript

LAYOUTS = Path(__file__).parent / "fixtures" / "layouts"


def _rows(text: str, source: str = "t.srt") -> list[tuple[str | None, str, bool]]:
    return [(u.label, u.text, u.segment) for u in parse_transcript(text, source=source).utterances]


def _cues(*payloads: str) -> str:
    """An SRT file with one cue per payload, a second apart."""
    return "\n".join(
        f"{i}\n00:00:{i:02d},000 --> 00:00:{i:02d},900\n{payload}\n" for i, payload in enumerate(payloads, 1)
    )


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        (
            "captions.srt",  # `名前:` cues; the unnamed cue after one continues that speaker
            [
                (3, "森", "今日は星の話をします。まずは冬の星座から。"),
                (11, "林", "オリオン座ですね。"),
                (15, "森", "そうです。"),
            ],
        ),
        ("captions.vtt", [(8, "森", "今日は雨の話です。傘を持ってきましたか？"), (14, "林", "持ってきました！")]),
        (
            "diarized.json",  # anonymous ids are numbered by first appearance, whatever their letter
            [
                (3, "話者1", "最初に話すのはBです。続けて話します。"),
                (5, "話者2", "次はAです。"),
                (6, "話者1", "またBです。"),
            ],
        ),
        ("whisper.json", [(4, None, "今日は晴れです。"), (5, None, "散歩に行きましょう。")]),
    ],
)
def test_exports(name: str, rows: list[tuple[int, str | None, str]]) -> None:
    path = LAYOUTS / name
    transcript = parse_transcript(read_transcript(path), source=str(path))
    assert [(u.line, u.label, u.text) for u in transcript.utterances] == rows
    assert transcript.title == path.stem
    assert all(u.segment == (u.label is not None) for u in transcript.utterances)


@pytest.mark.parametrize(
    ("payloads", "rows"),
    [
        (  # no speaker anywhere: caption-cut sentences rejoin, no segment claimed
            ("今日は", "晴れです。", "明日は雨です。"),
            [(None, "今日は晴れです。", False), (None, "明日は雨です。", False)],
        ),
        (  # unpunctuated: one paragraph per cue
            ("えーと今日は", "はいはい"),
            [(None, "えーと今日は", False), (None, "はいはい", False)],
        ),
        (  # `- ` marks a change of speaker inside a cue and between cues
            ("- 行きますか？\n- 行きます。", "- 本当に？"),
            [(None, "行きますか？", True), (None, "行きます。", True), (None, "本当に？", True)],
        ),
        (
            ("[SPEAKER_01]: はじめまして。", "SPEAKER_00: どうも。", "[SPEAKER_01] よろしく。"),
            [("話者1", "はじめまして。", True), ("話者2", "どうも。", True), ("話者1", "よろしく。", True)],
        ),
        (  # a lone `注意:` in one speaker's captions is text
            ("注意: 足元に気をつけて。", "出発します。"),
            [(None, "注意:足元に気をつけて。", False), (None, "出発します。", False)],
        ),
        (("spk_1: はい。", "spk_2: いいえ。"), [("話者1", "はい。", True), ("話者2", "いいえ。", True)]),
    ],
)
def test_srt_speakers(payloads: tuple[str, ...], rows: list[tuple[str | None, str, bool]]) -> None:
    assert _rows(_cues(*payloads)) == rows


def test_vtt_tags_identifiers_and_notes() -> None:
    text = (
        "WEBVTT\n\nNOTE\n森と林の会話\n\nSTYLE\n::cue { color: white }\n\n"
        "c1\n00:01.000 --> 00:02.000 align:start\n<v 森><b>こんにちは</b>&amp;ようこそ。\n\n"
        "c2\n00:02.000 --> 00:03.000\n<v 林>どうも。\n"
    )
    assert _rows(text, "t.vtt") == [("森", "こんにちは&ようこそ。", True), ("林", "どうも。", True)]


@pytest.mark.parametrize(
    "data",
    [
        '[{"speaker": "spk_0", "text": "はい。"}, {"speaker": "spk_1", "text": "いいえ。"}]',
        '{"segments": [{"speaker": "SPEAKER_03", "text": "はい。"}, {"speaker": "SPEAKER_00", "text": "いいえ。"}]}',
        '{"utterances": [{"speaker": 1, "text": "はい。"}, {"speaker": 0, "text": "いいえ。"}]}',
    ],
)
def test_json_shapes(data: str) -> None:
    assert _rows(data, "t.json") == [("話者1", "はい。", True), ("話者2", "いいえ。", True)]


def test_json_named_speakers_are_kept() -> None:
    data = '[{"speaker": "森", "text": "はい。"}, {"speaker": "森", "text": "続けます。"}, '
    data += '{"speaker": "林", "text": "ええ。"}]'
    assert _rows(data, "t.json") == [("森", "はい。続けます。", True), ("林", "ええ。", True)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"segments": [\n{"text": "はい"},\n{"text": }\n]}', "t.x:3: not valid JSON (Expecting value, column 10)"),
        ('{"segments": [{"text": "はい"}, {"start": 1}]}', "t.x: JSON segments[1] has no 'text' string"),
        ('[{"text": 3}]', "t.x: JSON item [0] has no 'text' string"),
        ('{"segments": {"text": "はい"}}', "t.x: JSON 'segments' is not a list"),
        ('{"results": []}', "t.x: JSON has no 'segments' or 'utterances' list"),
        ('[{"text": "はい", "speaker": ["A"]}]', "t.x: JSON item [0] 'speaker' is not a name or number"),
        ("[]", "t.x: the export holds no text"),
        ("1\n00:00:01,000 --> 00:00:02,000\nはい\n\n2\nいいえ\n", "t.x:5: SRT cue has no 'start --> end' time line"),
        ("1\n00:00:01,000 --> 00:00:02,000\nはい\n\n2\n00:00:03 --> soon\nいいえ\n", "t.x:6: SRT time line"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\nはい\n\nいいえ\n", "t.x:6: WebVTT cue has no 'start --> end'"),
    ],
)
def test_malformed_exports(text: str, message: str) -> None:
    with pytest.raises(TranscriptError) as info:
        parse_transcript(text, source="t.x")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value) and "; " in str(info.value)  # one line: what, where, then the fix


@pytest.mark.parametrize(
    "text",
    [
        "[00:01:23] 森: こんにちは。\n[00:01:30] 林: どうも。\n",
        "[SPEAKER_00]: こんにちは。\n[SPEAKER_01]: どうも。\n",
        "{{#include header.md}}\n森：こんにちは。\n林：どうも。\n",
    ],
)
def test_text_that_only_looks_like_an_export(text: str) -> None:
    labels = [u.label for u in parse_transcript(text, source="t.txt").utterances]
    assert len(labels) == 2 and labels[0] != labels[1]

"""Stage 1: decoding, page chrome, titles, speaker labels and headings."""

from __future__ import annotations

from pathlib import Path

import pytest

from podcast.errors import TranscriptError
from podcast.transcript import parse_transcript, read_transcript

FIXTURES = Path(__file__).parent / "fixtures"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "interview.txt"
SAMPLE = "聞き手：こんにちは。\nゲスト：どうも、よろしくお願いします。\n"


@pytest.mark.parametrize(
    "encoded",
    [
        SAMPLE.encode("utf-8"),
        SAMPLE.encode("utf-8-sig"),
        SAMPLE.encode("utf-16"),  # with BOM
        SAMPLE.encode("cp932"),
        SAMPLE.encode("shift_jis"),
        SAMPLE.replace("\n", "\r\n").encode("cp932"),
    ],
)
def test_read_transcript_decodes(tmp_path: Path, encoded: bytes) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(encoded)
    text = read_transcript(path)
    assert parse_transcript(text).utterances[1].text == "どうも、よろしくお願いします。"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a text file (binary data near byte 8); give a UTF-8 or Shift_JIS"),
        (b"abc\x01\x02def", "not a text file (binary data near byte 3)"),
        (b"\xff\xff\xff\xff", "not a text file (binary data near byte"),
        (b"", "file is empty;"),
        (" \n\u3000\n".encode(), "file is empty;"),
    ],
)
def test_read_transcript_rejects(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_read_transcript_missing_file_names_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.txt"
    with pytest.raises(TranscriptError, match="nope.txt: cannot read transcript"):
        read_transcript(path)


@pytest.mark.parametrize(
    ("line", "label", "text"),
    [
        ("田中：学生時代です。", "田中", "学生時代です。"),
        ("田中: 学生時代です。", "田中", "学生時代です。"),
        ("はてな松木：本日はよろしく。", "はてな松木", "本日はよろしく。"),
        ("**田中**: 学生時代です。", "田中", "学生時代です。"),
        ("**田中：** 学生時代です。", "田中", "学生時代です。"),
        ("Sam Altman: I think so.", "Sam Altman", "I think so."),
        ("Q. いつですか？", "Q", "いつですか？"),
        ("Ｑ：いつですか？", "Q", "いつですか？"),
        ("A：二〇一五年です。", "A", "二〇一五年です。"),
        ("【田中】学生時代です。", "田中", "学生時代です。"),
        ("――いつですか？", "――", "いつですか？"),
        ("—いつですか？", "――", "いつですか？"),
        ("へぇ、そうだったんですか。", None, "へぇ、そうだったんですか。"),
        ("はい、そうでした。", None, "はい、そうでした。"),
        ("詳しくは https://example.com を見てください。", None, "詳しくは https://example.com を見てください。"),
        ("会議は10:30に始まりました。", None, "会議は10:30に始まりました。"),
    ],
)
def test_same_line_labels(line: str, label: str | None, text: str) -> None:
    # Two lines of each kind: a label that recurs is a label; one-offs in prose are not.
    utterances = parse_transcript(f"{line}\n{line}\n", source="t.txt").utterances
    assert [(u.label, u.text) for u in utterances] == [(label, text), (label, text)]


def test_one_off_colon_in_prose_is_not_a_label() -> None:
    text = "\n".join(["今日は晴れです。", "注意：雨が降るかもしれません。", "明日は曇りです。", "明後日は雪です。"])
    assert all(u.label is None for u in parse_transcript(text).utterances)


@pytest.mark.parametrize(
    ("name", "title", "labels", "headings"),
    [
        (
            "labelled_colon.txt",
            "はてなブログ対談 | 松木さんと語るAIの未来",
            ["はてな松木", "田中", None, "松木", "田中"],
            [],
        ),
        (
            "labelled_dash.txt",
            "山田花子さんインタビュー",
            ["――", None, None, "――", None],
            ["はじめに", "これからの目標"],
        ),
        ("labelled_qa.txt", "labelled_qa", ["Q", "A", "Q", "A"], []),
        ("labelled_name_lines.txt", "labelled_name_lines", ["佐藤", "鈴木", "鈴木", "佐藤", "鈴木"], []),
        (
            "labelled_headings.md",
            "技術対談",
            ["司会", "ゲスト", "司会", "ゲスト"],
            ["第一部　生い立ち", "第二部　仕事"],
        ),
        ("unlabelled.txt", "ケン・ワタナベ | 小さな会社が世界で戦う方法", [None] * 10, []),
    ],
)
def test_fixtures(name: str, title: str, labels: list[str | None], headings: list[str]) -> None:
    path = FIXTURES / name
    transcript = parse_transcript(read_transcript(path), source=str(path))
    assert transcript.title == title
    assert [u.label for u in transcript.utterances if not u.heading] == labels
    assert [u.text for u in transcript.utterances if u.heading] == headings


def test_lines_are_one_based_source_lines() -> None:
    transcript = parse_transcript("題名\r\n\r\n田中：はい。\r\n\r\n佐藤：いいえ。\r\n田中：そうです。")
    assert [(u.line, u.text) for u in transcript.utterances] == [(3, "はい。"), (5, "いいえ。"), (6, "そうです。")]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("サム・アルトマン | AIの話\n本文です。", "サム・アルトマン | AIの話"),
        ("# 技術対談\n本文です。", "技術対談"),
        ("本文です。これは題名ではありません。\n二行目です。", "interview"),
        ("佐藤\nこんにちは。\n佐藤\nどうも。", "interview"),  # a recurring name line is a speaker
    ],
)
def test_title(text: str, title: str) -> None:
    assert parse_transcript(text, source="/tmp/interview.txt").title == title


def test_unlabelled_page_chrome_is_dropped() -> None:
    path = FIXTURES / "unlabelled.txt"
    texts = [u.text for u in parse_transcript(read_transcript(path)).utterances]
    for chrome in (
        "テック日記",
        "この記事は約3分で読めます。",
        "コメント",
        "タイトルとURLをコピーしました",
        "シェアする",
    ):
        assert chrome not in texts
    assert not any("Ken Watanabe" in t for t in texts)
    assert texts[0].startswith("ケン、") and texts[-1] == "今日は本当にありがとうございました。"


@pytest.mark.parametrize(
    "text",
    [
        "題名だけ\n",
        "ブログ名\nこの記事は約3分で読めます。\nコメント\nタイトルとURLをコピーしました\n",
        "## 見出し\n【見出し二】\n",
    ],
)
def test_no_dialogue_is_an_error(text: str) -> None:
    with pytest.raises(TranscriptError, match=r"^t\.txt: no dialogue left"):
        parse_transcript(text, source="t.txt")


@pytest.mark.skipif(not SEED.exists(), reason="seed interview not present")
def test_seed() -> None:
    text = read_transcript(SEED)
    transcript = parse_transcript(text, source=str(SEED))
    assert transcript.title == "サム・アルトマン | AIが企業の意思決定を支援すると、企業は非常に速く成長する"
    texts = [u.text for u in transcript.utterances]
    chrome = ["AIに仕事を奪われたい", "この記事は約19分で読めます。", "コメント", "タイトルとURLをコピーしました"]
    assert not set(chrome) & set(texts)
    assert not any(t.startswith("Sam Altman") for t in texts)
    assert all(u.label is None and not u.heading for u in transcript.utterances)
    body = [line.strip() for line in text.splitlines()[6:125] if line.strip()]
    assert texts == body


def test_bracket_heading_alone_is_a_heading_not_a_label() -> None:
    text = "対談\n【第一部】\n【田中】こんにちは。\n【鈴木】どうも。\n【田中】始めましょう。\n"
    utterances = parse_transcript(text).utterances
    assert [(u.label, u.text, u.heading) for u in utterances] == [
        (None, "第一部", True),
        ("田中", "こんにちは。", False),
        ("鈴木", "どうも。", False),
        ("田中", "始めましょう。", False),
    ]

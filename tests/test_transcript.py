"""Stage 1: decoding, page chrome, titles, speaker labels and headings."""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path
from unittest import mock

import pytest

from podcast.errors import TranscriptError
from podcast.model import Participant, Transcript
from podcast.transcript import parse_transcript, read_transcript

from .conftest import SEED

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = "聞き手：こんにちは。\nゲスト：どうも、よろしくお願いします。\n"
ANY_ENCODING = mock.ANY


@pytest.mark.parametrize(
    "encoded",
    [
        SAMPLE.encode("utf-8"),
        SAMPLE.encode("utf-8-sig"),
        SAMPLE.encode("utf-16"),  # with BOM
        SAMPLE.encode("cp932"),
        SAMPLE.encode("shift_jis"),
        SAMPLE.replace("\n", "\r\n").encode("cp932"),
        SAMPLE.encode("euc_jp"),
        SAMPLE.encode("utf-16-le"),  # no BOM
        SAMPLE.encode("utf-16-be"),
        SAMPLE.encode("iso2022_jp"),
    ],
)
def test_read_transcript_decodes(tmp_path: Path, encoded: bytes) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(encoded)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        text = read_transcript(path)
    assert parse_transcript(text).utterances[1].text == "どうも、よろしくお願いします。"
    utf8 = encoded.startswith(b"\xef\xbb\xbf") or encoded == SAMPLE.encode("utf-8")
    assert [str(w.message).split(": read as ")[-1] for w in said] == ([] if utf8 else [ANY_ENCODING])


def test_legacy_encodings_are_told_apart_and_named(tmp_path: Path) -> None:
    text = "森：港の倉庫はいつからですか。\n林：祖父の代からです。ずっと同じ場所にあります。\n"
    for encoding, name in (("euc_jp", "EUC-JP"), ("cp932", "Shift_JIS (CP932)"), ("utf-16-le", "UTF-16")):
        path = tmp_path / f"{encoding}.txt"
        path.write_bytes(text.encode(encoding))
        with pytest.warns(UserWarning, match=f"read as {re.escape(name)}$"):
            assert read_transcript(path) == text


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


@pytest.mark.seed
def test_seed() -> None:
    text = read_transcript(SEED)
    transcript = parse_transcript(text, source=str(SEED))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert transcript.title == lines[0]
    texts = [u.text for u in transcript.utterances]
    # The blog name, reading time and English title above the talk, the comment and copy buttons below it
    # (read from the file: tests quote no real transcript).
    chrome = [*lines[1:4], *lines[-2:]]
    assert not set(chrome) & set(texts)
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


LAYOUTS = FIXTURES / "layouts"


def _read(name: str) -> Transcript:
    path = LAYOUTS / name
    return parse_transcript(read_transcript(path), source=str(path))


def _rows(transcript: Transcript) -> list[tuple[int, str | None, str, bool]]:
    return [(u.line, u.label, u.text, u.segment) for u in transcript.utterances if not u.heading]


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        (  # markdown Q&A: marks and labels never voiced; an unlabelled `> ` line continues the speaker
            "### Q: 好きな色は？\n> A: 青です。\n> 空の色なので。\nQ追記: 海は？\n> A: 海も青です。\nおわり。\n",
            [("Q", "好きな色は？"), ("A", "青です。"), ("A", "空の色なので。"), ("Q", "海は？"), ("A", "海も青です。")]
            + [(None, "おわり。")],
        ),
        (  # bold and underscore names, inline or alone on their line
            "__森__ 今日の天気は？\n__林__ 晴れです。\n**森** 明日は？\n**林**\n雨です。\n",
            [("森", "今日の天気は？"), ("林", "晴れです。"), ("森", "明日は？"), ("林", "雨です。")],
        ),
        (  # a name alone on its line, also with a company or a title
            "森（ミドリ商会）\nこんにちは。\n林　青空工房 代表\nどうも、林です。\n森\nでは始めます。\n",
            [("森", "こんにちは。"), ("林", "どうも、林です。"), ("森", "では始めます。")],
        ),
        (  # `――` alone names the interviewer for the lines after it
            "――\n今日のテーマは？\n林\n料理です。\n――\nなぜ料理を？\n林\n好きだからです。\n",
            [("――", "今日のテーマは？"), ("林", "料理です。"), ("――", "なぜ料理を？"), ("林", "好きだからです。")],
        ),
        (  # timestamped labels: the time is chrome, the label honoured
            "[00:01:23] 森: こんにちは。\n00:01:30 林: どうも。\n(00:01:41) 森: 始めましょう。\n",
            [("森", "こんにちは。"), ("林", "どうも。"), ("森", "始めましょう。")],
        ),
    ],
)
def test_labelled_layouts(text: str, rows: list[tuple[str | None, str]]) -> None:
    utterances = parse_transcript(text, source="t.txt").utterances
    assert [(u.label, u.text) for u in utterances if not u.heading] == rows


def test_podcast_name_and_time_lines() -> None:
    rows = _rows(_read("podcast.txt"))
    assert rows == [
        (2, "森", "はいどうも始まりました週末こうさくラジオです", True),
        (4, "林", "よろしくお願いしまーす", True),
        (6, "森", "今日はですね木工の話をしようかなと", True),
        (7, "森", "思ってます", False),  # unpunctuated: not a heading, still 森's
        (9, "林", "いいですねえ", True),
    ]


def test_minutes_markers_and_stage_directions() -> None:
    transcript = _read("minutes.txt")
    assert [(line, label) for line, label, _, _ in _rows(transcript)] == [
        (3, "議長"),
        (4, "議長"),
        (6, "林花子"),  # ○12番議員（林　花子）: the seat number says nothing
        (7, "林花子"),
        (9, "議長"),
        (11, "議長"),  # marker and speech on one line
        (13, "林"),  # ○林委員
    ]
    texts = " ".join(u.text for u in transcript.utterances)
    assert "起立）" not in texts and "開議" not in texts
    assert transcript.participants[0] == Participant("森一郎", ("議長",), role="host", note="議長")  # the chair


def test_definition_list_names_its_speakers() -> None:
    transcript = _read("dlist.md")
    assert [(u.label, u.heading) for u in transcript.utterances] == [
        (None, True),
        ("森", False),
        ("森", False),
        ("林", False),
        ("谷", False),
        (None, False),  # a plain line after the list is nobody's in particular
    ]


def test_markdown_qa_drops_link_and_image_lines() -> None:
    transcript = _read("qa.md")
    assert [u.label for u in transcript.utterances] == ["Q", "A", "A", "Q", "A"]
    assert not any("](" in u.text or u.text.startswith(("#", ">")) for u in transcript.utterances)


def test_unpunctuated_speech_stays_and_timestamps_open_segments() -> None:
    transcript = _read("stamps.txt")
    assert transcript.title == "stamps"  # nothing marks a title in raw speech-to-text
    assert _rows(transcript) == [
        (2, None, "えーと今日はですね畑の話です", True),
        (4, None, "はいそうですね", True),
        (6, None, "なるほどなるほど", True),
        (8, None, "じゃあまた来週", True),
    ]


def test_short_unpunctuated_lines_are_speech_not_header() -> None:
    text = "はいどうも\nよろしくです\nじゃあ始めますか\nそうしましょう\n"
    assert [u.text for u in parse_transcript(text).utterances] == text.split()


def test_header_chrome_and_participants() -> None:
    transcript = _read("header.txt")
    assert transcript.title == "空を作る仕事 | 森さんと林さんの対談"
    assert transcript.participants == (
        Participant("森太郎", note="ミドリ商会 代表"),
        Participant("林花子", ("林",), note="青空工房"),  # 「林花子さん（以下、林）」 further down
        Participant("谷一郎", role="host"),
    )
    assert [(u.label, u.text[:8], u.heading) for u in transcript.utterances] == [
        (None, "はじめに", True),
        ("谷", "今日は青空工房の", False),  # the alias is recorded, the sentence stays voiced
        ("森", "よろしくお願いし", False),
        ("林", "どうぞよろしく。", False),
        (None, "これから", True),
        ("谷", "これからの話を聞", False),
        ("林", "もっと大きな空を", False),
    ]


@pytest.mark.parametrize(
    ("header", "people"),
    [
        (
            "出席者：森太郎（A社）、林花子（B社、技術部長）",
            [("森太郎", None, "A社"), ("林花子", None, "B社、技術部長")],
        ),
        (
            "【参加者】\n森太郎（A社）\n林花子　B社 部長\n司会：谷一郎",
            [("森太郎", None, "A社"), ("林花子", None, "B社 部長")],
        ),
        ("登壇者：司会：谷一郎、林花子（B社）", [("谷一郎", "host", ""), ("林花子", None, "B社")]),
        ("聞き手：谷一郎", [("谷一郎", "host", "")]),
        ("インタビュアー　谷一郎", [("谷一郎", "host", "")]),
        (
            "森太郎\n株式会社ミドリ商会 代表取締役\n林花子\n青空大学 教授",
            [("森太郎", None, "株式会社ミドリ商会 代表取締役")],
        ),
    ],
)
def test_participants_before_the_talk(header: str, people: list[tuple[str, str | None, str]]) -> None:
    text = f"対談の記録\n{header}\n谷：今日はよろしくお願いします。\n森：はい。\n谷：では始めます。\n"
    transcript = parse_transcript(text)
    got = [(p.name, p.role, p.note) for p in transcript.participants]
    assert got[: len(people)] == people
    assert [u.label for u in transcript.utterances] == ["谷", "森", "谷"]  # lists are never voiced


def test_alias_anywhere_is_recorded() -> None:
    text = "森：今日は青空工房の林花子氏（以下、林氏）に聞きます。\n林：どうぞ。\n森：では。\n"
    assert parse_transcript(text).participants == (Participant("林花子", ("林",)),)


def test_breadcrumb_at_the_top_is_dropped() -> None:
    text = "対談の記録\nホーム > 対談 > ものづくり\n森：こんにちは。\n林：どうも。\n"
    assert [u.text for u in parse_transcript(text).utterances] == ["こんにちは。", "どうも。"]


@pytest.mark.parametrize(
    "chrome",
    [
        "2025年4月1日",
        "公開日：2025.04.01",
        "取材・文：川二郎",
        "文＝川二郎",
        "構成：川二郎　撮影：谷三郎",
        "写真：谷三郎",
        "（写真左から森さん、林さん）",
        "この記事は約5分で読めます。",
        "![二人の写真](photo.jpg)",
        "[(原文)](https://example.com/x)",
        "https://example.com/aozora",
    ],
)
def test_recognisable_chrome_is_dropped(chrome: str) -> None:
    text = f"対談の記録\n{chrome}\n森：こんにちは。\n林：どうも。\n{chrome}\n森：さようなら。\n"
    assert [u.text for u in parse_transcript(text).utterances] == ["こんにちは。", "どうも。", "さようなら。"]


def test_table_of_contents_is_dropped() -> None:
    text = "対談の記録\n目次\nはじめに\nこれから\n## はじめに\n森：こんにちは。\n## これから\n林：どうも。\n"
    utterances = parse_transcript(text).utterances
    assert [(u.text, u.heading) for u in utterances] == [
        ("はじめに", True),
        ("こんにちは。", False),
        ("これから", True),
        ("どうも。", False),
    ]


def test_title_line_with_a_colon_is_not_a_speaker() -> None:
    text = "対談：空を作る仕事\n森：こんにちは。\n林：どうも。\n森：始めます。\n"
    transcript = parse_transcript(text)
    assert transcript.title == "対談：空を作る仕事"
    assert [u.label for u in transcript.utterances] == ["森", "林", "森"]


def test_council_summary_names_close_each_paragraph() -> None:
    text = (
        "### 本会議\n"
        "<table><tr><td>\n図書館の開館時間はどうなるか。（森 太郎）\n</td></tr></table>\n\n"
        "> 夜八時まで延ばす。（林 教育部長）\n\n"
        "<br>\n予算はいくらか。（森 太郎）\n\n"
        "> 一千万円ほど。\n人件費が大半。（林）\n\n"
        "<!--\n（谷 次郎）\n-->\n"
    )
    utterances = parse_transcript(text, source="t.md").utterances
    assert [(u.label, u.text) for u in utterances if not u.heading] == [
        ("森太郎", "図書館の開館時間はどうなるか。"),
        ("林", "夜八時まで延ばす。"),  # 林 with a title is 林
        ("森太郎", "予算はいくらか。"),
        ("林", "一千万円ほど。"),  # the quoted block's lines before the name share it
        ("林", "人件費が大半。"),
    ]


def test_council_summary_tells_apart_two_people_who_share_a_surname() -> None:
    text = (
        "保育の定員はどう増やすか。（森 太郎）\n\n"
        "> 来年度に二園開く。（森 福祉部長）\n\n"
        "場所はどこか。（森 太郎）\n\n"
        "> 駅の北側。（森）\n\n"  # the member does not answer himself: the department head
        "図書館の件はどうか。（林 花子）\n\n"
        "> 検討中。（谷 教育部長）\n\n"
        "時期は。（森）\n\n"  # follows 谷's answer: the last 森 named, the member
        "> 秋になる。（谷）\n"
    )
    utterances = parse_transcript(text, source="t.md").utterances
    assert [u.label for u in utterances if not u.heading] == [
        "森太郎", "森福祉部長", "森太郎", "森福祉部長", "林花子", "谷", "森太郎", "谷",
    ]  # fmt: skip


LINES = ("今日はよろしくお願いします。", "林です。パン屋をやっています。", "お店はいつから？", "十年前からです。")
WHO = ("森", "林", "森", "林")


@pytest.mark.parametrize(
    "layout",
    ["{}　{}", "{}「{}」", "（{}）{}", "[{}] {}", "●{}　{}", "■{}：{}", "{}（店主）：{}", "【{}】\n{}"],
    ids=[
        "wide-space",
        "quoted",
        "parenthesised",
        "square-brackets",
        "bullet-space",
        "bullet-colon",
        "colon-with-company",
        "bracketed-name-alone",
    ],  # fmt: skip
)
def test_looser_label_layouts_are_read_when_names_recur(layout: str) -> None:
    text = "\n".join(layout.format(who, line) for who, line in zip(WHO, LINES, strict=True))
    utterances = parse_transcript(text, source="t.txt").utterances
    assert [(u.label, u.text) for u in utterances] == list(zip(WHO, LINES, strict=True))


def test_a_bracketed_section_title_alone_is_still_a_heading() -> None:
    text = "【第一部】\n森：ご出身は？\n林：北海道です。\n【第二部】\n森：今のお仕事は？\n林：パン屋です。"
    utterances = parse_transcript(text, source="t.txt").utterances
    assert [u.text for u in utterances if u.heading] == ["第一部", "第二部"]


def test_numbered_section_markers_with_times_are_headings_not_speakers() -> None:
    text = (
        "質疑応答\n"
        "質問1（幹事社） 0:01:10\n"
        "新しい駅の計画、完成の時期\n"  # the section's subtitle
        "記者：新しい駅はいつ完成しますか。\n"
        "市長：三年後の春を予定しています。\n"
        "質問2 0:04:30\n"
        "バス路線の見直し\n"
        "司会 0:04:31：次の方どうぞ。\n"
        "記者：バスの本数は増えますか。\n"
        "市長：朝の便を増やします。\n"
    )
    utterances = parse_transcript(text, source="t.txt").utterances
    assert [u.text for u in utterances if u.heading] == [
        "質問1（幹事社）", "新しい駅の計画、完成の時期", "質問2", "バス路線の見直し",
    ]  # fmt: skip
    assert [u.label for u in utterances if not u.heading] == ["記者", "市長", "司会", "記者", "市長"]


def test_markers_whose_names_never_come_back_are_sections_in_unlabelled_text() -> None:
    text = "\n".join(
        f"テーマ{n} 0:{n}0:00\n{q}\n{a}"
        for n, q, a in [
            (1, "駅はいつ完成しますか。", "三年後の春です。"),
            (2, "バスは増えますか。", "朝の便を増やします。"),
            (3, "駐輪場はどうなりますか。", "二か所に増やします。"),
        ]
    )
    utterances = parse_transcript(text, source="t.txt").utterances
    assert [u.text for u in utterances if u.heading] == ["テーマ1", "テーマ2", "テーマ3"]
    assert all(u.label is None for u in utterances)


def test_magazine_marks_dash_honorific_note_caption_and_markup_are_read() -> None:
    text = (
        "― 今のお仕事は？\n"
        "**森様(以下、敬称略)** 港で倉庫の管理をしています。\n"
        '{{< figure src="port.png" alt="港" >}}\n'
        "代表の森様(写真左)、社員の林様(写真右)\n"
        "― 一番の苦労は？\n"
        "**森** 冬の荷物の多さです。\n"
        "---\n"
        "**林: 私からも一言いいですか。**\n"
        "**森** どうぞ。\n"
    )
    utterances = parse_transcript(text, source="t.md").utterances
    assert [(u.label, u.text) for u in utterances] == [
        ("――", "今のお仕事は？"),
        ("森", "港で倉庫の管理をしています。"),
        ("――", "一番の苦労は？"),
        ("森", "冬の荷物の多さです。"),
        ("林", "私からも一言いいですか。"),
        ("森", "どうぞ。"),
    ]


def test_a_bold_heading_over_a_list_stays_in_the_speakers_turn() -> None:
    text = (
        "**森**: 始め方は二つあります。\n"
        "**準備するもの**：\n"
        "- 古い自転車\n"
        "- 工具箱\n"
        "**林**: なるほど。\n"
        "**森**: あとは慣れです。\n"
    )
    utterances = parse_transcript(text, source="t.md").utterances
    assert [u.label for u in utterances] == ["森", None, None, None, "林", "森"]


def test_wiki_style_equals_signs_mark_headings() -> None:
    text = "対談\n=== 第一部 出会い ===\n【森】こんにちは。\n【林】どうも。\n== 第二部\n【森】さて。\n【林】はい。"
    utterances = parse_transcript(text, source="t.txt").utterances
    assert [u.text for u in utterances if u.heading] == ["第一部 出会い", "第二部"]


def test_chrome_above_the_title_is_dropped_and_reported() -> None:
    text = (
        "ホーム > 対談 > 第一回\n"
        "港町の倉庫番\n"
        "2024年5月1日\n"
        "――今日はよろしくお願いします。\n"
        "よろしくお願いします。\n"
        "この記事をシェアする\n"
    )
    transcript = parse_transcript(text, source="t.txt")
    assert transcript.title == "港町の倉庫番"
    assert transcript.dropped == ((1, "ホーム > 対談 > 第一回"), (3, "2024年5月1日"), (6, "この記事をシェアする"))
    assert [u.text for u in transcript.utterances] == ["今日はよろしくお願いします。", "よろしくお願いします。"]


def test_a_wide_space_in_prose_is_no_label() -> None:
    text = (
        "今日は朝から雨でした。\n"
        "駅前　小さなパン屋の話です。店主は十年前に店を開きました。\n"  # one name-like word: no layout
        "それでも客足は絶えません。\n"
        "特に　週末は行列ができます。\n"
    )
    assert all(u.label is None for u in parse_transcript(text, source="t.txt").utterances)


def test_laughter_at_a_line_end_is_not_a_name() -> None:
    text = "\n".join(["森：そうですね。（笑）", "林：本当に。（笑）", "森：ええ。（笑）", "林：はい。（笑）"])
    assert [u.label for u in parse_transcript(text).utterances] == ["森", "林", "森", "林"]


def test_exports_are_found_by_content() -> None:
    srt = "1\n00:00:01,000 --> 00:00:02,000\n森: こんにちは。\n\n2\n00:00:02,500 --> 00:00:03,000\n林: どうも。\n"
    transcript = parse_transcript(srt, source="talk.txt")  # not .srt: the content says what it is
    assert [(u.label, u.text) for u in transcript.utterances] == [("森", "こんにちは。"), ("林", "どうも。")]
    assert transcript.title == "talk"


def test_parse_is_linear_in_input_size() -> None:
    block = "森：今日はよろしくお願いします。\n林：こちらこそ。\n00:12\nはいそうですね\n"
    small, large = block * 500, block * 5000
    times = []
    for text in (small, large):
        start = time.perf_counter()
        parse_transcript(text)
        times.append(time.perf_counter() - start)
    assert times[1] < times[0] * 30  # 10x the input, well under 100x the time


def test_unpunctuated_title_stands_apart() -> None:
    text = "週末ラジオ 第3回\n文字起こし（自動生成）\n\n00:00\nはいどうも始まりました\n00:05\nよろしくです\n"
    transcript = parse_transcript(text, source="t.txt")
    assert transcript.title == "週末ラジオ 第3回"
    assert [(u.text, u.segment) for u in transcript.utterances] == [
        ("はいどうも始まりました", True),
        ("よろしくです", True),
    ]


def test_invisible_characters_make_no_second_speaker_and_no_scrambled_title() -> None:
    text = (
        "\u202e港の話\u202c\n聞き手\u200b：いつからですか。\n林：昔からです。\n聞き手：なるほど。\n林：はい。\u200d\n"
    )
    transcript = parse_transcript(text, source="t.txt")
    assert transcript.title == "港の話"
    assert [u.label for u in transcript.utterances] == ["聞き手", "林", "聞き手", "林"]
    assert transcript.utterances[-1].text == "はい。"


def test_a_transcript_too_large_for_one_episode_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(("森：はい。" * 1_000_000).encode())  # 15 MB
    with pytest.raises(TranscriptError, match=r"huge.txt: over 10 MB, .* split it into one file per episode$"):
        read_transcript(path)


def test_a_long_unpunctuated_line_is_speech_not_chrome() -> None:
    long_line = "今日は畑の話をしようと思います それでですね " * 20_000  # a speech-to-text export: no 。 at all
    transcript = parse_transcript(f"畑の話\n\n{long_line}\nそうなんですね。\n", source="t.txt")
    assert [len(u.text) for u in transcript.utterances] == [len(long_line.strip()), len("そうなんですね。")]
    assert transcript.dropped == ()


def test_a_line_repeating_the_title_opening_is_a_part_title() -> None:
    text = (
        "連続対談／第一回・港で\n森さん、倉庫はいつからですか。\n祖父の代からです。\n"
        "連続対談／第二回・冬の荷物\n冬は忙しいですか。\n一年でいちばん忙しいです。\n"
    )
    utterances = parse_transcript(text, source="t.txt").utterances
    assert [u.text for u in utterances if u.heading] == ["連続対談／第二回・冬の荷物"]

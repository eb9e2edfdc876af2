"""Stage 2: who says each paragraph, from labels or from the interviewer's moves and names."""

from __future__ import annotations

from pathlib import Path

import pytest

from podcast.attribution import attribute
from podcast.model import Script, Transcript, Utterance
from podcast.transcript import parse_transcript, read_transcript

FIXTURES = Path(__file__).parent / "fixtures"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "interview.txt"


def _script(name: str) -> Script:
    path = FIXTURES / name
    return attribute(parse_transcript(read_transcript(path), source=str(path)))


def _text(title: str, *paragraphs: str) -> Script:
    utterances = tuple(Utterance(p, n) for n, p in enumerate(paragraphs, 1))
    return attribute(Transcript(title=title, utterances=utterances))


@pytest.mark.parametrize(
    ("name", "speakers", "order", "chapters"),
    [
        (
            "labelled_colon.txt",
            {"host": ("はてな松木", "host"), "guest1": ("田中", "guest")},
            ["host", "guest1", "guest1", "host", "guest1"],
            ["はてなブログ対談 | 松木さんと語るAIの未来"],
        ),
        (
            "labelled_dash.txt",
            {"host": ("聞き手", "host"), "guest1": ("山田花子", "guest")},
            ["host", "guest1", "guest1", "host", "guest1"],
            ["はじめに", "これからの目標"],
        ),
        (
            "labelled_qa.txt",
            {"host": ("聞き手", "host"), "guest1": ("ゲスト", "guest")},
            ["host", "guest1", "host", "guest1"],
            ["labelled_qa"],
        ),
        (
            "labelled_name_lines.txt",
            {"host": ("佐藤", "host"), "guest1": ("鈴木", "guest")},
            ["host", "guest1", "guest1", "host", "guest1"],
            ["labelled_name_lines"],
        ),
        (
            "labelled_headings.md",
            {"host": ("聞き手", "host"), "guest1": ("ゲスト", "guest")},
            ["host", "guest1", "host", "guest1"],
            ["第一部　生い立ち", "第二部　仕事"],
        ),
        (
            "unlabelled.txt",
            {"host": ("聞き手", "host"), "guest1": ("ケン・ワタナベ", "guest"), "guest2": ("ユミ", "guest")},
            ["host", "guest1", "guest1", "host", "guest1", "host", "guest1", "host", "guest2", "host"],
            ["ケン・ワタナベ | 小さな会社が世界で戦う方法"],
        ),
    ],
)
def test_fixtures(name: str, speakers: dict[str, tuple[str, str]], order: list[str], chapters: list[str]) -> None:
    script = _script(name)
    assert {sid: (s.name, s.role) for sid, s in script.speakers.items()} == speakers
    assert [turn.speaker for turn in script.turns] == order
    assert [chapter.title for chapter in script.chapters] == chapters
    assert all(turn.line is not None for turn in script.turns)


def test_latin_names_get_ascii_slugs() -> None:
    utterances = (
        Utterance("What got you started?", 1, label="Interviewer"),
        Utterance("Curiosity.", 2, label="Sam Altman"),
        Utterance("And you?", 3, label="Interviewer"),
        Utterance("Money.", 4, label="Brad"),
        Utterance("Really.", 5, label="Sam"),  # alias of Sam Altman
    )
    script = attribute(Transcript("Talk", utterances))
    assert list(script.speakers) == ["host", "sam-altman", "brad"]
    assert [t.speaker for t in script.turns] == ["host", "sam-altman", "host", "brad", "sam-altman"]


def test_host_is_who_asks_most_without_a_marker() -> None:
    utterances = (
        Utterance("よろしくお願いします。", 1, label="田中"),
        Utterance("最初の質問です。いつ始めましたか？", 2, label="鈴木"),
        Utterance("十年前です。", 3, label="田中"),
        Utterance("なぜですか？", 4, label="鈴木"),
        Utterance("好きだったからです。", 5, label="田中"),
    )
    script = attribute(Transcript("対談", utterances))
    assert script.speakers["host"].name == "鈴木"
    assert script.speakers["guest1"].name == "田中"


@pytest.mark.parametrize(
    ("paragraphs", "order"),
    [
        # A question ends with ？ or a polite 〜ですか; reactions and requests are the interviewer's too.
        (
            ("いつ始めましたか？", "十年前です。", "へぇ、そうなんですね。", "はい。"),
            ["host", "guest1", "host", "guest1"],
        ),
        (("教えてください。最初の仕事について聞かせてください。", "工場でした。"), ["host", "guest1"]),
        (
            ("どうでしたか。", "楽しかったです。", "それは素晴らしいですね。", "うれしいです。"),
            ["host", "guest1", "host", "guest1"],
        ),
        # A question opening a paragraph of answer is split off.
        (
            ("なぜ十年も勤めた会社を辞めたのですか？ 理由は単純です。疲れていました。休みたかったのです。",),
            ["host", "guest1"],
        ),
        # A hedge after the question stays with the interviewer.
        (("どう考えていますか？ 難しい質問だとは思いますが。", "楽観的です。"), ["host", "guest1"]),
    ],
)
def test_unlabelled_moves(paragraphs: tuple[str, ...], order: list[str]) -> None:
    script = _text("佐藤一郎さんに聞く", *paragraphs)
    assert [t.speaker for t in script.turns] == order
    assert script.speakers["guest1"].name == "佐藤一郎"
    assert "".join(t.text for t in script.turns).replace(" ", "") == "".join(paragraphs).replace(" ", "")


@pytest.mark.parametrize(
    ("paragraphs", "order"),
    [
        # Addressed by name: that guest answers; continuation stays with them.
        (("ユミ、いつ入社しましたか？", "三年前です。", "最初は営業でした。"), ["host", "guest2", "guest2"]),
        (("入社はいつでしたか、ユミ？", "三年前です。"), ["host", "guest2"]),
        # Asked about a guest: the other guest answers.
        (
            ("ユミ、元気？", "はい。", "ユミが素晴らしいところは？", "粘り強いところです。"),
            ["host", "guest2", "host", "guest1"],
        ),
        # Talking about a guest in the third person means not being that guest.
        (
            ("ユミ、元気？", "はい。", "会社の強みは何ですか？", "ユミはいつも冷静です。"),
            ["host", "guest2", "host", "guest1"],
        ),
        # A short follow-up goes back to whoever just spoke.
        (
            ("ユミ、元気？", "はい、とても元気にしています。", "なぜですか？", "よく寝たからです。"),
            ["host", "guest2", "host", "guest2"],
        ),
    ],
)
def test_unlabelled_two_guests(paragraphs: tuple[str, ...], order: list[str]) -> None:
    script = _text("ケン・ワタナベ | 小さな会社の話", *paragraphs)
    assert [t.speaker for t in script.turns] == order
    assert {s.name for s in script.speakers.values()} <= {"聞き手", "ケン・ワタナベ", "ユミ"}


def test_unlabelled_fresh_topic_goes_to_main_guest_for_review() -> None:
    script = _text(
        "ケン・ワタナベ | 小さな会社の話",
        "ユミ、元気？",
        "はい、とても元気にしています。今日は朝から走ってきました。",
        "これからの十年で会社はどのように変わっていくと考えていますか？",
        "もっと大きくなると思います。",
    )
    last = script.turns[-1]
    assert (last.speaker, last.review) == ("guest1", True)


def test_headings_make_chapters_and_empty_sections_vanish() -> None:
    utterances = (
        Utterance("前置き", 1, heading=True),
        Utterance("第一章", 2, heading=True),
        Utterance("いつですか？", 3, label="Q"),
        Utterance("今です。", 4, label="A"),
        Utterance("第二章", 5, heading=True),
        Utterance("どこですか？", 6, label="Q"),
        Utterance("ここです。", 7, label="A"),
    )
    script = attribute(Transcript("本", utterances))
    assert [(c.title, len(c.turns)) for c in script.chapters] == [("第一章", 2), ("第二章", 2)]


@pytest.mark.skipif(not SEED.exists(), reason="seed interview not present")
def test_seed() -> None:
    transcript = parse_transcript(read_transcript(SEED), source=str(SEED))
    script = attribute(transcript)
    assert {sid: (s.name, s.role) for sid, s in script.speakers.items()} == {
        "host": ("聞き手", "host"),
        "guest1": ("サム・アルトマン", "guest"),
        "guest2": ("ブラッド", "guest"),
    }
    turns = script.turns
    joined = "".join(t.text for t in turns).replace(" ", "")
    assert joined == "".join(u.text for u in transcript.utterances).replace(" ", "")
    by_line = {t.line: t.speaker for t in turns}
    # Spot checks with clear evidence in the text: questions, names addressed, guests talked about.
    assert [by_line[n] for n in (7, 8, 14, 15, 28, 29, 37, 39, 95, 96, 98, 99, 115, 116, 119, 125)] == [
        "host", "guest1", "host", "guest2", "host", "guest1", "host", "guest2",
        "host", "guest2", "host", "guest1", "host", "guest2", "host", "host",
    ]  # fmt: skip
    hosts = sum(t.speaker == "host" for t in turns)
    assert 30 <= hosts <= 40

"""Pure text helpers: sentence splitting, stage notes, slugs, shortening."""

from __future__ import annotations

import pytest

from podcast.text import is_speakable, plain_text, shorten, slugify, split_sentences, spoken_text


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("はい。そうです。", ["はい。", "そうです。"]),
        ("本当ですか？はい!", ["本当ですか？", "はい!"]),
        ("彼は「わかりました。やります。」と言った。次。", ["彼は「わかりました。やります。」と言った。", "次。"]),
        ("えっ！？本当に", ["えっ！？", "本当に"]),
        ("OK. Next one", ["OK.", "Next one"]),
        ("GPT-5.5はすごい", ["GPT-5.5はすごい"]),
        ("そうですね（笑）。次です。", ["そうですね", "（笑）。", "次です。"]),
        ("（一同笑い）", ["（一同笑い）"]),
        ("CFO（最高財務責任者）です。", ["CFO（最高財務責任者）です。"]),
        ("", []),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_long_run_on_is_cut_at_commas_without_losing_text() -> None:
    text = "、".join(["これはとても長い節です"] * 40) + "。"
    parts = split_sentences(text)
    assert len(parts) > 1
    assert all(len(p) <= 120 for p in parts)
    assert "".join(parts) == text


@pytest.mark.parametrize(
    ("sentence", "spoken"),
    [
        ("そうですね（笑）。", "そうですね。"),
        ("（一同笑い）", ""),
        ("CFO（最高財務責任者）です", "CFO（最高財務責任者）です"),
    ],
)
def test_stage_notes_are_not_spoken(sentence: str, spoken: str) -> None:
    assert spoken_text(sentence) == spoken


@pytest.mark.parametrize(("text", "speakable"), [("…", False), ("（）", False), ("2024", True), ("あ", True)])
def test_is_speakable(text: str, speakable: bool) -> None:
    assert is_speakable(text) is speakable


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("ミカ・タナベ | 小さな農園が世界を変える", "ミカ-タナベ-小さな農園が世界を変える"),
        ("Hello, World!", "hello-world"),
        ("../../etc", "etc"),
        ("ＧＰＴ－５の話", "gpt-5の話"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_slug_of_punctuation_is_stable_and_safe() -> None:
    assert slugify("!!!") == slugify("!!!")
    assert slugify("!!!").startswith("episode-")
    assert slugify("？？") != slugify("!!!")


def test_shorten() -> None:
    assert shorten("短い", 10) == "短い"
    assert shorten("まず最初に、私は近所の古い友人と話をしました", 10) == "まず最初に…"
    assert len(shorten("あ" * 50, 20)) == 20


def test_plain_text_keeps_what_is_said_of_markdown() -> None:
    assert plain_text("- _準備_: [地図](https://example.com/map)を見る") == "準備: 地図を見る"
    assert plain_text("**大事**なのは`git`です") == "大事なのはgitです"
    assert plain_text("snake_case_name と 2*3*4") == "snake_case_name と 2*3*4"  # not emphasis

"""Chapters from the interviewer's topic questions when the transcript has no headings."""

from __future__ import annotations

import pytest

from podcast.attribution import attribute
from podcast.chaptering import make_chapters
from podcast.cues import ends_in_question
from podcast.model import Chapter, Script, Speaker, Turn
from podcast.transcript import parse_transcript, read_transcript

from .conftest import SEED

SPEAKERS = {"host": Speaker("host", "聞き手", "host"), "guest1": Speaker("guest1", "ゲスト", "guest")}
ANSWER = "これは答えの段落です。" * 12  # 132 characters: about 18 s of speech


def _script(*turns: tuple[str, str], title: str = "題名") -> Script:
    chapter = Chapter(title, tuple(Turn(sid, text, line=n) for n, (sid, text) in enumerate(turns, 1)))
    return Script(title=title, speakers=SPEAKERS, chapters=(chapter,))


@pytest.mark.parametrize(
    ("sentence", "asks"),
    [
        ("いつですか？", True),
        ("いつですか?", True),
        ("教えていただけますか。", True),
        ("どうなっているでしょうか", True),
        ("本当に良いのでしょうかね。", True),
        ("「なぜですか？」と聞かれました。", False),
        ("そう思います。", False),
        ("それは何ですか？」", True),
    ],
)
def test_ends_in_question(sentence: str, asks: bool) -> None:
    assert ends_in_question(sentence) is asks


def test_headed_script_is_unchanged() -> None:
    script = _script(("host", "最初の質問は何でしょうか？"), ("guest1", ANSWER))
    headed = Script("題名", SPEAKERS, (script.chapters[0], Chapter("第二部", (Turn("host", "はい。"),))))
    assert make_chapters(headed) is headed


def test_splits_at_topic_questions_and_keeps_every_turn() -> None:
    script = _script(
        ("host", "では、会社を始めたきっかけについて聞いてもいいですか？"),
        *[("guest1", ANSWER)] * 4,
        ("host", "なぜですか？"),  # a follow-up: no new chapter
        *[("guest1", ANSWER)] * 2,
        ("host", "そうですね。"),  # a reaction stays in the old chapter
        ("host", "さて、これからの目標は何ですか？"),
        *[("guest1", ANSWER)] * 4,
    )
    result = make_chapters(script, min_chapter_ms=60_000)
    assert [c.title for c in result.chapters] == ["会社を始めたきっかけについて", "これからの目標は？"]
    assert result.turns == script.turns
    assert result.chapters[1].turns[0].text == "さて、これからの目標は何ですか？"


def test_short_chapters_merge() -> None:
    questions = [f"{n}番目の話題について詳しく聞かせていただけますか？" for n in range(1, 7)]
    turns = [t for q in questions for t in (("host", q), ("guest1", "短い答えです。"))]
    script = _script(*turns)
    assert make_chapters(script, min_chapter_ms=60_000) is script  # all six fit in one minute
    result = make_chapters(script, min_chapter_ms=5_000)
    assert 1 < len(result.chapters) < 6
    assert all(sum(len(t.text) for t in c.turns) / 7.5 >= 5 for c in result.chapters)
    assert result.turns == script.turns


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("資金繰りについてお聞きしてもいいですか?", "資金繰りについて"),
        (
            "ミカ、5年前に農園を始める決め手になったのは何だったのでしょうか?",
            "5年前に農園を始める決め手になったのは？",
        ),
        ("では、今、一番大切にしていることは何ですか？", "一番大切にしていることは？"),
        ("3年で市場を小さく見積もっていると思いますか?", "3年で市場を小さく見積もっている？"),
        ("10年後のアグリリンクはどんな姿になっているでしょうか?", "10年後のアグリリンクはどんな姿になっている？"),
        (
            "地方の直売所と直売所のネット化は、それをさらに広げたり、形を変えたりしますか?",
            "地方の直売所と直売所のネット化は？",
        ),
        ("さて、なぜそれが面倒なのですか?", "なぜそれが面倒なの？"),
    ],
)
def test_titles(question: str, title: str) -> None:
    script = _script(("guest1", ANSWER * 4), ("host", question), ("guest1", ANSWER * 4))
    result = make_chapters(script)
    assert result.chapters[-1].title == title
    assert result.chapters[0].title == "題名"  # no question before it: the episode title stays
    assert len(result.chapters[-1].title) <= 30


@pytest.mark.seed
def test_seed() -> None:
    transcript = parse_transcript(read_transcript(SEED), source=str(SEED))
    attributed = attribute(transcript)
    script = make_chapters(attributed)
    assert len(script.chapters) >= 8
    assert script.turns == attributed.turns
    assert len(script.speakers) == 3
    assert all(0 < len(c.title) <= 30 for c in script.chapters)
    assert all(c.turns[0].speaker == "host" for c in script.chapters)
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    chrome = [*lines[1:4], *lines[-2:]]  # blog name, reading time, English title; comment and copy buttons
    texts = [t.text for t in script.turns]
    assert not set(chrome) & set(texts)
    assert script.title == lines[0]
    # Every paragraph, in order (an interviewer's question may be split from the answer in its paragraph).
    paragraphs = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines()[6:125] if line.strip()]
    assert "".join(texts).replace(" ", "") == "".join(paragraphs).replace(" ", "")
    lines = [t.line for t in script.turns]
    assert lines == sorted(lines)

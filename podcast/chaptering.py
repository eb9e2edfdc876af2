"""Chapters for a script without headings: a new chapter at each new question from the interviewer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from .cues import asks_to_hear, ends_in_question, follows_up, leads_in, reacts, without_address
from .model import Chapter, Script, Turn
from .text import estimate_ms, shorten, split_sentences

TITLE_MAX_CHARS = 30  # chapter titles show in podcast apps' chapter lists: keep them to a phrase
TOPIC_MIN_CHARS = 12  # shorter questions (「なぜですか?」) follow up on the answer rather than open a topic
ABOUT_MAX_CHARS = 28  # the 「…について」 phrase a title is built from

_ABOUT = re.compile(rf"([^、。？?「」]{{2,{ABOUT_MAX_CHARS}}}?)について")
_TAILS = (  # polite question tails -> a headline's plain ending, first match wins
    (re.compile(r"(?:の)?か?(?:聞いても|お聞きしても|伺っても)(?:いい|よろしい)(?:です|でしょう)か$"), "のか？"),
    (re.compile(r"は(?:何|なん)(?:だと思います|です|でした|だった|だったの|なの)?(?:でしょう|です)?か$"), "は？"),
    (re.compile(r"(?:と|だと)思いますか$"), "？"),
    (re.compile(r"の(?:でしょう|です)か$"), "の？"),
    (re.compile(r"(?:でしょう|です)か$"), "？"),
    (re.compile(r"か$"), "か？"),
)


def make_chapters(script: Script, *, min_chapter_ms: int = 60_000) -> Script:
    """Split a one-chapter script at the interviewer's topic questions; chapters last about min_chapter_ms."""
    if len(script.chapters) != 1:
        return script  # the transcript's own headings already chaptered it
    turns = script.chapters[0].turns
    hosts = {sid for sid, speaker in script.speakers.items() if speaker.role == "host"}
    cuts: list[tuple[int, int]] = []  # (first turn of the chapter, the turn asking its question)
    for i, turn in enumerate(turns):
        if turn.speaker in hosts and _opens_topic(turn.text):
            start = i
            # Lead-ins by the interviewer belong to the new topic; a reaction closes the old one.
            while start > 0 and turns[start - 1].speaker in hosts and _is_lead_in(turns[start - 1].text):
                start -= 1
            if not cuts or start > cuts[-1][1]:
                cuts.append((start, i))
    lead_in = {asked: start for start, asked in cuts}
    spans: list[tuple[int, int | None]] = [(0, None)]  # (first turn, question turn) of each chapter
    for start, asked in cuts:
        if start > 0 and _length(turns[spans[-1][0] : start]) >= min_chapter_ms:
            spans.append((start, asked))
        elif spans[-1][1] is None:
            spans[-1] = (spans[-1][0], asked)  # the first question in a chapter names it
    if len(spans) > 1 and _length(turns[spans[-1][0] :]) < min_chapter_ms:
        spans.pop()  # too short an ending: it joins the chapter before
    if len(spans) <= 1:
        return script
    chapters = []
    for n, (first, question) in enumerate(spans):
        end = spans[n + 1][0] if n + 1 < len(spans) else len(turns)
        title = "" if question is None else _title(turns[lead_in[question] : question + 1])
        chapters.append(Chapter(title or script.chapters[0].title, turns[first:end]))
    return replace(script, chapters=tuple(chapters))


def _length(turns: Sequence[Turn]) -> int:
    return sum(estimate_ms(turn.text) for turn in turns)


def _opens_topic(text: str) -> bool:
    """A question or request long enough to start a topic, not a follow-up on the last answer."""
    asks = any(ends_in_question(sentence) for sentence in split_sentences(text)) or asks_to_hear(text)
    return asks and len(text) >= TOPIC_MIN_CHARS and not (follows_up(text) or reacts(text))


def _is_lead_in(text: str) -> bool:
    return leads_in(text) and not reacts(text)


def _title(turns: Sequence[Turn]) -> str:
    """A readable phrase from the question: its 「…について」 topic, else the question without polite tails."""
    sentences = [sentence for turn in turns for sentence in split_sentences(turn.text)]
    questions = [sentence for sentence in sentences if ends_in_question(sentence)]
    steering = [sentence for sentence in sentences if asks_to_hear(sentence)]
    for sentence in [*reversed(questions), *reversed(steering)]:
        about = _ABOUT.findall(sentence)
        if about:
            return shorten(without_address(about[-1]) + "について", TITLE_MAX_CHARS)
    if not questions:
        return shorten(without_address(sentences[-1]), TITLE_MAX_CHARS) if sentences else ""
    question = without_address(questions[-1].rstrip("?？ "))
    for pattern, ending in _TAILS:
        if pattern.search(question):
            question = pattern.sub(ending, question)
            break
    if len(question) <= TITLE_MAX_CHARS:
        return question
    clauses = question.split("、")
    if clauses[0].endswith("は") and len(clauses[0]) < TITLE_MAX_CHARS:
        return clauses[0] + "？"  # 「オープンソースの台頭は、…」: the topic comes first
    title = clauses.pop()
    while clauses and len(clauses[-1]) + 1 + len(title) <= TITLE_MAX_CHARS:
        title = clauses.pop() + "、" + title  # the asking part is at the end: keep what fits before it
    return shorten(title, TITLE_MAX_CHARS)

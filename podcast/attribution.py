"""Stage 2: Transcript -> Script: who says each paragraph, from labels or, failing that, from the text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .evidence import (
    Guest,
    addressed,
    asks_both,
    cut_in_by,
    find_guests,
    host_name,
    identified,
    identities,
    is_aside,
    mentioned,
    replies_to_other,
    third_person,
    title_guests,
)
from .model import Chapter, Script, Speaker, Transcript, Turn, Utterance
from .text import is_question, slugify, split_sentences

HOST_ID = "host"
HOST_NAME = "聞き手"  # the interviewer, until the text says who they are
GUEST_NAME = "ゲスト"  # a guest the text never names
HOST_LABELS = frozenset(
    {"Q", "――", "—", "聞き手", "司会", "インタビュアー", "編集部", "記者", "MC", "Interviewer", "Host"}
)
GUEST_LABELS = frozenset({"A"})  # Q&A layout: the answerer, named from the title when it names one guest
HEDGE_MAX_CHARS = 40  # 「…と知っていますが。」 after a question: still the interviewer talking
SPLIT_MIN_CHARS = 15  # a question this long opening a paragraph of answer is the interviewer's
FOLLOW_UP_MAX_CHARS = 20  # 「なぜそれが退屈なのですか?」: a short question goes back to whoever just spoke
REACTION_MAX_CHARS = 40  # 「へぇ、そうだったんですか。」
THANKS_MAX_CHARS = 60  # 「本日はありがとうございました。」; a long paragraph that thanks is an answer
INTERJECTION_MAX_CHARS = 20  # 「はい、そうでした。」 inside an answer: maybe the other guest chiming in

_STEER = re.compile(
    r"聞きたい|お聞きし|伺い|聞かせて|教えて(?:ください|いただけ)|始めたいと思います|話を(?:移|変え)|私の質問は|質問させて|(?:一言|お話)を?お願いします"
)
_REACTION = re.compile(r"^(?:へぇ|へー|ほう|なるほど|おお|わあ|本当ですか|そうなんですか)|んですね[。！]?$")
_PRAISE = re.compile(
    r"素晴らしい(?:です|ですね|と思います)|(?:すごい|面白い|興味深い|心強い|頼もしい|羨ましい|うらやましい|いい話|良い話|いいお話)ですね"
)
_YOU = re.compile(r"あなた(?!たち|方|がた)")  # singular "you": the guest who just spoke
_FOLLOW_UP = re.compile(r"^(?:なぜ|どうして|それ|その|そこ|じゃあ|もっと|他に|ほかに)")
_THANKS = re.compile(r"ありがとうございま")
_HOST_THANKS = re.compile(r"本日は|今日は|お忙しい|お時間|お二人|皆さん")  # thanking for the interview itself


@dataclass(frozen=True, slots=True)
class _Move:
    """How a paragraph reads: an interviewer's move, or an answer."""

    host: bool  # the interviewer speaks
    strong: bool  # a question or an explicit request, not a guessed reaction
    cut: int = 0  # > 0: the interviewer asks up to this offset, then a guest answers


@dataclass(frozen=True, slots=True)
class _Guess:
    """Who is expected to answer the interviewer's latest move."""

    index: int  # into the guest list
    named: bool  # the question names the addressee (or there is only one guest)
    doubtful: bool  # a default that may well be wrong: mark the answer for review
    about: int | None = None  # the guest the question is about, who may cut in before the other answers
    default: bool = False  # a fresh topic with no name: what guests say of themselves may override it


@dataclass(slots=True)
class _Floor:
    """Running state while reading an unlabelled interview: who holds the floor and what is known."""

    profiles: list[set[str]]  # per guest: identity words they used of themselves (「投資家として」)
    guess: _Guess = _Guess(0, named=True, doubtful=False)  # who should answer the interviewer's last move
    last: int = 0  # the guest who spoke last
    owner: int = 0  # the guest answering the current question, across asides by the other
    chars: int = 0  # how much guests said since the interviewer last spoke
    fresh: bool = False  # the next answer paragraph is the first after an interviewer's move
    anchored: bool = False  # the current answer's speaker rests on a name, not on a default
    aside: bool = False  # the last paragraph was a guest cutting into another's answer
    both: bool = False  # the interviewer's last move addressed both guests
    previous: str = ""  # the last guest paragraph since the interviewer spoke


def attribute(transcript: Transcript) -> Script:
    """Decide who says each paragraph and group the turns into one chapter per heading."""
    paragraphs = [u for u in transcript.utterances if not u.heading]
    if any(u.label for u in paragraphs):
        speakers, turns = _from_labels(paragraphs, transcript.title)
    else:
        speakers, turns = _from_text(paragraphs, transcript.title)
    chapters: list[Chapter] = []
    title, current = transcript.title, list[Turn]()
    by_line = iter(turns)
    for utterance in transcript.utterances:
        if utterance.heading:
            if current:
                chapters.append(Chapter(title, tuple(current)))
            title, current = utterance.text, []
        else:
            current.extend(next(by_line))
    if current:
        chapters.append(Chapter(title, tuple(current)))
    used = list(dict.fromkeys(turn.speaker for chapter in chapters for turn in chapter.turns))
    return Script(
        title=transcript.title,
        speakers={sid: speakers[sid] for sid in used},
        chapters=tuple(chapters),
        source=transcript.source,
    )


# --- labelled transcripts -------------------------------------------------------------------


def _from_labels(paragraphs: Sequence[Utterance], title: str) -> tuple[dict[str, Speaker], list[list[Turn]]]:
    """Honour every label; aliases join; the host is the Q/―― label, else whoever asks most."""
    labels = list(dict.fromkeys(u.label for u in paragraphs if u.label))
    canon = _join_aliases(labels)
    hosts = {canon[label] for label in labels if label in HOST_LABELS}
    if not hosts:
        asked = Counter(canon[u.label] for u in paragraphs if u.label and _asks(u.text))
        hosts = {asked.most_common(1)[0][0] if asked else canon[labels[0]]}
    only_host_labels = set(canon.values()) <= hosts
    named = title_guests(title)
    ids: dict[str, str] = {}
    speakers: dict[str, Speaker] = {}
    for name in dict.fromkeys(canon[label] for label in labels):
        if name in hosts:
            ids[name] = HOST_ID
            display = HOST_NAME if name in HOST_LABELS else name
            speakers.setdefault(HOST_ID, Speaker(HOST_ID, display, "host"))
        else:
            display = name
            if name in GUEST_LABELS:  # 「A」 is no name: use the title's guest when it names one
                display = named[0].name if len(named) == 1 else GUEST_NAME
            ids[name] = _guest_id(display, speakers)
            speakers[ids[name]] = Speaker(ids[name], display, "guest")
    if only_host_labels:
        # ―― marks the interviewer; the unmarked paragraphs are the (single) guest's answers.
        display = named[0].name if named else GUEST_NAME
        speakers["guest1"] = Speaker("guest1", display, "guest")
    turns: list[list[Turn]] = []
    previous: str | None = None
    for u in paragraphs:
        if u.label:
            previous = ids[canon[u.label]]
            turns.append([Turn(previous, u.text, u.line)])
        elif only_host_labels:
            turns.append([Turn("guest1", u.text, u.line)])
        else:
            # An unlabelled paragraph continues the last speaker's answer; before any label, guess the host.
            turns.append([Turn(previous or HOST_ID, u.text, u.line, review=previous is None)])
            speakers.setdefault(HOST_ID, Speaker(HOST_ID, HOST_NAME, "host"))
    return speakers, turns


def _join_aliases(labels: Sequence[str]) -> dict[str, str]:
    """Map each label to its fullest form: 「松木」 joins 「はてな松木」 when that is the only match."""
    canon = {label: label for label in labels}
    for short in labels:
        if short in HOST_LABELS or short in GUEST_LABELS or len(short) < 2:
            continue
        longer = [
            other
            for other in labels
            if other != short and len(other) > len(short) and _is_alias(short, other) and other not in HOST_LABELS
        ]
        if len(longer) == 1:
            canon[short] = longer[0]
    return canon


def _is_alias(short: str, long: str) -> bool:
    if short.isascii() and long.isascii():
        return set(short.lower().split()) <= set(long.lower().split())
    return long.startswith(short) or long.endswith(short)


def _asks(text: str) -> bool:
    return any(is_question(sentence) for sentence in split_sentences(text))


def _guest_id(name: str, speakers: dict[str, Speaker]) -> str:
    """A short ASCII id: the slug of a Latin name, else guest1, guest2, …"""
    slug = slugify(name)
    if name.isascii() and len(slug) >= 2 and slug not in speakers and slug != HOST_ID and name not in GUEST_LABELS:
        return slug
    n = 1 + sum(speaker.role == "guest" for speaker in speakers.values())
    while f"guest{n}" in speakers:
        n += 1
    return f"guest{n}"


# --- unlabelled transcripts -----------------------------------------------------------------


def _from_text(paragraphs: Sequence[Utterance], title: str) -> tuple[dict[str, Speaker], list[list[Turn]]]:
    """Read the interviewer's moves and the names they address to decide who answers each question."""
    moves = [_move(u.text, i, paragraphs) for i, u in enumerate(paragraphs)]
    guests = find_guests(title, [u.text for u, m in zip(paragraphs, moves, strict=True) if m.host])
    ids = [f"guest{n}" for n in range(1, len(guests) + 1)] or ["guest1"]
    speakers: dict[str, Speaker] = {HOST_ID: Speaker(HOST_ID, _host(paragraphs, moves), "host")}
    for sid, guest in zip(ids, guests or [Guest(GUEST_NAME, ())], strict=True):
        speakers[sid] = Speaker(sid, guest.name, "guest")
    turns: list[list[Turn]] = []
    floor = _Floor(profiles=[set() for _ in guests])
    for i, (u, m) in enumerate(zip(paragraphs, moves, strict=True)):
        answer, out = u.text, []
        if m.host:
            asked = u.text[: m.cut] if m.cut else u.text
            out.append(Turn(HOST_ID, asked.strip(), u.line, review=not m.strong))
            brief = floor.chars <= INTERJECTION_MAX_CHARS
            floor.guess = _addressee(asked, guests, floor.last, brief=brief, profiles=floor.profiles)
            floor.fresh, floor.chars, floor.both, floor.previous = True, 0, asks_both(asked), ""
            answer = u.text[m.cut :].strip() if m.cut else ""
        if answer:
            block = [p.text for p in paragraphs[i + 1 : i + 1 + _block_len(moves[i + 1 :])]]
            who, review = _answerer(answer, guests, floor, block)
            out.append(Turn(ids[who], answer, u.line, review=review))
        turns.append(out)
    return speakers, turns


def _answerer(answer: str, guests: Sequence[Guest], floor: _Floor, block: Sequence[str]) -> tuple[int, bool]:
    """Which guest says an answer paragraph, and whether that is a guess to review; updates floor."""
    fresh, guess, short = floor.fresh, floor.guess, len(answer) <= REACTION_MAX_CHARS
    own = third_person(answer, guests, guess.index if fresh else floor.last)
    other = _other(floor.last, guests)
    aside, review, anchored = False, False, floor.anchored
    if guess.about is not None and (fresh or guess.about != floor.last) and short and is_aside(answer):
        who, review, aside = guess.about, True, True  # the guest being talked about cuts in first
    elif own is not None:
        who, anchored = own, True
    elif not fresh and other is not None and replies_to_other(answer):
        who, aside = other, short  # 「私はそのことを知りませんでした」: said of the other guest's story
    elif not fresh and other is not None and short and cut_in_by(floor.previous, guests, floor.last) == other:
        who, review, aside = other, True, True  # 「…サムに勝ったのは初めてですが…」 cut off: Sam answers back
    elif not fresh and other is not None and floor.both and short and len(floor.previous) <= REACTION_MAX_CHARS:
        who, review = other, True  # a short reply each to a question put to both
    elif not fresh:
        who = floor.owner if floor.aside else floor.last  # an answer runs on over several paragraphs
        review = len(guests) > 1 and (
            len(answer) <= INTERJECTION_MAX_CHARS or len(mentioned(answer, guests)) == len(guests)
        )
    elif guess.named:
        who, anchored = guess.index, True
    else:
        # No name in the question: who they say they are, else the first name mentioned later on, decides.
        later = next((e for e in (third_person(t, guests, guess.index) for t in block) if e is not None), None)
        known = identified(answer, floor.profiles) if guess.default else None  # a follow-up outranks it
        anchored = False
        if known is not None:
            who = known
        else:
            who = guess.index if later is None else later
            review = guess.doubtful if later is None else later != guess.index
            anchored = False  # a name further on is indirect: do not learn who this guest is from it
    if not aside:
        floor.owner = who
        floor.anchored = anchored
        if anchored and not review:
            floor.profiles[who] |= identities(answer)
    floor.last, floor.fresh, floor.aside = who, False, aside
    floor.chars += len(answer)
    floor.previous = answer
    return who, review


def _other(last: int, guests: Sequence[Guest]) -> int | None:
    """The one other guest, when there are exactly two."""
    return 1 - last if len(guests) == 2 else None


def _move(text: str, index: int, paragraphs: Sequence[Utterance]) -> _Move:
    """Classify a paragraph: question, request, reaction or thanks -> interviewer; else an answer."""
    sentences = split_sentences(text)
    asked = [n for n, sentence in enumerate(sentences) if is_question(sentence)]
    if asked:
        tail = sentences[asked[-1] + 1 :]
        if not tail or (len(tail) == 1 and len(tail[0]) <= HEDGE_MAX_CHARS):
            return _Move(host=True, strong=True)
        if asked[0] == 0 and len(tail) >= 2:
            cut = _offset_after(text, sentences[: asked[-1] + 1])
            if cut >= SPLIT_MIN_CHARS:
                return _Move(host=True, strong=True, cut=cut)
    if _STEER.search(text):
        return _Move(host=True, strong=True)
    if _THANKS.search(text) and not text.startswith("こちらこそ"):
        previous = paragraphs[index - 1].text if index else ""
        # The closing thanks is the interviewer's, unless it answers the interviewer's own thanks.
        closing = index == len(paragraphs) - 1 and not _THANKS.search(previous)
        if (_HOST_THANKS.search(text) and len(text) <= THANKS_MAX_CHARS) or index == 0 or closing:
            return _Move(host=True, strong=True)
    short = len(text) <= REACTION_MAX_CHARS
    if (short and (_REACTION.search(text) or _PRAISE.search(text))) or (_YOU.search(text) and _PRAISE.search(text)):
        return _Move(host=True, strong=False)
    if re.search(r"あなたたち|お二人", text) and _PRAISE.search(text):
        return _Move(host=True, strong=False)
    return _Move(host=False, strong=True)


def _offset_after(text: str, sentences: Sequence[str]) -> int:
    """Where the given leading sentences of text end, in the original string."""
    at = 0
    for sentence in sentences:
        found = text.find(sentence, at)
        if found < 0:
            return 0  # split_sentences reshaped the text: do not cut
        at = found + len(sentence)
    return at


def _block_len(moves: Sequence[_Move]) -> int:
    """How many answer paragraphs follow before the interviewer speaks again."""
    n = 0
    while n < len(moves) and not moves[n].host:
        n += 1
    return n


def _addressee(
    question: str, guests: Sequence[Guest], last: int, *, brief: bool, profiles: Sequence[set[str]]
) -> _Guess:
    """Who should answer a question; brief: the last answer was a word or two, so this follows it up."""
    called = addressed(question, guests)
    if called is not None:
        others = [n for n in mentioned(question, guests) if n != called]  # 「佐々木さんから見て、高橋さんは…」
        return _Guess(called, named=True, doubtful=False, about=others[0] if len(others) == 1 else None)
    about = mentioned(question, guests)
    if len(guests) == 2 and len(about) == 1:
        # 「ブラッドが素晴らしいところは？」: ask the other
        return _Guess(1 - about[0], named=True, doubtful=False, about=about[0])
    if len(guests) <= 1:
        return _Guess(0, named=True, doubtful=False)
    known = identified(question.replace("あなた", "私"), profiles)  # 「投資家として、あなたは…」
    if known is not None:
        return _Guess(known, named=True, doubtful=False)
    if brief or len(question) <= FOLLOW_UP_MAX_CHARS or _FOLLOW_UP.match(question) or _YOU.search(question):
        return _Guess(last, named=False, doubtful=False)  # a follow-up goes back to whoever just spoke
    return _Guess(0, named=False, doubtful=last != 0, default=True)  # a fresh topic goes to the main (title) guest


def _host(paragraphs: Sequence[Utterance], moves: Sequence[_Move]) -> str:
    """The interviewer's name when they introduce themselves, else 聞き手."""
    return host_name([u.text for u, m in zip(paragraphs, moves, strict=True) if m.host]) or HOST_NAME

"""Stage 2: Transcript -> Script: who says each paragraph, from labels or, failing that, from the text."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

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
INTERJECTION_MAX_CHARS = 20  # 「はい、そうでした。」 inside an answer: maybe the other guest chiming in

_KATAKANA_NAME = r"[ァ-ヶ][ァ-ヶー]+(?:[・=＝][ァ-ヶ][ァ-ヶー]+)*"
_LATIN_NAME = r"[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}"
_HONORIFIC = r"(?:さん|氏|くん|先生)"
_TITLE_NAME = re.compile(rf"^(?:{_KATAKANA_NAME}|{_LATIN_NAME}|[一-龥々]{{2,6}}{_HONORIFIC})$")
_TITLE_PARTS = re.compile(r"\s*(?:\||｜|：|:| - |×|＆|&|と)\s*")
_TITLE_HONORED = re.compile(rf"({_KATAKANA_NAME}|[一-龥々]{{2,6}}){_HONORIFIC}")
_VOCATIVE = re.compile(
    rf"(?:^|[。！？!?]\s*)(?P<a>{_KATAKANA_NAME}|{_LATIN_NAME}|[一-龥々]{{2,4}}さん)、"
    rf"|、\s*(?P<b>{_KATAKANA_NAME}|{_LATIN_NAME}|[一-龥々]{{2,4}}さん)\s*[?？]"
)
_STEER = re.compile(
    r"聞きたい|お聞きし|伺い|聞かせて|教えて(?:ください|いただけ)|始めたいと思います|話を(?:移|変え)|私の質問は|質問させて"
)
_REACTION = re.compile(r"^(?:へぇ|へー|ほう|なるほど|おお|わあ|本当ですか|そうなんですか)|んですね[。！]?$")
_PRAISE = re.compile(r"素晴らしい(?:です|ですね|と思います)|すごいですね|面白いですね|興味深いですね")
_YOU = re.compile(r"あなた(?!たち|方|がた)")  # singular "you": the guest who just spoke
_FOLLOW_UP = re.compile(r"^(?:なぜ|どうして|それ|その|そこ|じゃあ|もっと|他に|ほかに)")
_THANKS = re.compile(r"ありがとうございま")
_HOST_REVEALED = re.compile(
    r"(?:聞き手|司会|インタビュアー|進行)(?:の|は|を務める)([^\s、。]{2,10}?)(?:です|と申します|が)"
)


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


@dataclass(frozen=True, slots=True)
class _Guest:
    """A guest found in the title or addressed in the text."""

    name: str  # as written: full name when the title gives it
    aliases: tuple[str, ...]  # the name and its parts, as the text may use them


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
    title_guests = _title_guests(title)
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
                display = title_guests[0].name if len(title_guests) == 1 else GUEST_NAME
            ids[name] = _guest_id(display, speakers)
            speakers[ids[name]] = Speaker(ids[name], display, "guest")
    if only_host_labels:
        # ―― marks the interviewer; the unmarked paragraphs are the (single) guest's answers.
        display = title_guests[0].name if title_guests else GUEST_NAME
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
    moves = [_move(u.text, i, len(paragraphs)) for i, u in enumerate(paragraphs)]
    guests = _find_guests(title, [u.text for u, m in zip(paragraphs, moves, strict=True) if m.host])
    ids = [f"guest{n}" for n in range(1, len(guests) + 1)] or ["guest1"]
    speakers: dict[str, Speaker] = {HOST_ID: Speaker(HOST_ID, _host_name(paragraphs, moves), "host")}
    for sid, guest in zip(ids, guests or [_Guest(GUEST_NAME, ())], strict=True):
        speakers[sid] = Speaker(sid, guest.name, "guest")
    turns: list[list[Turn]] = []
    guess = _Guess(0, named=True, doubtful=False)  # who should answer the interviewer's last move
    last = 0  # index of the guest who spoke last
    last_chars = 0  # how much they said since the interviewer last spoke
    fresh = False  # the next answer paragraph is the first after an interviewer's move
    for i, (u, m) in enumerate(zip(paragraphs, moves, strict=True)):
        answer, out = u.text, []
        if m.host:
            asked = u.text[: m.cut] if m.cut else u.text
            out.append(Turn(HOST_ID, asked.strip(), u.line, review=not m.strong))
            guess = _addressee(asked, guests, last, brief=last_chars <= INTERJECTION_MAX_CHARS)
            fresh, last_chars = True, 0
            answer = u.text[m.cut :].strip() if m.cut else ""
        if answer:
            own = _evidence(answer, guests, guess.index if fresh else last)
            review = False
            if own is not None:
                who = own
            elif not fresh:
                who = last  # an answer runs on over several paragraphs
                review = len(guests) > 1 and (len(answer) <= INTERJECTION_MAX_CHARS or _mentions_all(answer, guests))
            elif guess.named:
                who = guess.index
            else:
                # No name in the question: the first name mentioned further on in this answer decides.
                block = [p.text for p in paragraphs[i + 1 : i + 1 + _block_len(moves[i + 1 :])]]
                later = next((e for e in (_evidence(t, guests, guess.index) for t in block) if e is not None), None)
                who = guess.index if later is None else later
                review = guess.doubtful if later is None else later != guess.index
            out.append(Turn(ids[who], answer, u.line, review=review))
            last, fresh, last_chars = who, False, last_chars + len(answer)
        turns.append(out)
    return speakers, turns


def _move(text: str, index: int, total: int) -> _Move:
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
    if _THANKS.search(text) and index in (0, total - 1):
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


def _find_guests(title: str, host_texts: Sequence[str]) -> list[_Guest]:
    """Guests named by the title, then names the interviewer addresses (「サム、…」「…、ブラッド?」)."""
    guests = _title_guests(title)
    for text in host_texts:
        for found in _VOCATIVE.finditer(text):
            name = _bare(found["a"] or found["b"])
            if not any(name in guest.aliases for guest in guests):
                guests.append(_Guest(name, (name,)))
    return guests


def _title_guests(title: str) -> list[_Guest]:
    """People the title names: the 「サム・アルトマン | …」 head, or 〜氏 / 〜さん anywhere."""
    names: list[str] = []
    for part in _TITLE_PARTS.split(unicodedata.normalize("NFC", title).strip()):
        if _TITLE_NAME.match(part.strip()):
            names.append(_bare(part.strip()))
        else:
            break  # names lead the title; the rest is the topic
    names += [_bare(found[0]) for found in _TITLE_HONORED.finditer(title) if _bare(found[0]) not in names]
    guests = []
    for name in names:
        parts = [p for p in re.split(r"[・=＝ ]", name) if len(p) >= 2]
        guests.append(_Guest(name, tuple(dict.fromkeys([name, *parts]))))
    return guests


def _bare(name: str) -> str:
    return re.sub(rf"{_HONORIFIC}$", "", name)


def _mentions(text: str, guest: _Guest) -> bool:
    return any(re.search(rf"{re.escape(alias)}{_HONORIFIC}?(?![ァ-ヶーA-Za-z])", text) for alias in guest.aliases)


def _mentions_all(text: str, guests: Sequence[_Guest]) -> bool:
    return all(_mentions(text, guest) for guest in guests)


def _addressee(question: str, guests: Sequence[_Guest], last: int, *, brief: bool) -> _Guess:
    """Who should answer a question; brief: the last answer was a word or two, so this follows it up."""
    for found in _VOCATIVE.finditer(question):
        name = _bare(found["a"] or found["b"])
        for n, guest in enumerate(guests):
            if name in guest.aliases:
                return _Guess(n, named=True, doubtful=False)
    about = [n for n, guest in enumerate(guests) if _mentions(question, guest)]
    if len(guests) == 2 and len(about) == 1:
        return _Guess(1 - about[0], named=True, doubtful=False)  # 「ブラッドが素晴らしいところは？」: ask the other
    if len(guests) <= 1:
        return _Guess(0, named=True, doubtful=False)
    if brief or len(question) <= FOLLOW_UP_MAX_CHARS or _FOLLOW_UP.match(question) or _YOU.search(question):
        return _Guess(last, named=False, doubtful=False)  # a follow-up goes back to whoever just spoke
    return _Guess(0, named=False, doubtful=last != 0)  # a fresh topic goes to the main (title) guest


def _evidence(text: str, guests: Sequence[_Guest], default: int) -> int | None:
    """A guest who talks about another guest in the third person is not that guest."""
    if len(guests) < 2:
        return None
    named = [n for n, guest in enumerate(guests) if _mentions(text, guest)]
    if len(named) != 1:
        return None
    if len(guests) == 2:
        return 1 - named[0]
    return None if default != named[0] else next(n for n in range(len(guests)) if n != named[0])


def _host_name(paragraphs: Sequence[Utterance], moves: Sequence[_Move]) -> str:
    """The interviewer's name when they introduce themselves (「司会の松木です」), else 聞き手."""
    for u, m in zip(paragraphs, moves, strict=True):
        found = _HOST_REVEALED.search(u.text) if m.host else None
        if found:
            return found[1]
    return HOST_NAME

"""Which guest speaks: who the guests are (hints, lists, the title, names called and given) and a chain over them.

Host-or-guest is decided first (attribution); over the guest paragraphs a second linear-chain model weighs the
floor being handed to someone by name, self-introductions, third-person mentions and self-descriptions.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .cues import addressed, asks, hands_over, honoured_names, hosts, own_name
from .model import Hints, Transcript, Utterance
from .sequence import Chain, marginals, viterbi
from .text import split_sentences

HOST_NAME = "聞き手"  # the interviewer, until the text says who they are
GUEST_NAME = "ゲスト"  # a guest the text never names
# The chain's few numbers, as probabilities (set by hand rather than fitted: the data name few guests).
CALLED = 0.9  # the guest the host just called by name answers
REFERRED = 0.7  # the guest the host's question names last, in the third person
STAY_AFTER_HANDOVER = 0.25  # 「補足すると」「システムの面では」: another guest takes it up
PROFILE_ODDS = 4.0  # an answer opening with words only one guest used of themselves…
PROFILE_MIN_SHARED = 2  # … at least this many two-character pieces of them
STAY_AFTER_QUESTION = 0.45  # an unaddressed question goes back to whoever answered last…
MAIN_GUEST = 0.3  # … or to the guest the title names first
STAY_IN_ANSWER = 0.85  # a guest paragraph right after another guest's is the same guest
STAY_ACROSS_SEGMENT = 0.3  # … unless a speech-to-text segment break sits between them
OWN_NAME_ODDS = 30.0  # 「開発部の野村です」 is said by 野村
MENTION_ODDS = 0.15  # 「野村さんが作った」 is rarely said by 野村

_WORD = re.compile(r"[一-龥々]{2,}|[ァ-ヶー]{3,}")  # content words, for matching self-descriptions
_BARE_KATAKANA = re.compile(r"^[ァ-ヶー]+$")
_NAME_PARTS = re.compile(r"[・=＝ \u3000]")
_KATAKANA_NAME = r"[ァ-ヶ][ァ-ヶー]+(?:[・=＝][ァ-ヶ][ァ-ヶー]+)*"
_TITLE_NAME = re.compile(rf"^(?:{_KATAKANA_NAME}|[A-Z][a-z]+(?: [A-Z][a-z]+){{0,2}}|[一-龥々]{{2,6}}(?:さん|氏|先生))$")
_TITLE_PARTS = re.compile(r"\s*(?:\||｜|：|:| - |×|＆|&|と)\s*")
_TITLE_HONORED = re.compile(rf"({_KATAKANA_NAME}|[一-龥々]{{2,6}})(?:さん|氏|先生)")


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who may speak: a display name and the forms the text uses for them."""

    name: str  # as shown: the fullest form found (山田太郎)
    aliases: tuple[str, ...]  # every form the text may use: the name and its parts (山田太郎, 山田)


def known_people(transcript: Transcript, hints: Hints) -> list[Person]:
    """People named before anyone speaks: the user's hints, then the participant list."""
    people = [as_person(name) for name in (*hints.hosts, *hints.guests)]
    for p in transcript.participants:
        if not any(is_alias(p.name, q.name) or is_alias(q.name, p.name) for q in people):
            people.append(Person(p.name, tuple(dict.fromkeys((p.name, *p.aliases, *_parts(p.name))))))
    return people


def as_person(name: str) -> Person:
    """A person known by a name and its parts: 「ミカ・タナベ」 answers to 「ミカ」 and 「タナベ」 too."""
    return Person(name, tuple(dict.fromkeys((name, *_parts(name)))))


def _parts(name: str) -> list[str]:
    parts = [p for p in _NAME_PARTS.split(name) if len(p) >= 2]
    return parts if len(parts) > 1 else []


def title_people(title: str) -> list[Person]:
    """People a title names: the 「ミカ・タナベ × ジョージ・ハラ | …」 head, or 〜さん / 〜氏 anywhere."""
    names: list[str] = []
    for part in _TITLE_PARTS.split(unicodedata.normalize("NFC", title).strip()):
        if _TITLE_NAME.match(part.strip()):
            names.append(re.sub(r"(?:さん|氏|先生)$", "", part.strip()))
        else:
            break  # names lead the title; the rest is the topic
    names += [found[1] for found in _TITLE_HONORED.finditer(title) if found[1] not in names]
    return [as_person(name) for name in names]


def host_name(paragraphs: Sequence[Utterance], is_host: Sequence[bool], transcript: Transcript, hints: Hints) -> str:
    """The interviewer's name: a hint, the participant list, 「司会の森です」 in a host paragraph, else 聞き手."""
    if hints.hosts:
        return hints.hosts[0]
    listed = [p.name for p in transcript.participants if p.role == "host"]
    if listed:
        return listed[0]
    for u, host in zip(paragraphs, is_host, strict=True):
        if host and hosts(u.text):
            name = own_name(u.text)
            if name:
                return name
    return HOST_NAME


def find_guests(
    paragraphs: Sequence[Utterance],
    is_host: Sequence[bool],
    transcript: Transcript,
    hints: Hints,
    people: Sequence[Person],
    *,
    host: str = HOST_NAME,
) -> list[Person]:
    """Who the guests are: hints, the participant list, the title, names the host calls, names guests give."""
    host_forms = {host, *_parts(host), *hints.hosts}
    host_forms |= {p.name for p in transcript.participants if p.role == "host"}
    found: list[Person] = [as_person(name) for name in hints.guests]
    if not hints.guests:
        found += [q for q in people if q.name not in host_forms and q.name not in hints.hosts]
        found += title_people(transcript.title)
        text = "\n".join(u.text for u in paragraphs)
        for u, asking in zip(paragraphs, is_host, strict=True):
            if asking:
                # A bare katakana word before 、 is a name only if the text uses it again: 「データ、」 is not.
                names = [n for n in addressed(u.text) if not _BARE_KATAKANA.match(n) or text.count(n) >= 3]
            else:
                said = own_name(u.text)  # 「営業部の長谷部です。…を担当しています。」
                names = [said] if said else []
            names = [n for n in names if n not in host_forms]
            found += [as_person(name) for name in names]
    guests: list[Person] = []
    for person in found:
        same = next((g for g in guests if same_person(g, person)), None)
        if same is None:
            guests.append(person)
    limit = None
    if hints.speakers is not None:
        limit = max(1, hints.speakers - max(1, len(hints.hosts)))
    if limit is not None and len(guests) > limit:
        guests = guests[:limit]
    if not guests or (limit is not None and len(guests) < limit and not hints.guests):
        while len(guests) < (limit or 1):
            guests.append(Person(f"{GUEST_NAME}{len(guests) + 1}" if limit and limit > 1 else GUEST_NAME, ()))
    return guests


def same_person(a: Person, b: Person) -> bool:
    """Whether two people share a name form: 「山田」 and 「山田太郎」 are one."""
    return any(is_alias(x, y) or is_alias(y, x) for x in a.aliases or (a.name,) for y in b.aliases or (b.name,))


def _matches(name: str, person: Person) -> bool:
    return any(is_alias(name, alias) or is_alias(alias, name) for alias in person.aliases or (person.name,))


def which_guest(
    paragraphs: Sequence[Utterance], is_host: Sequence[bool], guests: Sequence[Person], *, title: str = ""
) -> tuple[list[int], list[float]]:
    """Which guest says each guest paragraph (index into guests; 0 for host paragraphs) and how sure."""
    n = len(guests)
    named = title_people(title)
    main = next((g for g, person in enumerate(guests) if named and same_person(person, named[0])), None)
    order = [i for i, host in enumerate(is_host) if not host]
    who = [0] * len(paragraphs)
    sure = [1.0] * len(paragraphs)
    if n <= 1 or not order:
        return who, sure
    profiles = _profiles(paragraphs, order, guests)
    emissions = np.zeros((len(order), n))
    transitions = np.zeros((max(len(order) - 1, 0), n, n))
    called: tuple[int, float] | None = None
    start = np.full(n, math.log(1 / n))
    for k, i in enumerate(order):
        text = paragraphs[i].text
        said = own_name(text)
        mentioned = honoured_names(text)
        opening = _bigrams(split_sentences(text)[0] if text.strip() else text)
        for g, person in enumerate(guests):
            if said and _matches(said, person):
                emissions[k, g] += math.log(OWN_NAME_ODDS)
            elif any(_matches(name, person) for name in mentioned) or _mentions(text, person):
                emissions[k, g] += math.log(MENTION_ODDS)
            if len(opening & profiles[g]) >= PROFILE_MIN_SHARED:
                emissions[k, g] += math.log(PROFILE_ODDS)  # 「品質保証としては」 from the one who works there
        fresh = k == 0 or order[k - 1] != i - 1  # a host paragraph came between
        if fresh:
            asked = next((j for j in range(i - 1, -1, -1) if is_host[j]), None)
            called = _called(paragraphs[asked].text, guests) if asked is not None else None
        move = _guest_moves(
            n,
            fresh=fresh,
            called=called,
            stay=STAY_AFTER_QUESTION if fresh else _stay(paragraphs[i], text),
            main=main,
        )
        if k == 0:
            start = move[0]
        else:
            transitions[k - 1] = move
    chain = Chain(emissions, transitions, start)
    path = viterbi(chain)
    _, single, _ = marginals(chain)
    for k, i in enumerate(order):
        who[i], sure[i] = path[k], float(single[k, path[k]])
    return who, sure


def _called(question: str, guests: Sequence[Person]) -> tuple[int, float] | None:
    """The guest a host paragraph hands the floor to, and how likely they answer.

    Called by name (「佐野さん、」「佐野さんはいかがですか」) they almost surely do; named in passing as the
    host's last word on someone (「連携は森本さんが担当されたんですよね。」), they probably do.
    """
    names = addressed(question)
    for g, person in enumerate(guests):
        if any(_matches(x, person) for x in names):
            return g, CALLED
    sentences = split_sentences(question)
    for sentence in reversed(sentences[-2:]):
        for name in reversed(honoured_names(sentence)):
            for g, person in enumerate(guests):
                if _matches(name, person):
                    return g, REFERRED
    return None


def _stay(paragraph: Utterance, text: str) -> float:
    """How likely a guest paragraph right after another guest's is the same guest."""
    if paragraph.segment or asks(text):
        return STAY_ACROSS_SEGMENT
    if hands_over(text):
        return STAY_AFTER_HANDOVER
    return STAY_IN_ANSWER


def _bigrams(text: str) -> set[str]:
    """Two-character pieces of kanji and katakana words: 「品質保証部」 shares 「品質」 with 「品質保証」."""
    return {word[k : k + 2] for word in _WORD.findall(text) for k in range(len(word) - 1)}


def _profiles(paragraphs: Sequence[Utterance], order: Sequence[int], guests: Sequence[Person]) -> list[set[str]]:
    """Words each guest used to introduce themselves, kept when no other guest used them."""
    words: list[set[str]] = [set() for _ in guests]
    for i in order:
        said = own_name(paragraphs[i].text)
        for g, person in enumerate(guests):
            if said and _matches(said, person):
                words[g] |= _bigrams(paragraphs[i].text) - _bigrams(" ".join(person.aliases))
    return [w - set().union(*(o for h, o in enumerate(words) if h != g)) for g, w in enumerate(words)]


def _guest_moves(n: int, *, fresh: bool, called: tuple[int, float] | None, stay: float, main: int | None) -> np.ndarray:
    """Log-probabilities of the next guest paragraph's speaker given the last one's: (from, to)."""
    if fresh and called is not None:
        row = np.full(n, (1 - called[1]) / max(n - 1, 1))
        row[called[0]] = called[1]
        return np.asarray(np.log(np.tile(row, (n, 1))))
    if fresh:
        # An unaddressed question: the last speaker may go on, but a new topic is the main guest's.
        lead = MAIN_GUEST if main is not None else 0.0
        move = np.full((n, n), (1 - stay - lead) / n)
        move[np.arange(n), np.arange(n)] += stay
        if main is not None:
            move[:, main] += lead
        return np.asarray(np.log(move))
    move = np.full((n, n), (1 - stay) / max(n - 1, 1))
    np.fill_diagonal(move, stay)
    return np.asarray(np.log(move))


def _mentions(text: str, person: Person) -> bool:
    """A guest's name used in the third person, bare or with さん."""
    return any(len(alias) >= 2 and re.search(rf"{re.escape(alias)}(?:さん|氏|君|くん)?(?:が|は|の|に|と|も)", text)
               for alias in person.aliases)  # fmt: skip


def is_alias(short: str, long: str) -> bool:
    """Whether short is a form of long: its first or last part, or the same words in Latin script."""
    if short == long:
        return True
    if short.isascii() and long.isascii():
        return set(short.lower().split()) <= set(long.lower().split())
    return len(short) >= 2 and (long.startswith(short) or long.endswith(short))

"""Stage 2: Transcript -> Script: who says each paragraph, from labels or, failing that, from the text.

Unlabelled text is decoded in two passes over the whole transcript, each a linear-chain model: host or guest
(cue weights fitted on labelled transcripts, podcast/data/attribution.json), then which guest (names
addressed, self-introductions, third-person mentions). Each decision keeps its probability; unsure ones are
marked for review with the reason.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

import numpy as np

from .cues import (
    CUES,
    SWITCH_CUES,
    Paragraph,
    addressed,
    asks,
    cue_vector,
    hands_over,
    honoured_names,
    hosts,
    own_name,
    style_vector,
    switch_vector,
)
from .errors import ConfigError
from .model import Chapter, Hints, Script, Speaker, Transcript, Turn, Utterance
from .sequence import Chain, RoleWeights, adapt, marginals, role_chain, viterbi
from .text import slugify, split_sentences

HOST_ID = "host"
HOST_NAME = "聞き手"  # the interviewer, until the text says who they are
GUEST_NAME = "ゲスト"  # a guest the text never names
HOST_LABELS = frozenset(
    {
        "Q",
        "――",
        "—",
        "聞き手",
        "司会",
        "司会者",
        "インタビュアー",
        "編集部",
        "記者",
        "MC",
        "Interviewer",
        "Host",
        "質問者",
    }
)
GUEST_LABELS = frozenset({"A"})  # Q&A layout: the answerer, named from the title when it names one guest
LABELLED_MIN_SHARE = 0.1  # of paragraphs: fewer labels than this and the text is read as unlabelled
STYLE_STRENGTH = 0.3  # weight of each transcript's own speech habits (僕/私, です/だ), learned per transcript
ROLE_SURE = 0.8  # below this probability of host-or-guest, a turn is marked for review
GUEST_SURE = 0.6  # below this probability of which guest, likewise
REVIEW_MAX_SHARE = 0.25  # flag at most this share of turns: the least sure first
# Which-guest chain, as probabilities (a few plain numbers rather than fitted: the data name few guests).
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

_ANONYMOUS = re.compile(r"^(?:話者|Speaker|SPEAKER|spk)[ _]?\d+$", re.IGNORECASE)
_WORD = re.compile(r"[一-龥々]{2,}|[ァ-ヶー]{3,}")  # content words, for matching self-descriptions
_BARE_KATAKANA = re.compile(r"^[ァ-ヶー]+$")

_NAME_PARTS = re.compile(r"[・=＝ \u3000]")
_KATAKANA_NAME = r"[ァ-ヶ][ァ-ヶー]+(?:[・=＝][ァ-ヶ][ァ-ヶー]+)*"
_TITLE_NAME = re.compile(rf"^(?:{_KATAKANA_NAME}|[A-Z][a-z]+(?: [A-Z][a-z]+){{0,2}}|[一-龥々]{{2,6}}(?:さん|氏|先生))$")
_TITLE_PARTS = re.compile(r"\s*(?:\||｜|：|:| - |×|＆|&|と)\s*")
_TITLE_HONORED = re.compile(rf"({_KATAKANA_NAME}|[一-龥々]{{2,6}})(?:さん|氏|先生)")


@dataclass(frozen=True, slots=True)
class _Person:
    """Someone who may speak: a display name and the forms the text uses for them."""

    name: str
    aliases: tuple[str, ...]


@cache
def role_weights() -> RoleWeights:
    """The fitted host-vs-guest model shipped with the package."""
    raw = json.loads(resources.files("podcast").joinpath("data/attribution.json").read_text(encoding="utf-8"))
    return weights_from_json(raw)


def weights_from_json(raw: dict[str, object]) -> RoleWeights:
    """RoleWeights from its JSON form, checked against the cues this code computes."""
    cues = tuple(str(c) for c in raw["cues"])  # type: ignore[attr-defined]
    switch_cues = tuple(str(c) for c in raw["switch_cues"])  # type: ignore[attr-defined]
    if cues != CUES or switch_cues != SWITCH_CUES:
        raise ConfigError("podcast/data/attribution.json: cue list differs from podcast.cues (refit it)")
    return RoleWeights(
        cues=cues,
        weights=tuple(float(w) for w in raw["weights"]),  # type: ignore[attr-defined]
        switch_cues=switch_cues,
        switch_weights=tuple(float(w) for w in raw["switch_weights"]),  # type: ignore[attr-defined]
        plain=tuple(tuple(float(x) for x in row) for row in raw["plain"]),  # type: ignore[arg-type, attr-defined]
        start=tuple(float(x) for x in raw["start"]),  # type: ignore[arg-type, attr-defined]
    )


def attribute(transcript: Transcript, hints: Hints | None = None, *, weights: RoleWeights | None = None) -> Script:
    """Decide who says each paragraph and group the turns into one chapter per heading."""
    hints = hints or Hints()
    weights = weights or role_weights()
    paragraphs = [u for u in transcript.utterances if not u.heading]
    labelled = sum(u.label is not None for u in paragraphs)
    # A stray `注：` or `-->` is no layout: labels count when there are a few of them.
    if labelled >= max(2, LABELLED_MIN_SHARE * len(paragraphs)):
        speakers, turns = _from_labels(paragraphs, transcript, hints, weights)
    else:
        speakers, turns = _from_text(paragraphs, transcript, hints, weights)
    turns = _cap_reviews(turns)
    chapters: list[Chapter] = []
    title, current = transcript.title, list[Turn]()
    by_paragraph = iter(turns)
    for utterance in transcript.utterances:
        if utterance.heading:
            if current:
                chapters.append(Chapter(title, tuple(current)))
            title, current = utterance.text, []
        else:
            current.append(next(by_paragraph))
    if current:
        chapters.append(Chapter(title, tuple(current)))
    used = list(dict.fromkeys(turn.speaker for chapter in chapters for turn in chapter.turns))
    return Script(
        title=transcript.title,
        speakers={sid: speakers[sid] for sid in used},
        chapters=tuple(chapters),
        source=transcript.source,
    )


def host_probabilities(paragraphs: Sequence[Utterance], weights: RoleWeights) -> tuple[list[bool], list[float]]:
    """Viterbi host/guest for each paragraph and the probability that it is the host's."""
    if not paragraphs:
        return [], []
    cues, switches = _cue_matrix(paragraphs)
    chain = role_chain(weights, cues, switches)
    style = np.asarray([style_vector(u.text) for u in paragraphs], dtype=float).reshape(len(paragraphs), -1)
    # Speech-to-text podcasts mix three or more voices and the tool's own spelling: no two clean styles to learn.
    segmented = sum(u.segment for u in paragraphs) > len(paragraphs) / 2
    p_host = adapt(chain, style, strength=0.0 if segmented else STYLE_STRENGTH)
    # Each paragraph's most likely side (posterior decoding): accuracy per paragraph is what a listener hears.
    return [bool(p >= 0.5) for p in p_host], [float(p) for p in p_host]


def _cue_matrix(paragraphs: Sequence[Utterance]) -> tuple[np.ndarray, np.ndarray]:
    """Who-speaks cues (n, len(CUES)) and turn-taking cues (n, len(SWITCH_CUES)) of each paragraph."""
    items = [Paragraph(u.text, u.segment) for u in paragraphs]
    n = len(items)
    cues = np.asarray([cue_vector(items, i) for i in range(n)], dtype=float).reshape(n, len(CUES))
    switches = np.asarray([switch_vector(items, i) for i in range(n)], dtype=float).reshape(n, len(SWITCH_CUES))
    return cues, switches


def _cap_reviews(turns: list[Turn]) -> list[Turn]:
    """Keep review flags to the least sure REVIEW_MAX_SHARE of turns: a list nobody reads helps nobody."""
    flagged = [i for i, t in enumerate(turns) if t.review]
    limit = math.floor(len(turns) * REVIEW_MAX_SHARE)
    if len(flagged) <= limit:
        return turns
    keep = set(sorted(flagged, key=lambda i: turns[i].sure)[:limit])
    return [t if i in keep or not t.review else replace(t, review=False, why="") for i, t in enumerate(turns)]


# --- labelled transcripts -------------------------------------------------------------------


def _from_labels(
    paragraphs: Sequence[Utterance], transcript: Transcript, hints: Hints, weights: RoleWeights
) -> tuple[dict[str, Speaker], list[Turn]]:
    """Honour every label; aliases join; hosts are the marked labels, else the speakers who mostly ask."""
    labels = list(dict.fromkeys(u.label for u in paragraphs if u.label))
    people = _known_people(transcript, hints)
    canon = _join_aliases(labels, people)
    hosts_named = {_canon_name(h, canon, people) for h in hints.hosts}
    hosts_named |= {canon.get(p.name, p.name) for p in transcript.participants if p.role == "host"}
    fixed = {canon[label]: True for label in labels if label in HOST_LABELS or canon[label] in hosts_named}
    fixed |= {_canon_name(g, canon, people): False for g in hints.guests}
    fixed |= {canon[label]: False for label in labels if label in GUEST_LABELS}
    hosts_set = _askers(paragraphs, canon, weights, fixed=fixed)
    only_host_labels = set(canon.values()) <= hosts_set
    title_people = _title_people(transcript.title)
    speakers: dict[str, Speaker] = {}
    ids: dict[str, str] = {}
    anonymous = 0
    for name in dict.fromkeys(canon[label] for label in labels):
        if name in hosts_set:
            ids[name] = HOST_ID if HOST_ID not in speakers else _next_id("host", speakers)
            display = _host_display(name, transcript, hints)
            speakers[ids[name]] = Speaker(ids[name], display, "host")
            continue
        display = _display(name, people)
        if name in GUEST_LABELS:  # 「A」 is no name: use the title's guest when it names one
            display = title_people[0].name if len(title_people) == 1 else (hints.guests or (GUEST_NAME,))[0]
        elif _ANONYMOUS.match(name):
            anonymous += 1
            display = f"話者{anonymous}"
        ids[name] = _guest_id(display, speakers)
        speakers[ids[name]] = Speaker(ids[name], display, "guest")
    turns: list[Turn] = []
    if only_host_labels:
        # ―― marks the interviewer; the unmarked paragraphs are the guests' answers: which guest is decoded.
        is_host = [u.label is not None for u in paragraphs]
        guests = _guests(paragraphs, is_host, transcript, hints, people)
        gids = []
        for person in guests:
            gids.append(_guest_id(person.name, speakers))
            speakers[gids[-1]] = Speaker(gids[-1], person.name, "guest")
        who, sure = _which_guest(paragraphs, is_host, guests, title=transcript.title)
        for i, u in enumerate(paragraphs):
            if is_host[i]:
                turns.append(Turn(ids[canon[u.label or ""]], u.text, u.line, sure=1.0))
            else:
                review = len(guests) > 1 and sure[i] < GUEST_SURE
                why = "which guest answers is a guess" if review else ""
                turns.append(Turn(gids[who[i]], u.text, u.line, review=review, why=why, sure=sure[i]))
        return speakers, turns
    previous: str | None = None
    for u in paragraphs:
        if u.label:
            previous = ids[canon[u.label]]
            turns.append(Turn(previous, u.text, u.line, sure=1.0))
        else:
            # An unlabelled paragraph continues the last speaker's turn; before any label, guess the host.
            if previous is None:
                speakers.setdefault(HOST_ID, Speaker(HOST_ID, HOST_NAME, "host"))
            speaker = previous or HOST_ID
            why = "" if previous else "no label before it: guessed the host"
            turns.append(Turn(speaker, u.text, u.line, review=not previous, why=why, sure=0.9 if previous else 0.5))
    return speakers, turns


def _askers(
    paragraphs: Sequence[Utterance], canon: dict[str, str], weights: RoleWeights, *, fixed: dict[str, bool]
) -> set[str]:
    """The speakers on the asking side: the split of speakers into hosts and guests that the model scores highest.

    Scoring whole sequences, not speakers one by one, lets turn-taking count: questioners are the ones whose
    turns are answered (a council's several questioners, a group interview's onlookers).
    """
    labelled = [u for u in paragraphs if u.label]
    names = [canon[u.label or ""] for u in labelled]
    people = list(dict.fromkeys(names))
    cues, switches = _cue_matrix(labelled)
    chain = role_chain(weights, cues, switches)
    _, p_host = host_probabilities(labelled, _no_turn_taking(weights))
    mean = {who: float(np.mean([p for n, p in zip(names, p_host, strict=True) if n == who])) for who in people}

    def score(hosts: set[str]) -> float:
        states = np.asarray([0 if n in hosts else 1 for n in names])
        total = chain.start[states[0]] + chain.emissions[np.arange(len(states)), states].sum()
        return float(total + chain.transitions[np.arange(len(states) - 1), states[:-1], states[1:]].sum())

    hosts = {who for who, is_host in fixed.items() if is_host}
    free = [who for who in people if who not in fixed]
    if not hosts and free:
        hosts.add(max(free, key=lambda who: (mean[who], people.index(who) * -1)))
    best = score(hosts)
    for _ in range(len(free)):  # flip one speaker at a time while the score rises
        trials = [(score(hosts ^ {who}), who) for who in free if hosts ^ {who}]
        top, who = max(trials, default=(best, ""))
        if top <= best:
            break
        hosts, best = hosts ^ {who}, top
    return hosts


def _no_turn_taking(weights: RoleWeights) -> RoleWeights:
    """The cue weights alone: each paragraph judged by its own wording."""
    return replace(weights, plain=((0.0, 0.0), (0.0, 0.0)), switch_weights=(0.0,) * len(weights.switch_weights))


def _join_aliases(labels: Sequence[str], people: Sequence[_Person]) -> dict[str, str]:
    """Map each label to its fullest form: 「松木」 joins 「はてな松木」, or the listed 「松木太郎」."""
    canon = {label: label for label in labels}
    for short in labels:
        if short in HOST_LABELS or short in GUEST_LABELS or _ANONYMOUS.match(short):
            continue
        listed = [p.name for p in people if short == p.name or short in p.aliases or _is_alias(short, p.name)]
        if len(listed) == 1:
            canon[short] = listed[0]
            continue
        longer = [
            other
            for other in labels
            if other != short and len(other) > len(short) and _is_alias(short, other) and other not in HOST_LABELS
        ]
        if len(longer) == 1 and len(short) >= 2:
            canon[short] = longer[0]
    return canon


def _canon_name(name: str, canon: dict[str, str], people: Sequence[_Person]) -> str:
    """A hint or participant name in the form the labels were joined to."""
    for label, full in canon.items():
        if name in (label, full) or _is_alias(label, name) or _is_alias(name, full):
            return full
    return name


def _is_alias(short: str, long: str) -> bool:
    if short == long:
        return True
    if short.isascii() and long.isascii():
        return set(short.lower().split()) <= set(long.lower().split())
    return len(short) >= 2 and (long.startswith(short) or long.endswith(short))


def _display(name: str, people: Sequence[_Person]) -> str:
    for person in people:
        if name == person.name or name in person.aliases:
            return person.name
    return name


def _host_display(name: str, transcript: Transcript, hints: Hints) -> str:
    if hints.hosts:
        return hints.hosts[0]
    listed = [p.name for p in transcript.participants if p.role == "host"]
    if name in HOST_LABELS:
        return listed[0] if listed else HOST_NAME
    return name


def _guest_id(name: str, speakers: dict[str, Speaker]) -> str:
    """A short ASCII id: the slug of a Latin name, else guest1, guest2, …"""
    slug = slugify(name)
    if name.isascii() and len(slug) >= 2 and slug not in speakers and not slug.startswith(HOST_ID):
        return slug
    return _next_id("guest", speakers)


def _next_id(prefix: str, speakers: dict[str, Speaker]) -> str:
    n = 1 + sum(sid.startswith(prefix) for sid in speakers)
    while f"{prefix}{n}" in speakers:
        n += 1
    return f"{prefix}{n}"


# --- unlabelled transcripts -----------------------------------------------------------------


def _from_text(
    paragraphs: Sequence[Utterance], transcript: Transcript, hints: Hints, weights: RoleWeights
) -> tuple[dict[str, Speaker], list[Turn]]:
    """Host or guest for every paragraph at once, then which guest, each with its probability."""
    is_host, p_host = host_probabilities(paragraphs, weights)
    people = _known_people(transcript, hints)
    host_display = _host_name(paragraphs, is_host, transcript, hints)
    guests = _guests(paragraphs, is_host, transcript, hints, people, host=host_display)
    speakers: dict[str, Speaker] = {HOST_ID: Speaker(HOST_ID, host_display, "host")}
    gids = []
    for person in guests:
        gids.append(_guest_id(person.name, speakers))
        speakers[gids[-1]] = Speaker(gids[-1], person.name, "guest")
    who, guest_sure = _which_guest(paragraphs, is_host, guests, title=transcript.title)
    turns = []
    for i, u in enumerate(paragraphs):
        role_sure = p_host[i] if is_host[i] else 1 - p_host[i]
        if is_host[i]:
            sure, why = role_sure, "host or guest is unclear" if role_sure < ROLE_SURE else ""
            turns.append(Turn(HOST_ID, u.text, u.line, review=bool(why), why=why, sure=sure))
            continue
        sure = role_sure * guest_sure[i]
        why = ""
        if role_sure < ROLE_SURE:
            why = "host or guest is unclear"
        elif len(guests) > 1 and guest_sure[i] < GUEST_SURE:
            why = "which guest answers is a guess"
        turns.append(Turn(gids[who[i]], u.text, u.line, review=bool(why), why=why, sure=sure))
    return speakers, turns


def _known_people(transcript: Transcript, hints: Hints) -> list[_Person]:
    """People named before anyone speaks: the user's hints, then the participant list."""
    people = [_person(name) for name in (*hints.hosts, *hints.guests)]
    for p in transcript.participants:
        if not any(_is_alias(p.name, q.name) or _is_alias(q.name, p.name) for q in people):
            people.append(_Person(p.name, tuple(dict.fromkeys((p.name, *p.aliases, *_parts(p.name))))))
    return people


def _person(name: str) -> _Person:
    return _Person(name, tuple(dict.fromkeys((name, *_parts(name)))))


def _parts(name: str) -> list[str]:
    parts = [p for p in _NAME_PARTS.split(name) if len(p) >= 2]
    return parts if len(parts) > 1 else []


def _title_people(title: str) -> list[_Person]:
    """People a title names: the 「ミカ・タナベ × ジョージ・ハラ | …」 head, or 〜さん / 〜氏 anywhere."""
    names: list[str] = []
    for part in _TITLE_PARTS.split(unicodedata.normalize("NFC", title).strip()):
        if _TITLE_NAME.match(part.strip()):
            names.append(re.sub(r"(?:さん|氏|先生)$", "", part.strip()))
        else:
            break  # names lead the title; the rest is the topic
    names += [found[1] for found in _TITLE_HONORED.finditer(title) if found[1] not in names]
    return [_person(name) for name in names]


def _host_name(paragraphs: Sequence[Utterance], is_host: Sequence[bool], transcript: Transcript, hints: Hints) -> str:
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


def _guests(
    paragraphs: Sequence[Utterance],
    is_host: Sequence[bool],
    transcript: Transcript,
    hints: Hints,
    people: Sequence[_Person],
    *,
    host: str = HOST_NAME,
) -> list[_Person]:
    """Who the guests are: hints, the participant list, the title, names the host calls, names guests give."""
    host_forms = {host, *_parts(host), *hints.hosts}
    host_forms |= {p.name for p in transcript.participants if p.role == "host"}
    found: list[_Person] = [_person(name) for name in hints.guests]
    if not hints.guests:
        found += [q for q in people if q.name not in host_forms and q.name not in hints.hosts]
        found += _title_people(transcript.title)
        text = "\n".join(u.text for u in paragraphs)
        for u, asking in zip(paragraphs, is_host, strict=True):
            if asking:
                # A bare katakana word before 、 is a name only if the text uses it again: 「データ、」 is not.
                names = [n for n in addressed(u.text) if not _BARE_KATAKANA.match(n) or text.count(n) >= 3]
            else:
                # 「…の採録です。」 looks like 「…の岡本です。」: a self-given name counts when it is introduced
                # with と申します or someone else uses it with さん.
                said = own_name(u.text)
                names = [said] if said and ("申します" in u.text or _honoured(said, text.replace(u.text, ""))) else []
            names = [n for n in names if n not in host_forms]
            found += [_person(name) for name in names]
    guests: list[_Person] = []
    for person in found:
        same = next((g for g in guests if _same_person(g, person)), None)
        if same is None:
            guests.append(person)
    limit = None
    if hints.speakers is not None:
        limit = max(1, hints.speakers - max(1, len(hints.hosts)))
    if limit is not None and len(guests) > limit:
        guests = guests[:limit]
    if not guests or (limit is not None and len(guests) < limit and not hints.guests):
        while len(guests) < (limit or 1):
            guests.append(_Person(f"{GUEST_NAME}{len(guests) + 1}" if limit and limit > 1 else GUEST_NAME, ()))
    return guests


def _honoured(name: str, text: str) -> bool:
    """Whether a text uses a name with さん, 氏, 先生…: 「岡本さんが」."""
    return bool(re.search(rf"{re.escape(name)}(?:さん|氏|先生|くん|君)", text))


def _same_person(a: _Person, b: _Person) -> bool:
    return any(_is_alias(x, y) or _is_alias(y, x) for x in a.aliases or (a.name,) for y in b.aliases or (b.name,))


def _matches(name: str, person: _Person) -> bool:
    return any(_is_alias(name, alias) or _is_alias(alias, name) for alias in person.aliases or (person.name,))


def _which_guest(
    paragraphs: Sequence[Utterance], is_host: Sequence[bool], guests: Sequence[_Person], *, title: str = ""
) -> tuple[list[int], list[float]]:
    """Which guest says each guest paragraph (index into guests; 0 for host paragraphs) and how sure."""
    n = len(guests)
    named = _title_people(title)
    main = next((g for g, person in enumerate(guests) if named and _same_person(person, named[0])), None)
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


def _called(question: str, guests: Sequence[_Person]) -> tuple[int, float] | None:
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


def _profiles(paragraphs: Sequence[Utterance], order: Sequence[int], guests: Sequence[_Person]) -> list[set[str]]:
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


def _mentions(text: str, person: _Person) -> bool:
    """A guest's name used in the third person, bare or with さん."""
    return any(len(alias) >= 2 and re.search(rf"{re.escape(alias)}(?:さん|氏|君|くん)?(?:が|は|の|に|と|も)", text)
               for alias in person.aliases)  # fmt: skip

"""Stage 2: Transcript -> Script: who says each paragraph, from labels or, failing that, from the text.

Unlabelled text: a linear-chain model decides host or guest for every paragraph at once (cue weights fitted
on keyed transcripts, podcast/data/attribution.json), refined by the transcript's own habits of speech and,
in a two-voice speech-to-text export, by its segments; then guests.py decides which guest. Each decision
keeps its probability; unsure ones are marked for review with the reason. Labelled text keeps its labels;
the model only decides which labels are the asking side.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from importlib import resources

import numpy as np

from .cues import (
    CUES,
    SWITCH_CUES,
    Paragraph,
    cue_vector,
    style_vector,
    switch_vector,
)
from .errors import ConfigError
from .guests import (
    GUEST_NAME,
    HOST_NAME,
    Person,
    find_guests,
    host_name,
    is_alias,
    known_people,
    title_people,
    which_guest,
)
from .model import Chapter, Hints, Script, Speaker, Transcript, Turn, Utterance
from .sequence import RoleWeights, adapt, role_chain
from .text import slugify
from .transcript import CHAIR

HOST_ID = "host"
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
        "質問",
    }
)
GUEST_LABELS = frozenset({"A", "回答"})  # Q&A layout: the answerer, named from the title when it names one guest
ASKER_MEAN = 0.65  # mean P(host) of a labelled speaker's own turns that puts them on the asking side…
ASKER_GAP = 0.3  # … when it is this far above the least asking speaker's
PEERS_MEAN = 0.4  # below this mean P(host) for every speaker, labelled speakers are peers: no host
LABELLED_MIN_SHARE = 0.1  # of paragraphs: fewer labels than this and the text is read as unlabelled
STYLE_STRENGTH = 0.3  # weight of each transcript's own speech habits (僕/私, です/だ), learned per transcript
TWO_VOICE_SWITCH = 3.0  # log-odds of a change of side at a segment break when only two people speak
# Unlabelled text: a turn whose speaker (host-or-guest times which guest) is less likely than this is marked for
# review. Chosen on leave-one-source-out predictions of the benchmark: the most wrong lines caught with at most a
# quarter of all turns flagged. An unsure transcript gets more flags than a clear one, up to REVIEW_MAX_SHARE.
REVIEW_SURE = 0.58
GUEST_SURE = 0.6  # labelled `――` layouts: below this probability of which guest, a turn is marked for review
REVIEW_MAX_SHARE = 0.5  # flag at most this share of one unlabelled transcript's turns: the least sure first
LABELLED_REVIEW_MAX_SHARE = 0.25  # labels are the author's word: fewer turns to doubt

_ANONYMOUS = re.compile(r"^(?:話者|Speaker|SPEAKER|spk)[ _]?\d+$", re.IGNORECASE)


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
        turns = _cap_reviews(turns, LABELLED_REVIEW_MAX_SHARE)
    else:
        speakers, turns = _from_text(paragraphs, transcript, hints, weights)
        turns = _cap_reviews(turns, REVIEW_MAX_SHARE)
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
        speakers={sid: _hinted_traits(speakers[sid], hints) for sid in used},
        chapters=tuple(chapters),
        source=transcript.source,
        dropped=transcript.dropped,
    )


def _hinted_traits(speaker: Speaker, hints: Hints) -> Speaker:
    """The speaker with the gender and age the user gave with their name (`--guest 佐藤:male`), if any."""
    gender = next((g for name, g in hints.genders if _same_person(name, speaker.name)), speaker.gender)
    age = next((a for name, a in hints.ages if _same_person(name, speaker.name)), speaker.age)
    return replace(speaker, gender=gender, age=age)


def _same_person(hinted: str, name: str) -> bool:
    """A hint names a person as the user knows them, a speaker as the transcript does: 佐藤 is also 佐藤健."""
    shorter = min(len(hinted), len(name))
    return hinted == name or (shorter >= 2 and (name.startswith(hinted) or hinted.startswith(name)))


def host_probabilities(
    paragraphs: Sequence[Utterance], weights: RoleWeights, *, two_voices: bool = False
) -> tuple[list[bool], list[float]]:
    """Host or guest for each paragraph and the probability that it is the host's.

    two_voices: only two people speak, so a speech-to-text segment break is a change of side.
    """
    if not paragraphs:
        return [], []
    cues, switches = _cue_matrix(paragraphs)
    chain = role_chain(weights, cues, switches)
    if two_voices:
        breaks = np.asarray([u.segment for u in paragraphs[1:]], dtype=float)
        swap = np.asarray([[0.0, 1.0], [1.0, 0.0]])
        chain = replace(chain, transitions=chain.transitions + TWO_VOICE_SWITCH * breaks[:, None, None] * swap)
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


def _cap_reviews(turns: list[Turn], share: float) -> list[Turn]:
    """Keep review flags to the least sure share of turns: a list nobody reads helps nobody."""
    flagged = [i for i, t in enumerate(turns) if t.review]
    limit = math.floor(len(turns) * share)
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
    people = known_people(transcript, hints)
    canon = _join_aliases(labels, people)
    hosts_named = {_canon_name(h, canon, people) for h in hints.hosts}
    hosts_named |= {canon.get(p.name, p.name) for p in transcript.participants if p.role == "host"}
    chairs = {canon[label] for label in labels if CHAIR.match(label)}
    chairs |= {canon.get(p.name, p.name) for p in transcript.participants if any(map(CHAIR.match, p.aliases))}
    hosts_named |= chairs
    fixed = {canon[label]: True for label in labels if label in HOST_LABELS or canon[label] in hosts_named}
    fixed |= {_canon_name(g, canon, people): False for g in hints.guests}
    fixed |= {canon[label]: False for label in labels if label in GUEST_LABELS}
    hosts_set = _askers(paragraphs, canon, weights, fixed=fixed, chairs=chairs)
    only_host_labels = set(canon.values()) <= hosts_set
    in_title = title_people(transcript.title)
    speakers: dict[str, Speaker] = {}
    ids: dict[str, str] = {}
    # SPEAKER_00, Speaker 1, spk_0: numbered 話者1, 話者2… in the order they first speak, hosts included
    ordered = list(dict.fromkeys(canon[label] for label in labels))
    anonymous = {name: f"話者{n}" for n, name in enumerate((x for x in ordered if _ANONYMOUS.match(x)), 1)}
    for name in ordered:
        if name in hosts_set:
            ids[name] = HOST_ID if HOST_ID not in speakers else _next_id("host", speakers)
            display = _host_display(name, transcript, hints)
            if display in {s.name for s in speakers.values()} and name.isalpha() and name not in ("Q", "MC"):
                display = name  # a second host label (司会 beside 質問): keep it, two hosts are two voices
            if name in anonymous and not hints.hosts:
                display = anonymous[name]
            speakers[ids[name]] = Speaker(ids[name], display, "host")
            continue
        display = _display(name, people)
        if name in GUEST_LABELS:  # 「A」 is no name: use the title's guest when it names one
            display = in_title[0].name if len(in_title) == 1 else (hints.guests or (GUEST_NAME,))[0]
        elif name in anonymous:
            display = anonymous[name]
        ids[name] = _guest_id(display, speakers)
        speakers[ids[name]] = Speaker(ids[name], display, "guest")
    turns: list[Turn] = []
    if only_host_labels:
        # ―― marks the interviewer; the unmarked paragraphs are the guests' answers: which guest is decoded.
        is_host = [u.label is not None for u in paragraphs]
        guests = find_guests(paragraphs, is_host, transcript, hints, people)
        gids = []
        for person in guests:
            gids.append(_guest_id(person.name, speakers))
            speakers[gids[-1]] = Speaker(gids[-1], person.name, "guest")
        who, sure = which_guest(paragraphs, is_host, guests, title=transcript.title)
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
    paragraphs: Sequence[Utterance],
    canon: dict[str, str],
    weights: RoleWeights,
    *,
    fixed: dict[str, bool],
    chairs: set[str],
) -> set[str]:
    """The speakers on the asking side: the split of speakers into hosts and guests that the model scores highest.

    Scoring whole sequences, not speakers one by one, lets turn-taking count: questioners are the ones whose
    turns are answered (a council's several questioners, a group interview's onlookers). A chair (議長, 委員長)
    gives the floor between every two speeches, so the others' turn-taking is read without the chair's turns.
    """
    labelled = [u for u in paragraphs if u.label and not (fixed.get(canon[u.label]) and canon[u.label] in chairs)]
    if not labelled:
        return {who for who, is_host in fixed.items() if is_host}
    names = [canon[u.label or ""] for u in labelled]
    people = list(dict.fromkeys(names))
    cues, switches = _cue_matrix(labelled)
    chain = role_chain(weights, cues, switches)
    _, p_host = host_probabilities(labelled, _own_wording(weights))
    mean = {who: float(np.mean([p for n, p in zip(names, p_host, strict=True) if n == who])) for who in people}

    # Only a change of speaker is turn-taking: a speech in several paragraphs is one turn, whoever gives it.
    changes = np.flatnonzero([a != b for a, b in zip(names, names[1:], strict=False)])

    def score(hosts: set[str]) -> float:
        states = np.asarray([0 if n in hosts else 1 for n in names])
        total = chain.start[states[0]] + chain.emissions[np.arange(len(states)), states].sum()
        return float(total + chain.transitions[changes, states[changes], states[changes + 1]].sum())

    hosts = {who for who, is_host in fixed.items() if is_host}
    free = [who for who in people if who not in fixed]
    if not hosts and free:
        if max(mean[who] for who in free) < PEERS_MEAN:
            return set()  # nobody's turns lean to asking: peers in conversation, no asking side
        # The one host whose turns best fit, wording and turn-taking together: who opens and hands over.
        hosts.add(max(free, key=lambda who: (score({who}), -people.index(who))))
    hosts |= _clear_askers(free, names, mean)
    best = score(hosts)
    for _ in range(len(free)):  # flip one speaker at a time while the score rises
        top, who = max(((score(hosts ^ {who}), who) for who in free if hosts ^ {who}), default=(best, ""))
        if top <= best:
            break
        hosts, best = hosts ^ {who}, top
    # Minutes put the chair between every two speeches, so turn-taking cannot show that members ask too.
    return hosts | _clear_askers(free, names, mean)


def _clear_askers(free: Sequence[str], names: Sequence[str], mean: dict[str, float]) -> set[str]:
    """Speakers whose own turns nearly all ask, where speakers clearly split into askers and answerers."""
    if len(mean) < 3:
        return set()
    floor = min(mean.values())
    return {who for who in free if mean[who] >= ASKER_MEAN and mean[who] - floor >= ASKER_GAP and names.count(who) >= 2}


def _own_wording(weights: RoleWeights) -> RoleWeights:
    """The cue weights alone, without turn-taking or place in the talk: each paragraph judged by its wording."""
    placed = {"first", "last", "before_long"}
    cue_weights = tuple(0.0 if cue in placed else w for cue, w in zip(weights.cues, weights.weights, strict=True))
    return replace(
        weights,
        weights=cue_weights,
        plain=((0.0, 0.0), (0.0, 0.0)),
        start=(0.0, 0.0),
        switch_weights=(0.0,) * len(weights.switch_weights),
    )


def _join_aliases(labels: Sequence[str], people: Sequence[Person]) -> dict[str, str]:
    """Map each label to its fullest form: 「松木」 joins 「はてな松木」, or the listed 「松木太郎」."""
    canon = {label: label for label in labels}
    for short in labels:
        if short in HOST_LABELS or short in GUEST_LABELS or _ANONYMOUS.match(short):
            continue
        listed = [p.name for p in people if short == p.name or short in p.aliases or is_alias(short, p.name)]
        if len(listed) == 1:
            canon[short] = listed[0]
            continue
        longer = [
            other
            for other in labels
            if other != short
            and len(other) > len(short)
            and is_alias(short, other)
            and other not in HOST_LABELS
            # 「荒木・瀬戸口」 (both at once) holds another label too: a pair, not 荒木's full name
            and not any(third not in (short, other) and third in other for third in labels)
        ]
        if len(longer) == 1 and len(short) >= 2:
            canon[short] = longer[0]
    return canon


def _canon_name(name: str, canon: dict[str, str], people: Sequence[Person]) -> str:
    """A hint or participant name in the form the labels were joined to."""
    for label, full in canon.items():
        if name in (label, full) or is_alias(label, name) or is_alias(name, full):
            return full
    return name


def _display(name: str, people: Sequence[Person]) -> str:
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
    people = known_people(transcript, hints)
    host_display = host_name(paragraphs, is_host, transcript, hints)
    guests = find_guests(paragraphs, is_host, transcript, hints, people, host=host_display)
    segmented = sum(u.segment for u in paragraphs) > len(paragraphs) / 2
    voices = hints.speakers or 1 + len(guests)
    if segmented and voices == 2:
        # A diarizing tool starts a segment at each change of speaker: with two voices, sides alternate.
        is_host, p_host = host_probabilities(paragraphs, weights, two_voices=True)
    speakers: dict[str, Speaker] = {HOST_ID: Speaker(HOST_ID, host_display, "host")}
    gids = []
    for person in guests:
        gids.append(_guest_id(person.name, speakers))
        speakers[gids[-1]] = Speaker(gids[-1], person.name, "guest")
    who, guest_sure = which_guest(paragraphs, is_host, guests, title=transcript.title)
    turns = []
    for i, u in enumerate(paragraphs):
        role_sure = p_host[i] if is_host[i] else 1 - p_host[i]
        which_sure = 1.0 if is_host[i] else guest_sure[i]
        sure = role_sure * which_sure
        why = ""
        if sure < REVIEW_SURE:
            # The weaker of the two decisions is the one to check.
            why = "host or guest is unclear" if role_sure <= which_sure else "which guest answers is a guess"
        speaker = HOST_ID if is_host[i] else gids[who[i]]
        turns.append(Turn(speaker, u.text, u.line, review=bool(why), why=why, sure=sure))
    return speakers, turns

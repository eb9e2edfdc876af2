"""Script + voices -> audio for every turn: bounded concurrency, the clip cache, progress."""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from .cache import PAUSE_KEY, CachedClips, ClipCache, clip_key, turn_key
from .engines import CanBatch, Engine
from .errors import ConfigError, EngineError
from .model import Clip, Script, SpokenTurn, Turn, Voice
from .readings import Lexicon, apply_readings
from .text import estimate_ms, is_speakable, plain_text, split_sentences, spoken_text


@dataclass(frozen=True, slots=True)
class SynthesisProgress:
    """How far synthesis is, counted in expected speech rather than turns: turns differ a hundredfold in length."""

    done_ms: int  # expected speech of the sentences done, synthesized or taken from the cache
    total_ms: int  # expected speech of every sentence
    fresh_ms: int  # of done_ms, what was synthesized in this run: the share that took time, for the ETA
    turns_done: int  # turns whose every sentence is done
    turns: int


Progress = Callable[[SynthesisProgress], None]  # called at the start and after every sentence
MAX_CONCURRENCY = 16  # calls in flight at most, whatever a caller asks for: services throttle beyond this


def check_voices(engine: Engine, voices: dict[str, Voice], *, source: str) -> None:
    """Every assigned voice must be one the engine offers."""
    offered = engine.voices()
    for speaker, voice in voices.items():
        if voice.name not in offered:
            close = difflib.get_close_matches(voice.name, offered, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "choose one of: " + ", ".join(offered)
            raise ConfigError(f"{source}: speaker '{speaker}': {engine.name} has no voice '{voice.name}' ({hint})")


async def synthesize_script(
    script: Script,
    voices: dict[str, Voice],
    engine: Engine,
    cache: ClipCache,
    *,
    concurrency: int | None = None,
    progress: Progress | None = None,
    lexicon: Lexicon | None = None,
    on_turn: Callable[[SpokenTurn], None] | None = None,
) -> list[SpokenTurn]:
    """Audio for every turn in reading order, from the cache where possible.

    Each sentence is stored in the cache the moment it is made, so an interrupted render resumes.
    The lexicon rewrites only what the engine hears (and so the cache key), never the sentences kept.
    With a batching (network) engine, on_turn runs in a thread for each newly synthesized turn as soon as it
    is whole, while later requests are still out: the pipeline levels turns there.
    """
    missing = [turn.speaker for turn in script.turns if turn.speaker not in voices]
    if missing:
        raise ConfigError(f"speaker '{missing[0]}' has no voice (add it to voices.yaml)")
    limit = asyncio.Semaphore(min(MAX_CONCURRENCY, max(1, concurrency or engine.concurrency)))
    turns = script.turns
    plan = [tuple(split_sentences(plain_text(turn.text))) for turn in turns]  # markdown is not read out
    total_ms = sum(_weight(sentence) for sentences in plan for sentence in sentences)
    done_ms = fresh_ms = turns_done = 0

    def report() -> None:
        if progress is not None:
            progress(SynthesisProgress(done_ms, total_ms, fresh_ms, turns_done, len(turns)))

    async def one_sentence(text: str, voice: Voice, turn: Turn, left: list[int]) -> tuple[bool, str]:
        nonlocal done_ms, fresh_ms, turns_done
        result = await _one_sentence(text, voice, turn)
        done_ms += _weight(text)
        fresh_ms += _weight(text) if result[0] else 0
        left[0] -= 1
        turns_done += left[0] == 0  # counted with its last sentence: gather() would tell only after every turn
        report()
        return result

    async def _one_sentence(text: str, voice: Voice, turn: Turn) -> tuple[bool, str]:
        """Whether the sentence was synthesized now, and its clip's key; the clip itself stays in the cache.

        Every sentence of every turn may finish before the first turn is gathered: holding clips here would
        hold the whole episode's audio.
        """
        spoken = _engine_text(text, lexicon)
        if not is_speakable(spoken):
            return False, PAUSE_KEY  # a pause, as in the mix
        key = clip_key(engine.fingerprint(voice), spoken)
        if cache.get(key) is not None:  # read, so a corrupt entry is found (and made again) now
            return False, key
        async with limit:
            try:
                clip = await engine.synthesize(spoken, voice)
            except EngineError as exc:
                where = f"line {turn.line}" if turn.line else f"speaker {turn.speaker}"
                raise EngineError(f"{script.source or script.title}: turn at {where}: {exc}") from exc
        cache.put(key, clip)
        return True, key

    async def one_turn(turn: Turn, sentences: tuple[str, ...]) -> SpokenTurn:
        nonlocal turns_done
        voice = voices[turn.speaker]
        left = [len(sentences)]  # sentences of this turn still to come
        results = await asyncio.gather(*(one_sentence(s, voice, turn, left) for s in sentences))
        if not sentences:
            turns_done += 1
            report()
        return SpokenTurn(
            turn=turn,
            sentences=sentences,
            clips=CachedClips(cache, [key for _, key in results]),
            fresh=any(fresh for fresh, _ in results),
            key=turn_key(*(key for _, key in results)),
        )

    async def batched(batcher: CanBatch) -> list[SpokenTurn]:
        """Every turn, a speaker's consecutive sentences asked for in as few requests as they fit in.

        A run of one speaker's turns within a chapter is one stretch of speech; each request's clips are keyed
        by the whole request, so a changed sentence re-requests its own request and no other.
        """
        nonlocal done_ms, fresh_ms, turns_done
        keys = [[PAUSE_KEY] * len(sentences) for sentences in plan]  # a pause, as in the mix, unless said
        fresh = [False] * len(turns)
        spoken = [[spoken_text(sentence) for sentence in sentences] for sentences in plan]
        if lexicon is not None:  # what the engine hears, and so the cache keys
            spoken = [[apply_readings(text, lexicon) for text in texts] for texts in spoken]
        left = [sum(map(is_speakable, texts)) for texts in spoken]  # sentences still to come, per turn
        ahead: list[asyncio.Future[None]] = []  # on_turn calls under way

        def spoken_turn(t: int) -> SpokenTurn:
            clips = CachedClips(cache, keys[t])
            return SpokenTurn(turn=turns[t], sentences=plan[t], clips=clips, fresh=fresh[t], key=turn_key(*keys[t]))

        async def one_request(items: list[tuple[int, int]], voice: Voice, slot: _Slot) -> None:
            nonlocal done_ms, fresh_ms, turns_done
            texts = [spoken[t][s] for t, s in items]
            fingerprint = engine.fingerprint(voice)
            if len(texts) == 1:  # the same request, and so the same key, as a sentence asked for alone
                request_keys = [clip_key(fingerprint, texts[0])]
            else:
                request_keys = [
                    clip_key(f"{fingerprint}|batch {batcher.batch_version}|{n + 1} of {len(texts)}", "\0".join(texts))
                    for n in range(len(texts))
                ]
            made: list[Clip | None] = [cache.get(key) for key in request_keys]
            new = any(clip is None for clip in made)
            if new:
                try:
                    made = list(await batcher.synthesize_batch(texts, voice, slot=slot))
                except EngineError as exc:
                    turn = turns[items[0][0]]
                    where = f"line {turn.line}" if turn.line else f"speaker {turn.speaker}"
                    raise EngineError(f"{script.source or script.title}: turn at {where}: {exc}") from exc
                # Off the event loop: at concurrency 1 the next answer is already streaming in.
                await asyncio.to_thread(_store, cache, request_keys, made)
            for (t, s), key in zip(items, request_keys, strict=True):
                keys[t][s] = key
                fresh[t] = fresh[t] or new
                done_ms += _weight(plan[t][s])
                fresh_ms += _weight(plan[t][s]) if new else 0
                left[t] -= 1
                turns_done += left[t] == 0
                if left[t] == 0 and fresh[t] and on_turn is not None:
                    ahead.append(asyncio.ensure_future(asyncio.to_thread(on_turn, spoken_turn(t))))
            report()

        chapter_of = [n for n, chapter in enumerate(script.chapters) for _ in chapter.turns]
        requests: list[tuple[list[tuple[int, int]], Voice]] = []
        for t, turn in enumerate(turns):
            items = [(t, s) for s, text in enumerate(spoken[t]) if is_speakable(text)]
            run_goes_on = t > 0 and (turn.speaker, chapter_of[t]) == (turns[t - 1].speaker, chapter_of[t - 1])
            if run_goes_on and requests:
                requests[-1][0].extend(items)
            else:
                requests.append((items, voices[turn.speaker]))
        batches = []
        for items, voice in requests:
            start = 0
            for size in batcher.batches([spoken[t][s] for t, s in items]):
                batches.append((items[start : start + size], voice))
                start += size
        turns_done = sum(count == 0 for count in left)  # nothing to say: done already
        report()
        slots = [_Slot(limit) for _ in batches]
        tasks = [asyncio.ensure_future(one_request(*batch, slot)) for batch, slot in zip(batches, slots, strict=True)]
        try:
            await asyncio.gather(*tasks)
            await asyncio.gather(*ahead)
        except BaseException:
            for task, slot in zip(tasks, slots, strict=True):
                if not slot.answered:
                    task.cancel()
            await asyncio.gather(*tasks, *ahead, return_exceptions=True)  # answers in hand are decoded and kept
            raise
        return [spoken_turn(t) for t in range(len(turns))]

    if isinstance(engine, CanBatch):
        return await batched(engine)
    report()
    return list(await asyncio.gather(*(one_turn(turn, sentences) for turn, sentences in zip(turns, plan, strict=True))))


def _store(cache: ClipCache, keys: list[str], clips: list[Clip | None]) -> None:
    """Put a request's clips in the cache."""
    for key, clip in zip(keys, clips, strict=True):
        cache.put(key, cast(Clip, clip))


class _Slot:
    """One request's place under the concurrency limit, remembering when its answer is in hand.

    The engine holds it only while the service works, so decoding one answer overlaps the next request;
    if a render fails, answers already in hand are still decoded and cached.
    """

    def __init__(self, limit: asyncio.Semaphore) -> None:
        self.limit = limit
        self.answered = False

    async def __aenter__(self) -> None:
        await self.limit.acquire()

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.limit.release()
        self.answered = kind is None


def _weight(sentence: str) -> int:
    """A sentence's share of the work: its expected speech (a stage note alone takes no synthesis)."""
    spoken = spoken_text(sentence)
    return estimate_ms(spoken) if is_speakable(spoken) else 0


@dataclass(frozen=True, slots=True)
class ClipRequest:
    """One sentence as synthesize_script asks the engine for it: what another process can make ahead of it."""

    key: str  # clip cache key
    text: str  # what the engine is given: readings applied
    voice: Voice
    weight_ms: int  # expected speech, for progress


def clip_requests(
    script: Script, voices: dict[str, Voice], engine: Engine, *, lexicon: Lexicon | None = None
) -> list[ClipRequest]:
    """Every speakable sentence of the script, once per cache key, in reading order: the clips a render needs."""
    requests: dict[str, ClipRequest] = {}
    for turn in script.turns:
        voice = voices[turn.speaker]
        for sentence in split_sentences(plain_text(turn.text)):
            spoken = _engine_text(sentence, lexicon)
            if is_speakable(spoken):
                key = clip_key(engine.fingerprint(voice), spoken)
                requests.setdefault(key, ClipRequest(key, spoken, voice, _weight(sentence)))
    return list(requests.values())


def _engine_text(sentence: str, lexicon: Lexicon | None) -> str:
    """What the engine is given for a sentence (and so what its cache key holds)."""
    spoken = spoken_text(sentence)
    return apply_readings(spoken, lexicon) if lexicon is not None else spoken

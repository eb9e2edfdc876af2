"""Script + voices -> audio for every turn: bounded concurrency, the clip cache, progress."""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Callable

from .cache import ClipCache, clip_key, turn_key
from .engines import Engine
from .errors import ConfigError, EngineError
from .model import Clip, Script, SpokenTurn, Turn, Voice
from .readings import Lexicon, apply_readings
from .text import is_speakable, plain_text, split_sentences, spoken_text

Progress = Callable[[int, int], None]  # (turns done, turns in all)
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
) -> list[SpokenTurn]:
    """Audio for every turn in reading order, from the cache where possible.

    Each sentence is stored in the cache the moment it is made, so an interrupted render resumes.
    The lexicon rewrites only what the engine hears (and so the cache key), never the sentences kept.
    """
    missing = [turn.speaker for turn in script.turns if turn.speaker not in voices]
    if missing:
        raise ConfigError(f"speaker '{missing[0]}' has no voice (add it to voices.yaml)")
    limit = asyncio.Semaphore(min(MAX_CONCURRENCY, max(1, concurrency or engine.concurrency)))
    turns = script.turns
    done = 0

    async def one_sentence(text: str, voice: Voice, turn: Turn) -> tuple[Clip | None, bool, str]:
        spoken = spoken_text(text)
        if lexicon is not None:
            spoken = apply_readings(spoken, lexicon)
        if not is_speakable(spoken):
            return None, False, "-"  # a pause, as in the mix
        key = clip_key(engine.fingerprint(voice), spoken)
        cached = cache.get(key)
        if cached is not None:
            return cached, False, key
        async with limit:
            try:
                clip = await engine.synthesize(spoken, voice)
            except EngineError as exc:
                where = f"line {turn.line}" if turn.line else f"speaker {turn.speaker}"
                raise EngineError(f"{script.source or script.title}: turn at {where}: {exc}") from exc
        cache.put(key, clip)
        return clip, True, key

    async def one_turn(turn: Turn) -> SpokenTurn:
        nonlocal done
        sentences = tuple(split_sentences(plain_text(turn.text)))  # markdown is not read out
        voice = voices[turn.speaker]
        results = await asyncio.gather(*(one_sentence(s, voice, turn) for s in sentences))
        done += 1
        if progress is not None:
            progress(done, len(turns))
        return SpokenTurn(
            turn=turn,
            sentences=sentences,
            clips=tuple(clip for clip, _, _ in results),
            fresh=any(fresh for _, fresh, _ in results),
            key=turn_key(*(key for _, _, key in results)),
        )

    if progress is not None:
        progress(0, len(turns))
    return list(await asyncio.gather(*(one_turn(turn) for turn in turns)))

"""build_episode(): the stages wired together; the one call the CLI, the server and Python users share."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import threading
from pathlib import Path
from typing import Any

from . import assemble
from .attribution import attribute
from .cache import ClipCache
from .chaptering import make_chapters
from .engines import CanListOnline, CanRead, CanRelease, VoiceListing, get_engine, resolve_engine, voice_catalog
from .episode_dir import check_slug, episode_id, place_episode, prepare_folder, remove_if_empty, write_episode
from .model import Episode, Hints, Script
from .readings import ReadingRow, find_terms, load_lexicon
from .script import load_script, parse_script, write_script
from .synth import Progress, check_voices, synthesize_script
from .timing import StageClock
from .transcript import parse_transcript, read_transcript
from .voices import assign_voices, close_voices, load_voices

SCRIPT_SUFFIXES = (".yaml", ".yml")  # anything else is read as a transcript, unless it has a script's shape
_SCRIPT_TITLE = re.compile(r"^title:", re.MULTILINE)
_SCRIPT_CHAPTERS = re.compile(r"^chapters:\s*$", re.MULTILINE)
DEFAULT_OUTPUT = Path("output")


def load_input(path: Path, hints: Hints | None = None) -> Script:
    """A script file as written (by suffix, or by its shape under any name), else a transcript split now."""
    if path.suffix.lower() in SCRIPT_SUFFIXES:
        return load_script(path)
    text = read_transcript(path)
    if _SCRIPT_TITLE.search(text) and _SCRIPT_CHAPTERS.search(text):
        return parse_script(text, source=str(path))
    return make_chapters(attribute(parse_transcript(text, source=str(path)), hints))


def split(transcript: Path, output: Path, hints: Hints | None = None) -> Script:
    """Split a transcript (or re-read a script file) and write the script file users edit.

    hints: who the user knows was there (speaker count, host and guest names); attribution follows them.
    """
    script = load_input(transcript, hints)
    script = dataclasses.replace(script, id=episode_id(script))  # kept when the title is edited later
    write_script(script, output)
    return script


async def build_episode(
    input_path: Path,
    *,
    output_dir: Path = DEFAULT_OUTPUT,
    engine: str | None = None,
    voices_path: Path | None = None,
    cache_dir: Path | str | None = None,
    concurrency: int | None = None,
    progress: Progress | None = None,
    readings_path: Path | None = None,
    slug: str | None = None,
    keep_engine: bool = False,
) -> Episode:
    """Render one episode from a transcript or script file.

    Parameters
    ----------
    input_path
        A raw transcript (any text file) or a script file (``.yaml``).
    output_dir
        Folder that receives ``<slug>/`` with the MP3, chapters.json, transcript.vtt and script.yaml.
    engine
        Engine name; default: the one voices.yaml names.
    voices_path
        voices.yaml to use; default ./voices.yaml, else the bundled one.
    cache_dir
        Clip cache folder or fsspec URL (s3://..., file://...); default $PODCAST_CACHE_DIR or ~/.cache/podcast.
    concurrency
        Synthesis calls in flight at once; default: what the engine says suits it.
    progress
        Called with (turns done, turns in all) as synthesis goes.
    readings_path
        readings.yaml merged over the bundled readings; default ./readings.yaml, if present.
    slug
        Folder name for a new episode (ASCII: a-z, 0-9, '-'); default: the title romanized. An episode
        rendered before keeps its folder, found by the script's id.
    keep_engine
        Keep the engine's large resources loaded after synthesis: more episodes follow (a batch).

    Returns
    -------
    The Episode: paths, duration, chapters, cues and how many clips came from the cache.
    """
    clock = StageClock()
    if slug is not None:
        check_slug(slug)
    with clock.stage("parse"):
        script = load_input(input_path)
    config = load_voices(voices_path)
    engine_name = await resolve_engine(engine or config.engine)  # `auto`: the first choice that can work now
    speech = get_engine(engine_name)
    genders = {listing.name: listing.gender for listing in voice_catalog(engine_name)}  # cast to fit each speaker
    voices = assign_voices(config, script.speakers, engine_name, genders=genders)
    check_voices(speech, voices, source=config.source)
    lexicon = load_lexicon(readings_path)

    placement = place_episode(output_dir, script, slug=slug)  # the folder it had, found by id, else a new one
    script = dataclasses.replace(script, id=placement.episode_id)  # the rendered script.yaml carries the id
    created = prepare_folder(placement.directory)  # fail before minutes of synthesis, not after
    try:
        cache = ClipCache(cache_dir)
        with clock.stage("synthesis"):
            spoken = await synthesize_script(
                script,
                voices,
                speech,
                cache,
                concurrency=concurrency,
                progress=progress,
                lexicon=lexicon,
                on_turn=lambda turn_audio: assemble.level_ahead(turn_audio, cache),
            )
        if isinstance(speech, CanRelease) and not keep_engine:
            speech.release()  # a model's working memory is not needed while the episode is assembled
        # Cancelling an await cannot stop a thread: on an interrupt the thread is told through this event, and
        # waited for. A plain future, not a task, since asyncio.run's shutdown cancels every task without waiting.
        cancelled = threading.Event()
        loop = asyncio.get_running_loop()
        args = (script, spoken, placement, engine_name, clock, cache, cancelled)
        writing_outputs = loop.run_in_executor(None, write_episode, *args)
        try:
            return await asyncio.shield(writing_outputs)
        except asyncio.CancelledError:
            cancelled.set()  # it stops within a turn or a second of audio...
            await asyncio.wait([writing_outputs])  # ...and once it has, its temporary files are gone
            writing_outputs.exception()  # how it stopped is no news: marked as seen, so asyncio does not log it
            raise
    except BaseException:
        remove_if_empty(created)  # a failed first render leaves no empty episode folder behind
        raise


async def readings_report(
    input_path: Path, *, engine: str | None = None, readings_path: Path | None = None
) -> list[ReadingRow]:
    """The `podcast readings` check: each Latin word, number and name in the script, and what the engine says."""
    script = load_input(input_path)
    lexicon = load_lexicon(readings_path)
    speech = get_engine(await resolve_engine(engine or load_voices(None).engine))  # `auto` as render would
    reader = speech.reading if isinstance(speech, CanRead) else str  # else: show the text sent
    return [dataclasses.replace(row, reading=reader(row.spoken)) for row in find_terms(script, lexicon)]


async def list_voices(engine: str | None = None, *, lang: str | None = None) -> list[VoiceListing]:
    """The `podcast voices` list: what an engine offers (default: the engine voices.yaml names), optionally only for
    lang, each with the voices measured too alike to share an episode with it."""
    name = await resolve_engine(engine or load_voices(None).engine)
    speech = get_engine(name)
    listing = await speech.online_listing() if isinstance(speech, CanListOnline) else None  # the service's own list
    if listing is None:
        listing = voice_catalog(name)
    if lang:
        prefix = lang.lower()
        listing = [v for v in listing if v.locale.lower().startswith(prefix) or "Multilingual" in v.name]
    listing = sorted(listing, key=lambda v: (not v.locale.lower().startswith((lang or "ja").lower()), v.name))
    return [dataclasses.replace(voice, close=close_voices(name, voice.name)) for voice in listing]


def render(input_path: Path, **options: Any) -> Episode:
    """Synchronous build_episode for Python callers (the CLI and server use the async one)."""
    # The one asyncio.run outside the CLI: a plain function is what a library user expects to call.
    return asyncio.run(build_episode(input_path, **options))


def summary(episode: Episode) -> dict[str, Any]:
    """The episode as the JSON object `podcast render --json` prints."""
    return {
        "title": episode.script.title,
        "id": episode.script.id,
        "slug": episode.slug,
        "audio": str(episode.audio),
        "chapters_json": str(episode.chapters_json),
        "transcript_vtt": str(episode.transcript_vtt),
        "script_yaml": str(episode.script_yaml),
        "duration_s": round(episode.duration_ms / 1000, 3),
        "chapters": [{"title": c.title, "start_s": round(c.start_ms / 1000, 3)} for c in episode.chapters],
        "engine": episode.engine,
        "replaced": dataclasses.asdict(episode.replaced) if episode.replaced else None,
        "clips_synthesized": episode.clips_synthesized,
        "clips_cached": episode.clips_cached,
        "stages": {
            stage.name: {"wall_s": stage.wall_s, "cpu_s": stage.cpu_s, "calls": stage.calls} for stage in episode.stages
        },
    }

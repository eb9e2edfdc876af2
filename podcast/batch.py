"""Many episodes in one command: inputs expanded, up-to-date episodes skipped, a failure reported and the rest rendered.

Episodes render on `workers` at once in this process, sharing one engine (loaded once, not once per episode).
With a cluster, every episode's sentences go to Ray tasks at the start, and each episode is assembled here as
soon as its clips are in the shared cache.
"""

from __future__ import annotations

import asyncio
import dataclasses
import glob
import hashlib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Literal

from .cache import ClipCache
from .cluster import BATCH_SPEECH_MS, Cluster, ClusterRun
from .engines import CanRelease, get_engine, resolve_engine, voice_catalog
from .episode_dir import Placement, place_episode
from .errors import ConfigError, PodcastError
from .model import Episode, Script
from .pipeline import DEFAULT_OUTPUT, build_episode, load_input
from .progress import BatchStatus
from .readings import load_lexicon
from .script import dump_script
from .synth import ClipRequest, SynthesisProgress, check_voices, clip_requests
from .voices import assign_voices, load_voices

INPUT_SUFFIXES = (".txt", ".md", ".yaml", ".yml", ".srt", ".vtt")  # what a folder given as an input contributes
SETTINGS_FILES = ("voices.yaml", "readings.yaml", "podcast.yaml")  # settings beside transcripts, not episodes
MAX_WORKERS = 16  # episodes at once, at most: each holds its audio while it is assembled
OUTPUT_FILES = ("chapters.json", "transcript.vtt", "script.yaml")  # with the MP3: what "up to date" compares
Status = Literal["rendered", "up to date", "failed"]


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    """What became of one input."""

    source: Path  # the input file
    status: Status
    episode: Episode | None = None  # when rendered
    directory: Path | None = None  # the episode folder, when rendered or up to date
    error: str = ""  # when failed: one line
    exception: BaseException | None = None  # when failed: what was raised (PODCAST_DEBUG re-raises it)
    cluster: ClusterRun | None = None  # when its clips were made on a cluster: how


@dataclass(slots=True)
class _Job:
    """One input prepared: its script, the clips it needs, where it goes and the key of everything that shapes it."""

    source: Path
    script: Script
    requests: list[ClipRequest]
    placement: Placement
    key: str  # render key: changes whenever the files a render writes would change
    slug: str | None  # set when another new episode of this batch took the folder its title names
    total_ms: int  # expected speech
    done_ms: int = 0
    fresh_ms: int = 0


def expand_inputs(patterns: Sequence[str]) -> list[Path]:
    """Files as given; a folder's transcripts and scripts; a quoted glob's matches. Each file once, in order."""
    found: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            entries = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            matches = [p for p in entries if p.suffix.lower() in INPUT_SUFFIXES and p.name not in SETTINGS_FILES]
            if not matches:
                raise ConfigError(f"{path}/: no transcript or script in it (files ending {', '.join(INPUT_SUFFIXES)})")
        elif glob.has_magic(pattern) and not path.exists():
            matches = [Path(p) for p in sorted(glob.glob(pattern)) if Path(p).is_file()]
            if not matches:
                raise ConfigError(f"{pattern}: matches no file")
        else:
            matches = [path]  # a file that is missing fails as its episode, with the reader's message
        found += matches
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


async def render_batch(
    inputs: Sequence[Path],
    *,
    output_dir: Path = DEFAULT_OUTPUT,
    engine: str | None = None,
    voices_path: Path | None = None,
    readings_path: Path | None = None,
    cache_dir: Path | str | None = None,
    concurrency: int | None = None,
    workers: int = 1,
    cluster: str | None = None,
    force: bool = False,
    batch_ms: int | None = None,
    progress: Callable[[BatchStatus], None] | None = None,
    on_result: Callable[[EpisodeResult], None] | None = None,
) -> list[EpisodeResult]:
    """Render every input; one that fails is reported and the rest still render.

    Parameters
    ----------
    inputs
        Transcripts or script files (see expand_inputs for folders and globs).
    output_dir, engine, voices_path, readings_path, cache_dir, concurrency
        As for build_episode; settings are read once for the whole batch, and a bad one stops it before any work.
    workers
        Episodes rendered at once here (1 to MAX_WORKERS); with a cluster, episodes assembled at once here.
    cluster
        A Ray cluster's address: synthesis runs there as tasks over batches of sentences (needs the cache to be
        shared by every node: a shared folder or an fsspec URL).
    force
        Render episodes whose outputs are up to date too.
    batch_ms
        Expected speech per cluster task (default cluster.BATCH_SPEECH_MS).
    progress
        Called with the batch's state whenever it changes.
    on_result
        Called with each episode's result as it is known (up to date and failed ones first).

    Returns
    -------
    A result per input, in the order given.
    """
    if not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(f"--workers {workers}: choose 1 to {MAX_WORKERS}")
    config = load_voices(voices_path)
    engine_name = await resolve_engine(engine or config.engine)  # `auto` probes once for the whole batch
    speech = get_engine(engine_name)
    genders = {listing.name: listing.gender for listing in voice_catalog(engine_name)}
    lexicon = load_lexicon(readings_path)
    cache = ClipCache(cache_dir)
    render_version = version("podcast")

    results: dict[int, EpisodeResult] = {}
    jobs: dict[int, _Job] = {}
    taken: dict[Path, tuple[int, str]] = {}  # episode folder -> the input rendering into it, its episode id

    def finish(index: int, result: EpisodeResult) -> None:
        results[index] = result
        if on_result is not None:
            on_result(result)
        report()

    def report() -> None:
        if progress is None:
            return
        live = list(jobs.values())
        progress(
            BatchStatus(
                episodes=len(inputs),
                finished=len(results),
                skipped=sum(1 for r in results.values() if r.status == "up to date"),
                failed=sum(1 for r in results.values() if r.status == "failed"),
                total_ms=sum(job.total_ms for job in live),
                done_ms=sum(min(job.done_ms, job.total_ms) for job in live),
                fresh_ms=sum(job.fresh_ms for job in live),
            )
        )

    for index, source in enumerate(inputs):
        try:
            script = load_input(source)
            voices = assign_voices(config, script.speakers, engine_name, genders=genders)
            check_voices(speech, voices, source=config.source)
            requests = clip_requests(script, voices, speech, lexicon=lexicon)
            placement = place_episode(output_dir, script)
        except PodcastError as exc:
            finish(index, EpisodeResult(source, "failed", error=str(exc), exception=exc))
            continue
        slug = None
        if placement.directory in taken:
            first, first_id = taken[placement.directory]
            if first_id == placement.episode_id or placement.prior is not None:
                error = f"{source}: the same episode as {inputs[first]} (one title or id, one episode); retitle one"
                finish(index, EpisodeResult(source, "failed", error=error))
                continue
            # Two new episodes whose titles read alike: the second gets the folder place_episode would give it.
            slug = f"{placement.slug[:51]}-{placement.episode_id[:8]}"
            placement = dataclasses.replace(placement, directory=output_dir / slug, slug=slug)
        taken[placement.directory] = (index, placement.episode_id)
        key = _render_key(render_version, engine_name, script, placement, requests)
        if not force and placement.prior is not None and cache.get_render(key) == _outputs_digest(placement):
            finish(index, EpisodeResult(source, "up to date", directory=placement.directory))
            continue
        jobs[index] = _Job(source, script, requests, placement, key, slug, sum(r.weight_ms for r in requests))

    report()
    connection: Cluster | None = None
    if cluster is not None and jobs and hasattr(speech, "synthesize_batch"):
        # Its clips are keyed by the request that carried several sentences at once, which only this process
        # schedules (synth.py): the cluster would make clips no render reads.
        warnings.warn(f"--cluster: {engine_name} asks for a turn's sentences together; synthesizing here", stacklevel=2)
    elif cluster is not None and jobs:
        connection = Cluster(cluster)  # the one place Ray is imported
    try:
        made_remotely: dict[int, asyncio.Future[ClusterRun]] = {}
        if connection is not None:
            for index, job in jobs.items():
                job.done_ms = sum(r.weight_ms for r in job.requests if cache.has(r.key))
                made_remotely[index] = asyncio.ensure_future(
                    connection.synthesize(
                        job.requests,
                        engine_name,
                        cache,
                        batch_ms=batch_ms or BATCH_SPEECH_MS,
                        progress=_adder(job, report),
                        source=str(job.source),
                    )
                )
        queue = list(jobs)

        async def worker() -> None:
            while queue:
                index = queue.pop(0)
                job = jobs[index]
                remote = None
                try:
                    if index in made_remotely:
                        remote = await made_remotely[index]
                    episode = await build_episode(
                        job.source,
                        output_dir=output_dir,
                        engine=engine_name,
                        voices_path=voices_path,
                        cache_dir=cache_dir,
                        concurrency=concurrency,
                        progress=_follower(job, report),
                        readings_path=readings_path,
                        slug=job.slug,
                        keep_engine=True,
                    )
                except PodcastError as exc:
                    finish(index, EpisodeResult(job.source, "failed", error=str(exc), exception=exc))
                    continue
                except Exception as exc:  # a bug: still one line here, and the rest of the batch renders
                    error = f"{job.source}: {type(exc).__name__}: {exc} (a bug; PODCAST_DEBUG=1 shows where)"
                    finish(index, EpisodeResult(job.source, "failed", error=error, exception=exc))
                    continue
                placed = dataclasses.replace(job.placement, directory=episode.directory, slug=episode.slug)
                cache.put_render(job.key, _outputs_digest(placed))
                job.done_ms = job.total_ms
                rendered = EpisodeResult(
                    job.source, "rendered", episode=episode, directory=episode.directory, cluster=remote
                )
                finish(index, rendered)

        await asyncio.gather(*(worker() for _ in range(min(workers, len(jobs)))))
    finally:
        for future in made_remotely.values():
            future.cancel()
        if connection is not None:
            connection.close()
        if isinstance(speech, CanRelease) and jobs:
            speech.release()  # the batch kept the model loaded from episode to episode
    return [results[index] for index in range(len(inputs))]


def _adder(job: _Job, report: Callable[[], None]) -> Callable[[int], None]:
    """Progress from cluster tasks: each finished batch's speech, all of it made now."""

    def add(speech_ms: int) -> None:
        job.done_ms += speech_ms
        job.fresh_ms += speech_ms
        report()

    return add


def _follower(job: _Job, report: Callable[[], None]) -> Callable[[SynthesisProgress], None]:
    """Progress from the episode's own synthesis (all cache hits after a cluster made its clips)."""
    fresh_before = job.fresh_ms

    def follow(update: SynthesisProgress) -> None:
        job.total_ms = update.total_ms  # counts a sentence said twice twice, as the episode's own display does
        job.done_ms = max(job.done_ms, update.done_ms)
        job.fresh_ms = fresh_before + update.fresh_ms
        report()

    return follow


def _render_key(version_: str, engine: str, script: Script, placement: Placement, requests: list[ClipRequest]) -> str:
    """Everything that shapes an episode's files: the code, the engine, the script as written, the folder, each clip."""
    text = dump_script(dataclasses.replace(script, id=placement.episode_id))
    parts = [version_, engine, placement.slug, text, *(request.key for request in requests)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _outputs_digest(placement: Placement) -> str:
    """A digest of the episode's files as they are now ('' if one is missing): a render notes it, a batch compares."""
    digest = hashlib.sha256()
    for name in (f"{placement.slug}.mp3", *OUTPUT_FILES):
        try:
            with (placement.directory / name).open("rb") as file:
                digest.update(name.encode() + b"\0" + hashlib.file_digest(file, "sha256").digest())
        except OSError:
            return ""
    return digest.hexdigest()

"""Synthesis on a Ray cluster: a render's sentences made by Ray tasks in batches, each clip put in the shared cache.

Ray is imported only here, and only when a Cluster is made (`podcast render --cluster`): without the `ray`
extra every other path works as before. The tasks need podcast installed on every node, and a cache every
node reaches (a shared folder, or an fsspec URL such as s3://bucket/podcast).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .cache import ClipCache
from .engines import get_engine
from .errors import ConfigError, EngineError, PodcastError
from .model import Voice
from .synth import ClipRequest

BATCH_SPEECH_MS = 30_000  # expected speech per task: Ray's cost per task (benchmarks/scale.md) is noise beside it,
# and a 30-minute episode still makes 60 tasks to spread over the nodes; a lost node costs its tasks in flight
MAX_RETRIES = 3  # Ray runs a task again this often when its worker process or node dies
PROBE_TIMEOUT_S = 5.0  # for the head's port to accept a connection
RAY_LOG_LEVEL = logging.ERROR  # Ray's own INFO lines (connecting, autoscaler) are not the user's business


@dataclass(frozen=True, slots=True)
class BatchDone:
    """What one task did with its batch of sentences."""

    synthesized: int  # clips this attempt made and stored
    cached: int  # clips it found stored already: by an earlier attempt that died, or by another episode
    node: str  # Ray node id (hex) the task ran on
    pid: int  # worker process id
    error: str = ""  # an engine's one-line error: the batch stopped there (not retried: it would fail again)


@dataclass(frozen=True, slots=True)
class ClusterRun:
    """One episode's synthesis on the cluster."""

    tasks: int
    synthesized: int  # clips made by the tasks that finished (a killed attempt's clips are in the cache, not here)
    cached: int  # clips the finishing tasks found stored already
    nodes: frozenset[str]  # node ids that ran a task


Item = tuple[str, str, Voice]  # cache key, text the engine is given, voice


def batches(requests: Sequence[ClipRequest], batch_ms: int = BATCH_SPEECH_MS) -> list[list[ClipRequest]]:
    """Consecutive sentences grouped up to batch_ms of expected speech each (a longer sentence goes alone)."""
    groups: list[list[ClipRequest]] = []
    size = batch_ms
    for request in requests:
        if size + request.weight_ms > batch_ms and (not groups or groups[-1]):
            groups.append([])
            size = 0
        groups[-1].append(request)
        size += request.weight_ms
    return groups


def make_clips(engine_name: str, cache_location: str, items: list[Item]) -> BatchDone:
    """The Ray task body: synthesize what the shared cache lacks, storing each clip the moment it is made.

    The engine comes from the worker's registry, so it is loaded once per worker process, not per task.
    A retried batch skips what its killed attempt stored: only the sentences in flight are made again.
    """
    import ray

    node, pid = ray.get_runtime_context().get_node_id(), os.getpid()
    engine = get_engine(engine_name)
    cache = ClipCache(cache_location)

    async def run() -> tuple[int, int]:
        limit = asyncio.Semaphore(max(1, engine.concurrency))
        made = found = 0

        async def one(key: str, text: str, voice: Voice) -> None:
            nonlocal made, found
            if cache.has(key):
                found += 1
                return
            async with limit:
                clip = await engine.synthesize(text, voice)
            cache.put(key, clip)
            made += 1

        await asyncio.gather(*(one(*item) for item in items))
        return made, found

    try:
        # A Ray worker runs no event loop of its own; the engines' synthesize() is async (STYLE rule 16).
        made, found = asyncio.run(run())
    except PodcastError as exc:
        return BatchDone(0, 0, node, pid, error=str(exc))
    return BatchDone(made, found, node, pid)


class Cluster:
    """A connection to a running Ray cluster (`ray start --head` on one machine, `ray start --address` on others)."""

    def __init__(self, address: str) -> None:
        try:
            import ray
        except ImportError as exc:
            raise ConfigError(f"--cluster needs Ray ({exc}); run: pip install 'podcast[ray]'") from exc
        self._ray: Any = ray
        _probe(address)
        try:
            ray.init(address=address, logging_level=RAY_LOG_LEVEL, log_to_driver=False, ignore_reinit_error=True)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise ConfigError(
                f"--cluster {address}: cannot connect to a Ray cluster ({exc}); "
                "start one with `ray start --head`, or give the address it printed"
            ) from exc
        self.address = address
        self._task = ray.remote(max_retries=MAX_RETRIES)(make_clips)

    def nodes(self) -> int:
        """Nodes alive in the cluster now."""
        return sum(1 for node in self._ray.nodes() if node.get("Alive"))

    async def synthesize(
        self,
        requests: Sequence[ClipRequest],
        engine_name: str,
        cache: ClipCache,
        *,
        batch_ms: int = BATCH_SPEECH_MS,
        progress: Callable[[int], None] | None = None,
        source: str = "",
    ) -> ClusterRun:
        """Make every requested clip the cache lacks as Ray tasks; progress gets the speech (ms) each batch held.

        Raises EngineError when an engine fails or a task is lost more than MAX_RETRIES times, and ConfigError
        when the clips the nodes stored are not in the cache as this machine sees it (a folder that is not shared).
        """
        missing = [request for request in requests if not cache.has(request.key)]
        groups = batches(missing, batch_ms)
        refs = [
            self._task.remote(engine_name, cache.location, [(r.key, r.text, r.voice) for r in group])
            for group in groups
        ]

        async def one(ref: Any, group: list[ClipRequest]) -> tuple[BatchDone, int]:
            try:
                result: BatchDone = await asyncio.wrap_future(ref.future())
            except self._ray.exceptions.RayTaskError as exc:  # a bug in the task, not a lost worker: not retried
                raise EngineError(f"{source}: a synthesis task failed on the cluster: {exc.cause!r}") from exc
            except self._ray.exceptions.RayError as exc:
                raise EngineError(
                    f"{source}: a synthesis task on the cluster was lost {MAX_RETRIES + 1} times "
                    f"({type(exc).__name__}); run the same command again to resume"
                ) from exc
            if result.error:
                raise EngineError(f"{source}: {result.error}")
            return result, sum(request.weight_ms for request in group)

        done: list[BatchDone] = []
        waiting = [asyncio.ensure_future(one(ref, group)) for ref, group in zip(refs, groups, strict=True)]
        try:
            for finished in asyncio.as_completed(waiting):
                result, speech_ms = await finished
                done.append(result)
                if progress is not None:
                    progress(speech_ms)
        except BaseException:
            for future, ref in zip(waiting, refs, strict=True):
                if not future.done():
                    future.cancel()
                    self._ray.cancel(ref)  # on an engine error or Ctrl+C the batches still queued stop
            raise
        lost = [request.key for request in missing if not cache.has(request.key)]
        if lost:
            raise ConfigError(
                f"cache {cache.location}: the nodes stored {len(lost)} clips this machine does not see there; "
                "give --cache a folder every node shares, or an object-store URL (s3://...)"
            )
        return ClusterRun(
            tasks=len(groups),
            synthesized=sum(r.synthesized for r in done),
            cached=sum(r.cached for r in done),
            nodes=frozenset(r.node for r in done),
        )

    def close(self) -> None:
        """Disconnect this driver (the cluster keeps running)."""
        self._ray.shutdown()


def _probe(address: str) -> None:
    """A host:port address must answer at once: ray.init would retry an unreachable one for minutes, logging."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "://" in address:
        return  # `auto`, or a ray:// client URL: Ray's own rules
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ConfigError(
            f"--cluster {address}: nothing answers there ({exc.strerror or exc}); start the head with "
            "`ray start --head --port PORT`, or give the address it printed"
        ) from exc

"""Ray: a two-node cluster on 127.0.0.1 renders byte for byte as a local render does, and loses only in-flight work."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from podcast.batch import EpisodeResult, render_batch

from .ray_cluster import LocalCluster
from .test_batch import write_episodes

pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # a two-node cluster takes 20-30 s to start on 2 busy cores

OUTPUTS = ("chapters.json", "transcript.vtt", "script.yaml")
POLL_S = 0.05  # how often the kill test looks at the cache and the workers


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCluster, Path]]:
    """A head and one more node, one CPU each; every openjtalk clip their workers make is logged."""
    log = tmp_path_factory.mktemp("synthesis") / "synthesized.log"
    log.touch()
    nodes = LocalCluster(2, cache_dir=tmp_path_factory.mktemp("node-models"), count_synthesis=log)
    try:
        yield nodes.start(), log
    finally:
        nodes.stop()


def synthesized(log: Path, since: int = 0) -> list[tuple[str, int]]:
    """(clip key, worker pid) of each synthesis the nodes finished, after byte offset since."""
    lines = log.read_bytes()[since:].decode().splitlines()
    return [(key, int(pid)) for key, pid in (line.split() for line in lines)]


def clip_files(cache: Path) -> dict[str, int]:
    """Clip key -> inode: a clip written again (atomically renamed into place) gets a new inode."""
    return {path.stem: path.stat().st_ino for path in cache.glob("clips/*/*.clip")}


def test_a_cluster_renders_what_a_local_render_does_byte_for_byte(
    cluster: tuple[LocalCluster, Path], tmp_path: Path
) -> None:
    nodes, log = cluster
    since = log.stat().st_size
    inputs = write_episodes(tmp_path / "in")
    local = asyncio.run(
        render_batch(inputs, output_dir=tmp_path / "local", engine="openjtalk", cache_dir=tmp_path / "local-cache")
    )
    shared = tmp_path / "shared"
    remote = asyncio.run(
        render_batch(
            inputs,
            output_dir=tmp_path / "cluster",
            engine="openjtalk",
            cache_dir=f"file://{shared}",  # through fsspec, as an object store would be
            cluster=nodes.address,
            batch_ms=1_500,  # a sentence or two per task, so even these short episodes spread over both nodes
        )
    )
    for here, there in zip(local, remote, strict=True):
        assert here.status == there.status == "rendered"
        assert here.episode is not None and there.episode is not None and there.cluster is not None
        assert here.episode.slug == there.episode.slug
        for name in (f"{here.episode.slug}.mp3", *OUTPUTS):
            assert (here.episode.directory / name).read_bytes() == (there.episode.directory / name).read_bytes()
        meta = [json.loads((r.episode.directory / "episode.json").read_text("utf-8")) for r in (here, there)]  # type: ignore[union-attr]
        for fields in meta:
            del fields["first_rendered"], fields["last_rendered"]
        assert meta[0] == meta[1]
        assert there.episode.clips_synthesized == 0  # nothing synthesized on this machine: all came from the nodes
    made = synthesized(log, since)
    clips = clip_files(shared)
    assert sorted(key for key, _ in made) == sorted(clips)  # every clip made once, on a node
    assert sum(r.cluster.synthesized for r in remote if r.cluster) == len(clips)
    assert len(set().union(*(r.cluster.nodes for r in remote if r.cluster))) == 2


def long_episode(path: Path, sentences: int) -> Path:
    """An invented walk: a different sentence per line, alternating speakers."""
    places = ["駅前", "川沿い", "港", "坂の上", "図書館", "公園", "商店街", "学校", "畑", "丘"]
    things = ["自転車", "花壇", "看板", "ベンチ", "屋台", "灯り", "古い橋", "時計台", "井戸", "石段"]
    lines = ["長い散歩の記録"]
    for n in range(sentences):
        who = "聞き手" if n % 2 == 0 else "話し手"
        lines.append(f"{who}：{places[n % 10]}で{things[n // 10 % 10]}を{n + 1}回眺めました。")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_worker_killed_mid_run_costs_only_its_sentences_in_flight(
    cluster: tuple[LocalCluster, Path], tmp_path: Path
) -> None:
    nodes, log = cluster
    since = log.stat().st_size
    source = long_episode(tmp_path / "walk.txt", 80)
    shared = tmp_path / "shared"
    results: list[EpisodeResult] = []

    def run() -> None:
        results.extend(
            asyncio.run(
                render_batch(
                    [source],
                    output_dir=tmp_path / "out",
                    engine="openjtalk",
                    cache_dir=shared,  # a shared folder
                    cluster=nodes.address,
                    batch_ms=120_000,  # ~45 sentences per task: a second or more each, so the kill lands inside one
                )
            )
        )

    rendering = threading.Thread(target=run)
    rendering.start()
    killed = None
    while rendering.is_alive() and killed is None:
        time.sleep(POLL_S)
        busy = Counter(pid for _, pid in synthesized(log, since))
        # A worker that has stored two clips of its batch and is still running it.
        victims = [pid for pid in nodes.worker_pids() if busy[pid] >= 2]
        if victims:
            killed = victims[0]
            stored = clip_files(shared)
            os.kill(killed, signal.SIGKILL)
    rendering.join()
    assert killed is not None, "the render finished before a worker could be killed: make the episode longer"

    (result,) = results
    assert result.status == "rendered", result.error
    assert result.cluster is not None
    made = synthesized(log, since)
    after = clip_files(shared)
    assert len(after) == 80
    # Nothing stored before the kill was made or written again...
    assert {key: after[key] for key in stored} == stored
    twice = [key for key, count in Counter(key for key, _ in made).items() if count > 1]
    assert not set(twice) & set(stored)
    # ...only what the killed worker had in flight (openjtalk runs one sentence per core at once): at most two.
    assert len(twice) <= 2
    assert len(made) == 80 + len(twice)
    # The retried batch found what its killed attempt had stored.
    assert result.cluster.cached >= 1

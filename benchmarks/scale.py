"""How rendering many episodes scales: 1 and 2 local workers, and a 2-node Ray cluster on this machine.

    python benchmarks/scale.py                   # the seed cut into 4 episodes, openjtalk: ~10 min on 2 busy cores
    python benchmarks/scale.py --input podcast/data/sample_interview.txt --parts 2 --out /tmp/s   # a quick try
    python benchmarks/scale.py --markdown-only   # scale.md again from scale.json

Every configuration renders the same episodes from an empty cache with `podcast render --json` in its own
process, as a user would; the Ray cluster (a head and one more node, one CPU each, on 127.0.0.1) is started
before its run and not timed. Ray's cost per task is measured on the same cluster with tasks that make no
clip. Then, on paper, what N nodes give from the measured per-node figures, and where that stops. It writes
benchmarks/scale.md and scale.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.ray_cluster: the throwaway local cluster the Ray tests use too

SEED = ROOT.parent / "shared" / "seed" / "interview.txt"
ENGINE = "openjtalk"  # the fast offline engine: three configurations fit in minutes
PARTS = 4  # episodes the input is cut into
OVERHEAD_TASKS = 200  # empty tasks submitted at once, for Ray's cost per task in throughput
LATENCY_TASKS = 30  # empty tasks one after another, for its round trip
CPU_SAMPLE_S = 0.5  # how often the cluster's CPU time is read (a worker's last half second may be missed)
GIGABIT_MB_S = 110.0  # what a shared folder over 1 GbE delivers, about
NODES_ON_PAPER = (1, 2, 4, 8, 16, 32, 64)
KOKORO_RATE = 2.6  # audio minutes per wall minute, a cold kokoro render on 2 cores (report.md: 34 min in 775 s)


def make_parts(source: Path, parts: int, folder: Path) -> list[Path]:
    """The input cut at paragraph ends into episodes of about equal length, each titled by its part."""
    lines = source.read_text(encoding="utf-8").splitlines()
    title, body = lines[0].strip(), [line for line in lines[1:] if line.strip()]
    size = -(-len(body) // parts)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(parts):
        path = folder / f"part{n + 1}.txt"
        chunk = body[n * size : (n + 1) * size]
        path.write_text(f"{title}（第{n + 1}部）\n\n" + "\n\n".join(chunk) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def render(inputs: Path, out: Path, cache: Path, *extra: str, cluster: Any = None) -> dict[str, Any]:
    """One `podcast render --json` of every input, from an empty cache; its wall and CPU time, and what it wrote."""
    env = {**os.environ, "PODCAST_CACHE_DIR": str(cache)}
    command = [str(Path(sys.executable).with_name("podcast")), "render", str(inputs), "-o", str(out)]
    command += ["-e", ENGINE, "-q", "--json", "--cache", str(cache), *extra]
    load = os.getloadavg()[0]
    before = _children_cpu()
    sampler = _ClusterCpu(cluster) if cluster else None
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    cpu = _children_cpu() - before + (sampler.stop() if sampler else 0.0)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    rows = json.loads(done.stdout)
    audio_s = sum(row["duration_s"] for row in rows)
    stages: dict[str, float] = {}
    stages_cpu: dict[str, float] = {}
    for row in rows:
        for name, stage in row["stages"].items():
            stages[name] = stages.get(name, 0.0) + stage["wall_s"]
            stages_cpu[name] = stages_cpu.get(name, 0.0) + stage["cpu_s"]
    clips = list(cache.rglob("*.clip"))
    turns = list(cache.rglob("*.turn"))
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 1),  # the render and its ffmpeg children, and the cluster's processes
        "load_at_start": round(load, 1),  # other jobs' share of the 2 cores: the rows are only as even as this
        "audio_s": round(audio_s, 2),
        "audio_min_per_wall_min": round(audio_s / wall, 3),
        "episodes": len(rows),
        "stages_wall_s": {name: round(value, 2) for name, value in stages.items()},
        "stages_cpu_s": {name: round(value, 2) for name, value in stages_cpu.items()},
        "clips": len(clips),
        "clip_bytes": sum(path.stat().st_size for path in clips),
        "turn_bytes": sum(path.stat().st_size for path in turns),
        "cluster": [row["cluster"] for row in rows if "cluster" in row],
        "mp3s": {row["slug"]: Path(row["audio"]).read_bytes() for row in rows},
    }


class _ClusterCpu:
    """CPU time the cluster's processes use from now to stop(), sampled: Ray ends a driver's workers with it."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.start = cluster.cpu_by_process()
        self.seen = dict(self.start)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(CPU_SAMPLE_S):
            for pid, used in self.cluster.cpu_by_process().items():
                self.seen[pid] = max(used, self.seen.get(pid, 0.0))

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        return sum(used - self.start.get(pid, 0.0) for pid, used in self.seen.items())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ray_overhead(address: str, cache: Path) -> dict[str, float]:
    """Ray's cost per task: empty make_clips tasks (no sentence), one after another and all at once."""
    from podcast.cluster import Cluster

    cluster = Cluster(address)
    try:
        task = cluster._task  # the same remote function a render submits
        ray = cluster._ray
        ray.get([task.remote(ENGINE, str(cache), []) for _ in range(4)])  # workers up, engines loaded
        latencies = []
        for _ in range(LATENCY_TASKS):
            started = time.perf_counter()
            ray.get(task.remote(ENGINE, str(cache), []))
            latencies.append(time.perf_counter() - started)
        started = time.perf_counter()
        ray.get([task.remote(ENGINE, str(cache), []) for _ in range(OVERHEAD_TASKS)])
        burst = time.perf_counter() - started
    finally:
        cluster.close()
    return {
        "round_trip_ms": round(statistics.median(latencies) * 1000, 2),
        "per_task_in_a_burst_ms": round(burst / OVERHEAD_TASKS * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=SEED, help="transcript cut into episodes (default: the seed)")
    parser.add_argument("--parts", type=int, default=PARTS)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks", help="folder for scale.md and scale.json")
    parser.add_argument("--markdown-only", action="store_true", help="rewrite scale.md from scale.json, no run")
    args = parser.parse_args()
    if args.markdown_only:
        report = json.loads((args.out / "scale.json").read_text(encoding="utf-8"))
        (args.out / "scale.md").write_text(markdown(report), encoding="utf-8")
        return
    from tests.ray_cluster import LocalCluster

    work = Path(tempfile.mkdtemp(prefix="scale-"))
    inputs = work / "inputs"
    make_parts(args.input, args.parts, inputs)
    load_before = os.getloadavg()[0]
    runs: dict[str, dict[str, Any]] = {}
    for workers in (1, 2):
        name = f"local, {workers} worker{'s' if workers > 1 else ''}"
        print(f"{name}…", file=sys.stderr)
        runs[name] = render(inputs, work / f"out-w{workers}", work / f"cache-w{workers}", "-w", str(workers))
    print("Ray: starting a head and one more node…", file=sys.stderr)
    nodes = LocalCluster(2, cache_dir=work / "node-models").start()
    try:
        print("Ray, 2 nodes…", file=sys.stderr)
        runs["Ray, 2 nodes (1 CPU each)"] = render(
            inputs, work / "out-ray", work / "cache-ray", "--cluster", nodes.address, cluster=nodes
        )
        print("Ray: cost per task…", file=sys.stderr)
        overhead = ray_overhead(nodes.address, work / "cache-overhead")
    finally:
        nodes.stop()
    load_after = os.getloadavg()[0]
    reference = runs["local, 1 worker"]["mp3s"]
    identical = all(run["mp3s"] == reference for run in runs.values())
    for run in runs.values():
        del run["mp3s"]
    report = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "input": args.input.name,
        "engine": ENGINE,
        "runs": runs,
        "ray_overhead": overhead,
        "identical_mp3s": identical,
    }
    (args.out / "scale.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (args.out / "scale.md").write_text(markdown(report), encoding="utf-8")
    shutil.rmtree(work)
    print(f"Wrote {args.out / 'scale.md'}", file=sys.stderr)


def markdown(report: dict[str, Any]) -> str:
    runs = report["runs"]
    one = runs["local, 1 worker"]
    ray_run = runs["Ray, 2 nodes (1 CPU each)"]
    audio_min = one["audio_s"] / 60
    synthesis_s = one["stages_wall_s"].get("synthesis", 0.0)
    rest_s = sum(value for name, value in one["stages_wall_s"].items() if name not in ("synthesis", "parse"))
    # Per node (2 cores here): audio minutes synthesized per wall minute; and what one machine assembles.
    node_rate = audio_min / (synthesis_s / 60) if synthesis_s else 0.0
    assembly_rate = audio_min / (rest_s / 60) if rest_s else 0.0
    bytes_per_min = (one["clip_bytes"] + one["turn_bytes"]) / audio_min
    # Load-independent: CPU minutes per audio minute, synthesis and the rest (ffmpeg included), turned into what a
    # dedicated idle 2-core node would do keeping both cores busy (synthesis does: report.md, 1.97 cores).
    synthesis_cpu = one["stages_cpu_s"].get("synthesis", 0.0)
    idle_node_rate = 2 * audio_min * 60 / synthesis_cpu if synthesis_cpu else 0.0
    idle_assembly_rate = 2 * audio_min * 60 / max(one["cpu_s"] - synthesis_cpu, 1e-9)
    # Through the shared cache per audio minute: each clip written by a node and read by the assembling
    # machine, each leveled turn written once.
    traffic_mb = (2 * one["clip_bytes"] + one["turn_bytes"]) / audio_min / 1e6
    cache_cap = GIGABIT_MB_S * 60 / traffic_mb  # audio minutes per wall minute the link carries
    tasks = sum(c["tasks"] for c in ray_run["cluster"])
    task_speech_min = audio_min / max(tasks, 1)
    task_work_s = task_speech_min / node_rate * 60 if node_rate else 0.0
    overhead = report["ray_overhead"]
    share = overhead["round_trip_ms"] / 1000 / task_work_s if task_work_s else 0.0
    lines = [
        "# Many episodes: one machine, and a Ray cluster",
        "",
        f"Written by `benchmarks/scale.py` on {report['date']} ({report['machine']}; load average "
        f"{report['load_average'][0]} before, {report['load_average'][1]} after: the machine was shared with other "
        "jobs, so compare the rows with each other, not with other reports). Input: "
        f"{report['input']} cut into {one['episodes']} episodes, {audio_min:.1f} minutes of audio in all, "
        f"rendered with {report['engine']} from an empty cache by `podcast render --json` in its own process.",
        "",
        "| configuration | wall | audio min per wall min | vs 1 worker | CPU s | cores held | audio min per CPU min "
        "| load at start |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, run in runs.items():
        lines.append(
            f"| {name} | {run['wall_s']:.0f} s | {run['audio_min_per_wall_min']:.2f} | "
            f"{run['audio_min_per_wall_min'] / one['audio_min_per_wall_min']:.2f}x | {run['cpu_s']:.0f} | "
            f"{run['cpu_s'] / run['wall_s']:.2f} | {run['audio_s'] / run['cpu_s']:.1f} | {run['load_at_start']} |"
        )
    lines += [
        "",
        f"Every configuration wrote the same MP3s, byte for byte: {'yes' if report['identical_mp3s'] else 'NO'}.",
        "CPU s: the CPU time the render used (its process, ffmpeg, and for Ray every process of the cluster); "
        "cores held: CPU s per wall second. The load average counts the other jobs sharing these 2 cores: Linux "
        "shares the cores among runnable threads, so a configuration with more threads busy at once holds more "
        "of them. The Ray cluster here is two node processes on the same 2 cores, so it adds no hardware: where "
        "its row is faster, it is because the nodes synthesize the next episodes while this machine assembles "
        "(local workers overlap the same way, but each episode's synthesis and assembly share one process), and "
        "because it held more of the shared cores; on an idle machine the gain is the overlap alone. The gain "
        "that scales comes from nodes on other machines (below).",
        "",
        f"What Ray costs in CPU: {ray_run['audio_s'] / ray_run['cpu_s']:.1f} audio minutes per CPU minute through "
        f"the cluster against {one['audio_s'] / one['cpu_s']:.1f} in one local process "
        f"({one['audio_s'] / one['cpu_s'] / (ray_run['audio_s'] / ray_run['cpu_s']) - 1:.0%} more CPU for the same "
        "episodes: Ray's own processes, the clips written and read back through the cache).",
        "",
        "## Ray's cost per task",
        "",
        f"- Round trip of one task that makes no clip (submitted, run on a warm worker, result back): "
        f"{overhead['round_trip_ms']:.1f} ms (median of {LATENCY_TASKS}).",
        f"- {OVERHEAD_TASKS} such tasks at once on the two nodes: {overhead['per_task_in_a_burst_ms']:.1f} ms each.",
        f"- The render above ran {tasks} tasks ({task_speech_min * 60:.0f} s of finished audio each on average; "
        f"`cluster.BATCH_SPEECH_MS` caps a task at 30 s of expected speech); at the node rate below a task works "
        f"{task_work_s:.1f} s, so the round trip is {share:.1%} of it; kokoro ({KOKORO_RATE} audio minutes per "
        f"wall minute per 2-core node, {node_rate / KOKORO_RATE:.0f} times slower than {report['engine']} here) "
        f"works {task_work_s * node_rate / KOKORO_RATE:.0f} s per task, so there it is "
        f"{share * KOKORO_RATE / node_rate:.2%}.",
        "",
        "## On paper: N nodes",
        "",
        f"Measured in the 1-worker run: synthesis makes {node_rate:.1f} audio minutes per wall minute on this "
        f"2-core machine (one node), and everything after synthesis (leveling, encoding, tagging) runs at "
        f"{assembly_rate:.1f} audio minutes per wall minute on it. With N nodes synthesizing and episodes assembled "
        "on the machine that runs `podcast render` (each episode on one machine, as it must be written whole), a "
        "batch goes at about min(N x synthesis rate, assembly rate x assembling machines):",
        "",
        "| nodes | synthesis alone | with one 2-core machine assembling | the same on dedicated idle 2-core machines |",
        "|---:|---:|---:|---:|",
    ]
    for n in NODES_ON_PAPER:
        lines.append(
            f"| {n} | {n * node_rate:.0f} | {min(n * node_rate, assembly_rate):.0f} | "
            f"{min(n * idle_node_rate, idle_assembly_rate):.0f} |"
        )
    lines += [
        "",
        f"The last column comes from CPU time, which other jobs do not stretch: synthesis took "
        f"{synthesis_cpu / audio_min:.1f} CPU s per audio minute and the rest (with ffmpeg) "
        f"{(one['cpu_s'] - synthesis_cpu) / audio_min:.1f}, so a dedicated 2-core node keeping both cores busy "
        f"synthesizes {idle_node_rate:.0f} audio minutes per wall minute and assembles {idle_assembly_rate:.0f} "
        "(optimistic for assembly: its encoder runs on one core).",
    ]
    lines += [
        "",
        "Where it stops:",
        "",
        f"- **The assembling machine.** With {report['engine']} one 2-core machine assembles "
        f"{assembly_rate:.1f} audio minutes per wall minute, so beyond about "
        f"{assembly_rate / node_rate if node_rate else 0:.1f} nodes synthesis waits on it; `--workers` on a bigger "
        "machine, or several `podcast render` commands over parts of the catalogue (the cache is shared, the "
        f"outputs go to separate folders), move that line. kokoro synthesizes about {KOKORO_RATE} audio minutes "
        "per wall minute on 2 cores while assembly is the same work, so there one assembling machine keeps up "
        f"with about {assembly_rate / KOKORO_RATE:.0f} nodes.",
        f"- **The shared cache's bandwidth.** {report['engine']} clips and leveled turns take "
        f"{bytes_per_min / 1e6:.1f} MB per audio minute; each clip is written by a node and read by the "
        f"assembling machine, each turn written once: {traffic_mb:.1f} MB through the cache per audio minute. "
        f"A shared folder over 1 GbE (~{GIGABIT_MB_S:.0f} MB/s) carries about {cache_cap:.0f} audio minutes per "
        "wall minute, whatever N; an object store (s3://) scales with the number of clients instead, and costs a "
        "request per clip (about one per sentence).",
        "- **edge-tts's per-address throttling.** edge synthesizes on Microsoft's service, not on the nodes: "
        "nodes behind one public address share that address's allowance, which the service does not publish "
        "(not measured here: the benchmarks use a local fake service). Past it, more nodes only add 429s and "
        "retries; only nodes with their own public addresses add edge throughput. The cluster also leaves edge's "
        "batched requests (a speaker's sentences in one request) to the machine that runs `podcast render`, so "
        "`--cluster` helps the offline engines, not edge.",
        "- **Small batches.** An episode spreads over at most (its speech / 30 s) tasks: a 30-minute episode over "
        "60, so one long episode keeps up to 60 nodes busy; a catalogue of them, as many as there are tasks.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

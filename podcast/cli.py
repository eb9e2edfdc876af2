"""The `podcast` command: parse options, make one library call, print a short summary."""

from __future__ import annotations

import asyncio
import dataclasses
import glob
import json
import os
import signal
import sys
import time
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console

from . import (
    AGES,
    GENDERS,
    Age,
    BatchProgressReporter,
    Episode,
    EpisodeResult,
    Gender,
    Hints,
    PodcastError,
    ProgressReporter,
    __version__,
    build_episode,
    check,
    expand_inputs,
    format_clock,
    init_channel,
    init_voices,
    list_voices,
    publish_feed,
    readings_report,
    render_batch,
    split,
    summary,
)

app = typer.Typer(
    help="Turn a Japanese interview transcript into a chaptered, multi-voice podcast episode.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
stderr = Console(stderr=True)

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes on stderr.")]
Readings = Annotated[
    Path | None, typer.Option("--readings", help="readings.yaml: how to say words (default ./readings.yaml).")
]


@contextmanager
def reported(*, quiet: bool = False) -> Iterator[None]:
    """Run a command body: a PodcastError becomes one stderr line and exit code 2.

    Ctrl+C and SIGTERM (what timeout, systemd and docker stop send) both stop it cleanly: temporary
    files removed, one line, exit code 128 + the signal's number, as a shell reports a signal.
    """
    previous = warnings.showwarning
    stopped_by = signal.SIGINT

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        if not quiet:
            typer.echo(f"Warning: {message}", err=True)

    def terminate(signum: int, frame: FrameType | None) -> None:
        nonlocal stopped_by
        stopped_by = signal.SIGTERM
        # Whatever Ctrl+C would do now: inside asyncio.run, cancel the running command so it can clean up.
        interrupt = signal.getsignal(signal.SIGINT)
        if not callable(interrupt):  # SIGINT ignored, as in a background job: stop all the same
            raise KeyboardInterrupt
        interrupt(signal.SIGINT, frame)

    warnings.showwarning = show
    previous_terminate = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except PodcastError as exc:
        if os.environ.get("PODCAST_DEBUG"):
            raise
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        typer.echo("Interrupted: finished clips are cached; run the same command again to resume.", err=True)
        raise typer.Exit(code=128 + stopped_by) from None
    finally:
        signal.signal(signal.SIGTERM, previous_terminate)
        warnings.showwarning = previous


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"podcast {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Turn a Japanese interview transcript into a chaptered, multi-voice podcast episode."""


@app.command("split")
def split_command(
    transcript: Annotated[Path, typer.Argument(help="Transcript text file (UTF-8 or Shift_JIS).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Script file to write.")] = Path("script.yaml"),
    speakers: Annotated[
        int | None, typer.Option("--speakers", min=2, max=50, help="How many people speak, hosts included.")
    ] = None,
    host: Annotated[
        list[str] | None,
        typer.Option("--host", help="The interviewer's name: NAME or NAME:female / NAME:male (repeat for co-hosts)."),
    ] = None,
    guest: Annotated[
        list[str] | None,
        typer.Option("--guest", help="A guest's name, as NAME or NAME:male / NAME:female (repeat for each guest)."),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Split a transcript into speaker turns and write an editable script file."""
    hinted_hosts, hinted_guests = _hint_people(host, "--host"), _hint_people(guest, "--guest")
    hosts, guests = tuple(p.name for p in hinted_hosts), tuple(p.name for p in hinted_guests)
    if speakers is not None and len(hosts) + len(guests) > speakers:
        raise typer.BadParameter(
            f"{len(hosts) + len(guests)} names given for {speakers} speakers", param_hint="--speakers"
        )
    hinted = hinted_hosts + hinted_guests
    hints = Hints(
        speakers=speakers,
        hosts=hosts,
        guests=guests,
        genders=tuple((p.name, p.gender) for p in hinted if p.gender is not None),
        ages=tuple((p.name, p.age) for p in hinted if p.age is not None),
    )
    with reported(quiet=quiet):
        script = split(transcript, output, hints)
    turns = script.turns
    counts = Counter(turn.speaker for turn in turns)
    people, chapters = _count(len(script.speakers), "speaker"), _count(len(script.chapters), "chapter")
    typer.echo(f"Wrote {output}: {people}, {_count(len(turns), 'turn')}, {chapters}")
    if script.dropped and not quiet:
        first = ", ".join(f"line {n} 「{text[:20]}{'…' if len(text) > 20 else ''}」" for n, text in script.dropped[:3])
        more = " …" if len(script.dropped) > 3 else ""
        typer.echo(
            f"Not voiced: {_count(len(script.dropped), 'line')} taken for page chrome ({first}{more}); "
            f"listed at the top of {output}",
            err=True,
        )
    for sid, speaker in script.speakers.items():
        traits = ", ".join(t for t in (speaker.role, speaker.gender, speaker.age) if t)
        typer.echo(f"  {sid:<10} {speaker.name} ({traits}): {counts[sid]} turns")
    unsaid = [sid for sid, speaker in script.speakers.items() if speaker.gender is None]
    if unsaid:
        typer.echo(
            f"Say who is female or male for a voice that fits: add gender: female or gender: male to "
            f"{', '.join(unsaid)} under speakers: in {output}"
        )
    review = [turn for turn in turns if turn.review]
    if review:
        typer.echo(f"Check {len(review)} turns whose speaker is a guess (review: true in the file):")
        for turn in review:
            typer.echo(f"  line {turn.line}: {turn.speaker}: {turn.text[:40]} ({turn.why or 'a guess'})")
    typer.echo(f"Edit it, then: podcast render {output}")


@dataclasses.dataclass(frozen=True, slots=True)
class _Person:
    """One --host or --guest: NAME, optionally with :female or :male and :young, :adult or :older."""

    name: str
    gender: Gender | None
    age: Age | None


def _hint_people(values: list[str] | None, option: str) -> list[_Person]:
    """--host/--guest values parsed (NFKC, so a full-width colon works too); a bad one is a usage error."""
    people = []
    for value in values or []:
        name, *traits = (part.strip() for part in unicodedata.normalize("NFKC", value).split(":"))
        if not name:
            raise typer.BadParameter("a name cannot be empty", param_hint=option)
        genders = [g for g in GENDERS if g in (t.lower() for t in traits)]
        ages = [a for a in AGES if a in (t.lower() for t in traits)]
        unknown = [t for t in traits if t.lower() not in (*GENDERS, *AGES)]
        if unknown or len(genders) > 1 or len(ages) > 1:
            raise typer.BadParameter(
                f"'{value}': after the name write female or male, and optionally young, adult or older "
                f"(e.g. {name}:male:older)",
                param_hint=option,
            )
        people.append(_Person(name, genders[0] if genders else None, ages[0] if ages else None))
    return people


@app.command("render")
def render_command(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="INPUT...",
            help="Transcript text files or script .yaml files; a folder or a quoted glob takes every one in it.",
        ),
    ],
    output_dir: Annotated[Path, typer.Option("--output", "-o", help="Folder for episodes.")] = Path("output"),
    engine: Annotated[
        str | None,
        typer.Option("--engine", "-e", help="auto, edge, kokoro or openjtalk (default: from voices.yaml)."),
    ] = None,
    voices: Annotated[Path | None, typer.Option("--voices", help="voices.yaml to use.")] = None,
    readings: Readings = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, max=16, help="Synthesis calls at once.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary on stdout.")] = False,
    slug: Annotated[
        str | None,
        typer.Option("--slug", help="Folder name for a new episode: a-z, 0-9 and '-' (default: the title romanized)."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=16, help="Episodes rendered at once (several inputs).")
    ] = 1,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            envvar="RAY_ADDRESS",
            help="Ray cluster address (host:port): synthesize there, as tasks over batches of sentences.",
        ),
    ] = None,
    cache: Annotated[
        str | None,
        typer.Option(
            "--cache", help="Clip cache: a folder, or a URL every cluster node reaches (s3://..., file://...)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Several inputs: render the episodes that are up to date too.")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Render episodes: MP3 with chapters, chapters.json, transcript.vtt and the script."""
    if len(inputs) > 1 or cluster is not None or not _one_file(inputs[0]):
        if slug is not None:
            raise typer.BadParameter("names one episode's folder: give one INPUT", param_hint="--slug")
        _render_many(
            inputs,
            output_dir=output_dir,
            engine=engine,
            voices_path=voices,
            readings_path=readings,
            cache_dir=cache,
            concurrency=concurrency,
            workers=workers,
            cluster=cluster,
            force=force,
            as_json=as_json,
            quiet=quiet,
        )
        return
    with reported(quiet=quiet), _progress(quiet=quiet) as on_progress:
        episode = asyncio.run(
            build_episode(
                Path(inputs[0]),
                output_dir=output_dir,
                engine=engine,
                voices_path=voices,
                cache_dir=cache,
                concurrency=concurrency,
                progress=on_progress,
                readings_path=readings,
                slug=slug,
            )
        )
    if as_json:
        typer.echo(json.dumps(summary(episode), ensure_ascii=False, indent=2))
        return
    typer.echo(_wrote(episode))
    if episode.replaced is not None:
        before = episode.replaced
        what = ", ".join(
            part
            for part in (
                before.engine,
                format_clock(before.duration_ms, always_include_hours=False) if before.duration_ms else "",
                f"rendered {before.rendered[:16].replace('T', ' ')}" if before.rendered else "",
            )
            if part
        )
        retitled = (
            f"; it was titled 「{before.title}」" if before.title and before.title != episode.script.title else ""
        )
        typer.echo(f"  replaced the earlier render in {episode.directory}/ ({what}){retitled}")
    typer.echo(f"  clips: {episode.clips_synthesized} synthesized, {episode.clips_cached} from cache")
    typer.echo(f"  {episode.chapters_json}\n  {episode.transcript_vtt}\n  {episode.script_yaml}")


def _one_file(pattern: str) -> bool:
    """An INPUT that is one file as before (a missing one too: its render says so), not a folder or a glob."""
    path = Path(pattern)
    return not path.is_dir() and (path.exists() or not glob.has_magic(pattern))


def _wrote(episode: Episode) -> str:
    length = format_clock(episode.duration_ms, always_include_hours=False)
    return f"Wrote {episode.audio} ({length}, {_count(len(episode.chapters), 'chapter')}, engine {episode.engine})"


def _render_many(inputs: list[str], *, as_json: bool, quiet: bool, **options: Any) -> None:
    """Several episodes: one progress display, a line per episode, exit 2 at the end if any failed."""
    started = time.monotonic()
    live = not quiet and stderr.is_terminal
    # With the bar on the terminal stdout shares, result lines go above the bar, through its console.
    through_bar = live and sys.stdout.isatty()

    def show(result: EpisodeResult) -> None:
        if as_json:
            return
        if result.status == "failed":
            where = "" if result.error.startswith(str(result.source)) else f"{result.source}: "
            line, to_stderr = f"Failed: {where}{result.error}", True
        elif result.status == "up to date":
            line, to_stderr = f"Up to date: {result.directory}/ ({result.source})", False
        else:
            assert result.episode is not None
            episode = result.episode
            if result.cluster is not None:  # the cluster counts sentences; this machine synthesized none
                nodes = _count(len(result.cluster.nodes), "cluster node")
                made = f"{_count(result.cluster.synthesized, 'sentence')} synthesized on {nodes}"
            else:
                made = f"clips: {episode.clips_synthesized} synthesized, {episode.clips_cached} from cache"
            line, to_stderr = f"{_wrote(episode)}; {made}", False
        if through_bar:
            stderr.print(line, highlight=False, markup=False, soft_wrap=True)
        else:
            typer.echo(line, err=to_stderr)

    with reported(quiet=quiet):
        paths = expand_inputs(inputs)
        reporter = None if quiet else BatchProgressReporter(sys.stderr, live=live, console=stderr)
        try:
            results = asyncio.run(render_batch(paths, progress=reporter, on_result=show, **options))
        finally:
            if reporter is not None:
                reporter.close()
    failed = [r for r in results if r.status == "failed"]
    if os.environ.get("PODCAST_DEBUG") and failed and failed[0].exception is not None:
        raise failed[0].exception
    if as_json:
        rows = [
            {"input": str(r.source), "status": r.status}
            | ({"error": r.error} if r.error else {})
            | ({"directory": str(r.directory)} if r.directory and not r.episode else {})
            | (summary(r.episode) if r.episode else {})
            | ({"cluster": dataclasses.asdict(r.cluster) | {"nodes": len(r.cluster.nodes)}} if r.cluster else {})
            for r in results
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        audio = sum(r.episode.duration_ms for r in results if r.episode)
        counts = Counter(r.status for r in results)
        took = format_clock(round((time.monotonic() - started) * 1000), always_include_hours=False)
        typer.echo(
            f"{_count(len(results), 'episode')}: {counts['rendered']} rendered, {counts['up to date']} up to date, "
            f"{counts['failed']} failed; {format_clock(audio, always_include_hours=False)} of audio in {took}"
        )
    if failed:
        typer.echo(f"Error: {len(failed)} of {_count(len(results), 'episode')} failed (each named above)", err=True)
        raise typer.Exit(code=2)


@app.command("readings")
def readings_command(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="Transcript text file or script .yaml.")],
    engine: Annotated[
        str | None, typer.Option("--engine", "-e", help="kokoro or openjtalk (default: from voices.yaml).")
    ] = None,
    readings: Readings = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON on stdout.")] = False,
) -> None:
    """Check pronunciation before a render: Latin words, numbers and names, and what the engine will say."""
    with reported():
        rows = asyncio.run(readings_report(input_path, engine=engine, readings_path=readings))
    if as_json:
        data = [{**dataclasses.asdict(row), "needs_entry": row.needs_entry} for row in rows]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = [("TERM", "KIND", "LINE", "SPOKEN", "READING", "COVERED BY")]
    table += [(r.term, r.kind, str(r.line or ""), r.spoken, r.reading, r.covered_by or "-") for r in rows]
    widths = [max(_width(cells[i]) for cells in table) for i in range(len(table[0]) - 1)]
    for cells in table:
        padded = [cell + " " * (w - _width(cell)) for cell, w in zip(cells[:-1], widths, strict=True)]
        typer.echo("  ".join([*padded, cells[-1]]))
    missing = [row.term for row in rows if row.needs_entry]
    covered = "all covered" if not missing else f"{len(missing)} not covered: {', '.join(missing)}"
    typer.echo(f"{_count(len(rows), 'term')}, {covered}")
    typer.echo("Where a READING is wrong, add `word: よみ` under readings: in readings.yaml and check again.")


def _width(text: str) -> int:
    """Columns text takes in a terminal: kana and kanji are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@app.command("check")
def check_command(
    episode_dir: Annotated[Path, typer.Argument(metavar="EPISODE_DIR", help="An episode folder `render` wrote.")],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Whisper model: base (default) or a CTranslate2 model folder.")
    ] = None,
    readings: Readings = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every sentence as JSON on stdout.")] = False,
    quiet: Quiet = False,
) -> None:
    """Proof-listen: transcribe the episode back and list sentences whose reading was misheard."""
    shown = -1

    def listening(done: int, total: int) -> None:
        nonlocal shown
        if not quiet and done * 10 // max(total, 1) != shown:
            shown = done * 10 // max(total, 1)
            typer.echo(f"Listening: {done}/{total} clips", err=True)

    with reported(quiet=quiet):
        report = check(episode_dir, model=model, readings_path=readings, progress=listening)
    if as_json:
        data = [
            {**dataclasses.asdict(s.cue), "heard": s.heard, "error": round(s.error, 4)}
            | {"misheard": [dataclasses.asdict(m) for m in s.misheard]}
            for s in report.sentences
        ]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    sentences, differing = len(report.sentences), report.differing
    typer.echo(
        f"Heard {report.audio} with Whisper {report.model}: {_count(sentences, 'sentence')}, reading error "
        f"{report.mean_error:.1%} on average, {report.share_over:.0%} of sentences over 20%"
    )
    if not differing:
        typer.echo("Every sentence was heard as the script reads it.")
        return
    typer.echo(f"{_count(len(differing), 'sentence')} heard differently from the script:")
    words: dict[str, str] = {}
    for s in differing:
        at = s.cue.start_ms // 1000
        typer.echo(f"  {at // 60:02d}:{at % 60:02d}  {s.cue.speaker}: {s.cue.text}")
        typer.echo(f"         heard {s.heard or 'nothing'} ({s.error:.0%} of its kana differ)")
        for m in s.misheard:
            source = f" ({m.covered_by})" if m.covered_by else ""
            typer.echo(f"         {m.word}: said {m.reading}{source}, heard {m.heard or '(nothing)'}")
            words.setdefault(m.word, m.reading)
    typer.echo("Respell these under readings: in readings.yaml (shown with the reading they have now):")
    for word, reading in words.items():
        typer.echo(f"  {json.dumps(word, ensure_ascii=False) if word[0].isdigit() else word}: {reading}")
    typer.echo(f"Then render again and run: podcast check {episode_dir}")


@app.command("voices")
def voices_command(
    engine: Annotated[
        str | None,
        typer.Option("--engine", "-e", help="auto, edge, kokoro or openjtalk (default: from voices.yaml)."),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Only voices for this language, e.g. ja (plus multilingual ones).")
    ] = None,
    init: Annotated[
        bool, typer.Option("--init", help="Write ./voices.yaml: a full, commented copy of the bundled one to edit.")
    ] = False,
) -> None:
    """List the voices an engine offers, for voices.yaml."""
    if init:
        with reported():
            path = init_voices()
        typer.echo(f"Wrote {path}: a full copy of the bundled voices to edit (delete what you keep as it is)")
        return
    with reported():
        listing = asyncio.run(list_voices(engine, lang=lang))
    width = max((len(v.name) for v in listing), default=0)
    note_width = max((len(v.note) for v in listing), default=0)
    for v in listing:
        close = "too alike: " + ", ".join(v.close) if v.close else ""
        typer.echo(f"{v.name:<{width}}  {v.locale:<6}  {v.gender:<6}  {v.note:<{note_width}}  {close}".rstrip())
    typer.echo(f"{_count(len(listing), 'voice')}; put one under speakers: or pool: in voices.yaml")
    if any(v.close for v in listing):
        typer.echo("Voices too alike measure as one person (benchmarks/voices.md): never cast two in one episode")


@app.command("feed")
def feed_command(
    output_dir: Annotated[Path, typer.Option("--output", "-o", help="Folder of rendered episodes.")] = Path("output"),
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Channel settings (default ./podcast.yaml).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Where the publish folder is uploaded (overrides base_url:).")
    ] = None,
    publish: Annotated[
        Path | None, typer.Option("--publish", help="Folder to upload (default: publish/ beside the output folder).")
    ] = None,
    init: Annotated[
        bool, typer.Option("--init", help="Write ./podcast.yaml: the commented settings template to fill in.")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Check the show against what directories require and write the publish folder: feed, cover, episodes."""
    if init:
        with reported(quiet=quiet):
            path = init_channel(config or Path("podcast.yaml"))
        typer.echo(f"Wrote {path}: fill in title, author, description, category, owner_email and base_url")
        return
    with reported(quiet=quiet):
        result = publish_feed(output_dir, config=config, base_url=base_url, publish_dir=publish)
    count = len(result.episodes)
    typer.echo(f"Wrote {result.path}: {count} episode{'' if count == 1 else 's'}")
    for episode in result.episodes:
        number = f"#{episode.script.episode} " if episode.script.episode is not None else ""
        typer.echo(f"  {episode.published:%Y-%m-%d}  {number}{episode.title}")
    if result.cover is not None and result.cover.made:
        drawn = (
            ""
            if result.cover.titled
            else " (no Japanese font found, so without the title: apt install fonts-ipaexfont-gothic)"
        )
        typer.echo(
            f"Made {result.folder / result.cover.name} from the show's title{drawn}; "
            "set image: in podcast.yaml to your own artwork when you have it"
        )
    size = sum(path.stat().st_size for path in result.files)
    typer.echo(
        f"{result.folder}/ holds only what to upload ({_count(len(result.files), 'file')}, {size / 1e6:.1f} MB): "
        "feed.xml, the cover, and each episode's MP3, chapters.json and transcript.vtt"
    )
    typer.echo(f"Upload it to {result.channel.base_url}, then subscribe to {result.url}")


@app.command("serve")
def serve_command(
    output_dir: Annotated[Path, typer.Option("--output", "-o", help="Folder of rendered episodes.")] = Path("output"),
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="TCP port (0: any free one).")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    public: Annotated[
        bool, typer.Option("--public", help="Allow a --host other machines can reach (no login: anyone can listen).")
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Channel settings (default ./podcast.yaml, if present).")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Preview episodes in a browser: index, player pages with chapters and transcript, and the feed."""

    def ready(url: str) -> None:
        typer.echo(f"Serving {output_dir} at {url}  (feed: {url}feed.xml; Ctrl+C to stop)")

    from .serve import serve  # here, not at the top: no other command loads the web server

    with reported(quiet=quiet):
        try:
            asyncio.run(serve(output_dir, host=host, port=port, config=config, public=public, ready=ready))
        except KeyboardInterrupt:
            typer.echo("Stopped.")


@contextmanager
def _progress(*, quiet: bool) -> Iterator[ProgressReporter | None]:
    """Progress on stderr: a live bar on a terminal; in a log a line per tenth of the speech and every 30 s."""
    if quiet:
        yield None
        return
    reporter = ProgressReporter(sys.stderr, live=stderr.is_terminal, console=stderr)
    try:
        yield reporter
    finally:
        reporter.close()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def main() -> None:
    """Console-script entry point."""
    app()

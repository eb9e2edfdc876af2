"""The `podcast` command: parse options, make one library call, print a short summary."""

from __future__ import annotations

import asyncio
import json
import os
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from . import PodcastError, build_episode, format_timestamp, split, summary

app = typer.Typer(
    help="Turn a Japanese interview transcript into a chaptered, multi-voice podcast episode.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stderr = Console(stderr=True)

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes on stderr.")]


@contextmanager
def reported(*, quiet: bool = False) -> Iterator[None]:
    """Run a command body: a PodcastError becomes one stderr line and exit code 2."""
    previous = warnings.showwarning

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        if not quiet:
            typer.echo(f"Warning: {message}", err=True)

    warnings.showwarning = show
    try:
        yield
    except PodcastError as exc:
        if os.environ.get("PODCAST_DEBUG"):
            raise
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        typer.echo("Interrupted: finished clips are cached; run the same command again to resume.", err=True)
        raise typer.Exit(code=130) from None
    finally:
        warnings.showwarning = previous


@app.command("split")
def split_command(
    transcript: Annotated[Path, typer.Argument(help="Transcript text file (UTF-8 or Shift_JIS).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Script file to write.")] = Path("script.yaml"),
    quiet: Quiet = False,
) -> None:
    """Split a transcript into speaker turns and write an editable script file."""
    with reported(quiet=quiet):
        script = split(transcript, output)
    turns = script.turns
    counts = Counter(turn.speaker for turn in turns)
    speakers, chapters = _count(len(script.speakers), "speaker"), _count(len(script.chapters), "chapter")
    typer.echo(f"Wrote {output}: {speakers}, {_count(len(turns), 'turn')}, {chapters}")
    for sid, speaker in script.speakers.items():
        typer.echo(f"  {sid:<10} {speaker.name} ({speaker.role}): {counts[sid]} turns")
    review = [turn for turn in turns if turn.review]
    if review:
        typer.echo(f"Check {len(review)} turns whose speaker is a guess (review: true in the file):")
        for turn in review:
            typer.echo(f"  line {turn.line}: {turn.speaker}: {turn.text[:40]}")
    typer.echo(f"Edit it, then: podcast render {output}")


@app.command("render")
def render_command(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="Transcript text file or script .yaml.")],
    output_dir: Annotated[Path, typer.Option("--output", "-o", help="Folder for episodes.")] = Path("output"),
    engine: Annotated[
        str | None, typer.Option("--engine", "-e", help="kokoro or openjtalk (default: from voices.yaml).")
    ] = None,
    voices: Annotated[Path | None, typer.Option("--voices", help="voices.yaml to use.")] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, max=16, help="Synthesis calls at once.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary on stdout.")] = False,
    quiet: Quiet = False,
) -> None:
    """Render an episode: MP3 with chapters, chapters.json, transcript.vtt and the script."""
    with reported(quiet=quiet), _progress(quiet=quiet) as on_progress:
        episode = asyncio.run(
            build_episode(
                input_path,
                output_dir=output_dir,
                engine=engine,
                voices_path=voices,
                concurrency=concurrency,
                progress=on_progress,
            )
        )
    if as_json:
        typer.echo(json.dumps(summary(episode), ensure_ascii=False, indent=2))
        return
    length = format_timestamp(episode.duration_ms, always_include_hours=False).split(".")[0]
    typer.echo(f"Wrote {episode.audio} ({length}, {_count(len(episode.chapters), 'chapter')}, engine {episode.engine})")
    typer.echo(f"  clips: {episode.clips_synthesized} synthesized, {episode.clips_cached} from cache")
    typer.echo(f"  {episode.chapters_json}\n  {episode.transcript_vtt}\n  {episode.script_yaml}")


@contextmanager
def _progress(*, quiet: bool) -> Iterator[Any]:
    """Progress on stderr (turns done, ETA): a live bar on a terminal, a line per tenth in a log."""
    if quiet:
        yield None
        return
    reporter = _Reporter(live=stderr.is_terminal)
    try:
        yield reporter
    finally:
        reporter.close()


class _Reporter:
    """Started on the first update, so a command that fails early prints nothing but its error."""

    def __init__(self, *, live: bool) -> None:
        self.live = live
        self.bar: Progress | None = None
        self.task: Any = None
        self.started = time.monotonic()
        self.last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        if self.live:
            if self.bar is None:
                self.bar = Progress(
                    TextColumn("Synthesizing"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("turns"),
                    TimeElapsedColumn(),
                    TextColumn("ETA"),
                    TimeRemainingColumn(),
                    console=stderr,
                )
                self.task = self.bar.add_task("render", total=total)
                self.bar.start()
            self.bar.update(self.task, completed=done, total=total)
            if done == total:
                self.bar.stop()
                typer.echo("Assembling: leveling, encoding, tagging…", err=True)
            return
        tenth = done * 10 // max(total, 1)
        if tenth == self.last_tenth:
            return
        self.last_tenth = tenth
        elapsed = time.monotonic() - self.started
        eta = f", ETA {int(elapsed * (total - done) / done)} s" if 0 < done < total else ""
        typer.echo(f"Synthesizing: {done}/{total} turns{eta}", err=True)
        if done == total:
            typer.echo("Assembling: leveling, encoding, tagging…", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def main() -> None:
    """Console-script entry point."""
    app()

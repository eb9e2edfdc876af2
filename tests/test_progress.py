"""Render progress: weighted by speech, an ETA from the speed measured, a line at least every 30 s in a log."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podcast import progress
from podcast.cli import app
from podcast.progress import ProgressReporter
from podcast.synth import SynthesisProgress

from .conftest import THREE_CHAPTERS


class Clock:
    """A clock the test moves by hand: no test here waits on, or measures, real time."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_log_lines_follow_speech_not_turns_and_the_eta_the_measured_speed() -> None:
    stream, clock = io.StringIO(), Clock()
    report = ProgressReporter(stream, live=False, clock=clock)
    try:
        report(SynthesisProgress(0, 120_000, 0, 0, 30))
        clock.now += 10  # the first turn holds half the speech: 60 s of it synthesized in 10 s
        report(SynthesisProgress(60_000, 120_000, 60_000, 1, 30))
        clock.now += 1
        report(SynthesisProgress(61_000, 120_000, 61_000, 2, 30))  # same tenth: no line
        clock.now += 9
        report(SynthesisProgress(120_000, 120_000, 120_000, 30, 30))
    finally:
        report.close()
    assert lines(stream) == [
        "Synthesizing: 0% of 2:00 of speech (0/30 turns)",
        "Synthesizing: 50% of 2:00 of speech (1/30 turns), ETA 0:10",  # 60 s left at 6 s of speech per second
        "Synthesizing: 100% of 2:00 of speech (30/30 turns)",
        "Assembling: leveling, encoding, tagging…",
    ]


def test_cached_speech_does_not_make_the_eta_optimistic() -> None:
    stream, clock = io.StringIO(), Clock()
    report = ProgressReporter(stream, live=False, clock=clock)
    try:
        report(SynthesisProgress(0, 100_000, 0, 0, 10))
        report(SynthesisProgress(80_000, 100_000, 0, 8, 10))  # from the cache, at once: says nothing of speed
        clock.now += 20
        report(SynthesisProgress(90_000, 100_000, 10_000, 9, 10))  # 10 s of speech in 20 s: 10 s left take 20 s
    finally:
        report.close()
    assert lines(stream)[1] == "Synthesizing: 80% of 1:40 of speech (8/10 turns)"
    assert lines(stream)[2] == "Synthesizing: 90% of 1:40 of speech (9/10 turns), ETA 0:20"


def test_a_log_gets_a_line_at_least_every_interval_through_synthesis_and_assembly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress, "LOG_EVERY_S", 30.0)
    stream, clock = io.StringIO(), Clock()
    written = threading.Event()

    class Watched(io.StringIO):
        def write(self, text: str) -> int:
            written.set()
            return super().write(text)

    stream = Watched()
    report = ProgressReporter(stream, live=False, clock=clock)
    monkeypatch.setattr(report.stop, "wait", lambda timeout: report.stop.is_set())  # the heartbeat loop spins

    def next_line(advance: float) -> str:
        written.clear()
        clock.now += advance
        assert written.wait(timeout=60), "no heartbeat line"
        return lines(stream)[-1]

    try:
        report(SynthesisProgress(0, 600_000, 0, 0, 40))
        clock.now += 5
        report(SynthesisProgress(20_000, 600_000, 20_000, 1, 40))  # a slow engine: still in the first tenth
        assert (
            next_line(30) == "Synthesizing: 3% of 10:00 of speech (1/40 turns), ETA 16:55"
        )  # 580 s left at 20 s per 35 s
        report(SynthesisProgress(600_000, 600_000, 600_000, 40, 40))
        assert next_line(31) == "Assembling: leveling, encoding, tagging… (0:31 so far)"
    finally:
        report.close()


def test_cli_render_logs_progress_to_stderr_and_quiet_shows_none(tmp_path: Path) -> None:
    runner = CliRunner()
    output = tmp_path / "out"
    loud = runner.invoke(app, ["render", str(THREE_CHAPTERS), "-o", str(output), "--engine", "openjtalk"])
    assert loud.exit_code == 0, loud.output
    log = loud.stderr.splitlines()
    assert log[0].startswith("Synthesizing: 0% of 0:") and log[0].endswith(" of speech (0/6 turns)")
    assert log[-2].startswith("Synthesizing: 100% of ") and log[-2].endswith("(6/6 turns)")
    assert log[-1] == "Assembling: leveling, encoding, tagging…"
    quiet = runner.invoke(app, ["render", str(THREE_CHAPTERS), "-o", str(output), "--engine", "openjtalk", "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == ""

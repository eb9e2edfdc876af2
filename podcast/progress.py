"""Render progress for a person: weighted by speech, an ETA from measured speed, and never silent for long in a log."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from .synth import SynthesisProgress
from .writers import format_clock

LOG_EVERY_S = 30.0  # in a log (not a terminal), a line at least this often, so a watcher knows it is alive
LOG_STEPS = 10  # and a line each tenth of the speech done
MIN_ETA_SAMPLE_MS = 2_000  # no ETA before this much speech was synthesized: the first sentences say little of speed


def _clock(seconds: float) -> str:
    return format_clock(round(seconds * 1000), always_include_hours=False)


class _Reporter:
    """What both reporters share: lines on a stream (a log) with a heartbeat thread, or rich's bar on a terminal."""

    def __init__(self, stream: TextIO, *, live: bool, console: Any = None, clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.live = live  # a terminal: rich's bar on console; else lines on stream
        self.console = console
        self.clock = clock
        self.last_step = -1
        self.last_line = 0.0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.heartbeat: threading.Thread | None = None
        self.bar: Any = None
        self.task: Any = None

    def _start_heartbeat(self) -> None:
        self.heartbeat = threading.Thread(target=self._beat, name="progress heartbeat", daemon=True)
        self.heartbeat.start()

    def _beat(self) -> None:
        """In a log: when LOG_EVERY_S pass without a line, say where things stand."""
        while not self.stop.wait(min(1.0, LOG_EVERY_S / 4)):
            with self.lock:
                now = self.clock()
                if now - self.last_line >= LOG_EVERY_S and (line := self._standing(now)):
                    self._line(line)

    def _standing(self, now: float) -> str:
        """The heartbeat's line ("" before there is anything to say)."""
        raise NotImplementedError

    def _line(self, text: str) -> None:
        self.last_line = self.clock()
        if self.live and self.console is not None:
            self.console.print(text, highlight=False, markup=False)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _draw(self, label: str, total_ms: int, done_ms: int, detail: str, eta: float | None) -> None:
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        if self.bar is None:
            columns = (TextColumn(label), BarColumn(), TaskProgressColumn(), TextColumn("{task.fields[detail]}"))
            self.bar = Progress(*columns, TimeElapsedColumn(), TextColumn("{task.fields[eta]}"), console=self.console)
            self.task = self.bar.add_task(label, total=max(total_ms, 1), detail="", eta="")
            self.bar.start()
        eta_text = f"ETA {_clock(eta)}" if eta is not None else ""
        self.bar.update(self.task, total=max(total_ms, 1), completed=done_ms, detail=detail, eta=eta_text)

    def close(self) -> None:
        """Stop the heartbeat and the bar."""
        self.stop.set()
        if self.heartbeat is not None:
            self.heartbeat.join()
        if self.bar is not None:
            self.bar.stop()


class ProgressReporter(_Reporter):
    """Turns synthesis progress into lines on a stream (a log) or a live bar (a terminal).

    Started on the first update, so a command that fails early prints nothing but its error.
    """

    def __init__(self, stream: TextIO, *, live: bool, console: Any = None, clock: Callable[[], float] = time.monotonic):
        super().__init__(stream, live=live, console=console, clock=clock)
        self.started: float | None = None
        self.latest: SynthesisProgress | None = None
        self.stage = "synthesis"  # then "assembly", once every sentence is done
        self.assembly_started = 0.0

    def __call__(self, update: SynthesisProgress) -> None:
        with self.lock:
            now = self.clock()
            if self.started is None:
                self.started = now
                if not self.live:
                    self._start_heartbeat()
            self.latest = update
            finished = update.turns_done == update.turns and update.done_ms >= update.total_ms
            if self.live:
                turns = f"{update.turns_done}/{update.turns} turns"
                self._draw("Synthesizing", update.total_ms, update.done_ms, turns, self.eta_s(update, now))
            else:
                # 100% is said once, when the last turn is whole (its last sentence may finish before it does).
                tenth = min(update.done_ms * LOG_STEPS // max(update.total_ms, 1), LOG_STEPS - 1)
                step = LOG_STEPS if finished else tenth
                if step != self.last_step:
                    self.last_step = step
                    self._line(self.describe(update, now))
            if finished and self.stage == "synthesis":
                self.stage = "assembly"
                self.assembly_started = now
                if self.bar is not None:
                    self.bar.stop()
                self._line("Assembling: leveling, encoding, tagging…")

    def eta_s(self, update: SynthesisProgress, now: float) -> float | None:
        """Seconds left at the speed measured so far: speech synthesized per second (cached speech took none)."""
        if self.started is None or update.fresh_ms < MIN_ETA_SAMPLE_MS or update.done_ms >= update.total_ms:
            return None
        elapsed = now - self.started
        if elapsed <= 0:
            return None
        return (update.total_ms - update.done_ms) / (update.fresh_ms / elapsed)

    def describe(self, update: SynthesisProgress, now: float) -> str:
        """One log line: share of the speech done, turns, and the ETA once it can be measured."""
        percent = update.done_ms * 100 // max(update.total_ms, 1)
        speech = format_clock(update.total_ms, always_include_hours=False)
        line = f"Synthesizing: {percent}% of {speech} of speech ({update.turns_done}/{update.turns} turns)"
        eta = self.eta_s(update, now)
        return line if eta is None else f"{line}, ETA {_clock(eta)}"

    def _standing(self, now: float) -> str:
        if self.latest is None:
            return ""
        if self.stage == "synthesis":
            return self.describe(self.latest, now)
        return f"Assembling: leveling, encoding, tagging… ({_clock(now - self.assembly_started)} so far)"


@dataclass(frozen=True, slots=True)
class BatchStatus:
    """Where a batch of episodes stands, in episodes and in expected speech."""

    episodes: int  # in the batch, skipped ones included
    finished: int  # rendered, skipped or failed
    skipped: int  # up to date: not rendered
    failed: int
    total_ms: int  # expected speech of every episode to render
    done_ms: int  # of it, synthesized or found in the cache
    fresh_ms: int  # of done_ms, synthesized in this run: the share that took time, for the ETA


class BatchProgressReporter(_Reporter):
    """One display for a whole batch: episodes finished, speech done of the batch's, an ETA from measured speed.

    A live bar on a terminal; in a log, a line per tenth of the speech and at least every LOG_EVERY_S.
    """

    def __init__(self, stream: TextIO, *, live: bool, console: Any = None, clock: Callable[[], float] = time.monotonic):
        super().__init__(stream, live=live, console=console, clock=clock)
        self.started = self.last_line = clock()
        self.latest: BatchStatus | None = None

    def __call__(self, status: BatchStatus) -> None:
        with self.lock:
            self.latest = status
            if self.live:
                speech = format_clock(status.total_ms, always_include_hours=False)
                detail = f"{status.finished}/{status.episodes} episodes, {speech} of speech"
                self._draw("Rendering", status.total_ms, status.done_ms, detail, self.eta_s(status, self.clock()))
                return
            if self.heartbeat is None:
                self._start_heartbeat()
            step = min(status.done_ms * LOG_STEPS // max(status.total_ms, 1), LOG_STEPS)
            if status.finished == status.episodes:
                step = LOG_STEPS + 1  # the last line, once every episode is written
            if step != self.last_step:
                self.last_step = step
                self._line(self.describe(status, self.clock()))

    def eta_s(self, status: BatchStatus, now: float) -> float | None:
        """Seconds left at the speed measured so far (speech synthesized per wall second, assembly included)."""
        elapsed = now - self.started
        if status.fresh_ms < MIN_ETA_SAMPLE_MS or elapsed <= 0 or status.finished == status.episodes:
            return None
        return (status.total_ms - status.done_ms) / (status.fresh_ms / elapsed)

    def describe(self, status: BatchStatus, now: float) -> str:
        """One log line: episodes finished, speech done of the batch's, and the ETA once it can be measured."""
        done = format_clock(status.done_ms, always_include_hours=False)
        total = format_clock(status.total_ms, always_include_hours=False)
        line = f"Rendering: {status.finished}/{status.episodes} episodes, {done} of {total} of speech"
        notes = [f"{n} {what}" for n, what in ((status.skipped, "up to date"), (status.failed, "failed")) if n]
        if notes:
            line += f" ({', '.join(notes)})"
        eta = self.eta_s(status, now)
        return line if eta is None else f"{line}, ETA {_clock(eta)}"

    def _standing(self, now: float) -> str:
        return "" if self.latest is None else self.describe(self.latest, now)

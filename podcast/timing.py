"""Wall-clock and CPU time per pipeline stage, for the render summary and the benchmark."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from .model import StageTime

STAGES = ("parse", "synthesis", "assembly", "loudness", "encode", "tagging")  # in pipeline order


class StageClock:
    """Adds up the time spent in each stage; a stage may be entered many times."""

    def __init__(self) -> None:
        self._wall: dict[str, float] = {}
        self._cpu: dict[str, float] = {}
        self._calls: dict[str, int] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self._wall[name] = self._wall.get(name, 0.0) + time.perf_counter() - wall
            self._cpu[name] = self._cpu.get(name, 0.0) + time.process_time() - cpu
            self._calls[name] = self._calls.get(name, 0) + 1

    def add(self, name: str, wall_s: float, cpu_s: float = 0.0) -> None:
        """Count time measured elsewhere (work spread over threads) toward a stage."""
        self._wall[name] = self._wall.get(name, 0.0) + wall_s
        self._cpu[name] = self._cpu.get(name, 0.0) + cpu_s

    def times(self) -> tuple[StageTime, ...]:
        """Every stage entered, in pipeline order."""
        order = sorted(self._wall, key=lambda name: STAGES.index(name) if name in STAGES else len(STAGES))
        return tuple(
            StageTime(name, round(self._wall[name], 3), round(self._cpu[name], 3), self._calls.get(name, 1))
            for name in order
        )

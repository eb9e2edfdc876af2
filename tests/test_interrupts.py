"""Signals and kills mid-render: real subprocesses, real signals; nothing half written or hidden is left behind.

Encoding a short episode takes a fraction of a second, too short to signal into. These renders use an ffmpeg
that reads its input at real-time speed (ffmpeg's own -re), so the encode of the 28 s test interview takes
28 s: a window in which each signal lands while the episode is being encoded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from podcast import engines
from podcast.cli import app
from podcast.errors import EngineError
from podcast.media import ffmpeg_path
from podcast.model import Clip, Voice

from .conftest import E2E, REPO

SLUG = "uchu-to-ryori-hoshino-shefu-ni-kiku-mujuryoku-no-daidokoro"  # E2E's episode folder: its title romanized
EPISODE_FILES = sorted([f"{SLUG}.mp3", "chapters.json", "episode.json", "script.yaml", "transcript.vtt"])
INTERRUPTED = "Interrupted: finished clips are cached; run the same command again to resume."
PROMPT_S = 5  # an interrupted encode must end this soon; without the fix it ran on to the end (~60 s)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clip cache for the module: after the first render, synthesis is instant and only assembly is left."""
    return tmp_path_factory.mktemp("interrupt-cache")


@pytest.fixture
def slow_ffmpeg(tmp_path: Path) -> Path:
    """An ffmpeg wrapper that reads at real-time speed and touches a marker file when it starts."""
    wrapper = tmp_path / "slow-ffmpeg"
    wrapper.write_text(
        f'#!/bin/sh\ntouch "{tmp_path / "encoding"}"\nexec "{ffmpeg_path()}" -re "$@"\n', encoding="utf-8"
    )
    wrapper.chmod(0o755)
    return wrapper


def _sigint(disposition: signal.Handlers = signal.SIG_DFL) -> Callable[[], object]:
    """Set SIGINT's disposition in a child before it starts: a runner started with `nohup` or `&` passes SIGINT on
    ignored, and a Python started so never raises KeyboardInterrupt."""
    return lambda: signal.signal(signal.SIGINT, disposition)


def render(output: Path, cache: Path, ffmpeg: Path | None = None, *, background: bool = False) -> subprocess.Popen[str]:
    """`podcast render` of the test interview as a process of its own, in a session of its own (like a shell job).

    background: started as a shell starts `command &`, with SIGINT ignored.
    """
    env = {**os.environ, "PODCAST_CACHE_DIR": str(cache)}
    if ffmpeg is not None:
        env["IMAGEIO_FFMPEG_EXE"] = str(ffmpeg)
    command = [sys.executable, "-m", "podcast", "render", str(E2E), "-o", str(output), "--engine", "openjtalk"]
    return subprocess.Popen(
        [*command, "--quiet"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_sigint(signal.SIG_IGN if background else signal.SIG_DFL),
    )


def wait_for_encoding(process: subprocess.Popen[str], marker: Path) -> None:
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the encoder never started"
        time.sleep(0.05)
    time.sleep(0.5)  # ffmpeg is running and the assembly thread is feeding it


def stop(process: subprocess.Popen[str], send: signal.Signals, *, group: bool = False) -> tuple[int, str, float]:
    """Send a signal (to the process, or to its whole group as a terminal's Ctrl+C does); exit code, stderr, seconds."""
    started = time.monotonic()
    if group:
        os.killpg(process.pid, send)
    else:
        process.send_signal(send)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr, time.monotonic() - started


def temporaries(folder: Path) -> list[Path]:
    return sorted(folder.rglob(".*.tmp"))


def test_first_render(tmp_path: Path, cache: Path) -> None:
    """Fills the module's cache (and checks the plain render the others interrupt)."""
    process = render(tmp_path / "out", cache)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert sorted(p.name for p in (tmp_path / "out" / SLUG).iterdir()) == EPISODE_FILES


@pytest.mark.parametrize("group", [False, True], ids=["sigint-to-the-process", "ctrl-c-in-a-terminal"])
def test_ctrl_c_while_encoding_stops_at_once_and_leaves_nothing(
    tmp_path: Path, cache: Path, slow_ffmpeg: Path, group: bool
) -> None:
    output = tmp_path / "out"
    process = render(output, cache, slow_ffmpeg)
    wait_for_encoding(process, tmp_path / "encoding")
    code, stderr, seconds = stop(process, signal.SIGINT, group=group)
    assert (code, stderr.splitlines()) == (130, [INTERRUPTED])
    assert seconds < PROMPT_S
    assert not output.exists()  # no episode folder, not even an empty one, and no output folder this run made


def test_sigterm_while_re_encoding_keeps_the_previous_episode(tmp_path: Path, cache: Path, slow_ffmpeg: Path) -> None:
    output = tmp_path / "out"
    first = render(output, cache)
    assert first.wait(timeout=120) == 0
    before = {p.name: p.read_bytes() for p in (output / SLUG).iterdir()}

    process = render(output, cache, slow_ffmpeg)
    wait_for_encoding(process, tmp_path / "encoding")
    assert temporaries(output)  # the new episode is being written beside the old one
    code, stderr, seconds = stop(process, signal.SIGTERM)
    assert (code, stderr.splitlines()) == (128 + signal.SIGTERM, [INTERRUPTED])
    assert seconds < PROMPT_S
    assert {p.name: p.read_bytes() for p in (output / SLUG).iterdir()} == before


def test_sigterm_to_a_background_job_leaves_nothing(tmp_path: Path, cache: Path, slow_ffmpeg: Path) -> None:
    output = tmp_path / "out"
    process = render(output, cache, slow_ffmpeg, background=True)  # no Ctrl+C path to borrow: SIGINT is ignored
    wait_for_encoding(process, tmp_path / "encoding")
    code, stderr, seconds = stop(process, signal.SIGTERM)
    assert (code, stderr.splitlines()) == (128 + signal.SIGTERM, [INTERRUPTED])
    assert seconds < PROMPT_S
    assert not output.exists()


def test_the_next_render_removes_what_a_killed_one_left(tmp_path: Path, cache: Path, slow_ffmpeg: Path) -> None:
    output = tmp_path / "out"
    process = render(output, cache, slow_ffmpeg)
    wait_for_encoding(process, tmp_path / "encoding")
    code, _, _ = stop(process, signal.SIGKILL)
    assert code == -signal.SIGKILL
    left = temporaries(output)
    assert any(p.name.startswith(f".{SLUG}.mp3.") for p in left)  # SIGKILL cannot be caught: a partial MP3

    again = render(output, cache)
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr
    assert sorted(p.name for p in (output / SLUG).iterdir()) == EPISODE_FILES
    assert not temporaries(output)


# A process that dies (or waits) in the middle of an atomic write of argv[1], as a killed `podcast split` would.
_WRITER = textwrap.dedent("""\
    import os, signal, sys, time
    from pathlib import Path
    from podcast.files import atomic_path
    with atomic_path(Path(sys.argv[1])) as tmp:
        tmp.write_text("half a script", encoding="utf-8")
        print(tmp, flush=True)
        if sys.argv[2] == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(120)
""")


def test_split_removes_a_killed_writers_temporary_but_not_a_live_ones(tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"

    def writer(mode: str) -> tuple[subprocess.Popen[str], Path]:
        command = [sys.executable, "-c", _WRITER, str(script), mode]
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True, preexec_fn=_sigint())
        assert process.stdout is not None
        return process, Path(process.stdout.readline().strip())

    live, in_use = writer("wait")
    killed, stale = writer("die")
    try:
        assert killed.wait(timeout=30) == -signal.SIGKILL
        assert stale.exists() and in_use.exists()
        result = CliRunner().invoke(app, ["split", str(E2E), "-o", str(script)])
        assert result.exit_code == 0, result.output
        assert not stale.exists()  # left by a dead process: removed
        assert in_use.exists()  # another process is still writing it: kept
    finally:
        live.send_signal(signal.SIGINT)  # its atomic_path removes its own file on the way out
        live.wait(timeout=30)
    assert not in_use.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.yaml"]


class RefusingEngine:
    """An engine whose service turns every request down: the render fails after its episode folder exists."""

    name: ClassVar[str] = "refusing"
    concurrency: ClassVar[int] = 1

    def voices(self) -> list[str]:
        return ["a", "b", "c"]

    def fingerprint(self, voice: Voice) -> str:
        return "refusing"

    async def synthesize(self, text: str, voice: Voice) -> Clip:
        raise EngineError("the service refused the request")


def test_a_failed_first_render_leaves_no_empty_folder(tmp_path: Path) -> None:
    voices = tmp_path / "voices.yaml"
    voices.write_text("refusing:\n  pool: [{voice: a}, {voice: b}, {voice: c}]\n", encoding="utf-8")
    output = tmp_path / "out"
    engines.register("refusing", RefusingEngine)
    try:
        command = ["render", str(E2E), "-o", str(output), "--engine", "refusing", "--voices", str(voices), "--quiet"]
        result = CliRunner().invoke(app, command)
    finally:
        engines.unregister("refusing")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: {E2E}: turn at line ")
    assert not output.exists()

"""Resilience: interrupted and concurrent renders, full disks, hostile input through the CLI."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from podcast.cli import app
from podcast.loudness import SAMPLE_RATE

from .audio import decode
from .conftest import E2E, REPO

runner = CliRunner()

# Short on purpose: kokoro makes ~1 sentence per second here, and the kill tests render it 5 times.
SHORT = """\
短い回のテスト

聞き手：今日はよろしくお願いします。
星野：よろしくお願いします。
聞き手：最近はどうですか。
星野：毎日料理をしています。
聞き手：それは楽しそうですね。
星野：ありがとうございます。
"""
SHORT_TURNS = 6


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def check_outcome(result: Result, names: Path | str) -> str | None:
    """Exit 0, or exit 2 with one `Error: ` line naming the file; never a traceback. The error line or None."""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 0:
        return None
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert str(names) in lines[0], lines[0]
    return lines[0]


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


# --- interrupted and concurrent renders (real subprocesses, real engines) ---


def start_render(source: Path, output: Path, cache: Path, engine: str, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PODCAST_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "podcast", "render", str(source), "-o", str(output), "--engine", engine]
    return subprocess.Popen(
        [*command, "--quiet", *extra],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # SIGINT as a terminal would deliver it, even if this runner was started with it ignored (nohup)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def clips_in(cache: Path) -> int:
    return len(list(cache.rglob("*.clip")))


def interrupt(source: Path, output: Path, cache: Path, sig: signal.Signals) -> subprocess.CompletedProcess[str]:
    """Start a kokoro render, send sig once two clips are cached, and wait for it to end."""
    process = start_render(source, output, cache, "kokoro")
    deadline = time.monotonic() + 60
    while clips_in(cache) < 2:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no clips cached within 60 s"
        time.sleep(0.05)
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def finish(source: Path, output: Path, cache: Path, engine: str = "kokoro") -> dict:  # type: ignore[type-arg]
    process = start_render(source, output, cache, engine, "--json")
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert stderr == ""
    return json.loads(stdout)  # type: ignore[no-any-return]


@pytest.mark.slow  # renders killed again and again: most of a minute
def test_interrupted_renders_resume_to_the_same_mp3(tmp_path: Path) -> None:
    source = tmp_path / "short.txt"
    source.write_text(SHORT, encoding="utf-8")
    # Same day for every render: the ID3 date is the first render's date (episode.json).
    reference = finish(source, tmp_path / "reference", tmp_path / "cache-reference")
    assert reference["clips_synthesized"] == SHORT_TURNS
    expected = Path(reference["audio"]).read_bytes()
    slug = reference["slug"]

    for sig in (signal.SIGINT, signal.SIGKILL):
        output, cache = tmp_path / f"out-{sig.name}", tmp_path / f"cache-{sig.name}"
        stopped = interrupt(source, output, cache, sig)
        if sig == signal.SIGINT:
            assert stopped.returncode == 130, stopped.stderr
            assert stopped.stderr.splitlines() == [
                "Interrupted: finished clips are cached; run the same command again to resume."
            ]
            assert not list(output.rglob("*.tmp")) and not list(cache.rglob("*.tmp"))
        else:
            assert stopped.returncode == -signal.SIGKILL
        assert not (output / slug / f"{slug}.mp3").exists()  # no partial episode
        assert not [p for p in files_under(output) if not p.name.endswith(".tmp")]
        cached = clips_in(cache)
        assert cached >= 2

        resumed = finish(source, output, cache)
        assert resumed["clips_cached"] >= 1
        assert resumed["clips_synthesized"] < SHORT_TURNS
        assert resumed["clips_synthesized"] + resumed["clips_cached"] == SHORT_TURNS
        assert Path(resumed["audio"]).read_bytes() == expected, sig.name
        assert not list((output / slug).glob("*.tmp"))


def test_two_renders_of_one_episode_at_once(tmp_path: Path) -> None:
    output, cache = tmp_path / "out", tmp_path / "cache"
    processes = [start_render(E2E, output, cache, "openjtalk", "--json") for _ in range(2)]
    results = [process.communicate(timeout=120) for process in processes]
    for process, (_, stderr) in zip(processes, results, strict=True):
        assert process.returncode == 0, stderr
    summaries = [json.loads(stdout) for stdout, _ in results]
    assert summaries[0]["audio"] == summaries[1]["audio"]
    audio = Path(summaries[0]["audio"])
    samples = decode(audio)
    assert abs(len(samples) / SAMPLE_RATE - summaries[0]["duration_s"]) < 0.05
    assert summaries[0]["duration_s"] == summaries[1]["duration_s"]
    assert not list(tmp_path.rglob("*.tmp"))
    assert sorted(p.name for p in audio.parent.iterdir()) == sorted(
        [audio.name, "chapters.json", "episode.json", "script.yaml", "transcript.vtt"]
    )


# --- a full disk at encode time ---


def test_full_disk_at_encode_keeps_the_previous_episode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke("render", str(E2E), "-o", str(tmp_path), "--engine", "openjtalk", "--json", "--quiet")
    assert result.exit_code == 0, result.output
    folder = Path(json.loads(result.stdout)["audio"]).parent
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def full(mix: object, path: Path, *, cancelled: object = None) -> None:
        path.write_bytes(b"\xff\xfb" * 100)  # half an MP3, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr("podcast.assemble.encode_mp3", full)
    result = invoke("render", str(E2E), "-o", str(tmp_path), "--engine", "openjtalk", "--quiet")
    audio = folder / f"{folder.name}.mp3"
    line = check_outcome(result, audio)
    assert line == f"Error: {audio}: cannot write (No space left on device); check free space and permissions"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# --- hostile or broken input ---


def test_a_megabyte_line_splits_and_a_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "long.txt"
    line = "今日は晴れです。明日は雨かもしれません。" * 17_000
    source.write_text(f"長い話\n\n聞き手：{line}\n", encoding="utf-8")
    assert source.stat().st_size > 1_000_000
    script = tmp_path / "script.yaml"
    assert check_outcome(invoke("split", str(source), "-o", str(script)), source) is None
    huge = tmp_path / "huge.txt"
    huge.write_bytes(source.read_bytes() * 11)  # over MAX_TRANSCRIPT_BYTES
    error = check_outcome(invoke("split", str(huge), "-o", str(tmp_path / "huge.yaml")), huge)
    assert error is not None and "split it into one file per episode" in error
    assert files_under(tmp_path) == {source, script, huge}


def test_ten_thousand_turns_load_quickly(tmp_path: Path) -> None:
    turns = "".join(
        f"      - {{speaker: {'host' if i % 2 else 'guest'}, text: 質問その{i}です。}}\n" for i in range(10_000)
    )
    source = tmp_path / "big.yaml"
    source.write_text(
        "title: 一万の発言\nspeakers:\n  host: {name: 聞き手, role: host}\n  guest: {name: 星野, role: guest}\n"
        f"chapters:\n  - title: 全部\n    turns:\n{turns}",
        encoding="utf-8",
    )
    out = tmp_path / "again.yaml"
    started = time.monotonic()
    result = invoke("split", str(source), "-o", str(out))
    elapsed = time.monotonic() - started
    assert check_outcome(result, source) is None
    assert "10000 turns" in result.stdout
    assert elapsed < 15, f"split took {elapsed:.1f} s"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"title\n\xe8\x81\x9e\xe3\x81\x8d\xe6\x89\x8b\xef\xbc\x9a\x00abc\n", "binary data"),
        ("題\n聞き手：ベル\x07の音。\n星野：はい。\n".encode(), "binary data"),
        ("題\n聞き手：エスケープ\x1b[31m赤\n星野：はい。\n".encode(), "binary data"),
    ],
)
def test_control_characters_in_a_transcript(tmp_path: Path, data: bytes, fragment: str) -> None:
    source = tmp_path / "controls.txt"
    source.write_bytes(data)
    line = check_outcome(invoke("split", str(source), "-o", str(tmp_path / "s.yaml")), source)
    assert line is not None and fragment in line
    assert files_under(tmp_path) == {source}


def test_control_characters_in_a_script(tmp_path: Path) -> None:
    source = tmp_path / "bell.yaml"
    source.write_text(
        "title: 鈴\nspeakers:\n  host: {name: 聞き手, role: host}\n"
        "chapters:\n  - title: 一\n    turns:\n      - {speaker: host, text: ベル\x07です。}\n",
        encoding="utf-8",
    )
    line = check_outcome(invoke("split", str(source), "-o", str(tmp_path / "s.yaml")), source)
    assert line is not None and line.startswith(f"Error: {source}:7: ")
    assert files_under(tmp_path) == {source}


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_script_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "laughs.yaml"
    source.write_text(f"{BILLION_LAUGHS}title: *i\n", encoding="utf-8")
    line = check_outcome(invoke("render", str(source), "-o", str(tmp_path / "out")), source)
    assert line is not None and line.startswith(f"Error: {source}:2: more than 8 YAML aliases")
    assert not (tmp_path / "out").exists()


def test_billion_laughs_voices_file_is_refused(tmp_path: Path) -> None:
    voices = tmp_path / "voices.yaml"
    voices.write_text(f"{BILLION_LAUGHS}engine: *i\n", encoding="utf-8")
    result = invoke("render", str(E2E), "--voices", str(voices), "-o", str(tmp_path / "out"))
    line = check_outcome(result, voices)
    assert line is not None and line.startswith(f"Error: {voices}:2: YAML error: more than 8 aliases")


def test_an_aliased_script_within_limits_is_read(tmp_path: Path) -> None:
    source = tmp_path / "aliases.yaml"
    source.write_text(
        "title: 別名\nspeakers:\n  host: &h {name: 聞き手, role: host}\n  guest: {<<: *h, name: 星野, role: guest}\n"
        "chapters:\n  - title: 一\n    turns:\n      - &t {speaker: host, text: こんにちは。}\n      - *t\n",
        encoding="utf-8",
    )
    result = invoke("split", str(source), "-o", str(tmp_path / "s.yaml"))
    assert check_outcome(result, source) is None
    assert "2 turns" in result.stdout


@pytest.mark.parametrize("voice", ["/etc/passwd", "../voices/jf_alpha.pt", "C:\\voices\\a.onnx", "./jf_alpha"])
def test_a_file_path_as_a_voice_is_refused(tmp_path: Path, voice: str) -> None:
    voices = tmp_path / "voices.yaml"
    voices.write_text(f"engine: openjtalk\nopenjtalk:\n  pool:\n    - {{voice: '{voice}'}}\n", encoding="utf-8")
    result = invoke("render", str(E2E), "--voices", str(voices), "-o", str(tmp_path / "out"))
    line = check_outcome(result, voices)
    assert line is not None and "looks like a file path" in line
    assert not (tmp_path / "out").exists()


def script_text(title: str, *turns: str) -> str:
    body = "".join(
        f"      - {{speaker: {'host' if i % 2 == 0 else 'guest'}, text: {t!r}}}\n" for i, t in enumerate(turns)
    )
    return (
        f"title: {title!r}\nspeakers:\n  host: {{name: 聞き手, role: host}}\n  guest: {{name: 星野, role: guest}}\n"
        f"chapters:\n  - title: 一\n    turns:\n{body}"
    )


@pytest.mark.parametrize("title", ["../../etc", "!!!…？？", "/tmp/x/../../y", ".", "..", "~root"])
def test_hostile_titles_stay_inside_the_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, title: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    source = work / "t.yaml"
    source.write_text(script_text(title, "こんにちは。", "はい。"), encoding="utf-8")
    output = work / "out"
    result = invoke("render", str(source), "-o", str(output), "--engine", "openjtalk", "--json", "--quiet")
    assert check_outcome(result, source) is None, result.output
    summary = json.loads(result.stdout)
    audio = Path(summary["audio"]).resolve()
    assert audio.parent.parent == output.resolve()
    assert all(output.resolve() in p.resolve().parents for p in files_under(tmp_path) if p != source)


@pytest.mark.parametrize(
    "turns",
    [
        ("こんにちは。", "……！？", "はい。"),
        ("こんにちは。", "（笑）", "はい。"),
        ("（笑）", "……"),  # nothing at all to say
    ],
)
def test_unspeakable_turns_render(tmp_path: Path, turns: tuple[str, ...]) -> None:
    source = tmp_path / "t.yaml"
    source.write_text(script_text("無言", *turns), encoding="utf-8")
    result = invoke("render", str(source), "-o", str(tmp_path / "out"), "--engine", "openjtalk", "--json", "--quiet")
    assert check_outcome(result, source) is None, result.output
    summary = json.loads(result.stdout)
    samples = decode(Path(summary["audio"]))
    assert abs(len(samples) / SAMPLE_RATE - summary["duration_s"]) < 0.05


@pytest.mark.parametrize(
    "chapters",
    ["chapters: []\n", "chapters:\n", "chapters:\n  - title: 空\n    turns: []\n"],
)
def test_empty_chapter_lists_are_refused(tmp_path: Path, chapters: str) -> None:
    source = tmp_path / "empty.yaml"
    source.write_text(f"title: 空\nspeakers:\n  host: {{name: 聞き手, role: host}}\n{chapters}", encoding="utf-8")
    for command in (
        ["split", str(source), "-o", str(tmp_path / "s.yaml")],
        ["render", str(source), "-o", str(tmp_path / "out")],
    ):
        line = check_outcome(invoke(*command), source)
        assert line is not None and re.match(rf"Error: {re.escape(str(source))}:[45]: ", line)
    assert files_under(tmp_path) == {source}


def test_unknown_engine_is_one_line(tmp_path: Path) -> None:
    result = invoke("render", str(E2E), "--engine", "../../bin/sh", "-o", str(tmp_path / "out"))
    line = check_outcome(result, "../../bin/sh")
    assert line is not None and line.startswith("Error: unknown engine '../../bin/sh'")
    assert not (tmp_path / "out").exists()

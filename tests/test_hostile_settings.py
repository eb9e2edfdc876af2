"""Broken files and hostile settings: a one-line error naming the file or setting and the fix, never a traceback."""

from __future__ import annotations

import asyncio
import errno
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer
from typer.testing import CliRunner, Result

from podcast.channel import PREVIEW_CHANNEL
from podcast.cli import app
from podcast.serve import make_app

from .conftest import E2E
from .test_feed import make_cover

runner = CliRunner()

HEALTHY = "uchu-no-daidokoro-tokushu-yashoku-no-hanashi"  # three_chapters.yaml's episode in `published`
BROKEN = "uchu-to-ryori-hoshino-shefu-ni-kiku-mujuryoku-no-daidokoro"  # E2E's episode, damaged by the tests below
CONFIG = """\
title: 架空の番組
author: 架空の作者
description: 試験のための番組。
image: cover.jpg
category: Arts
owner_email: host@example.com
"""


def error_line(result: Result) -> str:
    """The one stderr line of a failed command; no traceback, exit code 2."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def output(published: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "output"
    shutil.copytree(published, copy)
    make_cover(tmp_path / "cover.jpg")
    (tmp_path / "podcast.yaml").write_text(CONFIG, encoding="utf-8")
    return copy


def feed(output: Path, base_url: str = "https://example.com/p/") -> Result:
    config = output.parent / "podcast.yaml"
    return runner.invoke(app, ["feed", "-o", str(output), "--config", str(config), "--base-url", base_url])


# --- a damaged episode folder is left out, with a warning; the others still publish ---


def huge_chapter_time(folder: Path) -> str:
    chapters = folder / "chapters.json"
    doc = json.loads(chapters.read_text(encoding="utf-8"))
    doc["chapters"][0]["startTime"] = 1e308  # round(1e308 * 1000) overflowed: a traceback, and 500s in serve
    chapters.write_text(json.dumps(doc), encoding="utf-8")
    return f"{chapters}: unreadable chapters (time 1e+308 is not within the episode); render the episode again"


def garbled_script(folder: Path) -> str:
    (folder / "script.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    return f"{folder / 'script.yaml'}:"


def truncated_mp3(folder: Path) -> str:
    (folder / f"{folder.name}.mp3").write_bytes(b"ID3")
    return f"{folder / folder.name}.mp3: cannot read the MP3"


@pytest.mark.parametrize("damage", [huge_chapter_time, garbled_script, truncated_mp3])
def test_feed_leaves_out_a_damaged_episode_with_a_warning(output: Path, damage: Any) -> None:
    problem = damage(output / BROKEN)
    result = feed(output)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"Wrote {output.parent / 'publish' / 'feed.xml'}: 1 episode"
    warning = result.stderr.splitlines()
    assert len(warning) == 1 and warning[0].startswith(f"Warning: {problem}"), result.stderr
    assert warning[0].endswith("(left out of the feed)")
    written = (output.parent / "publish" / "feed.xml").read_text(encoding="utf-8")
    assert written.count("<item>") == 1 and BROKEN not in written


def test_serve_lists_and_feeds_the_other_episodes(output: Path) -> None:
    problem = huge_chapter_time(output / BROKEN)

    async def main() -> None:
        async with TestClient(TestServer(make_app(output, PREVIEW_CHANNEL), host="127.0.0.1")) as client:
            for path, entry in (("/", "<li><a href="), ("/feed.xml", "<item>")):
                response = await client.get(path)
                assert response.status == 200, path
                body = await response.text()
                assert body.count(entry) == 1 and quote(HEALTHY) in body and quote(BROKEN) not in body
            response = await client.get(f"/{BROKEN}/")
            assert response.status == 500
            assert await response.text() == f"Error: {problem}\n"

    with pytest.warns(UserWarning, match="left out of the feed"):
        asyncio.run(main())


# --- the feed's base URL ---


@pytest.mark.parametrize(
    ("base_url", "problem"),
    [
        ("http://[::1", "is not a valid URL (Invalid IPv6 URL); write e.g. https://example.com/podcast/"),
        ("https://example.com:99999/p/", "is not a valid URL (Port out of range 0-65535); write e.g. "),
        ("https://example.com/p/?user=me", "has a ?query or #fragment; file names are added after it, so give "),
        ("https://example.com/p/#top", "has a ?query or #fragment; file names are added after it, so give "),
        ("https://exa mple.com/p/", "host 'exa mple.com' has characters a host name cannot have; write e.g. "),
        ("https://me:secret@example.com/p/", "holds a user name or password, which the public feed would show; "),
    ],
)
def test_bad_base_urls_are_refused(output: Path, base_url: str, problem: str) -> None:
    line = error_line(feed(output, base_url))
    assert line.startswith(f"Error: --base-url: {base_url!r}"), line
    assert problem in line
    assert not (output / "feed.xml").exists()


# --- voices.yaml: prosody the engines cannot honour ---


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{voice: ja-JP-NanamiNeural, rate: '+500%'}", "rate +500% is out of range (use -50% to +100%)"),
        ("{voice: ja-JP-NanamiNeural, pitch: '-99999Hz'}", "pitch -99999Hz is out of range (use -50Hz to +50Hz)"),
        ("{voice: ja-JP-NanamiNeural, volume: '+80%'}", "volume +80% is out of range (use -100% to +50%)"),
        ("{voice: mei, half_tone: -1000}", "half_tone -1000 is out of range (use -12.0 to 12.0)"),
        ("{voice: mei, half_tone: .nan}", "half_tone nan is out of range (use -12.0 to 12.0)"),
        ("{voice: mei, speed: .inf}", "speed inf is out of range (use 0.5 to 2.0)"),
    ],
)
def test_out_of_range_prosody_is_refused(tmp_path: Path, entry: str, problem: str) -> None:
    engine = "openjtalk" if "mei" in entry else "edge"
    voices = tmp_path / "voices.yaml"
    voices.write_text(f"engine: {engine}\n{engine}:\n  speakers:\n    host: {entry}\n", encoding="utf-8")
    result = runner.invoke(app, ["render", str(E2E), "--voices", str(voices), "-o", str(tmp_path / "out")])
    assert error_line(result) == f"Error: {voices}: {engine}.speakers.host: {problem}"
    assert not (tmp_path / "out").exists()


# --- readings ---


def test_a_ten_kilobyte_reading_is_refused(tmp_path: Path) -> None:
    readings = tmp_path / "readings.yaml"
    readings.write_text("readings:\n  宇宙: " + "ウ" * 10_000 + "\n", encoding="utf-8")
    result = runner.invoke(app, ["readings", str(E2E), "--engine", "openjtalk", "--readings", str(readings)])
    assert error_line(result) == (
        f"Error: {readings}: readings.宇宙: reading is 10000 characters long (at most 100; "
        "write how to say this one word)"
    )


def test_a_term_too_long_for_the_engine_is_one_line(tmp_path: Path) -> None:
    source = tmp_path / "long.yaml"
    source.write_text(
        "title: 長い単語\nspeakers:\n  host: {name: 聞き手, role: host}\n"
        f"chapters:\n  - title: 一\n    turns:\n      - {{speaker: host, text: {'A' * 9_000}です。}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["readings", str(source), "--engine", "openjtalk"])
    assert error_line(result).startswith(f"Error: openjtalk cannot read {'A' * 30!r}: ")


# --- a clip cache that cannot be read ---


@pytest.fixture
def filled_cache(isolated_cache: Path, tmp_path: Path) -> Path:
    result = runner.invoke(app, ["render", str(E2E), "-o", str(tmp_path / "out"), "--engine", "openjtalk", "-q"])
    assert result.exit_code == 0, result.output
    return isolated_cache


@pytest.mark.parametrize("kind", ["clips", "turns"])
def test_a_folder_in_place_of_a_cache_entry(filled_cache: Path, tmp_path: Path, kind: str) -> None:
    entry = sorted((filled_cache / kind).rglob("*.*"))[0]
    entry.unlink()
    entry.mkdir()  # IsADirectoryError escaped as a traceback, or for a turn blamed the MP3
    result = runner.invoke(app, ["render", str(E2E), "-o", str(tmp_path / "again"), "--engine", "openjtalk", "-q"])
    assert error_line(result) == (
        f"Error: {entry}: cannot read the clip cache (Is a directory); "
        "remove that entry or fix its permissions, or set PODCAST_CACHE_DIR to another folder"
    )
    assert not (tmp_path / "again").exists()


def test_a_cache_entry_without_permission(filled_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The tests may run as root, which no file mode stops: the operating system's answer is given here instead.
    read_bytes = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if filled_cache in path.parents:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    result = runner.invoke(app, ["render", str(E2E), "-o", str(tmp_path / "again"), "--engine", "openjtalk", "-q"])
    line = error_line(result)
    assert line.startswith(f"Error: {filled_cache / 'clips'}/")
    assert line.endswith(
        ": cannot read the clip cache (Permission denied); "
        "remove that entry or fix its permissions, or set PODCAST_CACHE_DIR to another folder"
    )

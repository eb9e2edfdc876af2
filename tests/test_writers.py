"""Writers: exact chapters JSON and WebVTT text; ID3 chapters read back by mutagen and by ffmpeg."""

from __future__ import annotations

import dataclasses
import datetime
import io
import subprocess
import warnings
from pathlib import Path

import imageio_ffmpeg
import pytest
from mutagen.id3 import ID3

from podcast.errors import AssemblyError, ConfigError
from podcast.model import Chapter, ChapterMark, Cue, Episode, Script, Speaker, Turn
from podcast.writers import format_timestamp, get_writer, tag_mp3

from .audio import read_chapters

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pydub warns at import that ffmpeg is not on PATH; tests hand it one
    from pydub import AudioSegment

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def episode(tmp: Path = Path("out"), *, date: str = "2024-05-01") -> Episode:  # noon UTC: that date anywhere
    speakers = {"host": Speaker("host", "聞き手", "host"), "sam": Speaker("sam", "サム & <アルトマン>", "guest")}
    script = Script(
        "対談: AIの未来",
        speakers,
        (Chapter("始まり", (Turn("host", "こんにちは。"),)), Chapter("未来について", (Turn("sam", "はい。"),))),
    )
    return Episode(
        script=script,
        slug="ai",
        directory=tmp,
        audio=tmp / "ai.mp3",
        chapters_json=tmp / "chapters.json",
        transcript_vtt=tmp / "transcript.vtt",
        script_yaml=tmp / "script.yaml",
        duration_ms=3_000,
        chapters=(ChapterMark("始まり", 0, 1_500), ChapterMark("未来について", 1_500, 3_000)),
        cues=(
            Cue(0, 1_210, "聞き手", "こんにちは。"),
            Cue(1_600, 2_950, "サム & <アルトマン>", "a<b>c & d --> e\n\nf"),
            Cue(3_723_004, 3_723_999, "聞き手", "一時間後。"),
        ),
        engine="fake",
        clips_synthesized=2,
        clips_cached=0,
        published=datetime.datetime.fromisoformat(f"{date}T12:00:00+00:00"),
        guid="",
    )


@pytest.mark.parametrize(
    ("ms", "hours", "marker", "expected"),
    [
        (0, True, ".", "00:00:00.000"),
        (62_345, True, ".", "00:01:02.345"),
        (62_345, False, ".", "01:02.345"),
        (3_723_004, False, ",", "01:02:03,004"),
        (3_723_004, True, ".", "01:02:03.004"),
        (100 * 3_600_000, True, ".", "100:00:00.000"),
        (999, True, ".", "00:00:00.999"),
    ],
)
def test_format_timestamp(ms: int, hours: bool, marker: str, expected: str) -> None:
    assert format_timestamp(ms, always_include_hours=hours, decimal_marker=marker) == expected


def test_format_timestamp_refuses_negative() -> None:
    with pytest.raises(ValueError):
        format_timestamp(-1)


def render(fmt: str) -> str:
    fp = io.StringIO()
    get_writer(fmt).write(episode(), fp)
    return fp.getvalue()


def test_chapters_json_exact() -> None:
    assert get_writer("json").extension == "json"
    assert render("json") == (
        "{\n"
        '  "version": "1.2.0",\n'
        '  "chapters": [\n'
        "    {\n"
        '      "startTime": 0.0,\n'
        '      "endTime": 1.5,\n'
        '      "title": "始まり"\n'
        "    },\n"
        "    {\n"
        '      "startTime": 1.5,\n'
        '      "endTime": 3.0,\n'
        '      "title": "未来について"\n'
        "    }\n"
        "  ]\n"
        "}\n"
    )


def test_vtt_exact() -> None:
    assert get_writer("vtt").extension == "vtt"
    assert render("vtt") == (
        "WEBVTT\n\n"
        "1\n00:00:00.000 --> 00:00:01.210\n<v 聞き手>こんにちは。\n\n"
        "2\n00:00:01.600 --> 00:00:02.950\n<v サム &amp; &lt;アルトマン&gt;>a&lt;b&gt;c &amp; d --&gt; e f\n\n"
        "3\n01:02:03.004 --> 01:02:03.999\n<v 聞き手>一時間後。\n\n"
    )


def test_unknown_format() -> None:
    with pytest.raises(ConfigError) as info:
        get_writer("srt")
    assert str(info.value) == "unknown output format 'srt' (use one of: json, vtt)"


@pytest.fixture
def mp3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three seconds of real MP3 silence, encoded by the ffmpeg imageio-ffmpeg ships."""
    monkeypatch.setattr(AudioSegment, "converter", FFMPEG)
    path = tmp_path / "tmp-episode.mp3"
    AudioSegment.silent(duration=3_000, frame_rate=24_000).export(str(path), format="mp3", bitrate="32k")
    return path


def ffmetadata(path: Path) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Global tags and [CHAPTER] blocks as ffmpeg reads them."""
    # -copyts: without it the ffmpeg CLI shifts chapters by the stream's start (the MP3 encoder delay,
    # ~46 ms here) when copying them to the output; the demuxer itself reads the stored times exactly.
    command = [FFMPEG, "-hide_banner", "-loglevel", "error", "-copyts", "-i", str(path), "-f", "ffmetadata", "-"]
    out = subprocess.run(
        command,
        capture_output=True,
        check=True,
        text=True,
        encoding="utf-8",
    ).stdout
    tags: dict[str, str] = {}
    chapters: list[dict[str, str]] = []
    current = tags
    for line in out.splitlines():
        if line == "[CHAPTER]":
            current = {}
            chapters.append(current)
        elif "=" in line and not line.startswith(";"):
            key, value = line.split("=", 1)
            current[key] = value
    return tags, chapters


def test_tag_mp3_read_back_by_mutagen_and_ffmpeg(mp3: Path) -> None:
    ep = episode()
    tag_mp3(mp3, ep)

    assert read_chapters(mp3) == list(ep.chapters)
    tags = ID3(mp3)
    assert tags.version == (2, 3, 0)
    assert tags["TIT2"].text == ["対談: AIの未来"]
    assert tags["TPE1"].text == ["聞き手 / サム & <アルトマン>"]
    assert tags["TALB"].text == ["対談: AIの未来"]
    assert tags["TLAN"].text == ["jpn"]
    assert tags["TCON"].text == ["Podcast"]
    assert str(tags["TDRC"].text[0]) == "2024-05-01"
    toc = tags.getall("CTOC")[0]
    assert toc.element_id == "toc"
    assert toc.child_element_ids == ["chp0", "chp1"]
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.element_id)
    assert [(c.element_id, c.start_time, c.end_time, c.start_offset) for c in chaps] == [
        ("chp0", 0, 1_500, 0xFFFFFFFF),
        ("chp1", 1_500, 3_000, 0xFFFFFFFF),
    ]

    meta, chapters = ffmetadata(mp3)
    assert meta["title"] == "対談: AIの未来"
    assert meta["artist"] == "聞き手 / サム & <アルトマン>"
    assert meta["language"] == "jpn"
    assert meta["genre"] == "Podcast"
    assert meta["date"] == "2024-05-01"
    from_ffmpeg = [
        ChapterMark(c["title"], int(c["START"]), int(c["END"])) for c in chapters if c["TIMEBASE"] == "1/1000"
    ]
    assert from_ffmpeg == list(ep.chapters) == read_chapters(mp3)


def test_tag_mp3_twice_replaces_and_no_chapters(mp3: Path) -> None:
    tag_mp3(mp3, episode())
    tag_mp3(mp3, dataclasses.replace(episode(date="2025-02-03"), chapters=()))
    assert read_chapters(mp3) == []
    assert str(ID3(mp3)["TDRC"].text[0]) == "2025-02-03"


def test_read_chapters_of_untagged_file(tmp_path: Path) -> None:
    path = tmp_path / "plain.mp3"
    path.write_bytes(b"\xff\xfb\x90\x00" + bytes(400))
    assert read_chapters(path) == []


def test_tag_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone" / "x.mp3"
    with pytest.raises(AssemblyError, match=r"^.*gone/x\.mp3: cannot write ID3 tags \(.*\); check the file"):
        tag_mp3(missing, episode())
    with pytest.raises(AssemblyError, match=r"^.*gone/x\.mp3: cannot read ID3 tags"):
        read_chapters(missing)

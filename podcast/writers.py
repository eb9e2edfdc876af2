"""Episode side files and tags: chapters JSON, WebVTT transcript, ID3 chapters in the MP3."""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path
from typing import Any, ClassVar, Protocol, TextIO, TypedDict

import mutagen.id3
import mutagen.id3._tags
from mutagen import MutagenError

from .errors import AssemblyError, ConfigError
from .model import ChapterMark, Cue, Episode

CHAPTERS_VERSION = "1.2.0"  # Podcasting 2.0 JSON chapters spec version we follow
ID3_VERSION = 3  # v2.3, not v2.4: Apple Podcasts, Windows and many car players read only v2.3 reliably
NO_OFFSET = 0xFFFFFFFF  # CHAP byte offsets: "unused, go by time" per the ID3 chapter addendum
LANGUAGE = "jpn"  # ISO 639-2 code for TLAN
GENRE = "Podcast"
DEFAULT_ALBUM = "podcast"  # when the episode has no title
MAX_CHAPTER_TIME_S = 7 * 24 * 3600  # seconds: no episode is a week long, and 1e308 would overflow

# mutagen.id3's frame classes are untyped; going through Any keeps mypy --strict quiet in one place.
_id3: Any = mutagen.id3
_save_frame: Any = mutagen.id3._tags.save_frame  # mutagen's own frame serializer, reused for CHAP order
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")  # a blank line would end a WebVTT cue early


def format_timestamp(ms: int, *, always_include_hours: bool = True, decimal_marker: str = ".") -> str:
    """Milliseconds as HH:MM:SS.mmm (hours dropped when zero unless always_include_hours)."""
    if ms < 0:
        raise ValueError(f"timestamp must be non-negative, got {ms} ms")
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    seconds, ms = divmod(ms, 1_000)
    hours_marker = f"{hours:02d}:" if always_include_hours or hours > 0 else ""
    return f"{hours_marker}{minutes:02d}:{seconds:02d}{decimal_marker}{ms:03d}"


def format_clock(ms: int, *, always_include_hours: bool = True) -> str:
    """Milliseconds as H:MM:SS for people and podcast apps, rounded to the nearest second (M:SS without hours).

    The one clock of the feed (itunes:duration, show notes), the preview pages and the CLI summary, so a chapter
    never starts at 0:12 in one place and 0:13 in another.
    """
    if ms < 0:
        raise ValueError(f"time must be non-negative, got {ms} ms")
    minutes, seconds = divmod(round(ms / 1000), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours or always_include_hours else f"{minutes}:{seconds:02d}"


class Writer(Protocol):
    """Writes one side file of an episode."""

    extension: ClassVar[str]

    def write(self, episode: Episode, fp: TextIO) -> None:
        """Write the episode's file to an open text stream."""


class _JsonChapter(TypedDict):
    """One entry of the Podcasting 2.0 chapters file (times in seconds)."""

    startTime: float
    endTime: float
    title: str


class _JsonChapters(TypedDict):
    version: str
    chapters: list[_JsonChapter]


class ChaptersJsonWriter:
    """Podcasting 2.0 JSON chapters: what podcast apps show as the chapter list."""

    extension: ClassVar[str] = "json"

    def write(self, episode: Episode, fp: TextIO) -> None:
        """Write the chapters as JSON, Japanese unescaped."""
        data: _JsonChapters = {
            "version": CHAPTERS_VERSION,
            "chapters": [
                {"startTime": mark.start_ms / 1000, "endTime": mark.end_ms / 1000, "title": mark.title}
                for mark in episode.chapters
            ],
        }
        json.dump(data, fp, ensure_ascii=False, indent=2)
        fp.write("\n")


def read_chapters_json(text: str) -> tuple[ChapterMark, ...]:
    """The chapters of a chapters.json that ChaptersJsonWriter wrote (and a user may have edited since).

    Raises ValueError, KeyError or TypeError saying what is wrong.
    """
    data: _JsonChapters = json.loads(text)
    return tuple(
        ChapterMark(title=str(c["title"]), start_ms=_json_ms(c["startTime"]), end_ms=_json_ms(c["endTime"]))
        for c in data["chapters"]
    )


def _json_ms(seconds: object) -> int:
    """A chapters.json time (seconds) as ms; a hand-edited file may hold anything, so check it is a real time."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"time {seconds!r} is not a number")
    if not (math.isfinite(seconds) and 0 <= seconds < MAX_CHAPTER_TIME_S):
        raise ValueError(f"time {seconds!r} is not within the episode")
    return round(seconds * 1000)


_VTT_TIME = re.compile(r"^(\d+):(\d\d):(\d\d)\.(\d{3}) --> (\d+):(\d\d):(\d\d)\.(\d{3})")
_VTT_VOICE = re.compile(r"^<v ([^>]*)>(.*)$")


def read_vtt(text: str, source: str) -> list[Cue]:
    """The cues of a transcript.vtt as VttWriter makes them (a time line, then `<v speaker>text`), in time order."""
    cues: list[Cue] = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = _VTT_TIME.match(line)
        if match is None:
            continue
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
        body = lines[number + 1] if number + 1 < len(lines) else ""
        voice = _VTT_VOICE.match(body)
        speaker, said = (voice.group(1), voice.group(2)) if voice else ("", body)
        start = ((h1 * 60 + m1) * 60 + s1) * 1000 + ms1
        end = ((h2 * 60 + m2) * 60 + s2) * 1000 + ms2
        if end < start:
            raise AssemblyError(f"{source}:{number + 1}: cue ends before it starts; render the episode again")
        cues.append(Cue(start, end, html.unescape(speaker), html.unescape(said)))
    if not cues:
        raise AssemblyError(f"{source}: no cues; render the episode again")
    return sorted(cues, key=lambda cue: cue.start_ms)


class VttWriter:
    """WebVTT transcript: one cue per spoken sentence, voiced by the speaker's name."""

    extension: ClassVar[str] = "vtt"

    def write(self, episode: Episode, fp: TextIO) -> None:
        """Write the cues as a WebVTT file."""
        fp.write("WEBVTT\n\n")
        for number, cue in enumerate(episode.cues, 1):
            start, end = format_timestamp(cue.start_ms), format_timestamp(cue.end_ms)
            fp.write(f"{number}\n{start} --> {end}\n<v {_vtt_escape(cue.speaker)}>{_vtt_escape(cue.text)}\n\n")


def _vtt_escape(text: str) -> str:
    """Text safe inside a cue: &, <, > escaped (this also breaks any '-->'), one line."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _LINE_BREAKS.sub(" ", text).strip()


_WRITERS: dict[str, type[Writer]] = {"json": ChaptersJsonWriter, "vtt": VttWriter}


def get_writer(fmt: str) -> Writer:
    """The writer for a format name: 'json' (chapters) or 'vtt' (transcript)."""
    try:
        return _WRITERS[fmt]()
    except KeyError:
        raise ConfigError(f"unknown output format '{fmt}' (use one of: {', '.join(_WRITERS)})") from None


class _TimeOrderedID3(_id3.ID3):  # type: ignore[misc]
    """An ID3 tag whose CHAP frames are stored in time order.

    mutagen sorts frames by size when saving, and ffmpeg (so mpv, VLC and most web tools) lists
    chapters in file order, so a short late title would come before a long early one.
    """

    def _write(self, config: Any) -> bytearray:
        chapters = sorted(self.getall("CHAP"), key=lambda frame: frame.start_time)
        self.delall("CHAP")
        try:
            data: bytearray = super()._write(config)
        finally:
            for frame in chapters:
                self.add(frame)
        return data + bytearray().join(_save_frame(frame, config=config) for frame in chapters)


def tag_mp3(path: Path, episode: Episode) -> None:
    """Replace the MP3's ID3 tag with title, speakers, date, language and chapters (CTOC + CHAP)."""
    title = episode.script.title
    tags = _TimeOrderedID3()
    tags.add(_id3.TIT2(encoding=3, text=title))
    names = " / ".join(speaker.name for speaker in episode.script.speakers.values())
    if names:
        tags.add(_id3.TPE1(encoding=3, text=names))
    tags.add(_id3.TALB(encoding=3, text=title or DEFAULT_ALBUM))
    tags.add(_id3.TDRC(encoding=3, text=episode.date))  # saved as TYER/TDAT: v2.3 has no TDRC
    tags.add(_id3.TLAN(encoding=3, text=LANGUAGE))
    tags.add(_id3.TCON(encoding=3, text=GENRE))
    ids = [f"chp{n}" for n in range(len(episode.chapters))]
    if ids:
        tags.add(
            _id3.CTOC(
                element_id="toc",
                flags=_id3.CTOCFlags.TOP_LEVEL | _id3.CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[_id3.TIT2(encoding=3, text=title or DEFAULT_ALBUM)],
            )
        )
    for element_id, mark in zip(ids, episode.chapters, strict=True):
        tags.add(
            _id3.CHAP(
                element_id=element_id,
                start_time=mark.start_ms,
                end_time=mark.end_ms,
                start_offset=NO_OFFSET,
                end_offset=NO_OFFSET,
                sub_frames=[_id3.TIT2(encoding=3, text=mark.title)],
            )
        )
    try:
        # v1=0 drops any ID3v1 tag: it cannot hold Japanese and would show mojibake in old players.
        tags.save(path, v1=0, v2_version=ID3_VERSION)
    except (MutagenError, OSError) as exc:
        raise AssemblyError(f"{path}: cannot write ID3 tags ({exc}); check the file is a writable MP3") from exc


def tag_for_show(path: Path, *, show: str, cover: bytes, cover_mime: str) -> None:
    """Tag a published copy of an episode as part of the show: album = the show's title, the cover as APIC."""
    try:
        tags = _TimeOrderedID3(path)
        tags.setall("TALB", [_id3.TALB(encoding=3, text=show)])
        tags.delall("APIC")
        if cover:
            # type 3: front cover, what players and car dashboards show
            tags.add(_id3.APIC(encoding=3, mime=cover_mime, type=3, desc="cover", data=cover))
        tags.save(path, v1=0, v2_version=ID3_VERSION)
    except (MutagenError, OSError) as exc:
        raise AssemblyError(f"{path}: cannot write ID3 tags ({exc}); render the episode again") from exc

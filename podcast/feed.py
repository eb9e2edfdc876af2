"""Rendered episodes in the output folder -> an RSS 2.0 feed with iTunes and Podcasting 2.0 tags."""

from __future__ import annotations

import datetime
import json
import math
import re
import uuid
import warnings
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote, urljoin, urlsplit

import mutagen.id3
import mutagen.mp3
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from mutagen import MutagenError

from .errors import AssemblyError, ConfigError, PodcastError
from .files import read_yaml
from .model import ChapterMark
from .script import load_script

CONFIG_FILE = Path("podcast.yaml")  # channel settings, read from the current folder by default
FEED_FILE = "feed.xml"
META_FILE = "episode.json"  # written by the pipeline: first render time, so pubDate never moves
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
# podcast:guid is a UUIDv5 of the feed URL in this namespace (Podcasting 2.0 spec, <podcast:guid>).
SHOW_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
# Item guids are UUIDv5 of the slug in this namespace; fixed forever, or every app re-downloads everything.
EPISODE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://podcastindex.org/namespace/1.0#episode")
IMAGE_SUFFIXES = (".jpg", ".png")  # what Apple accepts for artwork (and all feedgen writes)
GENERATOR = "podcast"
MAX_CHAPTER_TIME_S = 7 * 24 * 3600  # seconds: no episode is a week long, and 1e308 would overflow
# mutagen's MP3 and ID3 classes are untyped; going through Any keeps mypy --strict quiet in one place.
_mutagen: Any = mutagen
_KEYS = (
    "title", "author", "description", "image", "category", "subcategory", "explicit",
    "language", "owner_name", "owner_email", "base_url", "link", "guid",
)  # fmt: skip
_REQUIRED = ("title", "author", "description", "image", "category", "owner_email")
# A host name (letters of any script, digits, '-', '.') or an IPv6 address; urlsplit lets spaces and the like through.
_HOST = re.compile(r"[\w.-]+|[0-9a-f:.]+")


@dataclass(frozen=True, slots=True)
class Channel:
    """The show: what podcast.yaml says about it."""

    title: str  # the show's name in podcast apps
    author: str  # itunes:author of the show and every episode
    description: str  # plain text; apps show it on the show page
    image: str = ""  # square JPG/PNG artwork: an absolute URL, or a path under base_url
    category: str = ""  # an Apple Podcasts category, e.g. "Technology"
    subcategory: str = ""  # optional, e.g. "Food" under "Arts"
    explicit: bool = False
    language: str = "ja"
    owner_name: str = ""  # itunes:owner; default: author
    owner_email: str = ""
    base_url: str = ""  # where the output folder is published; enclosure URLs start with it
    link: str = ""  # the show's website; default: base_url
    guid: str = ""  # podcast:guid; default: derived from the feed URL, pin it before moving hosts
    source: str = ""  # file it came from, for messages


# Without a podcast.yaml the preview server still needs a show around the episodes.
PREVIEW_CHANNEL = Channel(title="podcast preview", author="podcast", description="Episodes rendered by podcast")


@dataclass(frozen=True, slots=True)
class PublishedEpisode:
    """A rendered episode as found in the output folder."""

    slug: str  # folder name, also the MP3's stem
    title: str  # from script.yaml
    audio: Path
    size: int  # MP3 bytes: the enclosure length
    duration_ms: int  # from the MP3 stream
    chapters: tuple[ChapterMark, ...]
    speakers: tuple[str, ...]  # display names, in order of appearance
    published: datetime.datetime  # first render, UTC: the pubDate

    @property
    def directory(self) -> Path:
        """The episode's folder: OUTPUT_DIR/<slug>/."""
        return self.audio.parent


class _EpisodeMeta(TypedDict):
    """episode.json: when one episode folder was rendered, and by which engine."""

    first_rendered: str  # ISO 8601 with offset
    last_rendered: str
    engine: str  # the engine that rendered it last (what `auto` resolved to)


def load_channel(path: Path | None = None, *, required: bool = True) -> Channel:
    """Read podcast.yaml (default ./podcast.yaml); without one, PREVIEW_CHANNEL unless required."""
    if path is None:
        if not CONFIG_FILE.is_file() and not required:
            return PREVIEW_CHANNEL
        path = CONFIG_FILE
    data = read_yaml(path, kind="channel settings", fix="create it (see README) or pass --config")
    return parse_channel(data, source=str(path))


def parse_channel(data: Any, *, source: str) -> Channel:
    """Check a loaded podcast.yaml: known keys, right types, required keys present."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of channel settings (title:, author:, ...)")
    for key in data:
        if key not in _KEYS:
            raise ConfigError(f"{source}: unknown key '{key}' (allowed: {', '.join(_KEYS)})")
    for key in _REQUIRED:
        if not data.get(key):
            raise ConfigError(f"{source}: missing {key}: (add it; see the README's podcast.yaml example)")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "explicit":
            if not isinstance(value, bool):
                raise ConfigError(f"{source}: explicit: expected true or false, got {value!r}")
        elif not isinstance(value, str):
            raise ConfigError(f"{source}: {key}: expected text, got {value!r}")
        values[key] = value.strip() if isinstance(value, str) else value
    if not values["image"].lower().endswith(IMAGE_SUFFIXES):
        raise ConfigError(f"{source}: image: {values['image']!r} is not a .jpg or .png (Apple requires one)")
    if values.get("base_url"):
        values["base_url"] = normalize_base_url(values["base_url"], where=f"{source}: base_url")
    return Channel(**values, source=source)


def normalize_base_url(url: str, *, where: str = "--base-url") -> str:
    """An absolute http(s) URL ending in '/', path percent-encoded, so file names join onto it."""
    example = "write e.g. https://example.com/podcast/"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # parsed on access: raises ValueError for a port that is not a number below 65536
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket: http://[::1
        raise ConfigError(f"{where}: {url!r} is not a valid URL ({exc}); {example}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {url!r} is not an http(s) URL ({example})")
    if parts.username is not None:
        raise ConfigError(
            f"{where}: {url!r} holds a user name or password, which the public feed would show; remove it"
        )
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        raise ConfigError(
            f"{where}: {url!r} has a ?query or #fragment; file names are added after it, so give the folder only"
        )
    if not _HOST.fullmatch(parts.hostname):
        raise ConfigError(
            f"{where}: {url!r}: host {parts.hostname!r} has characters a host name cannot have; {example}"
        )
    # Keep what is already escaped ('%', reserved characters); escape the rest, e.g. a Japanese folder name.
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    url = parts._replace(path=path if path.endswith("/") else path + "/").geturl()
    return url


def item_guid(slug: str) -> str:
    """The episode's guid: from its slug only, so re-rendering never makes apps see a new episode."""
    return str(uuid.uuid5(EPISODE_NAMESPACE, slug))


def show_guid(feed_url: str) -> str:
    """podcast:guid as the Podcasting 2.0 spec derives it: UUIDv5 of the feed URL without scheme."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(SHOW_NAMESPACE, bare))


def episode_url(base_url: str, slug: str, name: str = "") -> str:
    """URL of a file in an episode folder (or of the folder), each segment percent-encoded."""
    return f"{base_url}{quote(slug, safe='')}/{quote(name, safe='')}"


def find_episodes(output_dir: Path) -> list[PublishedEpisode]:
    """Every rendered episode under output_dir (folders holding <slug>/<slug>.mp3), newest first.

    A folder that cannot be read is left out with a warning naming it and the fix.
    """
    if not output_dir.is_dir():
        raise ConfigError(f"{output_dir}: no such output folder (render an episode first, or pass -o)")
    found = []
    for folder in sorted(output_dir.iterdir()):
        if folder.is_dir() and not folder.name.startswith(".") and (folder / f"{folder.name}.mp3").is_file():
            try:
                found.append(read_episode(folder))
            except PodcastError as exc:
                # Deliberately not an error: one damaged folder must not stop every other episode from publishing.
                warnings.warn(f"{exc} (left out of the feed)", stacklevel=2)
    return sorted(found, key=lambda episode: (episode.published, episode.slug), reverse=True)


def read_episode(folder: Path) -> PublishedEpisode:
    """One episode folder: title and speakers from script.yaml, chapters.json, the MP3's length."""
    slug = folder.name
    audio = folder / f"{slug}.mp3"
    script = load_script(folder / "script.yaml")
    chapters_path = folder / "chapters.json"
    try:
        doc = json.loads(chapters_path.read_text(encoding="utf-8"))
        chapters = tuple(
            ChapterMark(title=str(c["title"]), start_ms=_ms(c["startTime"]), end_ms=_ms(c["endTime"]))
            for c in doc["chapters"]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssemblyError(f"{chapters_path}: unreadable chapters ({exc}); render the episode again") from exc
    try:
        info = _mutagen.mp3.MP3(audio).info
        size = audio.stat().st_size
    except (MutagenError, OSError) as exc:
        raise AssemblyError(f"{audio}: cannot read the MP3 ({exc}); render the episode again") from exc
    return PublishedEpisode(
        slug=slug,
        title=script.title,
        audio=audio,
        size=size,
        duration_ms=round(info.length * 1000),
        chapters=chapters,
        speakers=tuple(speaker.name for speaker in script.speakers.values()),
        published=first_rendered(folder) or _mtime(audio),
    )


def _ms(seconds: Any) -> int:
    """A chapters.json time (seconds) as ms; a hand-edited file may hold anything, so check it is a real time."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"time {seconds!r} is not a number")
    if not (math.isfinite(seconds) and 0 <= seconds < MAX_CHAPTER_TIME_S):
        raise ValueError(f"time {seconds!r} is not within the episode")
    return round(seconds * 1000)


def first_rendered(folder: Path) -> datetime.datetime | None:
    """When the episode in this folder was first rendered: episode.json, else the MP3's ID3 date."""
    meta = folder / META_FILE
    if meta.is_file():
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            return datetime.datetime.fromisoformat(data["first_rendered"]).astimezone(datetime.UTC)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            warnings.warn(f"{meta}: unreadable ({exc}); using the MP3's date as the publish date", stacklevel=2)
    try:
        frames = _mutagen.id3.ID3(folder / f"{folder.name}.mp3").getall("TDRC")
        day = datetime.date.fromisoformat(str(frames[0].text[0])[:10])
    except (MutagenError, OSError, IndexError, ValueError):
        return None  # episodes rendered before episode.json existed, without a date tag
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)


def episode_meta(first: datetime.datetime, last: datetime.datetime, engine: str) -> str:
    """The text of episode.json."""
    meta: _EpisodeMeta = {"first_rendered": first.isoformat(), "last_rendered": last.isoformat(), "engine": engine}
    return json.dumps(meta, indent=2) + "\n"


def build_feed(channel: Channel, episodes: list[PublishedEpisode]) -> bytes:
    """The RSS 2.0 document (UTF-8 bytes) for the show and its episodes, in the order given."""
    base = channel.base_url
    if not base:
        raise ConfigError(
            f"{channel.source or 'podcast.yaml'}: missing base_url: (where the output folder is published, "
            "e.g. https://example.com/podcast/; or pass --base-url)"
        )
    feed_url = base + FEED_FILE
    fg = FeedGenerator()
    fg.load_extension("podcast", atom=False)  # feedgen's iTunes extension
    fg.register_extension("podcastindex", _ShowExtension, _EpisodeExtension, atom=False)
    fg.title(channel.title)
    fg.description(channel.description)
    fg.link(href=feed_url, rel="self", type="application/rss+xml")
    fg.link(href=channel.link or base, rel="alternate")  # after self: feedgen writes the last one as <link>
    fg.language(channel.language)
    fg.generator(GENERATOR)
    fg.podcast.itunes_author(channel.author)
    if channel.category:
        fg.podcast.itunes_category(channel.category, channel.subcategory or None)
    if channel.image:
        image = channel.image if urlsplit(channel.image).scheme else urljoin(base, quote(channel.image))
        fg.image(url=image, title=channel.title, link=channel.link or base)
        fg.podcast.itunes_image(image)
    if channel.owner_email:
        fg.podcast.itunes_owner(name=channel.owner_name or channel.author, email=channel.owner_email)
    fg.podcast.itunes_type("episodic")
    fg.podcastindex.guid = channel.guid or show_guid(feed_url)
    fg.podcastindex.explicit = channel.explicit
    for episode in episodes:
        entry = fg.add_entry(order="append")
        entry.guid(item_guid(episode.slug), permalink=False)
        entry.title(episode.title)
        entry.description(_description(episode))
        entry.enclosure(episode_url(base, episode.slug, episode.audio.name), str(episode.size), "audio/mpeg")
        entry.pubDate(episode.published)
        entry.podcast.itunes_author(channel.author)
        entry.podcast.itunes_duration(_clock(episode.duration_ms))
        entry.podcastindex.chapters = episode_url(base, episode.slug, "chapters.json")
        entry.podcastindex.transcript = episode_url(base, episode.slug, "transcript.vtt")
        entry.podcastindex.language = channel.language
    # Deterministic output: the feed changes only when an episode does, not on every run.
    fg.lastBuildDate(max((e.published for e in episodes), default=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)))
    data: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data


def _description(episode: PublishedEpisode) -> str:
    """Show notes as the HTML apps expect in <description>: who speaks, then the chapters with start times."""
    # Readers treat an item description as HTML, so text is HTML-escaped here and XML-escaped again by lxml:
    # a chapter called "はじめに <序>" then shows as written instead of vanishing as an unknown tag.
    parts = []
    if episode.speakers:
        parts.append(f"<p>出演: {escape('、'.join(episode.speakers))}</p>")
    if episode.chapters:
        items = "".join(f"<li>{_clock(mark.start_ms)} {escape(mark.title)}</li>" for mark in episode.chapters)
        parts.append(f"<ul>{items}</ul>")
    return "\n".join(parts) or f"<p>{escape(episode.title)}</p>"


def _clock(ms: int) -> str:
    """Whole seconds as H:MM:SS: the itunes:duration form every app parses."""
    minutes, seconds = divmod(round(ms / 1000), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def _mtime(path: Path) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC).replace(microsecond=0)


class _ShowExtension(BaseExtension):  # type: ignore[misc]
    """Channel tags feedgen lacks: podcast:guid, and itunes:explicit as Apple now wants it (true/false)."""

    def __init__(self) -> None:
        self.guid = ""
        self.explicit = False

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
        # feedgen only knows yes/no/clean; Apple's current spec says true/false.
        xml_elem(f"{{{ITUNES_NS}}}explicit", channel).text = "true" if self.explicit else "false"
        xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self.guid
        return rss_feed


class _EpisodeExtension(BaseEntryExtension):  # type: ignore[misc]
    """Item tags of the Podcasting 2.0 namespace: chapters JSON and the WebVTT transcript."""

    def __init__(self) -> None:
        self.chapters = ""
        self.transcript = ""
        self.language = ""

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, item: Any) -> Any:
        if self.transcript:
            # rel=captions: the VTT is timed, so apps can show it in step with the audio.
            xml_elem(
                f"{{{PODCAST_NS}}}transcript",
                item,
                url=self.transcript,
                type="text/vtt",
                language=self.language,
                rel="captions",
            )
        if self.chapters:
            xml_elem(f"{{{PODCAST_NS}}}chapters", item, url=self.chapters, type="application/json+chapters")
        return item

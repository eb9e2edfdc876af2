"""Rendered episodes -> an RSS 2.0 feed with iTunes and Podcasting 2.0 tags."""

from __future__ import annotations

import datetime
import uuid
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from .channel import Channel
from .errors import ConfigError
from .model import Episode
from .writers import format_clock

FEED_FILE = "feed.xml"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
# podcast:guid is a UUIDv5 of the feed URL in this namespace (Podcasting 2.0 spec, <podcast:guid>).
SHOW_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
GENERATOR = "podcast"


def show_guid(feed_url: str) -> str:
    """podcast:guid as the Podcasting 2.0 spec derives it: UUIDv5 of the feed URL without scheme."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(SHOW_NAMESPACE, bare))


def episode_url(base_url: str, slug: str, name: str = "") -> str:
    """URL of a file in an episode folder (or of the folder), each segment percent-encoded."""
    return f"{base_url}{quote(slug, safe='')}/{quote(name, safe='')}"


def image_url(channel: Channel) -> str:
    """Where the show's artwork is: the image: URL as given, else its file name under base_url."""
    if not channel.image:
        return ""
    if urlsplit(channel.image).scheme:
        return channel.image
    return urljoin(channel.base_url, quote(Path(channel.image).name))


def check_serial(channel: Channel, episodes: list[Episode]) -> None:
    """A serial show is heard in order: Apple wants every full episode numbered."""
    if channel.type != "serial":
        return
    for episode in episodes:
        if episode.script.episode is None and episode.script.episode_type == "full":
            raise ConfigError(
                f"{episode.script_yaml}: no episode: number, which a serial show needs "
                "(add `episode: N` to the episode's script and render it again, or set type: episodic)"
            )


def require_base_url(channel: Channel) -> str:
    """The channel's base URL; without one no enclosure URL can be written."""
    if not channel.base_url:
        raise ConfigError(
            f"{channel.source or 'podcast.yaml'}: missing base_url: (where the publish folder is uploaded, "
            "e.g. https://example.com/podcast/; or pass --base-url)"
        )
    return channel.base_url


def build_feed(channel: Channel, episodes: list[Episode]) -> bytes:
    """The RSS 2.0 document (UTF-8 bytes) for the show and its episodes, in the order given."""
    base = require_base_url(channel)
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
    image = image_url(channel)
    if image:
        fg.image(url=image, title=channel.title, link=channel.link or base)
    if channel.owner_email:
        fg.podcast.itunes_owner(name=channel.owner_name or channel.author, email=channel.owner_email)
    fg.podcast.itunes_type(channel.type)
    show: _ShowExtension = fg.podcastindex
    show.guid = channel.guid or show_guid(feed_url)
    show.explicit = channel.explicit
    show.image = image  # feedgen drops an itunes:image whose name ends in .PNG or .jpeg; ours does not
    show.locked_owner = channel.owner_email if channel.locked else ""
    for episode in episodes:
        entry = fg.add_entry(order="append")
        entry.guid(episode.guid, permalink=False)
        entry.title(episode.title)
        entry.description(_description(episode))
        entry.content(show_notes(episode, base), type="CDATA")  # content:encoded: the full show notes
        entry.enclosure(episode_url(base, episode.slug, episode.audio.name), str(episode.size), "audio/mpeg")
        entry.pubDate(episode.published)
        entry.podcast.itunes_author(channel.author)
        entry.podcast.itunes_duration(format_clock(episode.duration_ms))
        if episode.script.episode is not None:
            entry.podcast.itunes_episode(episode.script.episode)
        if episode.script.season is not None:
            entry.podcast.itunes_season(episode.script.season)
        entry.podcast.itunes_episode_type(episode.script.episode_type)
        item: _EpisodeExtension = entry.podcastindex
        item.image = image
        item.chapters = episode_url(base, episode.slug, episode.chapters_json.name)
        item.transcript = episode_url(base, episode.slug, episode.transcript_vtt.name)
        item.language = channel.language
    # Deterministic output: the feed changes only when an episode does, not on every run.
    fg.lastBuildDate(max((e.published for e in episodes), default=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)))
    data: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data


def _description(episode: Episode) -> str:
    """The short show notes apps list under an episode: who speaks, then the chapters with start times."""
    # Readers treat an item description as HTML, so text is HTML-escaped here and XML-escaped again by lxml:
    # a chapter called "はじめに <序>" then shows as written instead of vanishing as an unknown tag.
    parts = []
    if episode.speakers:
        parts.append(f"<p>出演: {escape('、'.join(episode.speakers))}</p>")
    if episode.chapters:
        items = "".join(f"<li>{format_clock(mark.start_ms)} {escape(mark.title)}</li>" for mark in episode.chapters)
        parts.append(f"<ul>{items}</ul>")
    return "\n".join(parts) or f"<p>{escape(episode.title)}</p>"


def show_notes(episode: Episode, base_url: str) -> str:
    """content:encoded: the title, who speaks, chapters with start times and a link to the transcript."""
    transcript = escape(episode_url(base_url, episode.slug, episode.transcript_vtt.name))
    parts = [f"<p>{escape(episode.title)}</p>"]
    if episode.speakers:
        parts.append(f"<h3>出演</h3>\n<ul>{''.join(f'<li>{escape(name)}</li>' for name in episode.speakers)}</ul>")
    if episode.chapters:
        items = "".join(f"<li>{format_clock(mark.start_ms)} {escape(mark.title)}</li>" for mark in episode.chapters)
        parts.append(f"<h3>チャプター</h3>\n<ul>{items}</ul>")
    parts.append(f'<p><a href="{transcript}">文字起こし (WebVTT)</a></p>')
    # A CDATA section cannot hold "]]>": split it where a title would close it early.
    return "\n".join(parts).replace("]]>", "]]]]><![CDATA[>")


class _ShowExtension(BaseExtension):  # type: ignore[misc]
    """Channel tags feedgen lacks: podcast:guid and podcast:locked, itunes:explicit as Apple wants it, itunes:image."""

    def __init__(self) -> None:
        self.guid = ""
        self.explicit = False
        self.image = ""
        self.locked_owner = ""  # podcast:locked's owner; "" = not locked

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
        if self.image:
            xml_elem(f"{{{ITUNES_NS}}}image", channel, href=self.image)
        # feedgen only knows yes/no/clean; Apple's current spec says true/false.
        xml_elem(f"{{{ITUNES_NS}}}explicit", channel).text = "true" if self.explicit else "false"
        xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self.guid
        if self.locked_owner:
            # Podcast Index: "yes" tells other hosting platforms not to import this feed; owner is who may.
            xml_elem(f"{{{PODCAST_NS}}}locked", channel, owner=self.locked_owner).text = "yes"
        return rss_feed


class _EpisodeExtension(BaseEntryExtension):  # type: ignore[misc]
    """Item tags feedgen lacks: itunes:image, and the Podcasting 2.0 chapters JSON and WebVTT transcript."""

    def __init__(self) -> None:
        self.image = ""
        self.chapters = ""
        self.transcript = ""
        self.language = ""

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, item: Any) -> Any:
        if self.image:
            xml_elem(f"{{{ITUNES_NS}}}image", item, href=self.image)
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

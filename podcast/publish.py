"""`podcast feed`: check the show against the directories' rules and build the folder to upload, and only that."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

from .artwork import artwork_problems, default_cover, read_artwork
from .channel import Channel, load_channel, normalize_base_url
from .episode_dir import CHAPTERS_FILE, TRANSCRIPT_FILE, find_episodes
from .errors import AssemblyError, ConfigError
from .feed import FEED_FILE, GENERATOR, build_feed, check_serial, require_base_url
from .files import atomic_path, writing
from .model import Episode
from .writers import tag_for_show

DEFAULT_OUTPUT = Path("output")
PUBLISH_NAME = "publish"  # default publish folder: beside the output folder
EPISODE_FILES = (CHAPTERS_FILE, TRANSCRIPT_FILE)  # uploaded beside each MP3; script.yaml and episode.json never


@dataclasses.dataclass(frozen=True, slots=True)
class Cover:
    """The show's artwork as published."""

    name: str  # file name in the publish folder (and in the feed's image URL)
    data: bytes
    mime: str  # image/png or image/jpeg
    made: bool  # made from the show's title because podcast.yaml has no image:
    titled: bool = True  # a made cover has the title drawn on it (a Japanese font was found)


@dataclasses.dataclass(frozen=True, slots=True)
class Feed:
    """A written publish folder and what went into it."""

    path: Path  # PUBLISH/feed.xml
    url: str  # where podcast apps subscribe: base URL + feed.xml
    episodes: tuple[Episode, ...]  # newest first
    folder: Path  # the publish folder: upload it as it is to the base URL
    files: tuple[Path, ...]  # everything in it, in upload order
    cover: Cover | None  # None when image: is a URL
    channel: Channel


def default_publish_dir(output_dir: Path) -> Path:
    """publish/ beside the output folder."""
    return Path(os.path.normpath(output_dir / os.pardir / PUBLISH_NAME))


def publish_feed(
    output_dir: Path = DEFAULT_OUTPUT,
    *,
    config: Path | None = None,
    base_url: str | None = None,
    publish_dir: Path | None = None,
) -> Feed:
    """Check podcast.yaml and the episodes against the directories' rules, then write the publish folder.

    The folder holds feed.xml, the cover and, per episode, the MP3 (tagged with the show and its cover),
    chapters.json and transcript.vtt: what must be uploaded, nothing else.
    """
    channel = load_channel(config)
    if base_url:
        channel = dataclasses.replace(channel, base_url=normalize_base_url(base_url))
    require_base_url(channel)
    publish = publish_dir or default_publish_dir(output_dir)
    if publish.resolve() == output_dir.resolve() or publish.resolve().is_relative_to(output_dir.resolve()):
        raise ConfigError(f"--publish {publish}: inside the output folder; give a folder beside it, e.g. publish")
    cover = _cover(channel, config)
    if cover is not None:
        channel = dataclasses.replace(channel, image=cover.name)
    episodes = find_episodes(output_dir)
    build_feed(channel, episodes)  # first: settings errors before an empty folder
    if not episodes:
        raise ConfigError(f"{output_dir}: no rendered episodes (run `podcast render` first, or pass -o)")
    check_serial(channel, episodes)
    _claim(publish)
    written = [publish / FEED_FILE]
    if cover is not None:
        written.append(_write_if_changed(publish / cover.name, cover.data))
    for episode in episodes:
        written += _publish_episode(episode, publish / episode.slug, channel, cover)
    _write_if_changed(publish / FEED_FILE, _feed_of_copies(channel, episodes, publish))
    _prune(publish, set(written))
    return Feed(
        path=publish / FEED_FILE,
        url=channel.base_url + FEED_FILE,
        episodes=tuple(episodes),
        folder=publish,
        files=tuple(written),
        cover=cover,
        channel=channel,
    )


def _feed_of_copies(channel: Channel, episodes: list[Episode], publish: Path) -> bytes:
    """The feed with enclosure lengths of the published MP3s (they hold the cover, so they are larger)."""
    copies = [
        dataclasses.replace(
            e, audio=publish / e.slug / e.audio.name, size=(publish / e.slug / e.audio.name).stat().st_size
        )
        for e in episodes
    ]
    return build_feed(channel, copies)


def _cover(channel: Channel, config: Path | None) -> Cover | None:
    """The artwork to publish: the user's file, checked header and all, else one made from the title."""
    if channel.image and urlsplit(channel.image).scheme:
        return None  # hosted elsewhere: nothing to upload, and nothing to read offline
    if not channel.image:
        data, titled = default_cover(channel.title)
        name = f"cover-{hashlib.sha256(data).hexdigest()[:8]}.png"  # a new name when it changes: apps re-fetch
        return Cover(name=name, data=data, mime="image/png", made=True, titled=titled)
    base = (config or Path(channel.source or "podcast.yaml")).parent
    path = base / channel.image
    if not path.is_file():
        raise ConfigError(
            f"{channel.source}: image: {channel.image} not found (looked for {path}); put the file there, "
            "or delete image: to publish a cover made from the title"
        )
    art = read_artwork(path)
    problems = artwork_problems(art)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return Cover(name=path.name, data=path.read_bytes(), mime=art.mime, made=False)


def _claim(publish: Path) -> None:
    """Make sure the publish folder is ours to rebuild: new, empty, or holding a feed this program wrote."""
    if not publish.exists():
        try:
            publish.mkdir(parents=True)
        except OSError as exc:
            raise AssemblyError(f"{publish}: cannot create the publish folder ({exc.strerror or exc})") from exc
        return
    if not publish.is_dir():
        raise ConfigError(f"--publish {publish}: is a file; give a folder")
    feed_file = publish / FEED_FILE
    ours = feed_file.is_file() and f"<generator>{GENERATOR}</generator>".encode() in feed_file.read_bytes()[:4096]
    if not ours and any(publish.iterdir()):
        raise ConfigError(
            f"--publish {publish}: holds files podcast did not write, and the publish folder is rebuilt to hold "
            "only what to upload; give an empty or new folder"
        )


def _publish_episode(episode: Episode, folder: Path, channel: Channel, cover: Cover | None) -> list[Path]:
    """Copy one episode's MP3 (tagged: album = show, the cover embedded), chapters.json and transcript.vtt."""
    folder.mkdir(exist_ok=True)
    target = folder / episode.audio.name
    with atomic_path(target) as tmp, writing(target):
        shutil.copyfile(episode.audio, tmp)
        tag_for_show(
            tmp, show=channel.title, cover=cover.data if cover else b"", cover_mime=cover.mime if cover else ""
        )
        if target.is_file() and _same(tmp, target):
            stat = target.stat()
            os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same bytes, same time: sync tools skip it
    written = [target]
    for name in EPISODE_FILES:
        source = episode.directory / name
        try:
            written.append(_write_if_changed(folder / name, source.read_bytes()))
        except OSError as exc:
            raise AssemblyError(f"{source}: cannot read ({exc.strerror or exc}); render the episode again") from exc
    return written


def _same(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()


def _write_if_changed(path: Path, data: bytes) -> Path:
    """Write data to path atomically, unless it already holds exactly that."""
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return path
    with atomic_path(path) as tmp, writing(path):
        tmp.write_bytes(data)
    return path


def _prune(publish: Path, keep: set[Path]) -> None:
    """Remove what an earlier run published that is not published now: deleted episodes, an old cover."""
    for path in sorted(publish.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        elif path not in keep:
            path.unlink()

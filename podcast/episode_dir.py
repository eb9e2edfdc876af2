"""The episode folder: its layout, found by id, named by an ASCII slug, written whole, read back as an Episode."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import tempfile
import threading
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import mutagen.id3
import mutagen.mp3
from mutagen import MutagenError

from . import assemble
from .cache import ClipCache
from .errors import AssemblyError, ConfigError, PodcastError
from .files import atomic_path, remove_stale_temporaries, writing
from .model import Cue, Episode, PriorRender, Script, SpokenTurn
from .script import dump_script, load_script
from .text import ascii_slug, romaji, slugify
from .timing import StageClock
from .writers import get_writer, read_chapters_json, read_vtt, tag_mp3

META_FILE = "episode.json"  # written beside the MP3: identity, first render time (the pubDate never moves), engine
CHAPTERS_FILE = "chapters.json"  # Podcasting 2.0 chapters
TRANSCRIPT_FILE = "transcript.vtt"  # WebVTT, one cue per sentence
SCRIPT_FILE = "script.yaml"  # the script as rendered
# Item guids are UUIDv5 in this namespace; fixed forever, or every app re-downloads everything.
EPISODE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://podcastindex.org/namespace/1.0#episode")
# A script without an id: its id is a UUIDv5 of its title in this namespace (so a re-split keeps it).
TITLE_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "podcast:episode-id-from-title")
SLUG_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?")  # what --slug accepts: URL-safe everywhere
# mutagen's MP3 and ID3 classes are untyped; going through Any keeps mypy --strict quiet in one place.
_mutagen: Any = mutagen
_ASCII_RUN = re.compile(r"[A-Za-z0-9]+")


class _EpisodeJson(TypedDict, total=False):
    """episode.json: who the episode in one folder is, and when and how it was rendered."""

    id: str  # the script's episode id
    guid: str  # the feed's item guid, fixed at the first render
    title: str  # title at the last render, to say what a re-render replaced
    first_rendered: str  # ISO 8601 with offset
    last_rendered: str
    engine: str  # the engine that rendered it last (what `auto` resolved to)
    duration_ms: int  # length of the last render


@dataclass(frozen=True, slots=True)
class EpisodeMeta:
    """episode.json as read: every field may be missing from folders written by older versions."""

    id: str = ""
    guid: str = ""
    title: str = ""
    first_rendered: datetime.datetime | None = None
    last_rendered: str = ""
    engine: str = ""
    duration_ms: int = 0


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a render writes: the folder, its slug and what the folder held before."""

    directory: Path  # OUTPUT_DIR/<slug>/
    slug: str  # folder name and the MP3's stem
    episode_id: str
    guid: str  # item guid: kept from episode.json, else new
    first_rendered: datetime.datetime | None  # kept from the earlier render: the pubDate
    prior: PriorRender | None  # the earlier render this one replaces, if the folder holds one


def audio_path(folder: Path) -> Path:
    """Where an episode folder's MP3 is: <slug>/<slug>.mp3."""
    return folder / f"{folder.name}.mp3"


def episode_id(script: Script) -> str:
    """The script's id, else a UUIDv5 of its title: stable for one title, so re-splitting keeps it."""
    title = unicodedata.normalize("NFKC", script.title).strip()
    return script.id or str(uuid.uuid5(TITLE_ID_NAMESPACE, title))


def legacy_guid(slug: str) -> str:
    """The guid of an episode rendered before episodes had ids: from its folder name."""
    return str(uuid.uuid5(EPISODE_NAMESPACE, slug))


def title_slug(title: str) -> str:
    """An ASCII folder name for a new episode: the title romanized word by word ('' if nothing is left)."""
    words: list[str] = []
    folded = unicodedata.normalize("NFKC", title)
    position = 0
    for match in _ASCII_RUN.finditer(folded):
        words += _romanized_words(folded[position : match.start()])
        words.append(match.group())
        position = match.end()
    words += _romanized_words(folded[position:])
    return ascii_slug(words)


def _romanized_words(text: str) -> list[str]:
    """Japanese text as romaji words, by Open JTalk's reading of each word; [] when it cannot be read."""
    if not text.strip() or not any(unicodedata.category(ch)[0] == "L" for ch in text):
        return []
    try:
        from .engines import disable_onnxruntime_telemetry

        disable_onnxruntime_telemetry()
        import pyopenjtalk
    except ImportError:
        return []  # the folder is then named by the episode id
    words = []
    for node in pyopenjtalk.run_frontend(text):
        if node["pos"] != "記号":  # symbols: × ｜ ＜ and the like
            words.append(romaji(str(node["pron"]).replace("’", "")))
    return words


def check_slug(slug: str) -> str:
    """A --slug as given, if it is a safe ASCII folder name."""
    if not SLUG_PATTERN.fullmatch(slug):
        raise ConfigError(
            f"--slug {slug!r}: use 1 to 60 lower-case letters a-z, digits and '-', not at either end "
            "(e.g. bakery-robots)"
        )
    return slug


def place_episode(output_dir: Path, script: Script, *, slug: str | None = None) -> Placement:
    """The folder this script's episode is rendered into: the one holding its id, else a new one.

    A folder from before episodes had ids (named by the Japanese title) is taken over, guid and date kept.
    """
    eid = episode_id(script)
    found = _folder_of(output_dir, eid)
    if found is None:
        legacy = output_dir / slugify(script.title)
        if audio_path(legacy).is_file() and not (read_meta(legacy) or EpisodeMeta()).id:
            found = legacy
    if found is not None:
        if slug is not None and slug != found.name:
            raise ConfigError(
                f"--slug {slug}: this episode (id {eid}) is already in {found}/; drop --slug, or move that folder "
                f"to {output_dir / slug}/ (and its MP3 to {slug}.mp3) first"
            )
        meta = read_meta(found) or EpisodeMeta()
        return Placement(
            directory=found,
            slug=found.name,
            episode_id=eid,
            guid=meta.guid or legacy_guid(found.name),
            first_rendered=first_rendered(found),
            prior=_prior(found, meta),
        )
    if slug is None:
        slug = title_slug(script.title) or f"episode-{eid[:8]}"
        if _taken(output_dir / slug):
            slug = f"{slug[:51]}-{eid[:8]}"
    elif _taken(output_dir / slug):
        raise ConfigError(f"--slug {slug}: {output_dir / slug}/ holds another episode; choose another --slug")
    guid = str(uuid.uuid5(EPISODE_NAMESPACE, f"id:{eid}"))  # a new episode's item guid, from its id
    return Placement(directory=output_dir / slug, slug=slug, episode_id=eid, guid=guid, first_rendered=None, prior=None)


def _taken(folder: Path) -> bool:
    """Whether another episode (or anything of the user's) is in folder; what a killed render left does not count."""
    if not folder.is_dir():
        return folder.exists()
    return any(not entry.name.startswith(".") for entry in folder.iterdir())  # hidden: a killed writer's temporaries


def _folder_of(output_dir: Path, eid: str) -> Path | None:
    """The episode folder whose episode.json has this id, else whose script.yaml has (episode.json was lost)."""
    if not output_dir.is_dir():
        return None
    folders = [f for f in sorted(output_dir.iterdir()) if f.is_dir() and not f.name.startswith(".")]
    unnamed = []
    for folder in folders:
        meta = read_meta(folder)
        if meta is not None and meta.id == eid:
            return folder
        if (meta is None or not meta.id) and audio_path(folder).is_file():
            unnamed.append(folder)
    for folder in unnamed:
        try:
            if load_script(folder / SCRIPT_FILE).id == eid:
                return folder
        except PodcastError:
            continue  # a damaged folder is reported by the feed; it is not this episode's
    return None


def _prior(folder: Path, meta: EpisodeMeta) -> PriorRender | None:
    """What the folder holds now, if a render finished there."""
    audio = audio_path(folder)
    if not audio.is_file():
        return None
    title, duration_ms = meta.title, meta.duration_ms
    if not title:
        try:
            title = load_script(folder / SCRIPT_FILE).title
        except PodcastError:
            title = ""
    if not duration_ms:
        try:
            duration_ms = round(_mutagen.mp3.MP3(audio).info.length * 1000)
        except (MutagenError, OSError):
            duration_ms = 0
    return PriorRender(title=title, engine=meta.engine, rendered=meta.last_rendered, duration_ms=duration_ms)


def read_meta(folder: Path) -> EpisodeMeta | None:
    """The folder's episode.json, None without one; an unreadable one is warned about and read as empty."""
    path = folder / META_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        first = data.get("first_rendered")
        return EpisodeMeta(
            id=str(data.get("id", "")),
            guid=str(data.get("guid", "")),
            title=str(data.get("title", "")),
            first_rendered=datetime.datetime.fromisoformat(first).astimezone(datetime.UTC) if first else None,
            last_rendered=str(data.get("last_rendered", "")),
            engine=str(data.get("engine", "")),
            duration_ms=int(data.get("duration_ms", 0)),
        )
    except (OSError, ValueError, TypeError) as exc:
        warnings.warn(f"{path}: unreadable ({exc}); using the MP3's date as the publish date", stacklevel=2)
        return EpisodeMeta()


def first_rendered(folder: Path) -> datetime.datetime | None:
    """When the episode in this folder was first rendered: episode.json, else the MP3's ID3 date."""
    meta = read_meta(folder)
    if meta is not None and meta.first_rendered is not None:
        return meta.first_rendered
    try:
        frames = _mutagen.id3.ID3(audio_path(folder)).getall("TDRC")
        day = datetime.date.fromisoformat(str(frames[0].text[0])[:10])
    except (MutagenError, OSError, IndexError, ValueError):
        return None  # episodes rendered before episode.json existed, without a date tag
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)


def episode_in(directory: Path, script: Script, **facts: Any) -> Episode:
    """An Episode in directory, with the folder's file paths."""
    return Episode(
        script=script,
        slug=directory.name,
        directory=directory,
        audio=audio_path(directory),
        chapters_json=directory / CHAPTERS_FILE,
        transcript_vtt=directory / TRANSCRIPT_FILE,
        script_yaml=directory / SCRIPT_FILE,
        **facts,
    )


def prepare_folder(directory: Path) -> list[Path]:
    """Create the episode folder, prove it is writable, and clear what killed renders left in it.

    Returns the folders this call created, deepest first.
    """
    created = [folder for folder in (directory, *directory.parents) if not folder.exists()]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = tempfile.TemporaryFile(dir=directory)
        probe.close()
    except OSError as exc:
        remove_if_empty(created)
        raise AssemblyError(
            f"{directory}: cannot write the output folder ({exc.strerror or exc}); choose another with -o"
        ) from exc
    remove_stale_temporaries(directory)
    return created


def remove_if_empty(folders: list[Path]) -> None:
    """Remove folders, deepest first, while they are empty: never anything a user or another render put there."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def write_episode(
    script: Script,
    spoken: list[SpokenTurn],
    placement: Placement,
    engine: str,
    clock: StageClock,
    cache: ClipCache,
    cancelled: threading.Event,
) -> Episode:
    """Write every file under a temporary name, then rename all: never a half-written episode."""
    directory = placement.directory
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    first = placement.first_rendered or now  # kept across re-renders: the feed's pubDate must not move
    layout = episode_in(directory, script, duration_ms=0, chapters=(), published=first, guid=placement.guid)
    with (
        atomic_path(layout.audio) as audio,
        atomic_path(layout.chapters_json) as chapters,
        atomic_path(layout.transcript_vtt) as transcript,
        atomic_path(layout.script_yaml) as script_file,
        atomic_path(directory / META_FILE) as meta,
    ):
        with writing(layout.audio):
            mix = assemble.encode_episode(script, spoken, audio, clock, cache, cancelled=cancelled)
        with clock.stage("tagging"):  # ID3 tags and chapters, then the files beside the MP3
            episode = dataclasses.replace(
                layout,
                duration_ms=mix.duration_ms,
                chapters=mix.chapters,
                cues=mix.cues,
                engine=engine,
                clips_synthesized=sum(1 for turn in spoken if turn.fresh),
                clips_cached=sum(1 for turn in spoken if not turn.fresh and any(turn.clips)),
                replaced=placement.prior,
            )
            tag_mp3(audio, episode)
            outputs = (("json", chapters, episode.chapters_json), ("vtt", transcript, episode.transcript_vtt))
            for fmt, path, final in outputs:
                with writing(final), path.open("w", encoding="utf-8", newline="\n") as fp:
                    get_writer(fmt).write(episode, fp)
            with writing(episode.script_yaml):
                script_file.write_text(dump_script(script), encoding="utf-8")
            with writing(directory / META_FILE):
                record: _EpisodeJson = {
                    "id": placement.episode_id,
                    "guid": placement.guid,
                    "title": script.title,
                    "first_rendered": first.isoformat(),
                    "last_rendered": now.isoformat(),
                    "engine": engine,
                    "duration_ms": mix.duration_ms,
                }
                meta.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            size = audio.stat().st_size
    return dataclasses.replace(episode, size=size, stages=clock.times())


def find_episodes(output_dir: Path) -> list[Episode]:
    """Every rendered episode under output_dir (folders holding <slug>/<slug>.mp3), newest first."""
    if not output_dir.is_dir():
        raise ConfigError(f"{output_dir}: no such output folder (render an episode first, or pass -o)")
    found = []
    for folder in sorted(output_dir.iterdir()):
        if folder.is_dir() and not folder.name.startswith(".") and audio_path(folder).is_file():
            try:
                found.append(read_episode(folder))
            except PodcastError as exc:
                # A warning, not an error: one damaged folder must not stop every other episode from publishing.
                warnings.warn(f"{exc} (left out of the feed)", stacklevel=2)
    return sorted(found, key=lambda episode: (episode.published, episode.slug), reverse=True)


def read_episode(folder: Path) -> Episode:
    """One episode folder read back: script.yaml, chapters.json, the MP3's length and size, episode.json."""
    script = load_script(folder / SCRIPT_FILE)
    chapters_path = folder / CHAPTERS_FILE
    try:
        chapters = read_chapters_json(chapters_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssemblyError(f"{chapters_path}: unreadable chapters ({exc}); render the episode again") from exc
    audio = audio_path(folder)
    try:
        info = _mutagen.mp3.MP3(audio).info
        stat = audio.stat()
    except (MutagenError, OSError) as exc:
        raise AssemblyError(f"{audio}: cannot read the MP3 ({exc}); render the episode again") from exc
    meta = read_meta(folder) or EpisodeMeta()
    mtime = datetime.datetime.fromtimestamp(stat.st_mtime, tz=datetime.UTC).replace(microsecond=0)
    return episode_in(
        folder,
        script,
        duration_ms=round(info.length * 1000),
        chapters=chapters,
        published=first_rendered(folder) or mtime,
        guid=meta.guid or legacy_guid(folder.name),
        engine=meta.engine,
        size=stat.st_size,
    )


def read_cues(folder: Path) -> tuple[Path, list[Cue]]:
    """The MP3 of an episode folder and its sentences with times, from transcript.vtt."""
    audio, vtt = audio_path(folder), folder / TRANSCRIPT_FILE
    if not folder.is_dir() or not audio.is_file() or not vtt.is_file():
        raise AssemblyError(
            f"{folder}: not an episode folder (no {audio.name} beside {TRANSCRIPT_FILE}); "
            "pass a folder `podcast render` wrote, such as output/<title>"
        )
    try:
        text = vtt.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AssemblyError(f"{vtt}: cannot read the transcript ({exc}); render the episode again") from exc
    return audio, read_vtt(text, str(vtt))

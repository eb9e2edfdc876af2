"""podcast.yaml -> the show's settings, checked against what Apple Podcasts and the other directories require."""

from __future__ import annotations

import difflib
import re
import uuid
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from .errors import ConfigError
from .files import atomic_path, read_yaml, writing

CONFIG_FILE = Path("podcast.yaml")  # channel settings, read from the current folder by default
ShowType = Literal["episodic", "serial"]  # itunes:type
SHOW_TYPES: tuple[ShowType, ...] = ("episodic", "serial")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")  # what Apple accepts for artwork, in any case
# Apple Podcasts categories and their subcategories, as Apple lists them ("Apple Podcasts categories", 2019-).
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": (
        "Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden", "Video Games",
    ),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": (
        "Business News", "Daily News", "Entertainment News", "News Commentary", "Politics", "Sports News", "Tech News",
    ),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"),
    "Science": (
        "Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics", "Natural Sciences", "Nature",
        "Physics", "Social Sciences",
    ),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"),
    "Sports": (
        "Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey", "Rugby", "Running",
        "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness", "Wrestling",
    ),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}  # fmt: skip
# ISO 639-1 two-letter language codes: what RSS <language> and Apple take, optionally with a region (ja-JP).
_ISO_639_1_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el "
    "en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu "
    "ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na "
    "nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so "
    "sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"
)
ISO_639_1 = frozenset(_ISO_639_1_CODES.split())
_LANGUAGE_NAMES = {
    "japanese": "ja",
    "日本語": "ja",
    "english": "en",
    "英語": "en",
    "jp": "ja",
    "jpn": "ja",
    "eng": "en",
}
_LANGUAGE = re.compile(r"([a-z]{2})(?:-([a-z]{2}|\d{3}))?", re.IGNORECASE)
# Plausible, not proven: one @, no spaces, a dot in the domain. Apple mails the ownership check to it.
_EMAIL = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z]{2,}")
# A host name (letters of any script, digits, '-', '.') or an IPv6 address; urlsplit lets spaces and the like through.
_HOST = re.compile(r"[\w.-]+|[0-9a-f:.]+")
_KEYS = (
    "title", "author", "description", "image", "category", "subcategory", "explicit", "language", "type", "locked",
    "owner_name", "owner_email", "base_url", "link", "guid",
)  # fmt: skip
_REQUIRED = ("title", "author", "description", "category", "owner_email")
_BOOLEANS = ("explicit", "locked")


@dataclass(frozen=True, slots=True)
class Channel:
    """The show: what podcast.yaml says about it."""

    title: str  # the show's name in podcast apps
    author: str  # itunes:author of the show and every episode
    description: str  # plain text; apps show it on the show page
    image: str = ""  # square JPG/PNG artwork: an absolute URL, or a file; "" = make one from the title
    category: str = ""  # an Apple Podcasts category, e.g. "Technology"
    subcategory: str = ""  # optional, one of the category's own, e.g. "Food" under "Arts"
    explicit: bool = False
    language: str = "ja"  # ISO 639-1, optionally with a region: ja, ja-JP
    type: ShowType = "episodic"  # itunes:type: episodic (newest first) or serial (in order, numbered)
    locked: bool = True  # podcast:locked: other hosts must not import the feed without the owner's say
    owner_name: str = ""  # itunes:owner; default: author
    owner_email: str = ""
    base_url: str = ""  # where the publish folder is uploaded; enclosure URLs start with it
    link: str = ""  # the show's website; default: base_url
    guid: str = ""  # podcast:guid; default: derived from the feed URL, pin it before moving hosts
    source: str = ""  # file it came from, for messages


# Without a podcast.yaml the preview server still needs a show around the episodes.
PREVIEW_CHANNEL = Channel(title="podcast preview", author="podcast", description="Episodes rendered by podcast")


def bundled_channel_path() -> Path:
    """The commented podcast.yaml that ships with the package: defaults, and the template `--init` copies."""
    return Path(str(files("podcast") / "podcast.yaml"))


def load_channel(path: Path | None = None, *, required: bool = True) -> Channel:
    """The bundled defaults with podcast.yaml (default ./podcast.yaml) laid over them key by key.

    Without a file: PREVIEW_CHANNEL unless required.
    """
    if path is None:
        if not CONFIG_FILE.is_file() and not required:
            return PREVIEW_CHANNEL
        path = CONFIG_FILE
    data = read_yaml(path, kind="channel settings", fix="create it with `podcast feed --init`, or pass --config")
    if data is None:
        data = {}  # only comments: every required key is then reported missing
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of channel settings (title:, author:, ...)")
    defaults = read_yaml(bundled_channel_path(), kind="bundled channel settings") or {}
    merged = {**{k: v for k, v in defaults.items() if v is not None}, **data}
    return parse_channel(merged, source=str(path))


def init_channel(path: Path = CONFIG_FILE) -> Path:
    """Write the commented podcast.yaml template to fill in; never over an existing file."""
    if path.exists():
        raise ConfigError(f"{path}: already exists (edit it, or move it away to start from the template again)")
    with atomic_path(path) as tmp, writing(path):
        tmp.write_text(bundled_channel_path().read_text(encoding="utf-8"), encoding="utf-8", newline="\n")
    return path


def parse_channel(data: Any, *, source: str) -> Channel:
    """Check loaded channel settings: known keys and types, then every directory rule, all reported at once."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of channel settings (title:, author:, ...)")
    for key in data:
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(_KEYS)}"
            raise ConfigError(f"{source}: unknown key '{key}' ({hint})")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        if key in _BOOLEANS:
            if not isinstance(value, bool):
                raise ConfigError(f"{source}: {key}: expected true or false, got {value!r}")
        elif not isinstance(value, str):
            raise ConfigError(f"{source}: {key}: expected text, got {value!r}")
        values[key] = value.strip() if isinstance(value, str) else value
    missing = [key for key in _REQUIRED if not values.get(key)]
    if missing:
        keys = ", ".join(f"{key}:" for key in missing)
        raise ConfigError(f"{source}: missing {keys} (fill {'it' if len(missing) == 1 else 'them'} in; see the README)")
    problems = directory_problems(values)
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    if values.get("base_url"):
        values["base_url"] = normalize_base_url(values["base_url"], where=f"{source}: base_url")
    return Channel(**values, source=source)


def directory_problems(values: dict[str, Any]) -> list[str]:
    """Each setting Apple Podcasts (and so most directories) would refuse, with the fix, as 'key: ...'."""
    problems = []
    category, subcategory = values.get("category", ""), values.get("subcategory", "")
    if category and category not in APPLE_CATEGORIES:
        problems.append(f"category: {category!r} is not an Apple Podcasts category ({_category_hint(category)})")
    elif subcategory and subcategory not in APPLE_CATEGORIES[category]:
        allowed = APPLE_CATEGORIES[category]
        hint = f"use one of: {', '.join(allowed)}" if allowed else f"{category} has none; delete subcategory:"
        problems.append(f"subcategory: {subcategory!r} is not under {category} ({hint})")
    language = values.get("language", "ja")
    match = _LANGUAGE.fullmatch(language)
    if match is None or match.group(1).lower() not in ISO_639_1:
        guess = _LANGUAGE_NAMES.get(language.lower())
        hint = f"write {guess}" if guess else "e.g. ja, or ja-JP"
        problems.append(f"language: {language!r} is not an ISO 639-1 language code ({hint})")
    email = values.get("owner_email", "")
    if email and not _EMAIL.fullmatch(email):
        problems.append(
            f"owner_email: {email!r} is not an email address (Apple and Podcast Index send ownership checks there)"
        )
    guid = values.get("guid", "")
    if guid and not _is_uuid(guid):
        problems.append(
            f"guid: {guid!r} is not a UUID (delete guid: to derive it from the feed URL, or give your show's own)"
        )
    show_type = values.get("type", "episodic")
    if show_type not in SHOW_TYPES:
        problems.append(f"type: {show_type!r} is not episodic or serial")
    image = values.get("image", "")
    if image and not urlsplit(image).path.lower().endswith(IMAGE_SUFFIXES):
        problems.append(f"image: {image!r} is not a .jpg or .png (Apple takes only those)")
    return problems


def _category_hint(category: str) -> str:
    """What the user probably meant: the category a subcategory belongs to, or the closest name."""
    for parent, subs in APPLE_CATEGORIES.items():
        for sub in subs:
            if sub.lower() == category.lower():
                return f"it is a subcategory: write category: {parent} and subcategory: {sub}"
    lowered = {name.lower(): name for name in APPLE_CATEGORIES}
    close = difflib.get_close_matches(category.lower(), list(lowered), n=1, cutoff=0.5)
    starts = [name for low, name in lowered.items() if low.startswith(category.lower()[:3])]
    if close or starts:
        return f"did you mean {(close and lowered[close[0]]) or starts[0]}?"
    return "use one of: " + ", ".join(APPLE_CATEGORIES)


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


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

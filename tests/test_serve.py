"""The preview server: pages, Range requests, confinement to the output folder, and a real headless Chromium."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from typer.testing import CliRunner

from podcast import ConfigError
from podcast.channel import PREVIEW_CHANNEL
from podcast.cli import app
from podcast.serve import make_app, serve

SLUG = "uchu-no-daidokoro-tokushu-yashoku-no-hanashi"  # three_chapters.yaml's folder
ENCODED = SLUG  # ASCII folder names need no percent-encoding
E2E_SLUG = "uchu-to-ryori-hoshino-shefu-ni-kiku-mujuryoku-no-daidokoro"
MP3 = f"/{ENCODED}/{ENCODED}.mp3"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

Check = Callable[[TestClient[Any, Any]], Awaitable[None]]


@pytest.fixture
def output(published: Path, tmp_path: Path) -> Path:
    """A copy of the published episodes beside a secret file the server must never hand out."""
    copy = tmp_path / "output"
    shutil.copytree(published, copy)
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    return copy


def with_client(output: Path, check: Check) -> None:
    async def main() -> None:
        async with TestClient(TestServer(make_app(output, PREVIEW_CHANNEL), host="127.0.0.1")) as client:
            await check(client)

    asyncio.run(main())


def test_index_lists_episodes_with_escaped_titles(output: Path) -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        response = await client.get("/")
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
        assert f'<a href="{ENCODED}/">宇宙の台所 &lt;特集&gt; &amp; &quot;夜食&quot; &#x27;の&#x27; 話</a>' in page
        assert "宇宙と料理 | 星野シェフに聞く、無重力の台所</a>" in page
        assert "<特集>" not in page

    with_client(output, check)


def test_player_page_has_audio_chapters_and_transcript(output: Path) -> None:
    chapters = json.loads((output / SLUG / "chapters.json").read_text(encoding="utf-8"))["chapters"]

    async def check(client: TestClient[Any, Any]) -> None:
        response = await client.get(f"/{ENCODED}/")
        assert response.status == 200
        page = await response.text()
        assert f'<audio id="player" controls preload="metadata" src="{ENCODED}.mp3">' in page
        assert '<track id="captions" kind="captions" srclang="ja" label="日本語" src="transcript.vtt" default>' in page
        starts = [float(s) for s in re.findall(r'<button type="button" data-start="([0-9.]+)">', page)]
        assert starts == [c["startTime"] for c in chapters]
        assert "はじめに &lt;序&gt;</button>" in page and "最後に &amp; これから</button>" in page
        redirect = await client.get(f"/{ENCODED}", allow_redirects=False)
        assert (redirect.status, redirect.headers["Location"]) == (301, f"/{ENCODED}/")
        vtt = await client.get(f"/{ENCODED}/transcript.vtt")
        assert vtt.headers["Content-Type"] == "text/vtt; charset=utf-8"
        assert (await vtt.text()).startswith("WEBVTT\n")

    with_client(output, check)


def test_mp3_answers_range_requests(output: Path) -> None:
    data = (output / SLUG / f"{SLUG}.mp3").read_bytes()
    size = len(data)

    async def check(client: TestClient[Any, Any]) -> None:
        whole = await client.get(MP3)
        assert whole.status == 200
        assert whole.headers["Content-Type"] == "audio/mpeg"
        assert whole.headers["Accept-Ranges"] == "bytes"
        assert await whole.read() == data
        for header, start, end in [
            ("bytes=100-199", 100, 199),
            (f"bytes={size - 10}-", size - 10, size - 1),
            ("bytes=-50", size - 50, size - 1),
            (f"bytes=0-{size + 1000}", 0, size - 1),  # an end past the file is cut to it (RFC 9110)
        ]:
            part = await client.get(MP3, headers={"Range": header})
            assert part.status == 206, header
            assert part.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
            assert part.headers["Content-Length"] == str(end - start + 1)
            assert await part.read() == data[start : end + 1]
        for header in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}", "bytes=500-100"):
            bad = await client.get(MP3, headers={"Range": header})
            assert bad.status == 416, header
            assert bad.headers["Content-Range"] == f"bytes */{size}"
        head = await client.head(MP3)
        assert (head.status, head.headers["Content-Length"]) == (200, str(size))

    with_client(output, check)


async def raw_status(client: TestClient[Any, Any], path: str) -> int:
    """Status for a request line sent byte for byte: no client-side normalizing of '..' or '%2e'."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    writer.close()
    return status


def test_nothing_outside_the_output_folder_is_served(output: Path) -> None:
    outside = output.parent / "secret.txt"
    (output / "link-out.txt").symlink_to(outside)
    (output / "dir-out").symlink_to(output.parent, target_is_directory=True)
    (output / ".hidden").write_text("hidden", encoding="utf-8")
    (output / SLUG / f".{SLUG}.mp3.tmp").write_text("half a render", encoding="utf-8")
    (output / ".git").mkdir()
    (output / ".git" / "config").write_text("[core]", encoding="utf-8")
    (output / "to-hidden").symlink_to(output / ".hidden")
    (output / "inside.txt").symlink_to(output / SLUG / "chapters.json")  # a link that stays inside is fine

    async def check(client: TestClient[Any, Any]) -> None:
        for path in (
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2E%2E%2Fsecret.txt",
            f"/{ENCODED}/../../secret.txt",
            f"/{ENCODED}/%2e%2e/%2e%2e/secret.txt",
            f"/{ENCODED}/..%2f..%2fsecret.txt",
            "/..%5csecret.txt",
            "/link-out.txt",
            "/dir-out/secret.txt",
            "/dir-out/output/feed.xml",
            "/.hidden",
            "/%2ehidden",
            "/to-hidden",
            "/.git/config",
            "/.git/",
            f"/{ENCODED}/.{ENCODED}.mp3.tmp",
            "/./.hidden",
            "//etc/passwd",
            "/%00",
        ):
            status = await raw_status(client, path)
            assert status in (400, 403, 404), (path, status)
        assert await raw_status(client, "/inside.txt") == 200
        assert await raw_status(client, f"/{ENCODED}/chapters.json") == 200

    with_client(output, check)


def test_feed_points_at_this_server(output: Path) -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        response = await client.get("/feed.xml")
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
        root = ET.fromstring(await response.read())
        base = str(client.make_url("/"))
        self_link = root.find("channel/{http://www.w3.org/2005/Atom}link")
        assert self_link is not None and self_link.get("href") == base + "feed.xml"
        items = {item.findtext("guid"): item for item in root.iter("item")}
        guids = {
            slug: json.loads((output / slug / "episode.json").read_text(encoding="utf-8"))["guid"]
            for slug in (SLUG, E2E_SLUG)
        }
        assert set(items) == set(guids.values())
        enclosure = items[guids[SLUG]].find("enclosure")
        assert enclosure is not None
        assert enclosure.get("url") == f"{base}{ENCODED}/{ENCODED}.mp3"
        audio = await client.get(enclosure.get("url", "").removeprefix(base.rstrip("/")))
        assert audio.status == 200 and len(await audio.read()) == int(enclosure.get("length", "0"))

    with_client(output, check)


def test_serve_listens_on_loopback_only_unless_public(output: Path) -> None:
    async def main() -> None:
        urls: list[str] = []
        task = asyncio.create_task(serve(output, port=0, ready=urls.append))
        for _ in range(100):
            if urls or task.done():
                break
            await asyncio.sleep(0.05)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", urls[0])
        async with aiohttp.ClientSession() as session, session.get(urls[0]) as response:
            assert response.status == 200
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(ConfigError, match=r"^--host 0\.0\.0\.0: not this machine only; add --public"):
            await serve(output, host="0.0.0.0", port=0)

    asyncio.run(main())
    result = CliRunner().invoke(app, ["serve", "-o", str(output), "--host", "192.168.1.5"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --host 192.168.1.5: not this machine only; add --public to let other machines connect\n"
    )


class Chromium:
    """Headless Debian Chromium driven over the DevTools protocol, with aiohttp as the websocket client."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.process: asyncio.subprocess.Process | None = None
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.next_id = 0

    async def __aenter__(self) -> Chromium:
        assert CHROMIUM is not None
        self.process = await asyncio.create_subprocess_exec(
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # CI runs as root, where the sandbox cannot start
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--mute-audio",
            "--remote-debugging-port=0",  # Chromium picks a free port and writes it to DevToolsActivePort
            f"--user-data-dir={self.profile}",
            "about:blank",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = self.profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.is_file() and port_file.read_text().strip():
                break
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        self.session = aiohttp.ClientSession()
        async with self.session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page = next(target for target in targets if target["type"] == "page")
        self.ws = await self.session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        assert self.ws is not None
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        while True:  # skip events until our reply
            message = await self.ws.receive_json(timeout=30)
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]  # type: ignore[no-any-return]

    async def js(self, expression: str) -> Any:
        reply = await self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in reply, reply["exceptionDetails"]
        return reply["result"].get("value")

    async def click(self, selector: str) -> None:
        """A real mouse click at the element's centre, as a listener would make it."""
        x, y = await self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.scrollIntoView();"
            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


WAIT_METADATA = """new Promise((resolve, reject) => {
  const audio = document.getElementById("player");
  if (audio.readyState >= 1) resolve(audio.duration);
  audio.addEventListener("loadedmetadata", () => resolve(audio.duration));
  audio.addEventListener("error", () => reject(new Error("audio error " + audio.error.code)));
  setTimeout(() => reject(new Error("no metadata after 20 s")), 20000);
})"""
WAIT_SEEKED = """new Promise((resolve) => {
  const audio = document.getElementById("player");
  const done = () => resolve(audio.currentTime);
  if (audio.seeking) audio.addEventListener("seeked", done, { once: true }); else done();
})"""
ACTIVE_LINE = "document.querySelector('#transcript p.active')?.textContent ?? null"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_player_in_headless_chromium(output: Path, tmp_path: Path) -> None:
    chapters = json.loads((output / SLUG / "chapters.json").read_text(encoding="utf-8"))["chapters"]
    duration = _duration(output / SLUG / f"{SLUG}.mp3")
    # Where each transcript line starts, from the episode's own captions: the voices' pace sets the times.
    vtt = (output / SLUG / "transcript.vtt").read_text(encoding="utf-8")
    cue_starts = [
        int(h) * 3600 + int(m) * 60 + float(sec) for h, m, sec in re.findall(r"^(\d+):(\d+):([\d.]+) -->", vtt, re.M)
    ]

    async def main() -> None:
        async with TestServer(make_app(output, PREVIEW_CHANNEL), host="127.0.0.1") as server:
            async with Chromium(tmp_path / "profile") as browser:
                url = str(server.make_url(f"/{ENCODED}/"))
                await browser.send("Page.navigate", url=url)
                for _ in range(200):
                    if await browser.js("document.readyState === 'complete' && location.href") == url:
                        break
                    await asyncio.sleep(0.05)
                assert await browser.js("document.title") == "宇宙の台所 <特集> & \"夜食\" 'の' 話"
                assert await browser.js(WAIT_METADATA) == pytest.approx(duration, abs=0.1)
                await browser.click("#chapters li:nth-child(3) button")
                assert await browser.js(WAIT_SEEKED) == pytest.approx(chapters[2]["startTime"], abs=0.01)
                assert await browser.js("document.querySelector('#chapters li.current').textContent") == (
                    "0:13最後に & これから"
                )
                lines = await browser.js("[...document.querySelectorAll('#transcript p')].map(p => p.textContent)")
                assert len(lines) == 8
                assert lines[0] == "聞き手こんばんは。" and lines[2] == "星野 & 仲間よろしくお願いします。"
                await browser.click("#transcript p:nth-child(7)")  # a transcript line seeks to its cue
                assert await browser.js(WAIT_SEEKED) == pytest.approx(cue_starts[6], abs=0.01)
                assert await browser.js(ACTIVE_LINE) == "聞き手最後に一言お願いします。"

    asyncio.run(main())


def _duration(audio: Path) -> float:
    from podcast.loudness import SAMPLE_RATE

    from .audio import decode

    return len(decode(audio)) / SAMPLE_RATE

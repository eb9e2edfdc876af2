"""The preview server's HTTP details: image types, a favicon, RFC 9110 ranges, the feed's clock on the pages."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from podcast.channel import PREVIEW_CHANNEL, Channel
from podcast.serve import make_app
from podcast.writers import format_clock

from .test_feed import make_cover
from .test_serve import CHROMIUM, ENCODED, MP3, SLUG, Chromium, output, with_client

__all__ = ["output"]  # the fixture, shared with test_serve


def test_images_are_served_as_images_and_there_is_a_favicon(output: Path, tmp_path: Path) -> None:
    make_cover(output / "art.PNG", fmt="PNG")
    make_cover(output / "art.jpeg")

    async def check(client: TestClient[Any, Any]) -> None:
        for path, kind in (("/art.PNG", "image/png"), ("/art.jpeg", "image/jpeg"), ("/favicon.ico", "image/x-icon")):
            response = await client.get(path)
            assert (response.status, response.headers["Content-Type"]) == (200, kind), path
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        icon = await (await client.get("/favicon.ico")).read()
        assert icon[:4] == b"\x00\x00\x01\x00"  # an ICO header
        page = await (await client.get("/")).text()
        assert '<link rel="icon" href="/favicon.ico">' in page

    with_client(output, check)


def test_the_cover_beside_podcast_yaml_is_served(output: Path, tmp_path: Path) -> None:
    make_cover(tmp_path / "cover.jpg")
    channel = Channel(
        title="番組", author="作者", description="説明", image="cover.jpg", source=str(tmp_path / "p.yaml")
    )

    async def main() -> None:
        async with TestClient(TestServer(make_app(output, channel), host="127.0.0.1")) as client:
            response = await client.get("/cover.jpg")
            assert (response.status, response.headers["Content-Type"]) == (200, "image/jpeg")
            assert await response.read() == (tmp_path / "cover.jpg").read_bytes()

    asyncio.run(main())


def test_range_edge_cases_follow_rfc_9110(output: Path) -> None:
    data = (output / SLUG / f"{SLUG}.mp3").read_bytes()
    size = len(data)
    stat = os.stat(output / SLUG / f"{SLUG}.mp3")
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'

    async def check(client: TestClient[Any, Any]) -> None:
        for header in ("bytes=-0", "bytes=-000", "bytes= -0"):  # a suffix of length 0 selects nothing: 416
            empty = await client.get(MP3, headers={"Range": header})
            assert empty.status == 416, header
            assert empty.headers["Content-Range"] == f"bytes */{size}"
        whole = await client.get(MP3)
        assert whole.headers["ETag"] == etag
        # If-Range with the current ETag: the range is served...
        fresh = await client.get(MP3, headers={"Range": "bytes=0-99", "If-Range": etag})
        assert (fresh.status, await fresh.read()) == (206, data[:100])
        # ...with a stale or weak one, the whole file with 200: the client's copy is another version.
        for stale in ('"0-0"', f"W/{etag}"):
            old = await client.get(MP3, headers={"Range": "bytes=0-99", "If-Range": stale})
            assert old.status == 200, stale
            assert "Content-Range" not in old.headers
            assert await old.read() == data
        dated = await client.get(MP3, headers={"Range": "bytes=0-99", "If-Range": "Thu, 01 Jan 1998 00:00:00 GMT"})
        assert dated.status == 200 and len(await dated.read()) == size  # a date before the file: whole file too

    with_client(output, check)


def test_pages_round_times_as_the_feed_does(output: Path) -> None:
    chapters = json.loads((output / SLUG / "chapters.json").read_text(encoding="utf-8"))["chapters"]

    async def check(client: TestClient[Any, Any]) -> None:
        page = await (await client.get(f"/{ENCODED}/")).text()
        shown = re.findall(r"<time>([0-9:]+)</time>[^<]", page)
        assert shown == [format_clock(round(c["startTime"] * 1000), always_include_hours=False) for c in chapters]
        feed = await (await client.get("/feed.xml")).text()
        for chapter in chapters:  # the same clock in the show notes: 0:00:13 there is 0:13 here
            assert f"<li>{format_clock(round(chapter['startTime'] * 1000))} " in feed

    with_client(output, check)


@pytest.mark.parametrize(
    ("ms", "clock", "short"),
    [(0, "0:00:00", "0:00"), (12_499, "0:00:12", "0:12"), (12_500, "0:00:12", "0:12"), (12_501, "0:00:13", "0:13"),
     (59_600, "0:01:00", "1:00"), (3_725_600, "1:02:06", "1:02:06")],
)  # fmt: skip
def test_one_clock_rounds_to_the_nearest_second(ms: int, clock: str, short: str) -> None:
    assert format_clock(ms) == clock
    assert format_clock(ms, always_include_hours=False) == short


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_chromium_loads_every_page_without_a_failed_request(output: Path, tmp_path: Path) -> None:
    async def main() -> None:
        async with TestServer(make_app(output, PREVIEW_CHANNEL), host="127.0.0.1") as server:
            async with Chromium(tmp_path / "profile") as browser:
                await browser.send("Network.enable")
                await browser.send("Log.enable")
                failures: list[str] = []
                for path in ("/", f"/{ENCODED}/"):
                    url = str(server.make_url(path))
                    await browser.send("Page.navigate", url=url)
                    for _ in range(200):
                        if await browser.js("document.readyState === 'complete' && location.href") == url:
                            break
                        await asyncio.sleep(0.05)
                    statuses = await browser.js(
                        "performance.getEntriesByType('resource').map(e => [e.name, e.responseStatus])"
                    )
                    failures += [f"{name} {status}" for name, status in statuses if status >= 400]
                    icon = await browser.js(
                        "fetch('/favicon.ico').then(r => [r.status, r.headers.get('content-type')])"
                    )
                    assert icon == [200, "image/x-icon"]
                assert failures == []

    asyncio.run(main())

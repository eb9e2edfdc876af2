"""Preview server: the output folder over HTTP, an index, a player page per episode and a live feed."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import io
import ipaddress
import re
from collections.abc import Awaitable, Callable
from html import escape
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

from aiohttp import web

from .channel import Channel, load_channel
from .episode_dir import audio_path, find_episodes, read_episode
from .errors import ConfigError, PodcastError
from .feed import FEED_FILE, build_feed
from .model import Episode
from .writers import format_clock

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# mimetypes does not know .vtt everywhere, and Chrome refuses a <track> served as text/plain.
CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".yaml": "text/plain; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".png": "image/png",  # the cover opens in the browser instead of downloading
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".ico": "image/x-icon",
}
FAVICON_RGB = (0x1F, 0x3A, 0x5F)  # the index's and players' tab icon: a plain dot, so /favicon.ico is never a 404
# RFC 9110 14.1.1: a suffix range of length 0 selects nothing, so `bytes=-0` is unsatisfiable (416).
_EMPTY_SUFFIX = re.compile(r"\s*bytes\s*=\s*-\s*0+\s*", re.IGNORECASE)
ROOT = web.AppKey("root", Path)
CHANNEL = web.AppKey("channel", Channel)

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PAGE = Template("""<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<link rel="icon" href="/favicon.ico">
<style>
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.6 }
audio { width: 100% }
time { font-variant-numeric: tabular-nums; color: #666; margin-right: .5em }
#chapters button { background: none; border: 0; padding: .2rem 0; cursor: pointer; font: inherit; color: #0645ad }
#chapters li.current button { font-weight: bold }
#transcript { max-height: 24rem; overflow-y: auto; border-top: 1px solid #ccc; position: relative }
#transcript p { margin: .3rem 0; cursor: pointer }
#transcript p.active { background: #fff3b0 }
.speaker { font-weight: bold; margin-right: .5em }
</style>
</head>
<body>
$body
</body>
</html>
""")

_INDEX = Template("""<h1>$title</h1>
<p>Feed: <a href="$feed">$feed</a></p>
<ul id="episodes">
$items
</ul>""")

_PLAYER = Template("""<p><a href="../">← $show</a></p>
<h1>$title</h1>
<p>$speakers · <time>$duration</time></p>
<audio id="player" controls preload="metadata" src="$audio">
<track id="captions" kind="captions" srclang="ja" label="日本語" src="transcript.vtt" default>
</audio>
<h2>チャプター</h2>
<ol id="chapters">
$chapters
</ol>
<h2>トランスクリプト</h2>
<div id="transcript"></div>
<script>
const audio = document.getElementById("player");
const chapters = [...document.querySelectorAll("#chapters button")];
const box = document.getElementById("transcript");
const captions = document.getElementById("captions");
let lines = [];
const seek = (t) => { audio.currentTime = t; };
const decode = (s) => { const t = document.createElement("textarea"); t.innerHTML = s; return t.value; };
chapters.forEach((b) => b.addEventListener("click", () => seek(parseFloat(b.dataset.start))));
function build(track) {
  lines = [...track.cues].map((cue) => {
    const p = document.createElement("p");
    const voice = /^<v(?:\\.[^\\s>]*)?\\s+([^>]*)>/.exec(cue.text);
    if (voice) {
      const who = document.createElement("span");
      who.className = "speaker";
      who.textContent = decode(voice[1]);
      p.append(who);
    }
    p.append(cue.getCueAsHTML().textContent);
    p.addEventListener("click", () => seek(cue.startTime));
    box.append(p);
    return { cue, p };
  });
  update();
}
function update() {
  const t = audio.currentTime;
  chapters.forEach((b, i) => {
    const next = chapters[i + 1];
    b.parentElement.classList.toggle("current", t >= +b.dataset.start && (!next || t < +next.dataset.start));
  });
  for (const { cue, p } of lines) {
    const on = t >= cue.startTime && t < cue.endTime;
    // Scroll the transcript box only, never the page, so the player stays in view.
    if (on && !p.classList.contains("active")) box.scrollTop = p.offsetTop - box.clientHeight / 3;
    p.classList.toggle("active", on);
  }
}
captions.track.mode = "hidden";  // cues load and fire, nothing is drawn
if (captions.readyState === 2) build(captions.track);
else captions.addEventListener("load", () => build(captions.track));
audio.addEventListener("timeupdate", update);
audio.addEventListener("seeked", update);
</script>""")


def make_app(output_dir: Path, channel: Channel) -> web.Application:
    """The aiohttp application serving output_dir: /, /feed.xml, /<slug>/ and the files themselves."""
    app = web.Application(middlewares=[_errors])
    app[ROOT] = output_dir.resolve()
    app[CHANNEL] = channel
    app.router.add_get("/", _index)
    app.router.add_get(f"/{FEED_FILE}", _feed)
    app.router.add_get("/favicon.ico", _favicon)
    app.router.add_get("/{slug}/", _player)
    app.router.add_get("/{path:.+}", _file)
    return app


async def serve(
    output_dir: Path = Path("output"),
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    config: Path | None = None,
    public: bool = False,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve output_dir until cancelled; ready gets the server's URL once it listens."""
    if not public and not is_loopback(host):
        raise ConfigError(f"--host {host}: not this machine only; add --public to let other machines connect")
    if not output_dir.is_dir():
        raise ConfigError(f"{output_dir}: no such output folder (render an episode first, or pass -o)")
    runner = web.AppRunner(make_app(output_dir, load_channel(config, required=False)), access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise ConfigError(f"{host}:{port}: cannot listen ({exc.strerror or exc}); pick another --port") from exc
        bound_host, bound_port = runner.addresses[0][:2]
        if ready is not None:
            ready(f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}/")
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def is_loopback(host: str) -> bool:
    """Whether binding to host keeps the server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name may resolve to anything


@web.middleware
async def _errors(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """A broken episode folder is a 500 with the one-line message, not a traceback; every reply gets nosniff."""
    try:
        response = await handler(request)
    except PodcastError as exc:
        response = web.Response(status=500, text=f"Error: {exc}\n")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


async def _index(request: web.Request) -> web.Response:
    episodes = await asyncio.to_thread(find_episodes, request.app[ROOT])
    items = "\n".join(
        f'<li><a href="{quote(e.slug, safe="")}/">{escape(e.title)}</a> '
        f"<time>{e.published:%Y-%m-%d}</time> <time>{format_clock(e.duration_ms, always_include_hours=False)}</time> "
        f"{len(e.chapters)} chapters</li>"
        for e in episodes
    )
    title = escape(request.app[CHANNEL].title)
    body = _INDEX.substitute(title=title, feed=escape(f"{request.url.origin()}/{FEED_FILE}"), items=items)
    return _html(title, body)


async def _feed(request: web.Request) -> web.Response:
    # Enclosures point at this server, under whatever address the client reached it by.
    channel = dataclasses.replace(request.app[CHANNEL], base_url=f"{request.url.origin()}/")
    episodes = await asyncio.to_thread(find_episodes, request.app[ROOT])
    return web.Response(body=build_feed(channel, episodes), content_type="application/rss+xml", charset="utf-8")


async def _favicon(request: web.Request) -> web.Response:
    return web.Response(body=_favicon_bytes(), content_type="image/x-icon")


@functools.cache
def _favicon_bytes() -> bytes:
    """A 32 px ICO: a filled circle in the default cover's colour."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((2, 2, 29, 29), fill=(*FAVICON_RGB, 255))
    data = io.BytesIO()
    image.save(data, format="ICO", sizes=[(32, 32)])
    return data.getvalue()


async def _player(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    folder = _inside(request.app[ROOT], [slug])
    if folder is None or not audio_path(folder).is_file():
        raise web.HTTPNotFound()
    episode = await asyncio.to_thread(read_episode, folder)
    return _html(escape(episode.title), _player_body(episode, request.app[CHANNEL]))


async def _file(request: web.Request) -> web.StreamResponse:
    path = _inside(request.app[ROOT], request.match_info["path"].split("/"))
    if path is None or not path.exists():
        path = _cover_path(request.app[CHANNEL], request.match_info["path"]) or path
    if path is None:
        raise web.HTTPNotFound()
    if path.is_dir() and audio_path(path).is_file():
        raise web.HTTPMovedPermanently(location=f"/{quote(path.name, safe='')}/")
    if not path.is_file():
        raise web.HTTPNotFound()
    # FileResponse answers Range requests (206, 416) and HEAD: what players need to seek. Two cases it gets
    # wrong are settled here first, by RFC 9110: `bytes=-0` and an If-Range naming another version of the file.
    content_type = CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
    headers = {"Content-Type": content_type, "X-Content-Type-Options": "nosniff"}
    stat = path.stat()
    range_header = request.headers.get("Range")
    if range_header is not None and _EMPTY_SUFFIX.fullmatch(range_header):
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{stat.st_size}"})
    if_range = request.headers.get("If-Range", "").strip()
    if range_header is not None and if_range.startswith(('"', "W/")):
        # An entity tag in If-Range is compared strongly (13.1.5): a weak or stale one means "send it all".
        current = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'  # FileResponse's own ETag
        if if_range != current:
            return _WholeFile(path, headers=headers)
    return web.FileResponse(path, headers=headers)


class _WholeFile(web.FileResponse):
    """The whole file with 200, the request's Range set aside (If-Range named another version of the file)."""

    async def prepare(self, request: web.BaseRequest) -> Any:
        headers = {key: value for key, value in request.headers.items() if key.lower() not in ("range", "if-range")}
        return await super().prepare(request.clone(headers=headers))


def _cover_path(channel: Channel, name: str) -> Path | None:
    """The show's cover, which lives beside podcast.yaml rather than in the output folder."""
    if not channel.image or not channel.source or "://" in channel.image or name != Path(channel.image).name:
        return None
    path = Path(channel.source).parent / channel.image
    return path if path.is_file() else None


def _inside(root: Path, parts: list[str]) -> Path | None:
    """The real path of root/parts if it stays inside root and touches no dotfile, else None."""
    if not parts or any(not p or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
        return None  # '.', '..', '.git', '.x.mp3.tmp' (a render in progress) and empty segments
    real = root.joinpath(*parts).resolve()
    if not real.is_relative_to(root):
        return None  # '..' smuggled in another way, or a symlink that leads out
    if any(part.startswith(".") for part in real.relative_to(root).parts):
        return None  # a symlink that leads to a dotfile inside
    return real


def _player_body(episode: Episode, channel: Channel) -> str:
    chapters = "\n".join(
        f'<li><button type="button" data-start="{mark.start_ms / 1000:.3f}">'
        f"<time>{format_clock(mark.start_ms, always_include_hours=False)}</time>{escape(mark.title)}</button></li>"
        for mark in episode.chapters
    )
    return _PLAYER.substitute(
        show=escape(channel.title),
        title=escape(episode.title),
        speakers=escape("、".join(episode.speakers)),
        duration=format_clock(episode.duration_ms, always_include_hours=False),
        audio=quote(episode.audio.name, safe=""),
        chapters=chapters,
    )


def _html(title: str, body: str) -> web.Response:
    return web.Response(text=_PAGE.substitute(title=title, body=body), content_type="text/html", charset="utf-8")

"""The RSS feed: exact text, every tag Apple and Podcasting 2.0 ask for, feedparser, the W3C validator."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
import yaml
from typer.testing import CliRunner

from podcast import ConfigError, render
from podcast.channel import Channel, load_channel, normalize_base_url, parse_channel
from podcast.cli import app
from podcast.episode_dir import episode_in, find_episodes, legacy_guid
from podcast.feed import build_feed, show_guid
from podcast.model import ChapterMark, Episode, Script, Speaker

from .conftest import THREE_CHAPTERS

runner = CliRunner()
NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}
SLUG = "uchu-no-daidokoro-tokushu-yashoku-no-hanashi"  # three_chapters.yaml's folder: its title romanized
ENCODED = SLUG  # ASCII: nothing to percent-encode, nothing for a Unicode normalizer to break
TITLE = "宇宙の台所 <特集> & \"夜食\" 'の' 話"
E2E_SLUG = "uchu-to-ryori-hoshino-shefu-ni-kiku-mujuryoku-no-daidokoro"
BASE = "https://example.com/podcast/"
CONFIG = """\
title: 宇宙と料理 <ラジオ> & "仲間" 'たち'
author: 星野 & 聞き手
description: 宇宙で料理をする人たちの話。
image: cover.jpg
category: Arts
subcategory: Food
explicit: false
type: serial
owner_email: host@example.com
base_url: https://example.com/podcast
"""
CHANNEL = parse_channel(yaml.safe_load(CONFIG), source="podcast.yaml")

EXPECTED = f"""\
<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" \
xmlns:podcast="https://podcastindex.org/namespace/1.0" xmlns:atom="http://www.w3.org/2005/Atom" \
xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">
  <channel>
    <title>宇宙と料理 &lt;ラジオ&gt; &amp; "仲間" 'たち'</title>
    <link>https://example.com/podcast/</link>
    <description>宇宙で料理をする人たちの話。</description>
    <atom:link href="https://example.com/podcast/feed.xml" rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <generator>podcast</generator>
    <image>
      <url>https://example.com/podcast/cover.jpg</url>
      <title>宇宙と料理 &lt;ラジオ&gt; &amp; "仲間" 'たち'</title>
      <link>https://example.com/podcast/</link>
    </image>
    <language>ja</language>
    <lastBuildDate>Thu, 02 Jan 2025 03:04:05 +0000</lastBuildDate>
    <itunes:author>星野 &amp; 聞き手</itunes:author>
    <itunes:category text="Arts">
      <itunes:category text="Food"/>
    </itunes:category>
    <itunes:owner>
      <itunes:name>星野 &amp; 聞き手</itunes:name>
      <itunes:email>host@example.com</itunes:email>
    </itunes:owner>
    <itunes:type>serial</itunes:type>
    <itunes:image href="https://example.com/podcast/cover.jpg"/>
    <itunes:explicit>false</itunes:explicit>
    <podcast:guid>6c967fe4-ab76-51b1-aec1-bde9677f87cb</podcast:guid>
    <podcast:locked owner="host@example.com">yes</podcast:locked>
    <item>
      <title>宇宙の台所 &lt;特集&gt; &amp; "夜食" 'の' 話</title>
      <description>&lt;p&gt;出演: 聞き手、星野 &amp;amp; 仲間&lt;/p&gt;
&lt;ul&gt;&lt;li&gt;0:00:00 はじめに &amp;lt;序&amp;gt;&lt;/li&gt;\
&lt;li&gt;0:01:00 最後に &amp;amp; これから&lt;/li&gt;&lt;/ul&gt;</description>
      <content:encoded><![CDATA[<p>宇宙の台所 &lt;特集&gt; &amp; &quot;夜食&quot; &#x27;の&#x27; 話</p>
<h3>出演</h3>
<ul><li>聞き手</li><li>星野 &amp; 仲間</li></ul>
<h3>チャプター</h3>
<ul><li>0:00:00 はじめに &lt;序&gt;</li><li>0:01:00 最後に &amp; これから</li></ul>
<p><a href="{BASE}{ENCODED}/transcript.vtt">文字起こし (WebVTT)</a></p>]]></content:encoded>
      <guid isPermaLink="false">3c1b7a4c-5d2e-4f50-9a8b-2f0e6d1c9b7a</guid>
      <enclosure url="{BASE}{ENCODED}/{ENCODED}.mp3" length="123456" type="audio/mpeg"/>
      <pubDate>Thu, 02 Jan 2025 03:04:05 +0000</pubDate>
      <itunes:author>星野 &amp; 聞き手</itunes:author>
      <itunes:duration>1:02:06</itunes:duration>
      <itunes:season>1</itunes:season>
      <itunes:episode>3</itunes:episode>
      <itunes:episodeType>full</itunes:episodeType>
      <itunes:image href="https://example.com/podcast/cover.jpg"/>
      <podcast:transcript url="{BASE}{ENCODED}/transcript.vtt" type="text/vtt" language="ja" rel="captions"/>
      <podcast:chapters url="{BASE}{ENCODED}/chapters.json" type="application/json+chapters"/>
    </item>
  </channel>
</rss>
"""


def synthetic_episode() -> Episode:
    speakers = {"host": Speaker("host", "聞き手", "host"), "guest": Speaker("guest", "星野 & 仲間", "guest")}
    return episode_in(
        Path(f"/x/{SLUG}"),
        Script(TITLE, speakers, (), episode=3, season=1),
        size=123456,
        duration_ms=3_725_600,  # 1:02:05.6 rounds to 1:02:06
        chapters=(ChapterMark("はじめに <序>", 0, 60_000), ChapterMark("最後に & これから", 60_000, 3_725_600)),
        published=datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        guid="3c1b7a4c-5d2e-4f50-9a8b-2f0e6d1c9b7a",  # from episode.json
    )


def test_feed_text_is_exact() -> None:
    assert build_feed(CHANNEL, [synthetic_episode()]).decode("utf-8") == EXPECTED


def test_guids_follow_the_specs() -> None:
    # The Podcasting 2.0 spec's own example for podcast:guid.
    assert show_guid("https://mp3s.nashownotes.com/pc20rss.xml") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert show_guid("http://mp3s.nashownotes.com/pc20rss.xml/") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert legacy_guid(SLUG) == legacy_guid(SLUG) != legacy_guid(E2E_SLUG)
    pinned_guid = "c1a7f0c2-58a6-5c1b-9d43-0f6e2b9d7a11"
    pinned = build_feed(Channel(**{**_fields(CHANNEL), "guid": pinned_guid}), []).decode()
    assert f"<podcast:guid>{pinned_guid}</podcast:guid>" in pinned


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://example.com/podcast", "https://example.com/podcast/"),
        ("https://example.com", "https://example.com/"),
        ("http://h:8000/a/b/", "http://h:8000/a/b/"),
        ("https://example.com/宇宙 ラジオ", "https://example.com/%E5%AE%87%E5%AE%99%20%E3%83%A9%E3%82%B8%E3%82%AA/"),
        ("https://example.com/%E5%AE%87/", "https://example.com/%E5%AE%87/"),  # already escaped: kept
    ],
)
def test_base_urls_are_normalized(given: str, expected: str) -> None:
    assert normalize_base_url(given) == expected


def _fields(channel: Channel) -> dict[str, object]:
    return {name: getattr(channel, name) for name in Channel.__dataclass_fields__}


def feed_of(output: Path) -> tuple[bytes, ET.Element]:
    xml = build_feed(CHANNEL, find_episodes(output))
    return xml, ET.fromstring(xml)


def test_every_required_tag_of_a_rendered_feed(published: Path) -> None:
    xml, root = feed_of(published)
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None

    def text(path: str, node: ET.Element = channel) -> str:
        found = node.find(path, NS)
        assert found is not None, path
        return found.text or ""

    def attr(path: str, name: str, node: ET.Element = channel) -> str:
        found = node.find(path, NS)
        assert found is not None, path
        return found.get(name, "")

    assert text("title") == "宇宙と料理 <ラジオ> & \"仲間\" 'たち'"
    assert text("description") == "宇宙で料理をする人たちの話。"
    assert text("link") == BASE
    assert text("language") == "ja"
    assert attr("atom:link[@rel='self']", "href") == BASE + "feed.xml"
    assert attr("atom:link[@rel='self']", "type") == "application/rss+xml"
    assert attr("itunes:image", "href") == BASE + "cover.jpg"
    assert attr("itunes:category", "text") == "Arts"
    assert attr("itunes:category/itunes:category", "text") == "Food"
    assert text("itunes:explicit") == "false"
    assert text("itunes:author") == "星野 & 聞き手"
    assert text("itunes:owner/itunes:email") == "host@example.com"
    assert attr("podcast:locked", "owner") == "host@example.com" and text("podcast:locked") == "yes"
    assert text("itunes:type") == "serial"
    assert text("podcast:guid") == show_guid(BASE + "feed.xml")

    items = {text("title", item): item for item in channel.findall("item")}
    assert set(items) == {TITLE, "宇宙と料理 | 星野シェフに聞く、無重力の台所"}
    for item in items.values():
        slug = E2E_SLUG if text("title", item).startswith("宇宙と料理") else SLUG
        audio = published / slug / f"{slug}.mp3"
        folder = f"{BASE}{slug}/"
        meta = json.loads((published / slug / "episode.json").read_text(encoding="utf-8"))
        assert text("guid", item) == meta["guid"]
        assert text("itunes:episodeType", item) == "full"
        assert attr("itunes:image", "href", item) == BASE + "cover.jpg"
        assert attr("guid", "isPermaLink", item) == "false"
        enclosure = item.find("enclosure")
        assert enclosure is not None
        assert enclosure.get("url") == f"{BASE}{slug}/{slug}.mp3"  # ASCII all the way
        assert enclosure.get("type") == "audio/mpeg"
        assert enclosure.get("length") == str(len(audio.read_bytes()))
        first = datetime.datetime.fromisoformat(meta["first_rendered"])
        assert text("pubDate", item) == first.strftime("%a, %d %b %Y %H:%M:%S +0000")
        duration = _summary_duration(audio)
        assert text("itunes:duration", item) == f"0:00:{round(duration):02d}"
        assert text("itunes:author", item) == "星野 & 聞き手"
        assert attr("podcast:chapters", "url", item) == folder + "chapters.json"
        assert attr("podcast:chapters", "type", item) == "application/json+chapters"
        assert attr("podcast:transcript", "url", item) == folder + "transcript.vtt"
        assert attr("podcast:transcript", "type", item) == "text/vtt"
    assert text("description", items[TITLE]) == (
        "<p>出演: 聞き手、星野 &amp; 仲間</p>\n<ul><li>0:00:00 はじめに &lt;序&gt;</li>"
        "<li>0:00:06 おにぎりと無重力</li><li>0:00:13 最後に &amp; これから</li></ul>"
    )


def _summary_duration(audio: Path) -> float:
    from podcast.loudness import SAMPLE_RATE

    from .audio import decode

    return len(decode(audio)) / SAMPLE_RATE


def test_feedparser_reads_it_without_complaint(published: Path) -> None:
    xml, _ = feed_of(published)
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "宇宙と料理 <ラジオ> & \"仲間\" 'たち'"
    assert parsed.feed.language == "ja"
    titles = {entry.title: entry for entry in parsed.entries}
    entry = titles[TITLE]
    assert entry.id == json.loads((published / SLUG / "episode.json").read_text(encoding="utf-8"))["guid"]
    assert entry.enclosures[0].href == f"{BASE}{ENCODED}/{ENCODED}.mp3"
    assert entry.enclosures[0].length == str((published / SLUG / f"{SLUG}.mp3").stat().st_size)
    assert entry.itunes_duration.startswith("0:00:")
    # The description is HTML: a reader shows "<序>" as text, it does not swallow it as a tag.
    assert "<li>0:00:00 はじめに &lt;序&gt;</li>" in entry.summary


def test_guid_and_pubdate_survive_a_re_render(published: Path, tmp_path: Path) -> None:
    output = tmp_path / "output"
    shutil.copytree(published, output)
    before = find_episodes(output)
    meta = output / SLUG / "episode.json"
    first = json.loads(meta.read_text(encoding="utf-8"))
    render(THREE_CHAPTERS, output_dir=output, engine="openjtalk")
    after = find_episodes(output)
    assert [(e.slug, e.published) for e in after] == [(e.slug, e.published) for e in before]
    again = json.loads(meta.read_text(encoding="utf-8"))
    assert again["first_rendered"] == first["first_rendered"]
    assert again["last_rendered"] >= first["last_rendered"]
    assert again["engine"] == "openjtalk"  # what rendered it, recorded for `engine: auto`
    assert build_feed(CHANNEL, after) == build_feed(CHANNEL, before)


def test_episodes_from_before_episode_json_use_the_id3_date(published: Path, tmp_path: Path) -> None:
    output = tmp_path / "output"
    shutil.copytree(published, output)
    (output / SLUG / "episode.json").unlink()
    [episode] = [e for e in find_episodes(output) if e.slug == SLUG]
    assert episode.published.time() == datetime.time(0, 0) and episode.published.tzinfo == datetime.UTC
    render(THREE_CHAPTERS, output_dir=output, engine="openjtalk")  # the next render records that date
    meta = json.loads((output / SLUG / "episode.json").read_text(encoding="utf-8"))
    assert datetime.datetime.fromisoformat(meta["first_rendered"]) == episode.published


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"titel": "x"}, "podcast.yaml: unknown key 'titel' (did you mean 'title'?)"),
        ({"author": None}, "podcast.yaml: missing author: (fill it in; see the README)"),
        ({"explicit": "no"}, "podcast.yaml: explicit: expected true or false, got 'no'"),
        ({"locked": "yes"}, "podcast.yaml: locked: expected true or false, got 'yes'"),
        ({"image": "cover.gif"}, "podcast.yaml: image: 'cover.gif' is not a .jpg or .png (Apple takes only those)"),
        ({"base_url": "example.com"}, "podcast.yaml: base_url: 'example.com' is not an http(s) URL "
         "(write e.g. https://example.com/podcast/)"),
        ({"category": 3}, "podcast.yaml: category: expected text, got 3"),
        # What Apple Podcasts would refuse, each with its fix:
        ({"category": "Tech"}, "podcast.yaml: category: 'Tech' is not an Apple Podcasts category "
         "(did you mean Technology?)"),
        ({"category": "Food", "subcategory": None}, "podcast.yaml: category: 'Food' is not an Apple Podcasts category "
         "(it is a subcategory: write category: Arts and subcategory: Food)"),
        ({"subcategory": "Cooking"}, "podcast.yaml: subcategory: 'Cooking' is not under Arts (use one of: Books, "
         "Design, Fashion & Beauty, Food, Performing Arts, Visual Arts)"),
        ({"category": "Technology", "subcategory": "Gadgets"}, "podcast.yaml: subcategory: 'Gadgets' is not under "
         "Technology (Technology has none; delete subcategory:)"),
        ({"language": "japanese"}, "podcast.yaml: language: 'japanese' is not an ISO 639-1 language code (write ja)"),
        ({"language": "jp"}, "podcast.yaml: language: 'jp' is not an ISO 639-1 language code (write ja)"),
        ({"language": "xx-YY"}, "podcast.yaml: language: 'xx-YY' is not an ISO 639-1 language code "
         "(e.g. ja, or ja-JP)"),
        ({"owner_email": "nope"}, "podcast.yaml: owner_email: 'nope' is not an email address "
         "(Apple and Podcast Index send ownership checks there)"),
        ({"owner_email": "a b@example.com"}, "podcast.yaml: owner_email: 'a b@example.com' is not an email address "
         "(Apple and Podcast Index send ownership checks there)"),
        ({"guid": "not-a-uuid"}, "podcast.yaml: guid: 'not-a-uuid' is not a UUID (delete guid: to derive it from "
         "the feed URL, or give your show's own)"),
        ({"type": "weekly"}, "podcast.yaml: type: 'weekly' is not episodic or serial"),
        # Every problem at once, on one line: fix them all in one go.
        ({"category": "Tech", "language": "japanese", "owner_email": "nope"},
         "podcast.yaml: category: 'Tech' is not an Apple Podcasts category (did you mean Technology?); "
         "language: 'japanese' is not an ISO 639-1 language code (write ja); owner_email: 'nope' is not an email "
         "address (Apple and Podcast Index send ownership checks there)"),
    ],
)  # fmt: skip
def test_bad_channel_settings_name_the_key(change: dict[str, object], message: str) -> None:
    data = yaml.safe_load(CONFIG)
    data.update(change)
    with pytest.raises(ConfigError) as caught:
        parse_channel({k: v for k, v in data.items() if v is not None}, source="podcast.yaml")
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("language", "ok"), [("ja", True), ("ja-JP", True), ("en-us", True), ("zh-Hant", False), ("jpn", False)]
)
def test_language_is_an_iso_639_1_code_with_an_optional_region(language: str, ok: bool) -> None:
    data = {**yaml.safe_load(CONFIG), "language": language}
    if ok:
        assert parse_channel(data, source="podcast.yaml").language == language
    else:
        with pytest.raises(ConfigError, match="is not an ISO 639-1 language code"):
            parse_channel(data, source="podcast.yaml")


def make_cover(path: Path, size: tuple[int, int] = (1400, 1400), mode: str = "RGB", fmt: str = "JPEG") -> Path:
    """A real image file: what a podcaster would export from an editor."""
    from PIL import Image

    Image.new(mode, size, (40, 60, 90) if mode == "RGB" else None).save(path, format=fmt)
    return path


def test_cli_feed_writes_the_publish_folder(published: Path, tmp_path: Path) -> None:
    output = tmp_path / "output"
    shutil.copytree(published, output)
    config = tmp_path / "podcast.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    make_cover(tmp_path / "cover.jpg")
    result = runner.invoke(app, ["feed", "-o", str(output), "--config", str(config), "--base-url", "http://h/p"])
    assert result.exit_code == 2  # a serial show, and the episodes have no numbers
    # The first of them in the feed's order (newest first; two rendered within a second go by folder name).
    newest = find_episodes(output)[0].script_yaml
    assert newest.parent.name in (SLUG, E2E_SLUG)
    assert result.stderr == (
        f"Error: {newest}: no episode: number, which a serial show needs "
        "(add `episode: N` to the episode's script and render it again, or set type: episodic)\n"
    )
    assert not (tmp_path / "publish").exists()
    config.write_text(CONFIG.replace("type: serial", "type: episodic"), encoding="utf-8")
    result = runner.invoke(app, ["feed", "-o", str(output), "--config", str(config), "--base-url", "http://h/p"])
    assert result.exit_code == 0, result.output
    publish = tmp_path / "publish"
    lines = result.stdout.splitlines()
    assert lines[0] == f"Wrote {publish / 'feed.xml'}: 2 episodes"
    assert lines[-1] == "Upload it to http://h/p/, then subscribe to http://h/p/feed.xml"
    assert result.stderr == ""
    written = (publish / "feed.xml").read_bytes()
    assert f'url="http://h/p/{ENCODED}/{ENCODED}.mp3"'.encode() in written
    assert not feedparser.parse(written).bozo
    assert not list(output.glob(".*.tmp")) and not list(publish.rglob(".*.tmp"))
    assert not (output / "feed.xml").exists()  # the output folder is the workshop; publish/ is what goes out


def test_cli_feed_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["feed", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: podcast.yaml: cannot read channel settings (No such file or directory); "
        "create it with `podcast feed --init`, or pass --config\n"
    )
    Path("podcast.yaml").write_text(CONFIG.replace("base_url: https://example.com/podcast\n", ""), encoding="utf-8")
    result = runner.invoke(app, ["feed", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: podcast.yaml: missing base_url: (where the publish folder is uploaded, "
        "e.g. https://example.com/podcast/; or pass --base-url)\n"
    )
    assert load_channel(tmp_path / "podcast.yaml").base_url == ""
    make_cover(tmp_path / "cover.jpg")
    result = runner.invoke(app, ["feed", "-o", str(tmp_path), "--base-url", "https://example.com/"])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {tmp_path}: no rendered episodes (run `podcast render` first, or pass -o)\n"


VALIDATOR = os.environ.get("PODCAST_FEEDVALIDATOR")  # a w3c/feedvalidator checkout (the folder holding src/)
VALIDATOR_PYTHON = os.environ.get("PODCAST_FEEDVALIDATOR_PYTHON", sys.executable)  # one with html5lib, rdflib
_RUN_VALIDATOR = """\
import sys
sys.path.insert(0, sys.argv[1])
import feedvalidator
from feedvalidator import compatibility
from feedvalidator.formatter.text_plain import Formatter
from feedvalidator.logging import Error
with open(sys.argv[2], "rb") as fp:
    events = compatibility.AA(feedvalidator.validateStream(fp, firstOccurrenceOnly=1, base=sys.argv[3])["loggedEvents"])
print("\\n".join(Formatter([e for e in events if isinstance(e, Error)])))
"""


@pytest.mark.skipif(not VALIDATOR, reason="set PODCAST_FEEDVALIDATOR to a w3c/feedvalidator checkout to run it")
def test_w3c_feed_validator_finds_no_errors(published: Path, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(feed_of(published)[0])
    source = Path(str(VALIDATOR)) / "src"
    result = subprocess.run(
        [VALIDATOR_PYTHON, "-c", _RUN_VALIDATOR, str(source), str(feed), BASE + "feed.xml"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", result.stdout

"""`podcast feed` as a first-time podcaster runs it: settings checked, artwork checked or made, a publish folder
holding only what to upload, and a feed Apple and the W3C validator accept, before and after a retitle."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import mutagen.id3
import pytest
from PIL import Image
from typer.testing import CliRunner

from podcast import ConfigError, publish_feed, render
from podcast.artwork import artwork_problems, default_cover, read_artwork
from podcast.channel import load_channel
from podcast.cli import app

from .apple_rules import apple_problems
from .conftest import THREE_CHAPTERS
from .test_feed import _RUN_VALIDATOR, VALIDATOR, VALIDATOR_PYTHON, make_cover

runner = CliRunner()
BASE = "https://example.com/podcast/"
SETTINGS = """\
title: 町のロボット談義
author: 架空ラジオ制作部
description: 小さな会社でロボットを作る人たちに、仕事の話を聞く番組です。
category: Technology
owner_email: studio@example.com
base_url: https://example.com/podcast/
"""
THREE = "uchu-no-daidokoro-tokushu-yashoku-no-hanashi"
E2E = "uchu-to-ryori-hoshino-shefu-ni-kiku-mujuryoku-no-daidokoro"


@pytest.fixture
def show(published: Path, tmp_path: Path) -> Path:
    """A podcaster's folder: podcast.yaml, output/ with two rendered episodes."""
    shutil.copytree(published, tmp_path / "output")
    (tmp_path / "podcast.yaml").write_text(SETTINGS, encoding="utf-8")
    return tmp_path


def run_feed(show: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["feed", "-o", str(show / "output"), "--config", str(show / "podcast.yaml"), *args])
    return result.exit_code, result.stdout, result.stderr


def items(xml: bytes) -> dict[str, ET.Element]:
    return {item.findtext("guid") or "": item for item in ET.fromstring(xml).iter("item")}


def validate(feed_file: Path) -> str:
    """The W3C feed validator's errors on a feed file ('' when none), run from its source."""
    result = subprocess.run(
        [VALIDATOR_PYTHON, "-c", _RUN_VALIDATOR, str(Path(str(VALIDATOR)) / "src"), str(feed_file), BASE + "feed.xml"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_two_episodes_one_retitled_meet_apples_requirements_before_and_after(show: Path) -> None:
    code, out, err = run_feed(show)
    assert code == 0, err
    publish = show / "publish"
    first = (publish / "feed.xml").read_bytes()
    assert apple_problems(first, publish, BASE) == []
    before = items(first)
    # The podcaster fixes a title after the first feed went out: in the script, whose id stays.
    script = show / "output" / THREE / "script.yaml"
    retitled = show / "retitled.yaml"
    old_title = "宇宙の台所 <特集> & \"夜食\" 'の' 話"
    text = script.read_text(encoding="utf-8")
    assert "\nid: " in text
    old_line = next(line for line in text.splitlines() if line.startswith("title: "))
    retitled.write_text(text.replace(old_line, "title: 宇宙の台所 | 夜食の特集（改題）"), encoding="utf-8")
    render(retitled, output_dir=show / "output", engine="openjtalk")
    assert sorted(p.name for p in (show / "output").iterdir()) == sorted([THREE, E2E])  # no third folder
    code, out, err = run_feed(show)
    assert code == 0, err
    second = (publish / "feed.xml").read_bytes()
    assert apple_problems(second, publish, BASE) == []
    after = items(second)
    assert set(after) == set(before)  # same guids: apps see the same two episodes, no duplicate
    titles = {guid: (before[guid].findtext("title"), after[guid].findtext("title")) for guid in before}
    changed = [pair for pair in titles.values() if pair[0] != pair[1]]
    assert changed == [(old_title, "宇宙の台所 | 夜食の特集（改題）")]
    for guid, item in after.items():
        assert item.findtext("pubDate") == before[guid].findtext("pubDate")
        enclosure, old = item.find("enclosure"), before[guid].find("enclosure")
        assert enclosure is not None and old is not None and enclosure.get("url") == old.get("url")
        assert (enclosure.get("url") or "").isascii()
    if VALIDATOR:  # the W3C validator, run from its source (set PODCAST_FEEDVALIDATOR, see test_feed.py)
        for n, xml in enumerate((first, second)):
            path = show / f"feed{n}.xml"
            path.write_bytes(xml)
            assert validate(path) == ""


def test_apple_checker_sees_what_apple_refuses(show: Path) -> None:
    # The checker itself: a feed with the usual first-time mistakes is not passed.
    run_feed(show)
    publish = show / "publish"
    xml = (publish / "feed.xml").read_text(encoding="utf-8")
    broken = xml.replace("<language>ja</language>", "<language>japanese</language>").replace(
        'text="Technology"', 'text="Tech"'
    )
    (publish / next(publish.glob("cover-*.png")).name).write_bytes(
        make_cover(show / "x.png", (300, 200), fmt="PNG").read_bytes()
    )
    problems = apple_problems(broken.encode(), publish, BASE)
    assert "channel: <language> must be an ISO 639 code" in problems
    assert "channel: category 'Tech' is not one of Apple's" in problems
    assert "artwork is 300x200, not a 1400-3000 px square" in problems


def test_publish_folder_holds_only_what_to_upload(show: Path) -> None:
    code, out, err = run_feed(show)
    assert code == 0, err
    publish = show / "publish"
    files = sorted(str(p.relative_to(publish)) for p in publish.rglob("*") if p.is_file())
    cover = next(name for name in files if name.startswith("cover-"))
    assert files == sorted(
        [
            "feed.xml",
            cover,
            *(f"{slug}/{name}" for slug in (THREE, E2E) for name in (f"{slug}.mp3", "chapters.json", "transcript.vtt")),
        ]
    )
    assert not list(publish.rglob("script.yaml")) and not list(publish.rglob("episode.json"))
    lines = out.splitlines()
    assert lines[0] == f"Wrote {publish / 'feed.xml'}: 2 episodes"
    assert lines[3] == (
        f"Made {publish / cover} from the show's title; set image: in podcast.yaml to your own artwork when you have it"
    )
    assert lines[4].startswith(f"{publish}/ holds only what to upload (8 files, ")
    assert lines[5] == f"Upload it to {BASE}, then subscribe to {BASE}feed.xml"
    # Every MP3 carries the show: album tag and the cover, embedded.
    for slug in (THREE, E2E):
        tags = mutagen.id3.ID3(publish / slug / f"{slug}.mp3")
        assert str(tags["TALB"]) == "町のロボット談義"
        [apic] = tags.getall("APIC")
        assert (apic.mime, apic.type, apic.data) == ("image/png", 3, (publish / cover).read_bytes())
        assert len(tags.getall("CHAP")) >= 2  # chapters kept
        assert not mutagen.id3.ID3(show / "output" / slug / f"{slug}.mp3").getall("APIC")  # the workshop copy as is
    # A second run changes nothing, not even a time stamp: sync tools upload nothing.
    stamps = {p: p.stat().st_mtime_ns for p in publish.rglob("*") if p.is_file()}
    assert run_feed(show)[0] == 0
    assert {p: p.stat().st_mtime_ns for p in publish.rglob("*") if p.is_file()} == stamps
    # An episode deleted from output/ leaves publish/ too.
    shutil.rmtree(show / "output" / E2E)
    assert run_feed(show)[0] == 0
    assert not (publish / E2E).exists() and (publish / THREE / f"{THREE}.mp3").is_file()


def test_publish_folder_must_be_ours_to_rebuild(show: Path) -> None:
    (show / "publish").mkdir()
    (show / "publish" / "notes.txt").write_text("mine", encoding="utf-8")
    code, _, err = run_feed(show)
    assert code == 2
    assert err == (
        f"Error: --publish {show / 'publish'}: holds files podcast did not write, and the publish folder is rebuilt "
        "to hold only what to upload; give an empty or new folder\n"
    )
    assert (show / "publish" / "notes.txt").read_text(encoding="utf-8") == "mine"
    code, _, err = run_feed(show, "--publish", str(show / "output" / "up"))
    assert (code, err) == (
        2,
        f"Error: --publish {show / 'output' / 'up'}: inside the output folder; give a folder beside it, e.g. publish\n",
    )


def test_the_default_cover_is_a_clean_square_with_the_title() -> None:
    data, titled = default_cover("町のロボット談義")
    assert titled  # CI installs a Japanese font (fonts-ipaexfont-gothic)
    assert data == default_cover("町のロボット談義")[0]  # the same title, the same bytes
    from io import BytesIO

    with Image.open(BytesIO(data)) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "RGB", (1400, 1400))
        middle = image.crop((200, 500, 1200, 900))
        assert len(middle.getcolors(maxcolors=1 << 16) or []) > 2  # text drawn there, not just the background
    assert len(data) < 512 * 1024


def test_without_a_japanese_font_the_cover_has_no_title_and_says_so(
    show: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODCAST_COVER_FONT", "")
    assert default_cover("町のロボット談義")[1] is False
    code, out, _ = run_feed(show)
    assert code == 0
    assert "(no Japanese font found, so without the title: apt install fonts-ipaexfont-gothic)" in out


@pytest.mark.parametrize(
    ("name", "size", "mode", "fmt", "problem"),
    [
        ("cover.PNG", (1400, 1400), "RGB", "PNG", None),  # any suffix case: itunes:image stays in the feed
        ("cover.JPEG", (3000, 3000), "RGB", "JPEG", None),
        ("cover.png", (300, 200), "RGB", "PNG", "it is 300x200 px; Apple needs a square from 1400x1400 to "
         "3000x3000 px"),
        ("cover.jpg", (3200, 3200), "RGB", "JPEG", "it is 3200x3200 px; Apple needs a square from 1400x1400 to "
         "3000x3000 px"),
        ("cover.png", (1400, 1400), "RGB", "JPEG", "it is really a JPEG; rename it to cover.jpg"),
        ("cover.jpg", (1400, 1400), "CMYK", "JPEG", "its colours are CMYK, not RGB; convert it to RGB"),
        ("cover.png", (1400, 1400), "RGBA", "PNG", "it has transparency; flatten it onto a background and save it as "
         "RGB"),
        ("cover.png", (1400, 1400), "L", "PNG", "its colours are L, not RGB; convert it to RGB"),
    ],
)  # fmt: skip
def test_artwork_rules_read_the_real_header(
    tmp_path: Path, name: str, size: tuple[int, int], mode: str, fmt: str, problem: str | None
) -> None:
    path = make_cover(tmp_path / name, size, mode, fmt)
    assert artwork_problems(read_artwork(path)) == ([problem] if problem else [])


def test_artwork_over_512_kb_and_not_an_image(tmp_path: Path) -> None:
    import numpy as np

    noise = np.random.default_rng(7).integers(0, 256, (1400, 1400, 3), dtype=np.uint8)
    big = tmp_path / "cover.png"
    Image.fromarray(noise, "RGB").save(big)
    assert artwork_problems(read_artwork(big)) == [
        f"it is {big.stat().st_size // 1024} KB; keep it under 512 KB (JPEG quality 80 or so)"
    ]
    gif = tmp_path / "cover.gif"
    Image.new("RGB", (1400, 1400)).save(gif, format="GIF")
    assert artwork_problems(read_artwork(gif))[0] == "it is a GIF image; save it as JPEG or PNG"
    text = tmp_path / "cover.jpg"
    text.write_text("not an image", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cover\.jpg: not an image file Pillow can read; export the artwork"):
        read_artwork(text)


def test_feed_refuses_bad_artwork_naming_the_file_and_fix(show: Path) -> None:
    make_cover(show / "cover.png", (300, 200), fmt="PNG")
    settings = show / "podcast.yaml"
    settings.write_text(SETTINGS + "image: cover.png\n", encoding="utf-8")
    code, _, err = run_feed(show)
    assert (code, err) == (
        2,
        f"Error: {show / 'cover.png'}: it is 300x200 px; Apple needs a square from 1400x1400 to 3000x3000 px\n",
    )
    assert not (show / "publish").exists()
    settings.write_text(SETTINGS + "image: missing.jpg\n", encoding="utf-8")
    code, _, err = run_feed(show)
    assert err == (
        f"Error: {settings}: image: missing.jpg not found (looked for {show / 'missing.jpg'}); put the file there, "
        "or delete image: to publish a cover made from the title\n"
    )
    make_cover(show / "COVER.PNG", fmt="PNG")
    settings.write_text(SETTINGS + "image: COVER.PNG\n", encoding="utf-8")
    code, out, err = run_feed(show)
    assert code == 0, err
    xml = (show / "publish" / "feed.xml").read_text(encoding="utf-8")
    assert f'<itunes:image href="{BASE}COVER.PNG"/>' in xml
    assert (show / "publish" / "COVER.PNG").read_bytes() == (show / "COVER.PNG").read_bytes()
    assert "Made " not in out


def test_settings_template_and_key_by_key_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["feed", "--init"])
    assert result.stdout == (
        "Wrote podcast.yaml: fill in title, author, description, category, owner_email and base_url\n"
    )
    result = runner.invoke(app, ["feed"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: podcast.yaml: missing title:, author:, description:, category:, owner_email: (fill them in; "
        "see the README)\n"
    )
    Path("podcast.yaml").write_text(SETTINGS + "type: serial\n", encoding="utf-8")
    channel = load_channel()
    # What the user did not set comes from the bundled defaults; what they set wins.
    assert (channel.language, channel.explicit, channel.locked, channel.type) == ("ja", False, True, "serial")
    again = runner.invoke(app, ["feed", "--init"])
    assert again.exit_code == 2 and again.stderr.startswith("Error: podcast.yaml: already exists")


def test_episode_numbers_and_types_reach_the_feed(show: Path) -> None:
    script = show / "numbered.yaml"
    text = (show / "output" / THREE / "script.yaml").read_text(encoding="utf-8")
    script.write_text(text.replace("\nspeakers:", "\nepisode: 12\nseason: 2\nepisode_type: bonus\nspeakers:", 1))
    render(script, output_dir=show / "output", engine="openjtalk")
    result = publish_feed(show / "output", config=show / "podcast.yaml")
    item = next(
        i for i in ET.fromstring(result.path.read_bytes()).iter("item") if "宇宙の台所" in (i.findtext("title") or "")
    )
    itunes = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
    assert (item.findtext(f"{itunes}episode"), item.findtext(f"{itunes}season")) == ("12", "2")
    assert item.findtext(f"{itunes}episodeType") == "bonus"
    notes = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
    assert f'<a href="{BASE}{THREE}/transcript.vtt">文字起こし (WebVTT)</a>' in notes
    assert "<h3>チャプター</h3>" in notes and "0:00:00 はじめに &lt;序&gt;" in notes
    meta = json.loads((show / "output" / THREE / "episode.json").read_text(encoding="utf-8"))
    assert item.findtext("guid") == meta["guid"]


def test_three_chapters_fixture_is_unchanged() -> None:
    assert "\nid:" not in THREE_CHAPTERS.read_text(encoding="utf-8")  # scripts without an id still work

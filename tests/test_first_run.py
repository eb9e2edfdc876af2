"""A new user's first run: --version and -h, a long title line, --slug, a render that says what it replaced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from podcast import __version__
from podcast.cli import app
from podcast.episode_dir import title_slug
from podcast.text import romaji
from podcast.transcript import parse_transcript

from .conftest import E2E, THREE_CHAPTERS

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parents[1] / "podcast" / "data" / "sample_interview.txt"
# An invented 140-character page title with commas but no 。, as long SEO titles run.
LONG_TITLE = (
    "町のパン屋と小さなロボット会社が、朝四時の仕込みから夕方の片付けまでを一緒に考えた一年間の記録と、"
    "そこから見えてきた小さな店の働き方のこれから、そして粉袋を運ぶ腕が次に覚えたいこと、"
    "焼き上がりの色を見分ける目と、常連さんの好みを覚える帳面の話、町の商店街の朝"
)


def test_version_and_short_help() -> None:
    version = runner.invoke(app, ["--version"])
    assert (version.exit_code, version.stdout) == (0, f"podcast {__version__}\n")
    for args in (["-h"], ["render", "-h"], ["feed", "-h"], ["voices", "-h"]):
        result = runner.invoke(app, args, prog_name="podcast")
        assert result.exit_code == 0, args
        assert "Usage: podcast" in result.stdout and "--help" in result.stdout and "-h" in result.stdout


def test_a_long_title_line_is_the_title_not_a_turn() -> None:
    assert len(LONG_TITLE) > 120 and "。" not in LONG_TITLE
    body = SAMPLE.read_text(encoding="utf-8").split("\n", 1)[1]  # the sample's dialogue under a long title
    transcript = parse_transcript(f"{LONG_TITLE}\n\n{body}", source="long.txt")
    assert transcript.title == LONG_TITLE
    assert all(LONG_TITLE[:20] not in u.text for u in transcript.utterances)
    # Written as a paragraph (no blank line after it, a 。 in it) the same words stay speech.
    spoken = parse_transcript(f"{LONG_TITLE}。\n{body}", source="long.txt")
    assert spoken.utterances[0].text.startswith(LONG_TITLE[:20])


@pytest.mark.parametrize(
    ("kana", "latin"),
    [("タカノ", "takano"), ("ロボット", "robotto"), ("チョット", "chotto"), ("マッチャ", "matcha"),
     ("コーヒー", "kohi"), ("シンブン", "shinbun"), ("ジェット", "jetto"), ("ぱんや", "panya"),
     ("ヴァイオリン", "vaiorin")],
)  # fmt: skip
def test_romaji_of_readings(kana: str, latin: str) -> None:
    assert romaji(kana) == latin


def test_folder_names_are_ascii_and_stable() -> None:
    assert title_slug("宇宙の台所 <特集> & \"夜食\" 'の' 話") == "uchu-no-daidokoro-tokushu-yashoku-no-hanashi"
    assert title_slug("KoneBot入門 2021年版") == title_slug("KoneBot入門 2021年版")
    assert title_slug("KoneBot入門 2021年版").startswith("konebot-nyumon-2021")
    assert all(len(title_slug(t)) <= 60 and title_slug(t).isascii() for t in (LONG_TITLE, "！？", "ABC"))


def render(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["render", *args, "--engine", "openjtalk", "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_slug_names_a_new_episode_and_bad_ones_are_refused(tmp_path: Path) -> None:
    output = tmp_path / "out"
    summary = render(str(THREE_CHAPTERS), "-o", str(output), "--slug", "midnight-kitchen")
    assert summary["slug"] == "midnight-kitchen"
    assert (output / "midnight-kitchen" / "midnight-kitchen.mp3").is_file()
    again = render(str(THREE_CHAPTERS), "-o", str(output))  # found by its id: same folder without --slug
    assert again["slug"] == "midnight-kitchen" and again["id"] == summary["id"]
    for bad in ("Midnight", "夜食", "-x", "a b", "x" * 61):
        result = runner.invoke(app, ["render", str(THREE_CHAPTERS), "-o", str(output), "--slug", bad, "-q"])
        assert result.exit_code == 2
        assert result.stderr.startswith(f"Error: --slug {bad!r}: use 1 to 60 lower-case letters a-z, digits and '-'")
    moved = runner.invoke(app, ["render", str(THREE_CHAPTERS), "-o", str(output), "--slug", "other", "-q"])
    assert moved.exit_code == 2
    assert moved.stderr == (
        f"Error: --slug other: this episode (id {summary['id']}) is already in {output / 'midnight-kitchen'}/; "
        f"drop --slug, or move that folder to {output / 'other'}/ (and its MP3 to other.mp3) first\n"
    )
    assert sorted(p.name for p in output.iterdir()) == ["midnight-kitchen"]


def test_a_render_over_an_earlier_one_says_what_it_replaced(tmp_path: Path) -> None:
    output = tmp_path / "out"
    first = runner.invoke(app, ["render", str(E2E), "-o", str(output), "--engine", "openjtalk", "-q"])
    assert first.exit_code == 0, first.output
    assert "replaced" not in first.stdout
    folder = output / "uchu-to-ryori-hoshino-shefu-ni-kiku-mujuryoku-no-daidokoro"
    meta = json.loads((folder / "episode.json").read_text(encoding="utf-8"))
    # Retitle it in the rendered script (its id stays) and render that with the other offline engine's twin.
    script = folder / "script.yaml"
    edited = tmp_path / "edited.yaml"
    data = yaml.safe_load(script.read_text(encoding="utf-8"))
    assert data["id"] == meta["id"]
    edited.write_text(
        script.read_text(encoding="utf-8").replace(f"title: {data['title']}", "title: 宇宙と料理 | 改題しました"),
        encoding="utf-8",
    )
    second = runner.invoke(app, ["render", str(edited), "-o", str(output), "--engine", "openjtalk", "-q"])
    assert second.exit_code == 0, second.output
    lines = second.stdout.splitlines()
    assert lines[0].startswith(f"Wrote {folder / folder.name}.mp3 (")
    minutes, seconds = divmod(round(meta["duration_ms"] / 1000), 60)
    assert lines[1] == (
        f"  replaced the earlier render in {folder}/ (openjtalk, {minutes}:{seconds:02d}, rendered "
        f"{meta['last_rendered'][:16].replace('T', ' ')}); it was titled 「{data['title']}」"
    )
    after = json.loads((folder / "episode.json").read_text(encoding="utf-8"))
    assert (after["id"], after["guid"], after["first_rendered"]) == (meta["id"], meta["guid"], meta["first_rendered"])
    assert after["title"] == "宇宙と料理 | 改題しました"
    assert sorted(p.name for p in output.iterdir()) == [folder.name]  # no second folder for the new title
    summary = render(str(edited), "-o", str(output))
    assert summary["replaced"]["title"] == "宇宙と料理 | 改題しました" and summary["replaced"]["engine"] == "openjtalk"


def test_a_folder_from_before_ids_is_taken_over(tmp_path: Path, published: Path) -> None:
    # Episodes rendered by earlier versions live in folders named by the Japanese title, with no id anywhere.
    output = tmp_path / "out"
    shutil.copytree(published / "uchu-no-daidokoro-tokushu-yashoku-no-hanashi", output / "宇宙の台所-特集-夜食-の-話")
    old = output / "宇宙の台所-特集-夜食-の-話"
    (old / "uchu-no-daidokoro-tokushu-yashoku-no-hanashi.mp3").rename(old / f"{old.name}.mp3")
    (old / "episode.json").write_text(
        json.dumps({"first_rendered": "2025-01-02T03:04:05+00:00", "last_rendered": "2025-01-02T03:04:05+00:00",
                    "engine": "kokoro"}),
        encoding="utf-8",
    )  # fmt: skip
    script = old / "script.yaml"
    script.write_text(
        "\n".join(line for line in script.read_text(encoding="utf-8").splitlines() if not line.startswith("id:")),
        encoding="utf-8",
    )
    summary = render(str(THREE_CHAPTERS), "-o", str(output))
    assert summary["slug"] == old.name  # its URL and guid stay what subscribers already have
    meta = json.loads((old / "episode.json").read_text(encoding="utf-8"))
    from podcast.episode_dir import legacy_guid

    assert meta["guid"] == legacy_guid(old.name) and meta["first_rendered"] == "2025-01-02T03:04:05+00:00"
    assert summary["replaced"]["engine"] == "kokoro"


SCRIPT = (
    "title: 夜の台所\n{extra}speakers:\n  host: {{name: 聞き手, role: host}}\nchapters:\n  - title: 一\n    turns:\n"
    "      - {{speaker: host, text: こんばんは。}}\n"
)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("episode: 0\n", "s.yaml:2: episode: expected a whole number from 1, got '0' (fix or delete it)"),
        ("season: two\n", "s.yaml:2: season: expected a whole number from 1, got 'two' (fix or delete it)"),
        ("episode_type: special\n", "s.yaml:2: episode_type: 'special' is not one of full, trailer, bonus"),
        ("id: [a, b]\n", "s.yaml:2: id: expected text, got a list"),
    ],
)
def test_bad_episode_keys_name_the_line(extra: str, message: str) -> None:
    from podcast.errors import TranscriptError
    from podcast.script import parse_script

    with pytest.raises(TranscriptError) as caught:
        parse_script(SCRIPT.format(extra=extra), source="s.yaml")
    assert str(caught.value) == message


def test_episode_keys_round_trip_through_the_script_file() -> None:
    from podcast.script import dump_script, parse_script

    script = parse_script(
        SCRIPT.format(extra="id: my-episode-7\nepisode: 7\nseason: 2\nepisode_type: trailer\n"), source="s.yaml"
    )
    assert (script.id, script.episode, script.season, script.episode_type) == ("my-episode-7", 7, 2, "trailer")
    assert parse_script(dump_script(script), source="again.yaml") == script.__class__(
        **{**{f: getattr(script, f) for f in script.__dataclass_fields__}, "source": "again.yaml"}
    )

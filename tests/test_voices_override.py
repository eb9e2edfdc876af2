"""A user's voices.yaml holds only what it changes; `podcast voices --init` writes a full copy to edit."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from podcast.cli import app
from podcast.errors import ConfigError
from podcast.model import Speaker, Voice
from podcast.voices import assign_voices, bundled_voices_path, init_voices, load_voices

runner = CliRunner()
THREE = {
    "host": Speaker("host", "聞き手", "host"),
    "sam": Speaker("sam", "サム", "guest"),
    "brad": Speaker("brad", "ブラッド", "guest"),
}


def test_a_partial_file_changes_one_speaker_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "voices.yaml"
    path.write_text("kokoro:\n  speakers:\n    host: {voice: jf_nezumi, speed: 1.1}\n", encoding="utf-8")
    config = load_voices(path)
    bundled = load_voices(bundled_voices_path())
    assert config.engine == bundled.engine == "kokoro"
    assert config.speakers["kokoro"]["host"] == Voice("kokoro", "jf_nezumi", speed=1.1)
    assert config.pools == bundled.pools  # the pool and the other engines are the bundled ones
    assert config.speakers["openjtalk"] == bundled.speakers["openjtalk"]
    assert config.source == str(path)
    voices = assign_voices(config, THREE, "kokoro")
    assert voices["host"].name == "jf_nezumi" and len(set(voices.values())) == 3


def test_engine_and_a_whole_pool_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "voices.yaml"
    path.write_text("engine: openjtalk\nopenjtalk:\n  pool:\n    - {voice: mei, half_tone: 4}\n", encoding="utf-8")
    config = load_voices(path)
    assert config.engine == "openjtalk"
    assert config.pools["openjtalk"] == (Voice("openjtalk", "mei", half_tone=4.0),)
    assert config.speakers["openjtalk"] == load_voices(bundled_voices_path()).speakers["openjtalk"]


def test_an_empty_file_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "voices.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    bundled = load_voices(bundled_voices_path())
    assert load_voices(path).speakers == bundled.speakers and load_voices(path).pools == bundled.pools


def test_working_folder_file_is_laid_over_the_bundled_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("voices.yaml").write_text("engine: openjtalk\n", encoding="utf-8")
    config = load_voices()
    assert config.engine == "openjtalk" and config.source == "voices.yaml"
    assert config.speakers["kokoro"]["host"] == Voice("kokoro", "jf_alpha")


def test_mistakes_in_a_partial_file_name_that_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("edge:\n  speakers:\n    host: {voice: ja-JP-NanamiNeural, rate: fast}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_voices(path)
    assert str(caught.value) == (
        f"{path}: edge.speakers.host: rate 'fast' is not an offset like '+10%' (sign, digits, unit)"
    )


def test_init_writes_a_full_commented_copy_that_loads_as_the_bundled_one(tmp_path: Path) -> None:
    path = init_voices(tmp_path / "voices.yaml")
    text = path.read_text(encoding="utf-8")
    bundled_text = bundled_voices_path().read_text(encoding="utf-8")
    assert text.endswith(bundled_text)  # every comment of the bundled file, to edit
    assert text.startswith("# Your copy of podcast's bundled voices.yaml")
    assert yaml.safe_load(text) == yaml.safe_load(bundled_text)
    copy, bundled = load_voices(path), load_voices(bundled_voices_path())
    assert (copy.engine, copy.speakers, copy.pools) == (bundled.engine, bundled.speakers, bundled.pools)


def test_cli_init_refuses_to_overwrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["voices", "--init"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Wrote voices.yaml: a full copy of the bundled voices to edit (delete what you keep as it is)\n"
    )
    Path("voices.yaml").write_text("engine: edge\n", encoding="utf-8")
    again = runner.invoke(app, ["voices", "--init"])
    assert again.exit_code == 2
    assert again.stderr == (
        "Error: voices.yaml: already exists (edit it, or move it away to start from the bundled copy again)\n"
    )
    assert Path("voices.yaml").read_text(encoding="utf-8") == "engine: edge\n"
    assert not list(tmp_path.glob(".*.tmp"))

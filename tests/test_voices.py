"""voices.yaml: shape checks with one-line errors, and a distinct voice for every speaker."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from podcast.errors import ConfigError
from podcast.model import Speaker, Voice
from podcast.voices import assign_voices, bundled_voices_path, load_voices, parse_voices

from .conftest import REPO

THREE = {
    "host": Speaker("host", "聞き手", "host"),
    "sam": Speaker("sam", "サム", "guest"),
    "brad": Speaker("brad", "ブラッド", "guest"),
}


def test_repo_voices_yaml_is_the_bundled_default() -> None:
    assert (REPO / "voices.yaml").read_text(encoding="utf-8") == bundled_voices_path().read_text(encoding="utf-8")


@pytest.mark.parametrize("engine", ["kokoro", "openjtalk"])
def test_default_config_gives_three_speakers_three_voices(engine: str) -> None:
    voices = assign_voices(load_voices(bundled_voices_path()), THREE, engine)
    assert len(set(voices.values())) == 3
    assert voices["host"].engine == engine


def test_lookup_order_is_id_then_name_then_role_then_pool() -> None:
    config = parse_voices(
        {
            "kokoro": {
                "speakers": {"sam": "jm_kumo", "ブラッド": {"voice": "jf_nezumi"}, "host": {"voice": "jf_alpha"}},
                "pool": ["jf_tebukuro"],
            }
        },
        source="v.yaml",
    )
    extra = {**THREE, "eve": Speaker("eve", "イヴ", "guest")}
    voices = assign_voices(config, extra, "kokoro")
    assert {k: v.name for k, v in voices.items()} == {
        "host": "jf_alpha",
        "sam": "jm_kumo",
        "brad": "jf_nezumi",
        "eve": "jf_tebukuro",
    }


def test_shared_voice_warns() -> None:
    config = parse_voices({"kokoro": {"speakers": {"guest": "jm_kumo", "host": "jf_alpha"}}}, source="v.yaml")
    with pytest.warns(UserWarning, match="share the voice jm_kumo"):
        assign_voices(config, THREE, "kokoro")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "v.yaml: expected a mapping with 'engine:' and one section per engine"),
        ({"kokoro": {"voices": {}}}, "v.yaml: kokoro.voices: unknown key (use speakers: or pool:)"),
        (
            {"kokoro": {"speakers": {"sam": {"voice": "jm_kumo", "pich": 2}}}},
            "v.yaml: kokoro.speakers.sam: unknown key 'pich' (allowed: half_tone, pitch, rate, speed, voice, volume)",
        ),
        (
            {"kokoro": {"speakers": {"sam": {"voice": "/etc/passwd"}}}},
            "v.yaml: kokoro.speakers.sam: voice '/etc/passwd' looks like a file path; give a voice name",
        ),
        (
            {"kokoro": {"speakers": {"sam": {"voice": "jm_kumo", "speed": "fast"}}}},
            "v.yaml: kokoro.speakers.sam: speed must be a number, got 'fast'",
        ),
        (
            {"kokoro": {"speakers": {"sam": {"voice": "jm_kumo", "speed": 5}}}},
            "v.yaml: kokoro.speakers.sam: speed 5 is out of range (use 0.5 to 2.0)",
        ),
        ({"kokoro": {"pool": "jm_kumo"}}, "v.yaml: kokoro.pool: expected a list of {voice: ...} entries"),
    ],
)
def test_bad_config_gets_one_line_error(data: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_voices(data, source="v.yaml")
    assert str(info.value) == message


def test_yaml_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "voices.yaml"
    path.write_text("engine: kokoro\nkokoro:\n  speakers: {host: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"voices.yaml:4: YAML error: .*\(fix that line\)"):
        load_voices(path)


def test_pool_exhausted_says_what_to_add() -> None:
    config = parse_voices({"openjtalk": {"pool": ["mei"]}}, source="v.yaml")
    with pytest.raises(
        ConfigError, match=r"no voice left for speaker 'sam' on openjtalk \(add 'sam: \{voice: \.\.\.\}'"
    ):
        assign_voices(config, THREE, "openjtalk")


def test_bundled_file_is_valid_yaml_with_known_engines() -> None:
    data = yaml.safe_load(bundled_voices_path().read_text(encoding="utf-8"))
    assert data["engine"] == "kokoro"
    assert Voice("kokoro", "jf_alpha") == load_voices(bundled_voices_path()).speakers["kokoro"]["host"]

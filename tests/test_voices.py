"""voices.yaml: shape checks with one-line errors, and a distinct voice for every speaker."""

from __future__ import annotations

import warnings
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


@pytest.mark.parametrize("engine", ["kokoro", "openjtalk", "edge"])
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
        (
            {"edge": {"speakers": {"host": {"voice": "ja-JP-NanamiNeural", "rate": "10%"}}}},
            "v.yaml: edge.speakers.host: rate '10%' is not an offset like '+10%' (sign, digits, unit)",
        ),
        (
            {"edge": {"pool": [{"voice": "ja-JP-KeitaNeural", "pitch": "+5%"}]}},
            "v.yaml: edge.pool[0]: pitch '+5%' is not an offset like '-20Hz' (sign, digits, unit)",
        ),
        (
            {"edge": {"pool": [{"voice": "ja-JP-KeitaNeural", "volume": 5}]}},
            "v.yaml: edge.pool[0]: volume 5 is not an offset like '-5%' (sign, digits, unit)",
        ),
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


def test_bundled_edge_voices_are_all_offered_and_distinct() -> None:
    from podcast.engines.edge import EdgeEngine
    from podcast.synth import check_voices

    config = load_voices(bundled_voices_path())
    pool = config.pools["edge"]
    assert len(set(pool)) == len(pool)
    speakers = {f"s{i}": Speaker(f"s{i}", f"話者{i}", "guest") for i in range(len(pool) - 2)}
    voices = assign_voices(config, {**THREE, **speakers}, "edge")
    assert len(set(voices.values())) == len(voices)  # eight speakers, eight voices
    check_voices(EdgeEngine(), voices, source="voices.yaml")


def test_unknown_edge_voice_names_the_closest() -> None:
    from podcast.engines.edge import EdgeEngine
    from podcast.synth import check_voices

    with pytest.raises(ConfigError) as info:
        check_voices(EdgeEngine(), {"host": Voice("edge", "ja-JP-NanamiNeurl")}, source="v.yaml")
    assert str(info.value) == (
        "v.yaml: speaker 'host': edge has no voice 'ja-JP-NanamiNeurl' (did you mean 'ja-JP-NanamiNeural'?)"
    )


def test_identical_edge_voice_and_prosody_warns_but_offsets_do_not() -> None:
    same = parse_voices(
        {"edge": {"speakers": {"guest": "ja-JP-KeitaNeural", "host": "ja-JP-NanamiNeural"}}}, source="v"
    )
    with pytest.warns(UserWarning, match="'sam' and 'brad' share the voice ja-JP-KeitaNeural on edge"):
        assign_voices(same, THREE, "edge")
    apart = parse_voices(
        {
            "edge": {
                "speakers": {"sam": "ja-JP-KeitaNeural", "host": "ja-JP-NanamiNeural"},
                "pool": [{"voice": "ja-JP-KeitaNeural", "pitch": "-15Hz"}],
            }
        },
        source="v",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        voices = assign_voices(apart, THREE, "edge")
    assert voices["brad"] == Voice("edge", "ja-JP-KeitaNeural", pitch="-15Hz")

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
                "speakers": {"sam": "jm_kumo", "ブラッド": {"voice": "jf_gongitsune"}, "host": {"voice": "jf_alpha"}},
                "pool": ["jf_siwis"],
            }
        },
        source="v.yaml",
    )
    extra = {**THREE, "eve": Speaker("eve", "イヴ", "guest")}
    voices = assign_voices(config, extra, "kokoro")
    assert {k: v.name for k, v in voices.items()} == {
        "host": "jf_alpha",
        "sam": "jm_kumo",
        "brad": "jf_gongitsune",
        "eve": "jf_siwis",
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


@pytest.mark.parametrize(
    ("section", "fix"),
    [("kokro", "did you mean 'kokoro:'?"), ("voices", "use engine: or one of: edge, kokoro, openjtalk")],
)
def test_unknown_section_names_file_line_and_fix(tmp_path: Path, section: str, fix: str) -> None:
    path = tmp_path / "voices.yaml"
    path.write_text(f"engine: openjtalk\n{section}:\n  speakers:\n    host: {{voice: mei}}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_voices(path)
    assert str(info.value) == f"{path}:2: unknown section '{section}:' ({fix})"


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


# --- casting by gender and by measured similarity ------------------------------------------------------------

TABLE = {"fake": {frozenset(("a1", "a2")): 0.92, frozenset(("a1", "b1")): 0.40, frozenset(("a2", "b1")): 0.50}}
FAKE_GENDERS = {"a1": "Female", "a2": "Female", "b1": "Male", "b2": "Male"}


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> None:
    """An invented similarity table for the engine 'fake' (the shipped one is checked below)."""
    monkeypatch.setattr("podcast.voices.measured_similarities", lambda: TABLE)


def people(*spec: tuple[str, str, str | None]) -> dict[str, Speaker]:
    return {sid: Speaker(sid, sid, role, gender) for sid, role, gender in spec}  # type: ignore[arg-type]


def fake_config(pool: list[str], speakers: dict[str, str] | None = None) -> object:
    return parse_voices({"fake": {"speakers": speakers or {}, "pool": pool}}, source="v.yaml")


@pytest.mark.usefixtures("measured")
@pytest.mark.parametrize(
    ("lineup", "pool", "expected"),
    [
        pytest.param(
            [("h", "host", None), ("g", "guest", None), ("k", "guest", None)],
            ["a1", "a2", "b1", "b2"],
            {"h": "a1", "g": "b1", "k": "b2"},
            id="a2 measures as a1, so it is passed over",
        ),
        pytest.param(
            [("h", "host", "female"), ("g", "guest", "male"), ("k", "guest", "male")],
            ["a1", "b1", "a2", "b2"],
            {"h": "a1", "g": "b1", "k": "b2"},
            id="each gets the first voice of their gender",
        ),
        pytest.param(
            [("h", "host", "male"), ("g", "guest", "female")],
            ["a1", "b1"],
            {"h": "b1", "g": "a1"},
            id="a male host is not given the pool's first, female voice",
        ),
        pytest.param(
            [("h", "host", None), ("g", "guest", "female")],
            ["b1", "a2"],
            {"h": "b1", "g": "a2"},
            id="unmeasured pairs count as distinct",
        ),
    ],
)
def test_pool_gives_each_speaker_the_first_fitting_distinct_voice(
    lineup: list[tuple[str, str, str | None]], pool: list[str], expected: dict[str, str]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cast = assign_voices(fake_config(pool), people(*lineup), "fake", genders=FAKE_GENDERS)  # type: ignore[arg-type]
    assert {sid: voice.name for sid, voice in cast.items()} == expected


@pytest.mark.usefixtures("measured")
def test_a_role_entry_yields_to_gender_and_goes_to_one_speaker_of_the_role() -> None:
    config = fake_config(["b1", "a2", "b2"], {"host": "a1"})
    lineup = people(("h1", "host", "male"), ("h2", "host", None), ("g", "guest", None))
    cast = assign_voices(config, lineup, "fake", genders=FAKE_GENDERS)  # type: ignore[arg-type]
    # h1 is male, so the role's a1 is not his; h2 takes it; g may not have a2 (0.92 alike a1) while b2 is free.
    assert {sid: voice.name for sid, voice in cast.items()} == {"h1": "b1", "h2": "a1", "g": "b2"}


@pytest.mark.usefixtures("measured")
def test_an_entry_by_id_or_name_is_honoured_whatever_the_gender() -> None:
    config = fake_config(["b1"], {"g": "a1"})
    cast = assign_voices(config, people(("g", "guest", "male")), "fake", genders=FAKE_GENDERS)  # type: ignore[arg-type]
    assert cast["g"].name == "a1"


@pytest.mark.usefixtures("measured")
def test_voices_measured_alike_warn_with_the_figure() -> None:
    config = fake_config([], {"g": "a1", "k": "a2"})
    with pytest.warns(UserWarning) as caught:
        assign_voices(config, people(("g", "guest", None), ("k", "guest", None)), "fake")  # type: ignore[arg-type]
    assert [str(w.message) for w in caught] == [
        "speakers 'g' and 'k' sound alike on fake: a1 and a2 measure 0.92 (two people measure under 0.75); "
        "give one another voice in voices.yaml"
    ]


@pytest.mark.usefixtures("measured")
def test_a_prosody_change_alone_does_not_make_another_person_on_a_measured_engine() -> None:
    config = parse_voices({"fake": {"speakers": {"g": "b1", "k": {"voice": "b1", "speed": 1.2}}}}, source="v")
    with pytest.warns(UserWarning, match=r"b1 and b1 \(speed 1.2\) measure 1.00"):
        assign_voices(config, people(("g", "guest", None), ("k", "guest", None)), "fake")  # type: ignore[arg-type]


@pytest.mark.usefixtures("measured")
def test_no_voice_of_the_gender_left_warns_and_still_casts() -> None:
    config = fake_config(["a1", "b1"])
    lineup = people(("g", "guest", "male"), ("k", "guest", "male"))
    with pytest.warns(UserWarning, match=r"no male voice left for speaker 'k' on fake, so it gets a1 \(add a male"):
        cast = assign_voices(config, lineup, "fake", genders=FAKE_GENDERS)  # type: ignore[arg-type]
    assert {sid: voice.name for sid, voice in cast.items()} == {"g": "b1", "k": "a1"}


# --- the shipped table and the bundled casts ------------------------------------------------------------------

LINEUPS = {
    "three, nothing said": [("host", "host", None), ("guest1", "guest", None), ("guest2", "guest", None)],
    "two male guests": [("host", "host", None), ("guest1", "guest", "male"), ("guest2", "guest", "male")],
    "all male": [("host", "host", "male"), ("guest1", "guest", "male")],
    "two of each": [
        ("host", "host", "female"),
        ("guest1", "guest", "male"),
        ("guest2", "guest", "female"),
        ("guest3", "guest", "male"),
    ],
    "four, nothing said": [("host", "host", None), *((f"guest{i}", "guest", None) for i in (1, 2, 3))],
}


@pytest.mark.parametrize("engine", ["kokoro", "openjtalk", "edge"])
@pytest.mark.parametrize("lineup", list(LINEUPS))
def test_bundled_cast_fits_every_gender_and_measures_distinct(engine: str, lineup: str) -> None:
    from podcast.engines import voice_catalog
    from podcast.voices import SIMILAR, similarity

    genders = {v.name: v.gender.lower() for v in voice_catalog(engine)}
    speakers = people(*LINEUPS[lineup])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "sound alike" and no "no male voice left"
        cast = assign_voices(load_voices(bundled_voices_path()), speakers, engine, genders=genders)
    for sid, speaker in speakers.items():
        assert speaker.gender in (None, genders[cast[sid].name]), (sid, cast[sid].name)
    voices = list(cast.values())
    assert len(set(voices)) == len(voices)
    for i, a in enumerate(voices):
        for b in voices[i + 1 :]:
            assert (similarity(engine, a, b) or 0.0) < SIMILAR, (a.name, b.name)


@pytest.mark.parametrize("engine", ["kokoro", "openjtalk"])
def test_the_shipped_table_measures_every_pair_of_offered_voices(engine: str) -> None:
    from itertools import combinations

    from podcast.engines import get_engine
    from podcast.voices import measured_similarities

    offered = get_engine(engine).voices()
    assert set(measured_similarities()[engine]) == {frozenset(pair) for pair in combinations(offered, 2)}
    assert all(0.0 < value < 1.0 for value in measured_similarities()[engine].values())


@pytest.mark.parametrize("engine", ["kokoro", "openjtalk"])
def test_each_offline_engine_has_two_distinct_voices_of_each_gender(engine: str) -> None:
    from podcast.engines import voice_catalog
    from podcast.voices import SIMILAR, measured_similarities

    table = measured_similarities()[engine]
    for gender in ("Female", "Male"):
        names = [v.name for v in voice_catalog(engine) if v.gender == gender]
        assert any(table[frozenset((a, b))] < SIMILAR for a in names for b in names if a != b), gender

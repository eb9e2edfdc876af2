"""Clip cache: round trip, atomic files, corrupt entries re-made rather than played."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from podcast.cache import ClipCache, clip_key, default_cache_dir, turn_key
from podcast.errors import ConfigError
from podcast.model import Clip, LeveledTurn, WordTime

CLIP = Clip(pcm=bytes(range(256)) * 10, sample_rate=24_000, words=(WordTime(12, 300), WordTime(310, 52)))


def test_round_trip(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    key = clip_key("engine 1|voice", "こんにちは。")
    assert cache.get(key) is None
    cache.put(key, CLIP)
    assert cache.get(key) == CLIP
    assert not list(tmp_path.rglob("*.tmp"))


def test_clips_without_word_times_and_first_version_files_read_back(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    plain = Clip(pcm=CLIP.pcm, sample_rate=16_000)
    cache.put("ab" * 32, plain)
    assert cache.get("ab" * 32) == plain
    # A file written before word times existed: magic PODCLIP1, checksum over the PCM alone.
    header = struct.pack("<8sIQ32s", b"PODCLIP1", 24_000, len(CLIP.pcm), hashlib.sha256(CLIP.pcm).digest())
    path = tmp_path / "clips" / "cd" / f"{'cd' * 32}.clip"
    path.parent.mkdir(parents=True)
    path.write_bytes(header + CLIP.pcm)
    assert cache.get("cd" * 32) == Clip(pcm=CLIP.pcm, sample_rate=24_000)


def test_leveled_turns_round_trip_and_a_corrupt_one_is_dropped(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    turn = LeveledTurn(pcm=bytes(range(200)) * 4, sentence_spans=((0, 150), (260, 400)), ceiling_db=-2.6)
    key = turn_key("leveling 1", clip_key("e", "t"))
    assert cache.get_turn(key) is None
    cache.put_turn(key, turn)
    assert cache.get_turn(key) == turn
    (path,) = tmp_path.rglob("*.turn")
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.warns(UserWarning, match="corrupt; leveling it again"):
        assert cache.get_turn(key) is None
    assert not path.exists()


@pytest.mark.parametrize(
    ("fingerprint", "text"),
    [("engine 1|voice", "こんにちは"), ("engine 2|voice", "こんにちは。"), ("engine 1|other", "こんにちは。")],
)
def test_key_changes_with_everything_that_shapes_sound(fingerprint: str, text: str) -> None:
    assert clip_key(fingerprint, text) != clip_key("engine 1|voice", "こんにちは。")


@pytest.mark.parametrize("damage", ["truncate", "flip", "odd", "empty", "garbage"])
def test_corrupt_entry_is_dropped_with_warning(tmp_path: Path, damage: str) -> None:
    cache = ClipCache(tmp_path)
    key = clip_key("e", "t")
    cache.put(key, CLIP)
    (path,) = tmp_path.rglob("*.clip")
    data = path.read_bytes()
    damaged = {
        "truncate": data[:-7],
        "flip": data[:-1] + bytes([data[-1] ^ 1]),  # in the last word time
        "odd": data + b"\0",  # a byte past the last word time
        "empty": b"",
        "garbage": b"not a clip at all" * 10,
    }[damage]
    path.write_bytes(damaged)
    with pytest.warns(UserWarning, match="corrupt"):
        assert cache.get(key) is None
    assert not path.exists()


def test_cache_dir_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PODCAST_CACHE_DIR", str(tmp_path / "a"))
    assert default_cache_dir() == tmp_path / "a"
    monkeypatch.delenv("PODCAST_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "podcast"


def test_a_cache_behind_an_fsspec_url_is_the_same_cache(tmp_path: Path) -> None:
    """file:// goes through fsspec as s3:// would: the same layout, verified the same way, atomic puts."""
    remote = ClipCache(f"file://{tmp_path}")
    local = ClipCache(tmp_path)
    assert remote.location == f"file://{tmp_path}" and local.location == str(tmp_path)
    key = clip_key("engine 1|voice", "こんにちは。")
    assert not remote.has(key) and remote.get(key) is None
    remote.put(key, CLIP)
    assert remote.has(key) and local.get(key) == CLIP == remote.get(key)
    turn = LeveledTurn(pcm=bytes(range(200)) * 4, sentence_spans=((0, 150),), ceiling_db=-2.6)
    remote.put_turn("ab" * 32, turn)
    assert local.get_turn("ab" * 32) == turn
    remote.put_render("cd" * 32, "digest")
    assert local.get_render("cd" * 32) == "digest" and remote.get_render("ef" * 32) is None
    assert not list(tmp_path.rglob("*.tmp"))
    (path,) = tmp_path.rglob("*.clip")
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.warns(UserWarning, match=r"clip cache: file://.*\.clip is corrupt; synthesizing it again"):
        assert remote.get(key) is None
    assert not path.exists()


def test_an_unknown_url_scheme_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^cache nosuch://x: "):
        ClipCache("nosuch://x")

"""Shared fixtures: a deterministic FakeEngine, an isolated clip cache, small scripts."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from podcast import engines
from podcast.model import Chapter, Clip, Script, Speaker, Turn, Voice

REPO = Path(__file__).resolve().parents[1]
SEED = REPO.parent / "shared" / "seed" / "interview.txt"  # kept outside the repository: never quoted in tests
# CI must run the tests that read ../shared: there (CI or PODCAST_REQUIRE_SHARED set) a missing seed fails them.
REQUIRE_SHARED = bool(os.environ.get("CI") or os.environ.get("PODCAST_REQUIRE_SHARED"))
FIXTURES = Path(__file__).parent / "fixtures"


class FakeEngine:
    """Offline and instant: a tone per voice, 60 ms per character; records every call."""

    name: ClassVar[str] = "fake"
    concurrency: ClassVar[int] = 2
    sample_rate: ClassVar[int] = 16_000

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def voices(self) -> list[str]:
        return ["low", "mid", "high"]

    def fingerprint(self, voice: Voice) -> str:
        return f"fake 1|{voice.name}|speed={voice.speed:g}"

    async def synthesize(self, text: str, voice: Voice) -> Clip:
        self.calls.append((text, voice.name))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.001)
        self.in_flight -= 1
        seed = int(hashlib.sha256(voice.name.encode()).hexdigest()[:4], 16)
        frequency = 150 + seed % 300
        t = np.arange(int(self.sample_rate * 0.06 * len(text))) / self.sample_rate
        tone = 0.3 * np.sin(2 * np.pi * frequency * t)
        return Clip(pcm=(tone * 32767).astype("<i2").tobytes(), sample_rate=self.sample_rate)


@pytest.fixture(autouse=True, scope="session")
def shared_engine_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """kokoro's 90 MB model is assembled once per run, not in every test's cache; onnxruntime writes nothing to ~."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KOKORO_JA_CACHE", str(tmp_path_factory.mktemp("kokoro-model")))
        patch.setenv("ORT_DISABLE_TELEMETRY", "1")  # for tests that import pyopenjtalk themselves
        yield


@pytest.fixture(autouse=True)
def seed_present(request: pytest.FixtureRequest) -> None:
    """A test marked seed reads ../shared/seed: skipped on a clone without it, failed in CI."""
    if request.node.get_closest_marker("seed") is None or SEED.exists():
        return
    if REQUIRE_SHARED:
        pytest.fail(f"{SEED} is missing, and CI needs it: put the shared folder beside the clone")
    pytest.skip(f"{SEED} is not beside this clone (PODCAST_REQUIRE_SHARED=1 fails instead)")


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches ~/.cache: every test gets its own clip cache."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("PODCAST_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def fake_engine() -> Iterator[FakeEngine]:
    """A FakeEngine registered as 'fake', unregistered afterwards."""
    engine = FakeEngine()
    engines.register("fake", lambda: engine)
    try:
        yield engine
    finally:
        engines.unregister("fake")


def small_script() -> Script:
    """Two chapters, three speakers, a stage note: the shapes every stage must handle."""
    speakers = {
        "host": Speaker("host", "聞き手", "host"),
        "sam": Speaker("sam", "サム", "guest"),
        "brad": Speaker("brad", "ブラッド", "guest"),
    }
    return Script(
        title="テスト回 | 小さな台本",
        speakers=speakers,
        chapters=(
            Chapter(
                "始まり",
                (
                    Turn("host", "こんにちは。今日はよろしくお願いします（笑）。", line=1),
                    Turn("sam", "はい、よろしくお願いします。", line=2),
                ),
            ),
            Chapter(
                "未来について",
                (
                    Turn("host", "ブラッド、十年後はどうなっていますか?", line=3),
                    Turn("brad", "予測は苦手です。でも楽しみです。", line=4),
                ),
            ),
        ),
    )


E2E = FIXTURES / "e2e_interview.txt"
THREE_CHAPTERS = FIXTURES / "three_chapters.yaml"  # three chapters, a title full of <&>"'


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder with two real openjtalk episodes (the e2e interview, three_chapters.yaml); do not modify."""
    from podcast import render

    output = tmp_path_factory.mktemp("published")
    cache = tmp_path_factory.mktemp("published-cache")  # session scope: the autouse cache fixture does not apply
    for source in (E2E, THREE_CHAPTERS):
        render(source, output_dir=output, engine="openjtalk", cache_dir=cache)
    return output

"""Many episodes in one `podcast render`: inputs expanded, up-to-date ones skipped, failures reported, workers."""

from __future__ import annotations

import asyncio
import io
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podcast import engines
from podcast.batch import expand_inputs, render_batch
from podcast.cache import ClipCache
from podcast.cli import app
from podcast.cluster import batches
from podcast.episode_dir import Placement
from podcast.errors import ConfigError
from podcast.model import Script
from podcast.progress import BatchProgressReporter, BatchStatus
from podcast.synth import ClipRequest, clip_requests, synthesize_script

from .conftest import FakeEngine, small_script
from .test_synth import VOICES

runner = CliRunner()

# Invented interviews, a few sentences each: openjtalk renders one in about a second.
EPISODES = {
    "market.txt": "朝の市場を歩く\n聞き手：いつから通っていますか？\n店主：十年ほど前からです。野菜が新鮮です。\n",
    "hut.txt": "山小屋の冬支度\n聞き手：冬の準備は大変ですか？\n管理人：薪を三百束ほど割ります。\n",
    "clock.txt": "古い時計を直す人\n聞き手：どんな時計を直しますか？\n職人：祖父の代の柱時計が多いですね。\n",
}


def write_episodes(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in EPISODES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / name for name in EPISODES]


def render(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["render", *args, "--engine", "openjtalk", "--quiet"])
    return result.exit_code, result.stdout, result.stderr


def test_inputs_are_files_folders_and_globs_each_once(tmp_path: Path) -> None:
    market, hut, clock = write_episodes(tmp_path / "in")
    (tmp_path / "in" / "voices.yaml").write_text("engine: openjtalk\n", encoding="utf-8")  # settings, not an episode
    (tmp_path / "in" / "notes.pdf").write_bytes(b"%PDF")
    assert expand_inputs([str(tmp_path / "in")]) == sorted([market, hut, clock])
    assert expand_inputs([str(hut), str(tmp_path / "in" / "*.txt"), str(hut)]) == [hut, clock, market]
    with pytest.raises(ConfigError, match=r"\*\.srt: matches no file$"):
        expand_inputs([str(tmp_path / "in" / "*.srt")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no transcript or script in it"):
        expand_inputs([str(tmp_path / "empty")])


def test_a_batch_renders_each_episode_then_skips_what_is_up_to_date(tmp_path: Path) -> None:
    write_episodes(tmp_path / "in")
    out = tmp_path / "out"
    code, stdout, stderr = render(str(tmp_path / "in"), "-o", str(out))
    assert (code, stderr) == (0, "")
    lines = stdout.splitlines()
    assert len(lines) == 4 and all(line.startswith(f"Wrote {out}/") for line in lines[:3]), stdout
    assert all(line.endswith("engine openjtalk); clips: 2 synthesized, 0 from cache") for line in lines[:3]), stdout
    assert lines[3].startswith("3 episodes: 3 rendered, 0 up to date, 0 failed; ")
    mp3s = {path: path.read_bytes() for path in out.rglob("*.mp3")}

    code, stdout, _ = render(str(tmp_path / "in"), "-o", str(out))
    assert code == 0
    assert stdout.splitlines()[:3] == [
        f"Up to date: {out / slug}/ ({tmp_path / 'in' / name})"
        for name, slug in (
            ("clock.txt", "furui-toke-o-naosu-hito"),
            ("hut.txt", "yamagoya-no-fuyu-jitaku"),
            ("market.txt", "asa-no-shijo-o-aruku"),
        )
    ]
    assert stdout.splitlines()[3].startswith("3 episodes: 0 rendered, 3 up to date, 0 failed; 0:00 of audio")

    # An edited transcript renders again; the others stay as they are.
    (tmp_path / "in" / "hut.txt").write_text(EPISODES["hut.txt"] + "聞き手：ありがとうございました。\n", "utf-8")
    code, stdout, _ = render(str(tmp_path / "in"), "-o", str(out))
    assert code == 0 and "1 rendered, 2 up to date" in stdout
    assert sum(line.startswith("Wrote ") for line in stdout.splitlines()) == 1
    # A changed output is not up to date: it is rendered again, as is everything with --force.
    mp3 = next(iter(mp3s))
    mp3.write_bytes(b"damaged")
    code, stdout, _ = render(str(tmp_path / "in"), "-o", str(out))
    assert "1 rendered, 2 up to date" in stdout and mp3.read_bytes() == mp3s[mp3]
    code, stdout, _ = render(str(tmp_path / "in"), "-o", str(out), "--force")
    assert "3 rendered, 0 up to date" in stdout


def test_a_failed_episode_is_one_line_and_the_rest_render(tmp_path: Path) -> None:
    market, hut, _ = write_episodes(tmp_path / "in")
    broken = tmp_path / "in" / "broken.yaml"
    broken.write_text("title: x\nchapters:\n  - [\n", encoding="utf-8")
    missing = tmp_path / "in" / "missing.txt"
    code, stdout, stderr = render(str(market), str(broken), str(missing), str(hut), "-o", str(tmp_path / "out"))
    assert code == 2
    assert "Traceback" not in stderr
    errors = stderr.splitlines()
    assert len(errors) == 3, stderr
    assert errors[0].startswith(f"Failed: {broken}:4: YAML error: ")
    assert errors[1].startswith(f"Failed: {missing}: ")
    assert errors[2] == "Error: 2 of 4 episodes failed (each named above)"
    assert sum(line.startswith("Wrote ") for line in stdout.splitlines()) == 2
    assert stdout.splitlines()[-1].startswith("4 episodes: 2 rendered, 0 up to date, 2 failed; ")


def test_a_bug_in_one_episode_is_one_line_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    market, hut, _ = write_episodes(tmp_path / "in")
    from podcast import pipeline

    real = pipeline.place_episode

    def flaky(output_dir: Path, script: Script, **options: str | None) -> Placement:
        if "山小屋" in script.title:
            raise ZeroDivisionError("division by zero")
        return real(output_dir, script, **options)

    monkeypatch.setattr(pipeline, "place_episode", flaky)
    code, stdout, stderr = render(str(market), str(hut), "-o", str(tmp_path / "out"))
    assert code == 2 and "Traceback" not in stderr
    assert stderr.splitlines()[0] == (
        f"Failed: {hut}: ZeroDivisionError: division by zero (a bug; PODCAST_DEBUG=1 shows where)"
    )


def test_same_episode_twice_and_slug_with_several_inputs_are_refused(tmp_path: Path) -> None:
    market, hut, _ = write_episodes(tmp_path / "in")
    twin = tmp_path / "twin.txt"
    twin.write_bytes(market.read_bytes())  # same title: same episode id
    code, _, stderr = render(str(market), str(twin), "-o", str(tmp_path / "out"))
    assert code == 2
    assert stderr.splitlines()[0] == (
        f"Failed: {twin}: the same episode as {market} (one title or id, one episode); retitle one"
    )
    result = runner.invoke(app, ["render", str(market), str(hut), "--slug", "x"])
    assert result.exit_code == 2 and "--slug" in result.stderr and "give one INPUT" in result.stderr


def test_workers_render_the_same_bytes_and_load_the_engine_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_episodes(tmp_path / "in")
    engines.get_engine("openjtalk")  # the built-in factory, registered on first use
    made = []
    factory = engines._factories["openjtalk"]

    def counting() -> engines.Engine:
        made.append(1)
        return factory()

    monkeypatch.setitem(engines._factories, "openjtalk", counting)
    monkeypatch.delitem(engines._instances, "openjtalk")
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        results = asyncio.run(
            render_batch(
                paths, output_dir=out, engine="openjtalk", cache_dir=tmp_path / f"cache{workers}", workers=workers
            )
        )
        assert [r.status for r in results] == ["rendered"] * 3
        outputs[workers] = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.suffix in (".mp3", ".vtt")}
    assert outputs[1] == outputs[2] and len(outputs[1]) == 6
    assert len(made) == 1  # one engine for six episodes on up to two workers


def test_clip_requests_are_the_clips_a_render_stores(fake_engine: FakeEngine, tmp_path: Path) -> None:
    script = small_script()
    requests = clip_requests(script, VOICES, fake_engine)
    cache = ClipCache(tmp_path)
    asyncio.run(synthesize_script(script, VOICES, fake_engine, cache))
    assert {p.stem for p in tmp_path.rglob("*.clip")} == {r.key for r in requests}
    assert len(requests) == len(fake_engine.calls)


def test_batches_group_sentences_up_to_the_speech_limit() -> None:
    voice = VOICES["host"]
    requests = [ClipRequest(str(i), "t", voice, ms) for i, ms in enumerate([400, 300, 500, 2_000, 100])]
    assert [[r.key for r in group] for group in batches(requests, 1_000)] == [["0", "1"], ["2"], ["3"], ["4"]]
    assert batches([], 1_000) == []


def test_batch_progress_lines_say_episodes_speech_and_eta() -> None:
    now = [0.0]
    stream = io.StringIO()
    reporter = BatchProgressReporter(stream, live=False, clock=lambda: now[0])
    reporter(BatchStatus(episodes=3, finished=1, skipped=1, failed=0, total_ms=120_000, done_ms=0, fresh_ms=0))
    now[0] = 10.0
    reporter(
        BatchStatus(episodes=3, finished=2, skipped=1, failed=0, total_ms=120_000, done_ms=60_000, fresh_ms=60_000)
    )
    now[0] = 20.0
    reporter(
        BatchStatus(episodes=3, finished=3, skipped=1, failed=1, total_ms=120_000, done_ms=120_000, fresh_ms=60_000)
    )
    reporter.close()
    assert stream.getvalue().splitlines() == [
        "Rendering: 1/3 episodes, 0:00 of 2:00 of speech (1 up to date)",
        "Rendering: 2/3 episodes, 1:00 of 2:00 of speech (1 up to date), ETA 0:10",
        "Rendering: 3/3 episodes, 2:00 of 2:00 of speech (1 up to date, 1 failed)",
    ]


def test_without_a_cluster_ray_is_never_imported(tmp_path: Path) -> None:
    paths = write_episodes(tmp_path / "in")
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom podcast.cli import app\n"
        f"for args in ([{str(paths[0])!r}], [{str(paths[1])!r}, {str(paths[2])!r}, '-w', '2']):\n"
        f"    r = CliRunner().invoke(app, ['render', *args, '-e', 'openjtalk', '-q', '-o', {str(tmp_path / 'o')!r}])\n"
        "    assert r.exit_code == 0, r.output\n"
        "assert 'ray' not in sys.modules and 'fsspec' not in sys.modules, 'imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_cluster_address_nothing_answers_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    paths = write_episodes(tmp_path / "in")
    port = socket.socket()
    port.bind(("127.0.0.1", 0))  # bound, never listening: refused at once
    address = f"127.0.0.1:{port.getsockname()[1]}"
    with port:
        code, stdout, stderr = render(str(paths[0]), "--cluster", address, "-o", str(tmp_path / "out"))
    assert (code, stdout) == (2, "")
    assert stderr == (
        f"Error: --cluster {address}: nothing answers there (Connection refused); start the head with "
        "`ray start --head --port PORT`, or give the address it printed\n"
    )

"""End to end through the CLI: real engines, real MP3s, chapters read back from the file."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from podcast.cli import app
from podcast.loudness import SAMPLE_RATE
from podcast.text import is_speakable, spoken_text

from .audio import decode, measure_file, read_chapters
from .conftest import FIXTURES, SEED
from .test_writers import ffmetadata

runner = CliRunner()
E2E = FIXTURES / "e2e_interview.txt"


def render(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["render", *args, "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # --quiet: no progress, no notes
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def dbfs(samples: np.ndarray) -> float:  # type: ignore[type-arg]
    rms = float(np.sqrt(np.mean((samples.astype(np.float64) / 32768) ** 2))) if len(samples) else 0.0
    return 20 * np.log10(rms) if rms > 0 else -120.0


def parse_vtt(text: str) -> list[tuple[int, int, str, str]]:
    """(start ms, end ms, speaker, text) per cue."""
    stamp = r"(\d\d):(\d\d):(\d\d)\.(\d\d\d)"
    cues = []
    for match in re.finditer(rf"{stamp} --> {stamp}\n<v ([^>]+)>(.*)\n", text):
        g = [int(x) if x.isdigit() else x for x in match.groups()]
        start = ((g[0] * 60 + g[1]) * 60 + g[2]) * 1000 + g[3]
        end = ((g[4] * 60 + g[5]) * 60 + g[6]) * 1000 + g[7]
        cues.append((start, end, str(g[8]), str(g[9])))
    return cues


def check_episode(summary: dict, *, turns: int) -> list[tuple[int, int, str, str]]:  # type: ignore[type-arg]
    """Everything the episode files promise, checked against the decoded audio."""
    audio = Path(summary["audio"])
    samples = decode(audio)
    assert abs(len(samples) / SAMPLE_RATE - summary["duration_s"]) < 0.05
    # Chapters agree across the --json summary, chapters.json, the ID3 frames and ffmpeg's reading.
    starts = [c["start_s"] for c in summary["chapters"]]
    doc = json.loads(Path(summary["chapters_json"]).read_text(encoding="utf-8"))
    assert doc["version"] == "1.2.0"
    assert [c["startTime"] for c in doc["chapters"]] == pytest.approx(starts, abs=0.001)
    id3 = read_chapters(audio)
    assert [c.title for c in id3] == [c["title"] for c in summary["chapters"]]
    assert [c.start_ms / 1000 for c in id3] == pytest.approx(starts, abs=0.001)
    _, ff_chapters = ffmetadata(audio)
    assert [int(c["START"]) for c in ff_chapters] == [c.start_ms for c in id3]
    assert id3[-1].end_ms == pytest.approx(summary["duration_s"] * 1000, abs=1)
    # Loudness and true peak of the file as a player decodes it.
    measured = measure_file(audio)
    assert measured["lufs"] == pytest.approx(-16.0, abs=1.0)
    assert measured["true_peak_db"] <= -1.0
    # VTT cues cover the speech: sound inside each spoken cue, silence in the pauses between cues.
    cues = parse_vtt(Path(summary["transcript_vtt"]).read_text(encoding="utf-8"))
    assert len(cues) >= turns

    def at(ms: int) -> int:
        return ms * SAMPLE_RATE // 1000

    for (start, end, _, text), following in zip(cues, cues[1:] + [(None, None, "", "")], strict=True):
        if is_speakable(spoken_text(text)):
            assert dbfs(samples[at(start) : at(end)]) > -40, text
        gap_end = following[0] if following[0] is not None else len(samples) * 1000 // SAMPLE_RATE
        if gap_end - end > 200:
            assert dbfs(samples[at(end + 100) : at(gap_end - 100)]) < -55, f"sound after {text!r}"
    assert summary["clips_synthesized"] + summary["clips_cached"] == turns
    return cues


def test_render_transcript_with_openjtalk_then_from_cache(tmp_path: Path) -> None:
    summary = render(str(E2E), "-o", str(tmp_path), "--engine", "openjtalk")
    assert summary["engine"] == "openjtalk"
    assert summary["title"] == "宇宙と料理 | 星野シェフに聞く、無重力の台所"
    assert [c["title"] for c in summary["chapters"]] == ["宇宙で料理を始めたきっかけ", "これからの夢"]
    assert summary["clips_synthesized"] == 6 and summary["clips_cached"] == 0
    assert list(summary["stages"]) == ["parse", "synthesis", "assembly", "loudness", "encode", "tagging"]
    assert all(stage["wall_s"] >= 0 and stage["cpu_s"] >= 0 for stage in summary["stages"].values())
    assert summary["stages"]["synthesis"]["wall_s"] > 0 and summary["stages"]["encode"]["wall_s"] > 0
    cues = check_episode(summary, turns=6)
    assert {speaker for _, _, speaker, _ in cues} == {"聞き手", "星野"}
    assert Path(summary["audio"]).parent == tmp_path / summary["slug"]
    first = Path(summary["audio"]).read_bytes()

    leveled = sorted((Path(os.environ["PODCAST_CACHE_DIR"]) / "turns").rglob("*.turn"))
    assert len(leveled) == 6  # each turn as leveled, so the next render need not level it again
    leveled[0].write_bytes(leveled[0].read_bytes()[:-3])  # a torn file is found out and made again

    result = runner.invoke(app, ["render", str(E2E), "-o", str(tmp_path), "--engine", "openjtalk", "--json"])
    assert re.search(r"^Warning: clip cache: \S+\.turn is corrupt; leveling it again$", result.stderr, re.M)
    again = json.loads(result.stdout)
    assert (again["clips_synthesized"], again["clips_cached"]) == (0, 6)
    assert Path(again["audio"]).read_bytes() == first  # a cached render is the same episode
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.slow  # kokoro on 2 cores: about a minute
def test_render_with_kokoro_default_engine(tmp_path: Path) -> None:
    summary = render(str(E2E), "-o", str(tmp_path))
    assert summary["engine"] == "kokoro"
    check_episode(summary, turns=6)


def test_split_edit_render_round_trip(tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    result = runner.invoke(app, ["split", str(E2E), "-o", str(script)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Wrote {script}: 2 speakers, 6 turns, 2 chapters\n")
    text = script.read_text(encoding="utf-8")
    for line in E2E.read_text(encoding="utf-8").splitlines()[3:]:
        if "：" in line:
            assert line.split("：", 1)[1] in text  # no text lost
    # A hand edit: the guest's name changes; the render uses the edited script.
    script.write_text(text.replace("name: 星野", "name: 星野シェフ"), encoding="utf-8")
    summary = render(str(script), "-o", str(tmp_path / "out"), "--engine", "openjtalk")
    cues = parse_vtt(Path(summary["transcript_vtt"]).read_text(encoding="utf-8"))
    assert "星野シェフ" in {speaker for _, _, speaker, _ in cues}
    assert Path(summary["script_yaml"]).read_text(encoding="utf-8").count("name: 星野シェフ") == 1


@pytest.mark.seed
@pytest.mark.slow  # a 33-minute episode: about 4 minutes
def test_seed_interview_renders_with_chapters(tmp_path: Path) -> None:
    summary = render(str(SEED), "-o", str(tmp_path), "--engine", "openjtalk")
    assert len(read_chapters(Path(summary["audio"]))) >= 8
    assert summary["duration_s"] > 15 * 60
    vtt = Path(summary["transcript_vtt"]).read_text(encoding="utf-8")
    for chrome in ("この記事は約19分で読めます", "コメント\n", "AIに仕事を奪われたい", "Sam Altman | When AI"):
        assert chrome not in vtt
    check_episode(summary, turns=summary["clips_synthesized"])


def error_of(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_bad_transcripts_get_one_line_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text(" \n\u3000\n", encoding="utf-8")
    assert error_of("render", str(empty), "-o", str(tmp_path)).startswith(f"Error: {empty}: ")
    binary = tmp_path / "audio.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    assert error_of("render", str(binary), "-o", str(tmp_path)).startswith(f"Error: {binary}: ")
    missing = tmp_path / "missing.txt"
    assert error_of("render", str(missing), "-o", str(tmp_path)).startswith(f"Error: {missing}: ")
    assert not list(tmp_path.rglob("*.mp3"))


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig"])
def test_shift_jis_and_bom_transcripts_are_decoded(tmp_path: Path, encoding: str) -> None:
    source = tmp_path / "interview.txt"
    source.write_bytes(E2E.read_text(encoding="utf-8").encode(encoding))
    script = tmp_path / "script.yaml"
    result = runner.invoke(app, ["split", str(source), "-o", str(script)])
    assert result.exit_code == 0, result.output
    assert "月面に小さな食堂を開きたいです。" in script.read_text(encoding="utf-8")
    assert "\ufeff" not in script.read_text(encoding="utf-8")


def test_bad_scripts_name_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: x\nspeakers:\n  host: {name: 聞き手, role: host\nchapters: []\n", encoding="utf-8")
    assert re.fullmatch(rf"Error: {re.escape(str(broken))}:3: YAML error: .*", error_of("render", str(broken)))
    undeclared = tmp_path / "undeclared.yaml"
    undeclared.write_text(
        "title: x\nspeakers:\n  host: {name: 聞き手, role: host}\nchapters:\n"
        "  - title: a\n    turns:\n      - {speaker: host, text: こんにちは}\n      - {speaker: bob, text: はい}\n",
        encoding="utf-8",
    )
    message = error_of("render", str(undeclared), "-o", str(tmp_path))
    assert message.startswith(f"Error: {undeclared}:8: ") and "'bob'" in message
    assert not list(tmp_path.rglob("*.mp3"))


def test_unwritable_output_folder_fails_before_synthesis(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    message = error_of("render", str(E2E), "-o", str(blocker), "--engine", "openjtalk")
    assert re.fullmatch(
        rf"Error: {re.escape(str(blocker))}/.+: cannot write the output folder \(.+\); "
        r"choose another with -o",
        message,
    )


def test_failed_encode_keeps_the_previous_episode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = render(str(E2E), "-o", str(tmp_path), "--engine", "openjtalk")
    before = Path(summary["audio"]).read_bytes()
    monkeypatch.setattr("podcast.media.BITRATE", "not-a-bitrate")
    monkeypatch.setattr("podcast.assemble.TURN_GAP_MS", 700)  # a changed mix that must not land
    message = error_of("render", str(E2E), "-o", str(tmp_path), "--engine", "openjtalk", "--quiet")
    assert "could not encode MP3" in message
    assert Path(summary["audio"]).read_bytes() == before
    assert not list(tmp_path.rglob("*.tmp"))


def test_unknown_engine_and_voice_errors(tmp_path: Path) -> None:
    assert error_of("render", str(E2E), "--engine", "kokor") == "Error: unknown engine 'kokor' (did you mean 'kokoro'?)"
    voices = tmp_path / "voices.yaml"
    shutil.copy(Path(__file__).parents[1] / "voices.yaml", voices)
    voices.write_text(voices.read_text(encoding="utf-8").replace("{voice: jf_alpha}", "{voice: jf_alfa}"), "utf-8")
    assert error_of("render", str(E2E), "--voices", str(voices), "-o", str(tmp_path)) == (
        f"Error: {voices}: speaker 'host': kokoro has no voice 'jf_alfa' (did you mean 'jf_alpha'?)"
    )


def test_a_script_file_under_any_name_is_read_as_a_script(tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    assert runner.invoke(app, ["split", str(E2E), "-o", str(script)]).exit_code == 0
    renamed = tmp_path / "edited.txt"
    renamed.write_text(script.read_text(encoding="utf-8").replace("name: 星野", "name: 星野シェフ"), encoding="utf-8")
    again = tmp_path / "again.yaml"
    result = runner.invoke(app, ["split", str(renamed), "-o", str(again)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Wrote {again}: 2 speakers, 6 turns, 2 chapters\n")
    assert "guest1: {name: 星野シェフ, role: guest}" in again.read_text(encoding="utf-8")


def test_split_hints_name_the_speakers(tmp_path: Path) -> None:
    transcript = tmp_path / "t.txt"
    transcript.write_text(
        "朝の店\n\n森田さん、開店は何時ですか？\n七時です。パンが焼き上がるのがちょうどその頃なので。\n"
        "小池さんはいかがですか？\n私は仕込みがあるので五時には来ています。\n",
        encoding="utf-8",
    )
    out = tmp_path / "s.yaml"
    args = ["split", str(transcript), "-o", str(out), "--speakers", "3", "--host", "山口"]
    result = runner.invoke(app, [*args, "--guest", "森田", "--guest", "小池"])
    assert result.exit_code == 0, result.output
    assert "host       山口 (host): 2 turns" in result.output
    assert "森田 (guest): 1 turns" in result.output and "小池 (guest): 1 turns" in result.output


def test_split_says_which_lines_it_left_unvoiced(tmp_path: Path) -> None:
    transcript = tmp_path / "t.txt"
    transcript.write_text(
        "ホーム > 対談 > 第三回\n朝の店\n――開店は何時ですか？\n七時です。\n――早いですね。\nこの記事をシェアする\n",
        encoding="utf-8",
    )
    out = tmp_path / "s.yaml"
    result = runner.invoke(app, ["split", str(transcript), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Not voiced: 2 lines taken for page chrome (line 1 「ホーム > 対談 > 第三回」, line 6" in result.stderr
    assert "#   line 6: この記事をシェアする" in out.read_text(encoding="utf-8")
    quiet = runner.invoke(app, ["split", str(transcript), "-o", str(out), "-q"])
    assert quiet.exit_code == 0 and "Not voiced" not in quiet.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--speakers", "2", "--host", "a", "--guest", "b", "--guest", "c"], "3 names given for 2 speakers"),
        (["--guest", " "], "a name cannot be empty"),
        (["--speakers", "1"], "--speakers"),
    ],
)
def test_split_rejects_bad_hints(tmp_path: Path, extra: list[str], message: str) -> None:
    transcript = tmp_path / "t.txt"
    transcript.write_text("題\n\nいつですか？\n昨日です。\n", encoding="utf-8")
    result = runner.invoke(app, ["split", str(transcript), "-o", str(tmp_path / "s.yaml"), *extra])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "s.yaml").exists()


def test_split_hints_say_gender_and_the_summary_asks_for_the_rest(tmp_path: Path) -> None:
    transcript = tmp_path / "t.txt"
    transcript.write_text(
        "朝の店\n\n山口：森田さん、開店は何時ですか？\n森田：七時です。パンが焼き上がるのがちょうどその頃なので。\n"
        "山口：小池さんはいかがですか？\n小池：私は仕込みがあるので五時には来ています。\n",
        encoding="utf-8",
    )
    out = tmp_path / "s.yaml"
    args = ["split", str(transcript), "-o", str(out), "--host", "山口：female", "--guest", "森田:male:older"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "山口 (host, female): 2 turns" in result.output and "森田 (guest, male, older): 1 turns" in result.output
    sid = next(line.split()[0] for line in result.output.splitlines() if "小池 (guest)" in line)
    asked = f"add gender: female or gender: male to {sid} under speakers: in {out}\n"
    assert asked in result.output and result.output.count("add gender:") == 1
    written = out.read_text(encoding="utf-8")
    assert "{name: 山口, role: host, gender: female}" in written
    assert "{name: 森田, role: guest, gender: male, age: older}" in written
    everyone = runner.invoke(app, [*args, "--guest", "小池:female"])
    assert everyone.exit_code == 0 and "add gender:" not in everyone.output


@pytest.mark.parametrize(
    ("hint", "message"),
    [
        ("森田:man", "'森田:man': after the name write female or male, and optionally young, adult or older"),
        ("森田:male:female", "'森田:male:female': after the name write female or male"),
        (":male", "a name cannot be empty"),
    ],
)
def test_split_rejects_bad_gender_hints(tmp_path: Path, hint: str, message: str) -> None:
    transcript = tmp_path / "t.txt"
    transcript.write_text("題\n\nいつですか？\n昨日です。\n", encoding="utf-8")
    result = runner.invoke(app, ["split", str(transcript), "-o", str(tmp_path / "s.yaml"), "--guest", hint])
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())
    assert not (tmp_path / "s.yaml").exists()


@pytest.mark.parametrize("engine", ["kokoro", "openjtalk"])
def test_voices_lists_gender_and_the_voices_too_alike(engine: str) -> None:
    from podcast.engines import voice_catalog
    from podcast.voices import close_voices

    result = runner.invoke(app, ["voices", "--engine", engine])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for voice in voice_catalog(engine):
        line = next(line for line in lines if line.split()[0] == voice.name)
        assert voice.gender in line.split()
        close = close_voices(engine, voice.name)
        assert line.endswith("too alike: " + ", ".join(close)) if close else "too alike" not in line
    assert f"{len(voice_catalog(engine))} voices; put one under speakers: or pool: in voices.yaml" in lines


TWO_MEN = """\
title: 工房の一日
speakers:
  host: {name: 岡田, role: host}
  mori: {name: 森, role: guest, gender: male}
  tsuji: {name: 辻, role: guest, gender: male}
chapters:
  - title: はじめに
    turns:
      - {speaker: host, text: 今日はよろしくお願いします。}
      - {speaker: mori, text: よろしくお願いします。木の話なら何時間でもできます。}
      - {speaker: tsuji, text: 私も楽しみにしていました。}
      - {speaker: host, text: 工房を始めたのはいつですか？}
      - {speaker: mori, text: 十年前、古い倉庫を借りたのが始まりです。}
      - {speaker: tsuji, text: 私が加わったのは去年の春です。}
"""


def test_two_men_get_male_voices_and_a_one_line_swap_remakes_only_one_of_them(tmp_path: Path) -> None:
    from podcast import load_input
    from podcast.engines.openjtalk import VOICES
    from podcast.voices import assign_voices, bundled_voices_path, load_voices

    script = tmp_path / "s.yaml"
    script.write_text(TWO_MEN, encoding="utf-8")
    first = render(str(script), "-o", str(tmp_path), "--engine", "openjtalk")  # --quiet: stderr empty, no warning
    assert first["clips_synthesized"] == 6
    # The cast that render made, made again the same way: both guests on male voices, nobody sharing.
    genders = {name: v.gender for name, v in VOICES.items()}
    cast = assign_voices(load_voices(bundled_voices_path()), load_input(script).speakers, "openjtalk", genders=genders)
    assert [VOICES[cast[sid].name].gender for sid in ("mori", "tsuji")] == ["male", "male"]
    assert len(set(cast.values())) == 3
    voices = tmp_path / "voices.yaml"
    voices.write_text("openjtalk:\n  speakers:\n    辻: {voice: m001}\n", encoding="utf-8")
    swapped = render(str(script), "-o", str(tmp_path), "--engine", "openjtalk", "--voices", str(voices))
    assert (swapped["clips_synthesized"], swapped["clips_cached"]) == (2, 4)  # 辻's two turns, and only those

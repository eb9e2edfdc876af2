"""Script files: parsing tables, one-line errors with file:line, dump layout, round trips."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from podcast.errors import AssemblyError, TranscriptError
from podcast.model import Chapter, Script, Speaker, Turn
from podcast.script import MAX_ALIASES, dump_script, load_script, parse_script, write_script
from podcast.text import visible

SRC = "script.yaml"
HOST = Speaker("host", "聞き手", "host")
SAM = Speaker("sam", "サム・アルトマン", "guest")


def script(*turns: Turn, title: str = "エピソード", chapter: str = "第一章") -> Script:
    return Script(title, {"host": HOST, "sam": SAM}, (Chapter(chapter, turns),), source=SRC)


def doc(body: str) -> str:
    return textwrap.dedent(body).lstrip("\n")


FIX = " (fix the indentation/quotes on that line)"
HEAD = """\
title: エピソード
speakers:
  host: {name: 聞き手, role: host}
  sam: {name: サム・アルトマン, role: guest}
chapters:
  - title: 第一章
    turns:
"""

GOOD = [
    pytest.param(
        HEAD + "      - {speaker: host, text: こんにちは。}\n"
        "      - {speaker: sam, text: どうも。, line: 12, review: true}\n",
        script(Turn("host", "こんにちは。"), Turn("sam", "どうも。", line=12, review=True)),
        id="flow turns",
    ),
    pytest.param(
        HEAD + "      - speaker: host\n        text: |\n          block text\n",
        script(Turn("host", "block text")),
        id="block turn, text stripped",
    ),
    pytest.param(
        HEAD + "      - {speaker: host, text: yes, line: ~, review: false}\n      - {speaker: sam, text: 123}\n",
        script(Turn("host", "yes"), Turn("sam", "123")),
        id="text is what was written, not a YAML bool or int",
    ),
    pytest.param(
        HEAD + "      - {speaker: host, text: はい, notes: check audio, confidence: 0.4}\n",
        script(Turn("host", "はい")),
        id="extra turn keys ignored",
    ),
    pytest.param(
        doc("""
        title: エピソード
        producer: someone
        speakers:
          host: {name: 聞き手, role: host, voice_hint: low}
          sam: {name: サム・アルトマン}
        chapters:
          - title: 第一章
            summary: ignored
            turns:
              - {speaker: sam, text: はい}
        """),
        script(Turn("sam", "はい")),
        id="extra keys everywhere, role defaults to guest",
    ),
    pytest.param(
        "title: T\nspeakers:\n  host:\n  b: ボブ\nchapters:\n- title: C\n  turns:\n  - {speaker: b, text: x}\n",
        Script(
            "T",
            {"host": Speaker("host", "host", "guest"), "b": Speaker("b", "ボブ", "guest")},
            (Chapter("C", (Turn("b", "x"),)),),
            source=SRC,
        ),
        id="name defaults to id; bare string is a name; indentless lists",
    ),
    pytest.param(
        HEAD + "      - {speaker: host, text: はい}\n  - title: 空\n    turns: []\n  - title: 空2\n",
        Script(
            "エピソード",
            {"host": HOST, "sam": SAM},
            (Chapter("第一章", (Turn("host", "はい"),)), Chapter("空", ()), Chapter("空2", ())),
            source=SRC,
        ),
        id="empty chapters allowed",
    ),
    pytest.param(
        "\ufefftitle: T\nspeakers: {1: {name: 一}}\nchapters: [{title: C, turns: [{speaker: 1, text: x}]}]\n",
        Script("T", {"1": Speaker("1", "一", "guest")}, (Chapter("C", (Turn("1", "x"),)),), source=SRC),
        id="numeric ids compare as written; all-flow document",
    ),
]


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_parse_good(text: str, expected: Script) -> None:
    assert parse_script(text, source=SRC) == expected


BAD = [
    ("", "script.yaml:1: the script is empty (write title:, speakers: and chapters:, or run `podcast split`)"),
    (
        "# only a comment\n",
        "script.yaml:1: the script is empty (write title:, speakers: and chapters:, or run `podcast split`)",
    ),
    ("- a\n- b\n", "script.yaml:1: expected title:, speakers: and chapters: at the top level (is this a script?)"),
    (
        HEAD + "      - {speaker: host, text: はい}\n    - {speaker: sam, text: x}\n",
        "script.yaml:9: YAML error: while parsing a block mapping, expected <block end>, but found '-'" + FIX,
    ),
    (
        HEAD + '      - {speaker: host, text: "open quote}\n',
        "script.yaml:8: YAML error: while scanning a quoted scalar, found unexpected end of stream" + FIX,
    ),
    (
        HEAD + "      - {speaker: host, text: 注意: ここ}\n",
        "script.yaml:8: YAML error: while parsing a flow mapping, expected ',' or '}', but got ':'" + FIX,
    ),
    (
        "title: a\n---\ntitle: b\n",
        "script.yaml:2: YAML error: expected a single document in the stream, but found another document" + FIX,
    ),
    (
        HEAD.replace("title: エピソード\n", "") + "      - {speaker: host, text: x}\n",
        "script.yaml:1: missing title: (add `title: <episode title>` at the top)",
    ),
    (
        HEAD.replace("title: エピソード", "title:") + "      - {speaker: host, text: x}\n",
        "script.yaml:1: title is empty (write the episode title)",
    ),
    (
        "title: T\nchapters: []\n",
        "script.yaml:1: missing speakers: (declare each id, e.g. `host: {name: 聞き手, role: host}`)",
    ),
    (
        "title: T\nspeakers: []\nchapters: []\n",
        "script.yaml:2: speakers: expected entries like `host: {name: 聞き手, role: host}`",
    ),
    (
        "title: T\nspeakers:\n  a: {role: star}\n",
        "script.yaml:3: speaker 'a': role 'star' is not one of host, guest, narrator (fix the role)",
    ),
    ("title: T\nspeakers:\n  a: [x]\n", "script.yaml:3: speaker 'a': expected {name: ..., role: host|guest|narrator}"),
    ("title: T\nspeakers:\n  a: {name: [x]}\n", "script.yaml:3: speaker 'a': name: expected text, got a list"),
    ("title: T\nspeakers:\n  a:\n  a:\n", "script.yaml:4: duplicate key 'a' (keep only one)"),
    (
        "title: T\nspeakers: {a: }\n",
        "script.yaml:1: missing chapters: (add a list of chapters, each with title: and turns:)",
    ),
    (
        "title: T\nspeakers: {a: }\nchapters: []\n",
        "script.yaml:3: chapters: expected a list of chapters, each with title: and turns:",
    ),
    ("title: T\nspeakers: {a: }\nchapters:\n  - x\n", "script.yaml:4: chapter 1: expected title: and turns:"),
    (
        "title: T\nspeakers: {a: }\nchapters:\n  - {title: '', turns: []}\n",
        "script.yaml:4: chapter 1: title is empty (write the chapter title)",
    ),
    (
        "title: T\nspeakers: {a: }\nchapters:\n  - turns: []\n",
        "script.yaml:4: chapter 1: missing title: (add `title: <chapter title>`)",
    ),
    (
        "title: T\nspeakers: {a: }\nchapters:\n  - {title: C, turns: x}\n",
        "script.yaml:4: chapter 'C': turns: expected a list of {speaker: <id>, text: ...}",
    ),
    (
        "title: T\nspeakers: {a: }\nchapters:\n  - {title: C, turns: []}\n",
        "script.yaml:4: the script has no turns (add {speaker: <id>, text: ...} under turns:)",
    ),
    (
        HEAD + "      - just text\n",
        "script.yaml:8: turn: expected {speaker: <id>, text: ...} (write the turn as a mapping)",
    ),
    (HEAD + "      - {text: x}\n", "script.yaml:8: turn has no speaker: (add `speaker: <id>`)"),
    (
        HEAD + "      - {speaker: host, text: x}\n" * 30 + "      - {speaker: bob, text: x}\n",
        "script.yaml:38: turn speaker 'bob' is not declared (add it under speakers: or fix the id)",
    ),
    (
        HEAD + "      - speaker: host\n        text: x\n      -\n        speaker:\n          bob\n",
        "script.yaml:12: turn speaker 'bob' is not declared (add it under speakers: or fix the id)",
    ),
    (HEAD + "      - {speaker: host}\n", "script.yaml:8: turn has no text: (add `text: ...` or delete the turn)"),
    (
        HEAD + "      - {speaker: host, text: }\n",
        "script.yaml:8: turn text is empty (write what is said or delete the turn)",
    ),
    (
        HEAD + "      - {speaker: host, text: '  '}\n",
        "script.yaml:8: turn text is empty (write what is said or delete the turn)",
    ),
    (
        HEAD + "      - {speaker: host, text: Yes, I do}\n",
        "script.yaml:8: turn text seems cut at a comma before 'I do' (put the text in quotes)",
    ),
    (
        HEAD + "      - {speaker: host, text: x, line: twelve}\n",
        "script.yaml:8: turn line: expected a line number, got 'twelve' (fix or delete it)",
    ),
    (
        HEAD + "      - {speaker: host, text: x, line: 0}\n",
        "script.yaml:8: turn line: expected a line number, got '0' (fix or delete it)",
    ),
    (
        HEAD + "      - {speaker: host, text: x, review: maybe}\n",
        "script.yaml:8: turn review: expected true or false, got 'maybe'",
    ),
    (
        "title: T\nspeakers: {a: }\nchapters: !!python/object:os.system {}\n",
        "script.yaml:3: chapters: expected a list of chapters, each with title: and turns:",
    ),
    ("title: T\x07\n", "script.yaml:1: YAML error: control character U+0007 is not allowed (delete it)"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_parse_bad(text: str, message: str) -> None:
    with pytest.raises(TranscriptError) as info:
        parse_script(text, source=SRC)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_alias_bomb_refused() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    with pytest.raises(TranscriptError) as info:
        parse_script("\n".join(lines), source=SRC)
    assert str(info.value) == f"script.yaml:2: more than {MAX_ALIASES} YAML aliases (*name); write the values out"


def test_a_few_aliases_and_merge_keys_work() -> None:
    text = doc("""
        title: T
        speakers:
          host: &person {name: 聞き手, role: host}
          sam: {<<: *person, name: サム・アルトマン, role: guest}
        chapters:
          - title: &t 第一章
            turns:
              - {speaker: host, text: *t}
        """)
    assert parse_script(text, source=SRC) == Script(
        "T", {"host": HOST, "sam": SAM}, (Chapter("第一章", (Turn("host", "第一章"),)),), source=SRC
    )


def test_deep_nesting_refused() -> None:
    with pytest.raises(TranscriptError, match=r"^script.yaml:1: nested more than \d+ levels deep"):
        parse_script("title: " + "[" * 5000 + "]" * 5000, source=SRC)


def test_load_script_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ep.yaml"
    path.write_bytes(b"title: T\nspeakers: {a: }\nchapters:\n  - {title: \xff}\n")
    with pytest.raises(TranscriptError) as info:
        load_script(path)
    assert str(info.value) == f"{path}:4: not UTF-8 text (save the file as UTF-8)"
    with pytest.raises(TranscriptError, match=r"missing\.yaml: cannot read script \(No such file or directory\)"):
        load_script(tmp_path / "missing.yaml")


def test_dump_layout() -> None:
    s = Script(
        "対談: AIの未来",
        {"host": HOST, "sam": SAM},
        (
            Chapter("始まり", (Turn("host", "こんにちは。"), Turn("sam", "Yes, I think so: #1", line=12, review=True))),
            Chapter("終わり", (Turn("host", "- 以上です"),)),
        ),
    )
    body = dump_script(s).split("title:", 1)[1]
    assert "title:" + body == doc("""
        title: '対談: AIの未来'
        speakers:
          host: {name: 聞き手, role: host}
          sam: {name: サム・アルトマン, role: guest}
        chapters:
          - title: 始まり
            turns:
              - {speaker: host, text: こんにちは。}
              - {speaker: sam, text: 'Yes, I think so: #1', line: 12, review: true}

          - title: 終わり
            turns:
              - {speaker: host, text: '- 以上です'}
        """)
    assert dump_script(s).startswith("# Episode script: edit it, then run `podcast render script.yaml`.\n")


TRICKY = [
    "注意: これは重要",
    'He said "hi"',
    "It's",
    "#1 ヒット",
    "- 箇条書き",
    "* 星",
    "&anchor",
    "!tag",
    "%TAG",
    "@mention",
    "`code`",
    "{braces}",
    "[brackets]",
    "yes",
    "no",
    "null",
    "~",
    "true",
    "Off",
    "123",
    "1.5e3",
    "0x1F",
    "2024-05-01",
    "12:30",
    "a, b",
    "？！「」『』（）",
    "日本語　全角スペース　入り",
    "emoji 🎙️👍",
    "...",
    "---",
    "a #comment",
    "tab\tinside",
    "line\nbreak",
    "\\backslash",
    "'",
    '"',
    ":",
    "?",
    "|",
    ">",
    "=",
    "<<",
    "x" * 500,
    "sep\u2028arator",
    "カンマ,と：コロン",
]


@pytest.mark.parametrize("text", TRICKY)
def test_round_trip_tricky_text(text: str) -> None:
    s = Script(text, {text: Speaker(text, text, "narrator")}, (Chapter(text, (Turn(text, text, line=3),)),), source=SRC)
    dumped = dump_script(s)
    assert parse_script(dumped, source=SRC) == s
    assert yaml.safe_load(dumped)["chapters"][0]["turns"][0]["text"] == text
    turn_lines = [line for line in dumped.splitlines() if line.startswith("      - {")]
    assert len(turn_lines) == 1  # one line per turn, whatever the text


_texts = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40).map(str.strip).filter(bool)
# Titles and names lose zero-width and bidi characters on reading (tested below); what is left round-trips.
_names = _texts.map(visible).map(str.strip).filter(bool)


@settings(max_examples=300, deadline=None)
@given(
    title=_names,
    names=st.lists(_names, min_size=1, max_size=3, unique=True),
    texts=st.lists(_texts, min_size=1, max_size=5),
    line=st.none() | st.integers(min_value=1, max_value=10**6),
    review=st.booleans(),
)
def test_round_trip_property(title: str, names: list[str], texts: list[str], line: int | None, review: bool) -> None:
    speakers = {name: Speaker(name, name, "guest") for name in names}
    turns = tuple(Turn(names[i % len(names)], text, line=line, review=review) for i, text in enumerate(texts))
    s = Script(title, speakers, (Chapter(title, turns), Chapter(names[0], ())), source=SRC)
    assert parse_script(dump_script(s), source=SRC) == s


def test_write_script_is_atomic_and_readable(tmp_path: Path) -> None:
    path = tmp_path / "script.yaml"
    path.write_text("old", encoding="utf-8")
    s = script(Turn("host", "こんにちは。", line=1))
    write_script(s, path)
    assert load_script(path) == Script(s.title, s.speakers, s.chapters, source=str(path))
    assert [p.name for p in tmp_path.iterdir()] == ["script.yaml"]
    with pytest.raises(AssemblyError, match=r"^.*nowhere/script.yaml: cannot write \(No such file or directory\)"):
        write_script(s, tmp_path / "nowhere" / "script.yaml")


def test_lines_left_unvoiced_are_listed_in_the_script_head(tmp_path: Path) -> None:
    speakers = {"host": Speaker("host", "聞き手", "host")}
    chapters = (Chapter("港町", (Turn("host", "こんにちは。"),)),)
    script = Script("港町", speakers, chapters, dropped=((1, "ホーム > 対談"), (9, "シェアする\u2028次の記事")))
    text = dump_script(script)
    assert "#   line 1: ホーム > 対談\n" in text
    assert "#   line 9: シェアする 次の記事\n" in text  # a YAML line break would end the comment
    assert parse_script(text, source="s.yaml").turns == script.turns


def test_invisible_characters_are_taken_out_of_names_and_titles() -> None:
    text = (
        'title: "\u202e港"\n'
        'speakers:\n  host: {name: "森\u200b", role: host}\n'
        "chapters:\n  - title: 一\n    turns:\n      - {speaker: host, text: こんにちは。}\n"
    )
    script = parse_script(text, source="s.yaml")
    assert script.title == "港" and script.speakers["host"].name == "森"


@pytest.mark.parametrize(
    ("fields", "gender", "age"),
    [
        ("", None, None),
        (", gender: male", "male", None),
        (", gender: Female, age: older", "female", "older"),
        (", gender: ~, age: young", None, "young"),
    ],
)
def test_speaker_gender_and_age_are_read_and_written_back(fields: str, gender: str | None, age: str | None) -> None:
    text = HEAD.replace("role: guest}", "role: guest" + fields + "}") + "      - {speaker: sam, text: はい}\n"
    parsed = parse_script(text, source=SRC)
    assert (parsed.speakers["sam"].gender, parsed.speakers["sam"].age) == (gender, age)
    assert parsed.speakers["host"].gender is None
    dumped = dump_script(parsed)
    assert parse_script(dumped, source=SRC).speakers == parsed.speakers
    shown = "".join(f", {key}: {value}" for key, value in (("gender", gender), ("age", age)) if value)
    assert f"  sam: {{name: サム・アルトマン, role: guest{shown}}}\n" in dumped


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            ", gender: man",
            "script.yaml:4: speaker 'sam': gender 'man' is not one of female, male (fix it or delete the line)",
        ),
        (
            ", age: 42",
            "script.yaml:4: speaker 'sam': age '42' is not one of young, adult, older (fix it or delete the line)",
        ),
        (", gender: [male]", "script.yaml:4: speaker 'sam': gender: expected text, got a list"),
    ],
)
def test_bad_speaker_gender_or_age_is_one_line(fields: str, message: str) -> None:
    text = HEAD.replace("role: guest}", "role: guest" + fields + "}") + "      - {speaker: sam, text: はい}\n"
    with pytest.raises(TranscriptError) as info:
        parse_script(text, source=SRC)
    assert str(info.value) == message

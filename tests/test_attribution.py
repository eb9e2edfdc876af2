"""Stage 2: who says each paragraph, from labels or from the interviewer's moves and names."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podcast.attribution import REVIEW_MAX_SHARE, REVIEW_SURE, attribute, host_probabilities, role_weights
from podcast.cues import CUES, SWITCH_CUES
from podcast.errors import PodcastError
from podcast.model import Hints, Script, Transcript, Utterance
from podcast.transcript import parse_transcript, read_transcript

from .conftest import SEED

FIXTURES = Path(__file__).parent / "fixtures"
ATTRIBUTION = FIXTURES / "attribution"


def _script(name: str) -> Script:
    path = FIXTURES / name
    return attribute(parse_transcript(read_transcript(path), source=str(path)))


def _text(title: str, *paragraphs: str) -> Script:
    utterances = tuple(Utterance(p, n) for n, p in enumerate(paragraphs, 1))
    return attribute(Transcript(title=title, utterances=utterances))


@pytest.mark.parametrize(
    ("name", "speakers", "order", "chapters"),
    [
        (
            "labelled_colon.txt",
            {"host": ("はてな松木", "host"), "guest1": ("田中", "guest")},
            ["host", "guest1", "guest1", "host", "guest1"],
            ["はてなブログ対談 | 松木さんと語るAIの未来"],
        ),
        (
            "labelled_dash.txt",
            {"host": ("聞き手", "host"), "guest1": ("山田花子", "guest")},
            ["host", "guest1", "guest1", "host", "guest1"],
            ["はじめに", "これからの目標"],
        ),
        (
            "labelled_qa.txt",
            {"host": ("聞き手", "host"), "guest1": ("ゲスト", "guest")},
            ["host", "guest1", "host", "guest1"],
            ["labelled_qa"],
        ),
        (
            "labelled_name_lines.txt",
            {"host": ("佐藤", "host"), "guest1": ("鈴木", "guest")},
            ["host", "guest1", "guest1", "host", "guest1"],
            ["labelled_name_lines"],
        ),
        (
            "labelled_headings.md",
            {"host": ("聞き手", "host"), "guest1": ("ゲスト", "guest")},
            ["host", "guest1", "host", "guest1"],
            ["第一部　生い立ち", "第二部　仕事"],
        ),
        (
            "labelled_brackets.txt",
            {"host": ("聞き手", "host"), "guest1": ("佐々木", "guest")},
            ["host", "guest1", "guest1", "host", "guest1"],
            ["地方の本屋を続ける | 佐々木さんインタビュー"],
        ),
    ],
)
def test_fixtures(name: str, speakers: dict[str, tuple[str, str]], order: list[str], chapters: list[str]) -> None:
    script = _script(name)
    assert {sid: (s.name, s.role) for sid, s in script.speakers.items()} == speakers
    assert [turn.speaker for turn in script.turns] == order
    assert [chapter.title for chapter in script.chapters] == chapters
    assert all(turn.line is not None for turn in script.turns)


def test_latin_names_get_ascii_slugs() -> None:
    utterances = (
        Utterance("What got you started?", 1, label="Interviewer"),
        Utterance("Curiosity.", 2, label="Sam Altman"),
        Utterance("And you?", 3, label="Interviewer"),
        Utterance("Money.", 4, label="Brad"),
        Utterance("Really.", 5, label="Sam"),  # alias of Sam Altman
    )
    script = attribute(Transcript("Talk", utterances))
    assert list(script.speakers) == ["host", "sam-altman", "brad"]
    assert [t.speaker for t in script.turns] == ["host", "sam-altman", "host", "brad", "sam-altman"]


def test_host_is_who_asks_most_without_a_marker() -> None:
    utterances = (
        Utterance("よろしくお願いします。", 1, label="田中"),
        Utterance("最初の質問です。いつ始めましたか？", 2, label="鈴木"),
        Utterance("十年前です。", 3, label="田中"),
        Utterance("なぜですか？", 4, label="鈴木"),
        Utterance("好きだったからです。", 5, label="田中"),
    )
    script = attribute(Transcript("対談", utterances))
    assert script.speakers["host"].name == "鈴木"
    assert script.speakers["guest1"].name == "田中"


def test_headings_make_chapters_and_empty_sections_vanish() -> None:
    utterances = (
        Utterance("前置き", 1, heading=True),
        Utterance("第一章", 2, heading=True),
        Utterance("いつですか？", 3, label="Q"),
        Utterance("今です。", 4, label="A"),
        Utterance("第二章", 5, heading=True),
        Utterance("どこですか？", 6, label="Q"),
        Utterance("ここです。", 7, label="A"),
    )
    script = attribute(Transcript("本", utterances))
    assert [(c.title, len(c.turns)) for c in script.chapters] == [("第一章", 2), ("第二章", 2)]


# --- unlabelled text: the fitted chain ---------------------------------------------------------


def _roles(*paragraphs: str, title: str = "佐藤一郎さんに聞く", hints: Hints | None = None) -> Script:
    utterances = tuple(Utterance(p, n) for n, p in enumerate(paragraphs, 1))
    return attribute(Transcript(title=title, utterances=utterances), hints)


@pytest.mark.parametrize(
    ("paragraphs", "order"),
    [
        # Questions with ？, without (「…でしょうか。」「…は。」), requests and reactions are the interviewer's.
        (
            ("いつから陶芸を始めたのですか？", "二十歳のころです。最初は趣味で、週末だけ窯に通っていました。",
             "それが仕事になったきっかけは何だったのでしょうか。",
             "展示会で一つ売れたことです。自分の器にお金を払う人がいると知って、本気になりました。"),
            ["host", "guest1", "host", "guest1"],
        ),
        (
            ("今後の目標は。", "海外で個展を開くことです。まずは台湾の小さなギャラリーから始めるつもりです。",
             "具体的に教えてください。", "来年の春に、台北で二週間の展示を予定しています。"),
            ["host", "guest1", "host", "guest1"],
        ),
        # An answer running over paragraphs stays with the guest; 「それで、」 goes on with one's own point.
        (
            ("工房の一日について聞かせてください。", "朝は六時に起きて、まず土の具合を見ます。",
             "それで、昼までに成形を終えて、午後は釉薬の調合をします。夜は窯の温度を見張ります。",
             "大変そうですね。", "慣れれば楽しいですよ。"),
            ["host", "guest1", "guest1", "host", "guest1"],
        ),
    ],
)  # fmt: skip
def test_unlabelled_roles(paragraphs: tuple[str, ...], order: list[str]) -> None:
    script = _roles(*paragraphs)
    # At most one slip in these short exchanges, and a slip is marked for review (「大変そうですね。」 alone
    # is a weak cue: the model gives it about even odds).
    right = [t.speaker == expected for t, expected in zip(script.turns, order, strict=True)]
    assert sum(right) >= len(order) - 1
    assert all(ok or t.review for t, ok in zip(script.turns, right, strict=True))
    assert script.speakers["guest1"].name == "佐藤一郎"  # the title names the guest
    assert all(0.0 <= t.sure <= 1.0 for t in script.turns)


def test_a_title_without_a_guest_is_no_traceback() -> None:
    # Three short paragraphs and a title that names nobody: once an IndexError.
    script = _roles(
        "好きな食べ物はなんですか？", "なんだろう？ カレーとか (笑)", "なるほど。では、尊敬する人は？", title="雑談"
    )
    assert [t.speaker for t in script.turns][0] == "host"
    assert script.turns[-1].speaker == "host"
    assert {s.role for s in script.speakers.values()} == {"host", "guest"}


def test_guests_called_by_name_answer() -> None:
    script = _roles(
        "本日はお二人にお越しいただきました。まず中川さん、会社を始めた理由を教えてください。",
        "前の職場で、紙の書類が多すぎると感じたのがきっかけです。毎月、同じ数字を三回も書き写していました。",
        "では大西さん、中川さんと出会ったのはいつですか？",
        "五年前の勉強会です。中川さんが一番前の席で質問ばかりしていたのを覚えています。",
        title="書類をなくす会社",
    )
    names = {sid: s.name for sid, s in script.speakers.items()}
    assert [names[t.speaker] for t in script.turns] == ["聞き手", "中川", "聞き手", "大西"]


def test_self_introductions_before_any_question_are_guests() -> None:
    script = _roles(
        "本日はよろしくお願いします。司会の村上です。まずは自己紹介をお願いします。",
        "株式会社ミナトデザインの岡本です。店舗の内装設計を担当しています。",
        "同じくミナトデザインで広報をしております、藤井と申します。",
        "ありがとうございます。では岡本さん、最近の案件について伺えますか。",
        "はい。先月、駅前のパン屋さんの改装を手がけました。朝の行列が店の外まで伸びるので、入口を広げました。",
        title="店づくりの裏側",
    )
    names = {sid: s.name for sid, s in script.speakers.items()}
    assert [names[t.speaker] for t in script.turns] == ["村上", "岡本", "藤井", "村上", "岡本"]


def test_hints_name_and_count_the_speakers() -> None:
    hints = Hints(speakers=3, hosts=("山口",), guests=("森田", "小池"))
    script = _roles(
        "森田さん、新しい店の評判はどうですか？",
        "おかげさまで、週末は予約で埋まっています。",
        "小池さんはいかがですか？",
        "私は厨房にいるので、お客様の顔が見えないのが少し寂しいです。",
        hints=hints,
    )
    assert sorted((s.name, s.role) for s in script.speakers.values()) == [
        ("小池", "guest"), ("山口", "host"), ("森田", "guest"),
    ]  # fmt: skip
    names = {sid: s.name for sid, s in script.speakers.items()}
    assert [names[t.speaker] for t in script.turns] == ["山口", "森田", "山口", "小池"]


def test_hints_name_the_host_of_a_labelled_transcript() -> None:
    utterances = (
        Utterance("お店を開いたのはいつですか？", 1, label="話者1"),
        Utterance("三年前です。", 2, label="話者2"),
        Utterance("きっかけは？", 3, label="話者1"),
        Utterance("祖母の味を残したかったんです。", 4, label="話者2"),
    )
    script = attribute(Transcript("店", utterances), Hints(hosts=("山口",), guests=("森田",)))
    assert [(s.name, s.role) for s in script.speakers.values()] == [("山口", "host"), ("話者1", "guest")] or [
        (s.name, s.role) for s in script.speakers.values()
    ][0] == ("山口", "host")


def test_unsure_turns_say_why_and_stay_a_minority() -> None:
    script = _roles(*[f"{n}番目の話です。" if n % 3 else f"{n}番目はどうでした？" for n in range(1, 41)])
    flagged = [t for t in script.turns if t.review]
    assert len(flagged) <= REVIEW_MAX_SHARE * len(script.turns)
    assert all(t.why for t in flagged)
    assert all(t.sure < REVIEW_SURE for t in flagged)


def test_an_unclear_transcript_gets_more_review_flags_than_a_clear_one() -> None:
    # Flags follow how sure each turn is, not a fixed quota: clear questions and answers need few checks,
    # a run of statements with no question, request or reply among them needs many (never over half).
    clear = _roles(
        *[
            p
            for n in range(1, 9)
            for p in (
                f"{n}つ目の質問です。その作品はどうやって生まれたのですか？",
                f"私が{n}年前に旅先で見た景色がもとになっています。ずっと描きたいと思っていたんです。",
            )
        ]
    )
    unclear = _roles(*[f"{n}月は雨が多かった。畑の土が流れて、苗を植え直した。" for n in range(1, 13)] * 2)
    share = [sum(t.review for t in s.turns) / len(s.turns) for s in (clear, unclear)]
    assert share[0] < share[1] <= REVIEW_MAX_SHARE, share


def test_shipped_weights_match_the_cues() -> None:
    weights = role_weights()
    assert weights.cues == CUES and len(weights.weights) == len(CUES)
    assert weights.switch_cues == SWITCH_CUES
    # What any fit on real dialogue learns: a question or a request is the asker's, a long first-person answer not.
    asked = [host_probabilities([Utterance(text, 1)], weights)[1][0] for text in ("いつ頃ですか？", "教えてください。")]
    told = host_probabilities([Utterance("私は十年前から、毎朝この畑で働いてきました。" * 3, 1)], weights)[1][0]
    assert min(asked) > told + 0.2, (asked, told)


# --- keyed fixtures: our own invented transcripts of many kinds --------------------------------


def _keyed(folder: str) -> list[Path]:
    return sorted((ATTRIBUTION / folder).glob("*.txt"))


def _host_guest(path: Path) -> float:
    """Share of keyed lines whose host-or-guest role is right (lines keyed X must not be voiced)."""
    script = attribute(parse_transcript(read_transcript(path), source=str(path)))
    key = {}
    for row in path.with_suffix(".tsv").read_text(encoding="utf-8").splitlines():
        if row[:1].isdigit():
            line, label = row.split("\t")[:2]
            key[int(line)] = label
    by_line = {t.line: script.speakers[t.speaker].role for t in script.turns}
    assert not [n for n, label in key.items() if label == "X" and n in by_line]
    scored = [(by_line[n] == "host") == ("H" in label.split(">")[0].split("/")) for n, label in key.items()
              if label != "X" and n in by_line]  # fmt: skip
    return sum(scored) / len(scored)


@pytest.mark.parametrize("path", _keyed("labelled"), ids=lambda p: p.stem)
def test_labelled_fixtures_keep_every_label(path: Path) -> None:
    # Every label is honoured; where the key merges several askers into H (minutes, a group interview) or
    # names one main host among several (a co-hosted or three-host show) the model decides the asking side.
    assert _host_guest(path) == 1.0


def test_unlabelled_fixtures_beat_chance_together() -> None:
    scores = [_host_guest(path) for path in _keyed("unlabeled")]
    assert sum(scores) / len(scores) >= 0.75
    assert min(scores) >= 0.4


@pytest.mark.seed
def test_seed() -> None:
    script = attribute(parse_transcript(read_transcript(SEED), source=str(SEED)))
    assert [(s.name, s.role) for s in script.speakers.values()] == [
        ("聞き手", "host"), ("サム・アルトマン", "guest"), ("ブラッド", "guest"),
    ]  # fmt: skip
    key = Path(__file__).resolve().parents[1] / "benchmarks" / "keys" / "seed.tsv"
    labels = dict(row.split("\t")[:2] for row in key.read_text(encoding="utf-8").splitlines() if row[:1].isdigit())
    by_line = {t.line: script.speakers[t.speaker].role for t in script.turns}
    scored = [(by_line[int(n)] == "host") == label.startswith("H") for n, label in labels.items()
              if label != "X" and "/" not in label and int(n) in by_line]  # fmt: skip
    assert sum(scored) / len(scored) >= 0.85


# layouts' marks, names, digits
FUZZ_CHARS = list('あいう。？！、：「」―*#>[]()0123456789:\n 山田さんQA<v>-→{}"　●（）\t【】■○番君委員長議')


@given(st.lists(st.text(alphabet=st.sampled_from(FUZZ_CHARS), max_size=40), max_size=12))
@settings(max_examples=150, deadline=None)
def test_split_never_raises_anything_but_a_podcast_error(lines: list[str]) -> None:
    text = "\n".join(lines)
    try:
        script = attribute(parse_transcript(text, source="fuzz.txt"))
    except PodcastError as exc:
        assert "\n" not in str(exc)
        return
    assert all(turn.speaker in script.speakers for turn in script.turns)


def test_numbered_speakers_keep_distinct_names_whoever_hosts() -> None:
    text = "\n".join(
        f"Speaker {n} 0:{10 + i}\n{line}"
        for i, (n, line) in enumerate(
            [(1, "今日はよろしくお願いします。まず自己紹介を。"), (2, "林です。パン屋をやっています。"),
             (1, "お店はいつからですか？"), (2, "十年前からです。")]
        )
    )  # fmt: skip
    script = attribute(parse_transcript(text, source="export.txt"))
    assert [(script.speakers[t.speaker].name, script.speakers[t.speaker].role) for t in script.turns] == [
        ("話者1", "host"), ("話者2", "guest"), ("話者1", "host"), ("話者2", "guest"),
    ]  # fmt: skip


def test_a_pair_label_does_not_swallow_either_name() -> None:
    utterances = (
        Utterance("お二人はいつ出会ったのですか？", 1, label="松井"),
        Utterance("大学のサークルです。", 2, label="荒木"),
        Utterance("同じ学年でした。", 3, label="瀬戸口"),
        Utterance("（笑）そうです。", 4, label="荒木・瀬戸口"),
        Utterance("最初の印象は？", 5, label="松井"),
        Utterance("静かな人だと思いました。", 6, label="荒木"),
    )
    script = attribute(Transcript("対談", utterances))
    assert sorted(s.name for s in script.speakers.values()) == ["松井", "瀬戸口", "荒木", "荒木・瀬戸口"]


def test_every_labelled_questioner_is_on_the_asking_side() -> None:
    # Minutes: the chair speaks between every two speeches; the members ask, the officials answer.
    chair = "次に、{}さん。"
    lines = []
    for member, official in (("木下", "堀江"), ("石田", "村井"), ("木下", "堀江"), ("石田", "村井")):
        lines += [
            (chair.format(member), "委員長"),
            ("公園の遊具の点検はどのように行っているのでしょうか。また、今後の予定はいかがでしょうか。", member),
            (chair.format(official), "委員長"),
            ("年に二回、専門の業者が点検しております。来年度も同じ体制で行う予定です。", official),
        ]
    utterances = tuple(Utterance(text, n, label=who) for n, (text, who) in enumerate(lines, 1))
    script = attribute(Transcript("委員会", utterances))
    roles = {s.name: s.role for s in script.speakers.values()}
    assert roles == {"委員長": "host", "木下": "host", "石田": "host", "堀江": "guest", "村井": "guest"}


def test_labelled_peers_who_never_ask_have_no_host() -> None:
    # A recruiting cross-talk: three colleagues introduce themselves and tell their stories; nobody interviews.
    lines = [
        ("北村です。二〇一五年に入社して、工場の担当から始めました。毎朝六時に起きていました。", "北村"),
        ("私も最初は工場でした。夜勤のある職場で、体力がつきました。", "南"),
        ("僕は営業からです。お客様の声を聞くのが好きでした。", "東"),
        ("工場の経験は今も役に立っています。現場の言葉がわかりますから。", "北村"),
        ("そうですね。現場を知っていると話が早いです。", "南"),
        ("営業でも同じです。製品の作り方を知っていると説明しやすいです。", "東"),
    ]
    utterances = tuple(Utterance(text, n, label=who) for n, (text, who) in enumerate(lines, 1))
    script = attribute(Transcript("座談会", utterances))
    assert {s.name: s.role for s in script.speakers.values()} == {"北村": "guest", "南": "guest", "東": "guest"}


def test_a_speech_in_several_paragraphs_is_one_turn_when_choosing_the_askers() -> None:
    # The second member speaks at length, in four paragraphs, and asks at the end; each answer is one paragraph.
    lines = []
    for member, official in (("木下", "堀江"), ("石田", "村井"), ("木下", "堀江"), ("石田", "村井")):
        lines.append(("次の方どうぞ。", "議長"))
        if member == "石田":
            lines += [
                ("昨年度は道路の補修に多くの予算を使いました。", member),
                ("今年度は橋の点検も始まると聞いています。古い橋が多い地区です。", member),
                ("住民の方からも心配の声が届いております。", member),
                ("費用の見通しはどうか。", member),
            ]
        else:
            lines.append(("公園の遊具の点検はどのように行っているのでしょうか。", member))
        lines += [("お願いします。", "議長"), ("年に二回、専門の業者が点検しております。", official)]
    utterances = tuple(Utterance(text, n, label=who) for n, (text, who) in enumerate(lines, 1))
    script = attribute(Transcript("委員会", utterances))
    roles = {s.name: s.role for s in script.speakers.values()}
    assert roles == {"議長": "host", "木下": "host", "石田": "host", "堀江": "guest", "村井": "guest"}


def test_two_voices_alternate_at_speech_to_text_segments() -> None:
    # A diarizing tool's export: a timestamp before each change of speaker, no punctuation to speak of.
    text = "\n".join(
        [
            "朝ラジオ #12",
            "00:01", "はいおはようございます 朝ラジオです 今日のゲストは八百屋の田村さんです",
            "00:09", "おはようございます 田村です よろしくお願いします",
            "00:14", "お店はもう長いんですか",
            "00:17", "祖父の代からなので六十年くらいですね 僕で三代目です",
            "00:25", "へえ 六十年",
            "00:27", "はい 店の場所はずっと同じで 商店街の角のところです",
            "00:35", "いいですね 朝は何時から",
            "00:38", "市場が四時なので 三時半には起きてます",
        ]
    )  # fmt: skip
    script = attribute(parse_transcript(text, source="asa.txt"))
    assert [script.speakers[t.speaker].role for t in script.turns] == ["host", "guest"] * 4
    assert "00:01" not in "".join(t.text for t in script.turns)


def test_hints_give_genders_and_ages_to_the_people_they_name() -> None:
    hints = Hints(
        hosts=("山口",),
        guests=("森田", "小池"),
        genders=(("山口", "female"), ("森田", "male")),
        ages=(("森田", "older"),),
    )
    utterances = (
        Utterance("森田さん、新しい店の評判はどうですか？", 1, label="山口"),
        Utterance("おかげさまで、週末は予約で埋まっています。", 2, label="森田健"),
        Utterance("小池さんはいかがですか？", 3, label="山口"),
        Utterance("私は厨房にいるので、お客様の顔が見えないのが少し寂しいです。", 4, label="小池"),
    )
    script = attribute(Transcript("店", utterances), hints)
    traits = {s.name: (s.gender, s.age) for s in script.speakers.values()}
    # 森田 is 森田健 as the transcript writes him; 小池 was given no gender, so none is made up.
    assert traits == {"山口": ("female", None), "森田健": ("male", "older"), "小池": (None, None)}


def test_a_chair_running_the_proceedings_is_on_the_asking_side() -> None:
    """Minutes without labels: 「採決いたします。」 and 「質疑を終わります。」 are the chair's, not an answer."""
    weights = role_weights()
    chair = [
        host_probabilities([Utterance(text, 1)], weights)[1][0]
        for text in ("採決いたします。", "以上で質疑を終わります。", "１２番、森川議員。")
    ]
    # Answers as short and as formal: what sets the chair apart is the wording, not the length.
    answers = [
        host_probabilities([Utterance(text, 1)], weights)[1][0]
        for text in ("予定どおり進めております。", "来年度から延長いたします。")
    ]
    assert min(chair) > max(answers) + 0.15, (chair, answers)

"""The one vocabulary of dialogue cues: what a paragraph's wording says about who is speaking.

Each cue is a plain function of text with an invented example; attribution weighs them with fitted weights
(podcast/data/attribution.json) and chaptering reuses the question and steering cues.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .text import split_sentences

ENDING_KANA = ("か", "ね", "よ", "な", "た", "だ", "す", "う", "ん", "の", "は", "て", "ど", "ら", "し", "る", "い")
SHORT_CHARS = 25  # 「なるほど、そうなんですね。」: a reaction, not an answer
INTRO_SENTENCES = 3  # a self-introduction is in a paragraph's first sentences
LONG_CHARS = 150  # a paragraph this long is nearly always someone explaining

_TAIL = r"[」』）)\]…・.。、!！\s]*(?:[（(](?:笑|苦笑|一同笑)[）)][。]?)?\s*$"  # closing marks and a trailing （笑）
_TRAILER = re.compile(r"(?:[」』）)\]…・.。、!！?？ー〜~\s]|[（(](?:笑|苦笑|爆笑|一同笑)[）)])+$")
# 「…ですか？」「…でしょ?」
_QUESTION_MARK = re.compile(rf"[?？]{_TAIL}")
# 「今後の展望はいかがでしょうか。」「なぜ始めたんですか。」「それって難しくないですかね。」 — asked without ？
_QUESTION_FORM = re.compile(
    r"(?:でしょうか|ですか|ますか|ませんか|ましたか|でしたか|のか|んですか|んでしょうか|のでしょうか|ないか|かね|かな|"
    r"だろうか|のかな|んだろう|の|って|というと|と言うと|というのは|とは|ですかね|ますかね|いかが|どう|どうですか|"
    r"何|なぜ|どうして)"
    rf"{_TAIL}"
)
# 「きっかけは何だったんでしょう。」: a question word, then a plain ending that still asks
_WH_QUESTION = re.compile(
    rf"(?:何|なに|なん|なぜ|どう|いつ|どこ|誰|だれ|どれ|どんな|どの|どちら|いくら).*(?:でしょう|だろう|っけ|の)。?{_TAIL}"
)
# 「小松さん。」「山田さん？」 on its own: a name called after the question
_CALL_ONLY = re.compile(
    r"^(?:じゃあ|では|それでは|では次に|次に|最後に)?、?(?P<who>[一-龥々ァ-ヶーA-Za-z]{1,10})(?:さん|くん|君|先生)[。？?！!、]*$"
)
# 「今後の展望は。」「御社の強みは？」: a topic left open for the other to take up
_OPEN_TOPIC = re.compile(rf"(?:は|って|については)[。]?{_TAIL}")
# 「自己紹介をお願いします。」「詳しく教えてください。」「お話を伺えますか。」
_REQUEST = re.compile(
    r"教えて(?:ください|いただけ|もらえ|下さい)|聞かせて|お聞かせ|(?:お|ご)?(?:伺い|うかがい|お聞きし|聞きし)|"
    r"(?:一言|自己紹介|説明|お話)(?:を)?(?:お願い|して(?:ください|いただけ))|話して(?:ください|いただけ|もらえ)|"
    r"聞いても(?:いい|よろしい)|質問(?:させて|です|があります|なんですが)"
)
# 「なるほど。」「へえ、そうなんですね。」「ええ。」
_BACKCHANNEL = re.compile(
    r"^(?:なるほど|へえ|へぇ|へー|ほう|ほー|はい|ええ|うん|あー|ああ|おお|確かに|たしかに|そうですね|そうなんですね|"
    r"そうですか|そうなんですか|本当ですか|ほんとに|いいですね|すごい|面白い|わかります|そうそう|ですよね)"
)
# 「株式会社サンプルの山田です。」「開発部で営業を担当しております、佐藤と申します。」
_SELF_INTRO = re.compile(
    r"(?:と申します|と言います|といいます|を担当して(?:い|お)|を務めて(?:い|お)|に所属して|に入社し|"
    r"(?:^|[。、\s])(?:私|僕|わたくし)は?[^。]{0,30}(?:の|で)[^。]{0,12}(?:です|をしています))"
)
_INTRO_COMPANY = re.compile(
    r"よろしく|担当|務め|所属|代表|社長|部長|課長|マネージャー|エンジニア|リーダー|責任者|同じく|入社|をしてい|をやってい|と言います|"
    r"司会|進行|聞き手|パーソナリティ|MC"
)
# 「開発部の野村です」「担当している野村です」; 「二つ目は適応性です」 is a predicate, not a name
_TOPIC_BEFORE = re.compile(r"(?<!私|僕|俺)(?<!わたし)(?<!わたくし)は")
_OWN_NAME = re.compile(
    # 「笹川みのりです。」 opening a sentence: a kanji surname with a given name in kana
    r"(?:^(?P<full>[一-龥々]{2,4}[ぁ-ゖ]{2,4})|(?:^|(?<=[のるた、\s]))(?P<name>[一-龥々ァ-ヶー]{2,8}))"
    r"(?:です|と申します)[。！]"
)
# 「司会の高橋です。」「今日のゲストは森さんです。」「お越しいただきました」: whoever runs the show
_HOSTING = re.compile(
    r"司会|進行役|聞き手|インタビュアー|今日のゲスト|本日のゲスト|ゲストに|お越しいただ|お迎えし|お招きし|"
    r"お話を伺(?:い|って)|番組|エピソード|リスナー|お届けし|始めていきましょう|始めたいと思います|"
    r"(?:本日|今日)は(?:よろしく|ありがとう)|お時間をいただ"
)
# 「はい、」「いや、」「なるほど。」 opening a paragraph: a reply to someone else
_RESPONSE = re.compile(
    r"^(?:はい|ええ|うん|いや|いえ|そうですね|そうです|そうそう|なるほど|確かに|たしかに|へえ|へぇ|あー|うーん|おお|ありがとう)"
)
# 「それで、」「例えば、」: the same speaker going on
_CONNECTIVE = re.compile(
    r"^(?:そして|また|それで|だから|でも|ただ|つまり|例えば|たとえば|もちろん|一方|それに|さらに|なので|あと|しかも|結局|実は|特に)"
)
_CUT = re.compile(r"(?:…|\.\.\.|―|－|ー)[」』）)]?$")
# 「補足すると、」「私からも一言」「現場の目線で言うと」「システムの面では」: another voice on the same question
_HANDOVER = re.compile(
    r"^(?:補足すると|補足ですが|付け加えると|付け加えるなら|私からも|僕からも|横から|ちなみに私|"
    r"[^、。]{1,12}(?:としては|の立場から(?:言うと|すると)?|の目線で(?:言うと|いうと)?|の面では|の観点では))"
)
# 「先に入社されたんですね。」: checking back what the other said
# 「大変そうですね。」 reads the other's situation back; 「はい、そうですね。」 (after 、) only agrees
_CONFIRM = re.compile(r"(?:んです|のです|ということです|わけです|んだ|のだ|[^、。\s]そう(?:です|だ))ね[。！]?$")
# 「では次に、」「さて、」「最後に、」: moving the talk on
_STEER = re.compile(r"^(?:では|それでは|じゃあ|さて|次に|最後に|ところで|続いて|改めて|まず|そろそろ|話(?:を|は)変わ)")
# 「質疑を終わります。」「採決いたします。」「１８番、山田議員。」: a chair running a meeting's proceedings
_CHAIRING = re.compile(
    r"許します|採決|と認めます|(?:御|ご)異議|(?:御|ご)起立|議題と|休憩(?:いた)?します|再開(?:いた)?します|"
    r"(?:開会|閉会|散会)(?:いた)?します|(?:質疑|討論)(?:に入ります|を終わ)|^[0-9０-９]{1,3}番"
)
_SECOND_PERSON = re.compile(r"あなた|御社|貴社|皆さん|みなさん|お二人|おふたり|皆様")
_FIRST_PERSON = re.compile(r"私|僕|ぼく|俺|わたし|我々|われわれ|弊社|当社|うちの|自分|私たち|僕ら")
_OPINION = re.compile(r"と(?:思(?:い|っ)|考え(?:てい|ま))|んですよ|のですよ|んですよね|なんです|んです[。]|のです[。]")
_PAST_NARRATIVE = re.compile(r"(?:ました|でした|だった|ていた|てた)[。]")
_THANKS = re.compile(r"ありがとうございま")
_LAUGH = re.compile(r"[（(](?:笑|苦笑|爆笑|一同笑)[）)]")
_PRAISE = re.compile(r"(?:素晴らしい|すごい|面白い|興味深い|素敵|いいお話|貴重な)(?:です|ですね|な|お話)")
# 「山田さん、」 at a sentence start, or 「…、山田さん？」: talking to someone by name
_VOCATIVE = re.compile(
    r"(?:^|(?<=[。！？!?、\s\u3040-\u309f]))(?P<a>[一-龥々ァ-ヶーA-Za-z]{1,10})(?:さん|くん|君|先生|社長)、"
    r"|、\s*(?P<b>[一-龥々ァ-ヶーA-Za-z]{1,10})(?:さん|くん|君|先生)[?？]"
    # translated interviews call people by bare given name: 「ケン、あなたは…」「…でしたか、ケン？」
    r"|(?:^|[。！？!?]\s*)(?P<k>[ァ-ヶ][ァ-ヶー]{1,7})、|、\s*(?P<k2>[ァ-ヶ][ァ-ヶー]{1,7})[?？]"
)
# 「山田さんは、どう思われますか？」: a question about someone, asked of them (Japanese avoids あなた)
_NAMED_TOPIC = re.compile(
    r"(?P<c>[一-龥々ァ-ヶーA-Za-z]{1,10})(?:さん|くん|君|先生|社長)(?:は|も|から|としては|にとって)"
)
_HONORIFIC_NAME = re.compile(r"(?P<n>[一-龥々ァ-ヶー]{1,10}|[A-Z][a-z]+)(?:さん|くん|君|先生|氏|社長)")
_NOT_NAME = re.compile(
    r"^(?:皆|みな|お客|お子|奥|先方|相手|担当|店員|社員|同僚|上司|部長|課長|社長|会長|娘|息子|母|父|兄|姉|弟|妹)"
)

CUES: tuple[str, ...] = (
    "bias",
    "question_mark",  # last sentence ends in ？
    "question_mark_inside",  # a ？ earlier in the paragraph
    "question_form",  # last sentence asks without ？ (〜でしょうか。)
    "open_topic",  # 「今後の展望は。」
    "request",  # 「教えてください」
    "backchannel",  # 「なるほど。」 opening a short paragraph
    "short",  # under SHORT_CHARS
    "long",  # over LONG_CHARS
    "log_length",  # log of the length, centred on a typical answer
    "sentences",  # how many sentences, capped
    "self_intro",  # 「〜の山田です」
    "hosting",  # 「司会の〜です」「今日のゲストは」
    "steer",  # 「では次に」
    "chairing",  # 「採決いたします。」 the proceedings of a meeting
    "second_person",  # あなた, 御社
    "first_person",  # 私, 弊社, per sentence
    "opinion",  # 〜と思います, 〜んです
    "past_narrative",  # 〜ました。 per sentence
    "thanks",  # ありがとうございます
    "laugh",  # （笑）
    "praise",  # 「素晴らしいですね」
    "vocative",  # 「山田さん、」
    "named_topic",  # 「山田さんは…」 in a question
    "first",  # the opening paragraph
    "last",  # the closing paragraph
    "confirm",  # 「先に入社されたんですね。」 checking what was said
    "before_long",  # the next paragraph is long
    # The last kana of the paragraph, its sentence-final particle or ending: 「…ますか」 -> か, 「…だね」 -> ね.
    *(f"ends_{kana}" for kana in ENDING_KANA),
)
SWITCH_CUES: tuple[str, ...] = (
    "segment",  # a timestamp or caption cue opened it (speech-to-text tools cut at speaker changes)
    "after_question",  # the paragraph before asks
    "after_request",  # the paragraph before asks for something: 「教えてください。」
    "after_short",  # the paragraph before is a few words
    "opens_response",  # 「はい、」「いや、」「なるほど。」: answering someone
    "opens_connective",  # 「それで、」「例えば」: going on with one's own point
    "after_cut",  # the paragraph before breaks off: 「それは…」
    "both_long",  # two long paragraphs in a row: one answer running on
)


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph to weigh, with what the layout says around it."""

    text: str  # as written
    segment: bool = False  # a timestamp or caption cue opened it


def last_sentence(text: str) -> str:
    """The final sentence of a paragraph, past a name called after it: 「どう見ていましたか。小松さん。」"""
    sentences = split_sentences(text)
    while len(sentences) > 1 and _CALL_ONLY.match(sentences[-1]):
        sentences.pop()
    return sentences[-1] if sentences else text


def asks(text: str) -> bool:
    """Whether a paragraph ends by asking: ？, 〜でしょうか。, 「今後の展望は。」. 「いつからですか？」 asks."""
    end = last_sentence(text)
    return bool(_QUESTION_MARK.search(end) or _QUESTION_FORM.search(end) or _OPEN_TOPIC.search(end))


def is_question(sentence: str) -> bool:
    """Whether one sentence asks something: 「どう思いますか。」 and 「なぜ？」 do, 「そうです。」 does not."""
    return bool(_QUESTION_MARK.search(sentence) or _QUESTION_FORM.search(sentence))


def requests(text: str) -> bool:
    """「詳しく教えてください。」: asking for an answer without a question form."""
    return bool(_REQUEST.search(text))


def hands_over(text: str) -> bool:
    """「補足すると、」「品質保証としては、」: a second guest taking up the same question."""
    return bool(_HANDOVER.search(text))


def is_backchannel(text: str) -> bool:
    """「なるほど。」「へえ、そうなんですね。」: a short reaction."""
    return len(text) <= SHORT_CHARS and bool(_BACKCHANNEL.search(text))


def addressed(text: str) -> list[str]:
    """Names called in a paragraph: 「田中さん、どうですか？」 -> ['田中']; 「佐藤さんはいかがですか？」 -> ['佐藤']."""
    names = [found["a"] or found["b"] or found["k"] or found["k2"] for found in _VOCATIVE.finditer(text)]
    for sentence in split_sentences(text):
        if is_question(sentence) or requests(sentence):
            names += [found["c"] for found in _NAMED_TOPIC.finditer(sentence)]
        called = _CALL_ONLY.match(sentence)
        if called:  # 「じゃあ笹川さん。」 hands over the floor
            names.append(called["who"])
    return [name for name in dict.fromkeys(names) if not _NOT_NAME.search(name)]


def honoured_names(text: str) -> list[str]:
    """Names written with さん, 氏, 先生…: 「昨日、木村さんと話しました」 -> ['木村']."""
    names = [found["n"] for found in _HONORIFIC_NAME.finditer(text)]
    return [name for name in dict.fromkeys(names) if not _NOT_NAME.search(name)]


def own_name(text: str) -> str | None:
    """The name a speaker gives themselves: 「開発部の野村です。営業を担当しています。」 -> 野村.

    「五年前の勉強会です。」 has the same shape, so an introduction also needs its usual company: と申します,
    よろしく, or a job.
    """
    # An introduction comes first: in the opening sentences, not in the middle of an answer; its company is
    # in the same sentence or the next.
    sentences = split_sentences(text)
    for n, sentence in enumerate(sentences[:INTRO_SENTENCES]):
        found = _OWN_NAME.search(sentence)
        if not found or _TOPIC_BEFORE.search(sentence[: found.start()]):
            continue  # 「本記事はイベントの採録です。」 says what something is, not who is speaking
        if "申します" in found[0] or _INTRO_COMPANY.search("".join(sentences[n : n + 2])):
            return found["name"] or found["full"]
    return None


def introduces_self(text: str) -> bool:
    """「営業部の野村です。新規開拓を担当しています。」"""
    return bool(_SELF_INTRO.search(text)) or own_name(text) is not None


def hosts(text: str) -> bool:
    """「司会の森です。今日のゲストは…」: wording only whoever runs the show uses."""
    return bool(_HOSTING.search(text))


def _per_sentence(pattern: re.Pattern[str], sentences: Sequence[str]) -> float:
    return sum(bool(pattern.search(s)) for s in sentences) / max(1, len(sentences))


def cue_vector(paragraphs: Sequence[Paragraph], i: int) -> list[float]:
    """The CUES of paragraph i, in CUES order, from its text and its neighbours."""
    text = paragraphs[i].text
    sentences = split_sentences(text) or [text]
    end = last_sentence(text)
    marked = bool(_QUESTION_MARK.search(end))
    formed = not marked and bool(_QUESTION_FORM.search(end) or _WH_QUESTION.search(end))
    following = paragraphs[i + 1].text if i + 1 < len(paragraphs) else ""
    return [
        1.0,
        float(marked),
        float(any(_QUESTION_MARK.search(s) for s in sentences[:-1])),
        float(formed),
        float(not marked and not formed and bool(_OPEN_TOPIC.search(end)) and len(end) <= 60),
        float(requests(text)),
        float(is_backchannel(text)),
        float(len(text) <= SHORT_CHARS),
        float(len(text) > LONG_CHARS),
        math.log(1 + len(text)) - 4.0,
        min(len(sentences), 8) / 4,
        float(introduces_self(text)),
        float(hosts(text)),
        float(bool(_STEER.search(text))),
        float(bool(_CHAIRING.search(text))),
        float(bool(_SECOND_PERSON.search(text))),
        _per_sentence(_FIRST_PERSON, sentences),
        _per_sentence(_OPINION, sentences),
        _per_sentence(_PAST_NARRATIVE, sentences),
        float(bool(_THANKS.search(text))),
        float(bool(_LAUGH.search(text))),
        float(bool(_PRAISE.search(text))),
        float(bool(_VOCATIVE.search(text))),
        float(any(_NAMED_TOPIC.search(s) for s in sentences if is_question(s))),
        float(i == 0),
        float(i == len(paragraphs) - 1),
        float(bool(_CONFIRM.search(end))),
        float(len(following) > LONG_CHARS),
        *(float(_final_kana(end) == kana) for kana in ENDING_KANA),
    ]


def _final_kana(sentence: str) -> str:
    """The last letter of a sentence once punctuation, closing marks and （笑） are gone."""
    bare = _TRAILER.sub("", sentence)
    return bare[-1:] if bare else ""


def switch_vector(paragraphs: Sequence[Paragraph], i: int) -> list[float]:
    """The SWITCH_CUES between paragraph i-1 and i: does the floor change hands here?"""
    if i == 0:
        return [0.0] * len(SWITCH_CUES)
    text, previous = paragraphs[i].text, paragraphs[i - 1].text
    return [
        float(paragraphs[i].segment),
        float(asks(previous)),
        float(requests(previous)),
        float(len(previous) <= SHORT_CHARS),
        float(bool(_RESPONSE.search(text))),
        float(bool(_CONNECTIVE.search(text))),
        float(bool(_CUT.search(previous.strip()))),
        float(len(previous) > LONG_CHARS and len(text) > LONG_CHARS),
    ]


# Habits of speech that tell two people apart but say nothing of their role on their own: which 「私」, which
# filler, plain or polite endings. In a 対談 the host may say 「僕はね、…だよね」 to a guest's 「…です」; in
# another the other way round, so attribution learns their weight per transcript (sequence.adapt).
STYLE_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("watashi", r"私|わたし"),
        ("boku", r"僕|ぼく"),
        ("ore", r"俺|おれ"),
        ("ee", r"えー|えっと|ええと"),
        ("ano", r"あの[ー、ぉ]|あのう"),
        ("nanka", r"なんか"),
        ("maa", r"まあ|まぁ"),
        ("dayo", r"だよ|だね|だよね|だなあ|よね[。]|ね[。]"),
        ("janai", r"じゃない|じゃん"),
        ("plain_end", r"(?:だ|る|た|ない|の|よ|ね|な)[。！？]"),
        ("polite_end", r"(?:です|ます|ました|でした|ません|でしょう)[。！？]"),
        ("ssu", r"っす"),
    )
)


def style_vector(text: str) -> list[float]:
    """Which STYLE_MARKERS a paragraph shows, 1.0 or 0.0 each."""
    return [float(bool(pattern.search(text))) for _, pattern in STYLE_MARKERS]


# What chaptering listens for in the interviewer's turns: where a new topic is asked, and how to title it.
# Looser than the attribution cues above (they only ever see turns already known to be the host's).
_ENDS_ASKING = re.compile(r"(?:[?？]|(?:です|ます|でしょう|ません|でした|ました)かね?[。.]?)[」』）)…\s]*$")
# 「なぜですか？」「その後は？」: a question about the last answer, not a new topic
_FOLLOW_UP = re.compile(r"^(?:なぜ|どうして|それ|その|そこ|じゃあ|もっと|他に|ほかに)")
# 「なるほど、…」「確かに。」: a turn that reacts to the last answer
_REACTION = re.compile(r"^(?:そうですね|へぇ|へー|ほう|なるほど|はい|いいですね|ええ|確かに|本当ですか|そうなんですか)")
# 「…について聞かせてください」「話を変えましょう」: asking to hear about something without a question form
_ASK_TO_HEAR = re.compile(
    r"聞きたい|聞いてもいい|お聞きし|伺い|聞かせて|教えて|始めたい|についてです|話しましょう|話を(?:移|変え)"
)
# 「次の質問です。」「テーマは…」: an interviewer's turn that introduces the next question
_LEAD_IN = re.compile(r"について|質問|話題|テーマ|聞き|伺")
# 「では、」「さて」「あなたは、」: openers a chapter title does without
_FILLER = re.compile(
    r"^(?:(?:では|さて|それでは|じゃあ|まず始めに|まず|ところで|次に|最後に|しかし|でも|そして|また|あと|特に)、?"
    r"|(?:今|だから)、|あなた(?:たち|方)?(?:は|が)、?)"
)
# 「ケンさん、…」「…、ケン」: a name called out at either end of a phrase
_CALLED_AT_EDGE = re.compile(
    r"^(?:[ァ-ヶー・]{2,15}|[A-Z][a-z]+|[一-龥々]{2,4}さん)、|、\s*(?:[ァ-ヶー・]{2,15}|[A-Z][a-z]+|[一-龥々]{2,4}さん)$"
)


def ends_in_question(sentence: str) -> bool:
    """「どう思いますか。」「なぜ？」: ends with ？ or a polite 〜ですか／ますか／でしょうか."""
    return bool(_ENDS_ASKING.search(sentence))


def follows_up(text: str) -> bool:
    """「それはなぜですか？」: opens by pointing back at the last answer."""
    return bool(_FOLLOW_UP.match(text))


def reacts(text: str) -> bool:
    """「なるほど、面白いですね。」: opens with a reaction to the last answer."""
    return bool(_REACTION.match(text))


def asks_to_hear(text: str) -> bool:
    """「仕入れについて聞かせてください。」: asks to hear about something without a question form."""
    return bool(_ASK_TO_HEAR.search(text))


def leads_in(text: str) -> bool:
    """「次のテーマです。」: introduces the question that follows."""
    return bool(_LEAD_IN.search(text))


def without_address(phrase: str) -> str:
    """「では、ケンさん、仕入れについて」 -> 「仕入れについて」: a name called at either end and openers dropped."""
    phrase = _CALLED_AT_EDGE.sub("", phrase.strip())
    while _FILLER.match(phrase):
        phrase = _FILLER.sub("", phrase, count=1)
    return phrase.strip()

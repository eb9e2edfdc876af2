"""What an unlabelled interview reveals about its speakers: names, self-descriptions, cues between guests."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from .text import is_question, split_sentences

_KATAKANA_NAME = r"[ァ-ヶ][ァ-ヶー]+(?:[・=＝][ァ-ヶ][ァ-ヶー]+)*"
_LATIN_NAME = r"[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}"
_HONORIFIC = r"(?:さん|氏|くん|先生)"
_TITLE_NAME = re.compile(rf"^(?:{_KATAKANA_NAME}|{_LATIN_NAME}|[一-龥々]{{2,6}}{_HONORIFIC})$")
_TITLE_PARTS = re.compile(r"\s*(?:\||｜|：|:| - |×|＆|&|と)\s*")
_TITLE_HONORED = re.compile(rf"({_KATAKANA_NAME}|[一-龥々]{{2,6}}){_HONORIFIC}")
_CALLED = rf"(?:{_KATAKANA_NAME}|{_LATIN_NAME})(?:さん)?|[一-龥々]{{2,4}}さん"
_VOCATIVE = re.compile(
    rf"(?:^|[。！？!?、]\s*)(?P<a>{_CALLED})、|、\s*(?P<b>{_CALLED})\s*[?？]"
    # 「ジョージはどうですか？」: asked by name for their view
    rf"|(?:^|[。！？!?、]\s*)(?P<c>{_CALLED})(?:は|も)(?:どう|いかが)(?:です|でしょう|思います)?か"
)
_VIEWPOINT = re.compile(rf"({_CALLED})から見て")  # 「佐々木さんから見て、…」 asks 佐々木
_POLITE_TOPIC = re.compile(rf"(?:^|[、。]\s*)((?:{_KATAKANA_NAME}|[一-龥々]{{1,4}})さん)(?:は|の|も)")
_PRAISE_ASKED = re.compile(r"強み|素晴らしい|すごい|どんな人|魅力|尊敬|良いところ|いいところ")
# Cues between two guests: who replies to whom without the interviewer in between.
_OTHER_REPLY = re.compile(
    r"^(?:(?:いや|ええ|はい|そうですね)、?)?(?:私は|僕は)?(?:その|それ|そのこと)(?:について|は|を)?(?:全く|まったく)?"
    r"(?:知りませんでした|知らなかった|初耳)|^(?:私も|僕も)(?:そう思います|同意します|同感です|同じ)|^(?:補足すると|付け加えると)"
)
_ASIDE = re.compile(r"(?:言わ|話さ)(?:ないで|なくて)(?:いい|大丈夫)|お手柔らかに|照れ(?:ます|る)|褒めすぎ")
_BOTH = re.compile(r"あなたたち|あなた方|お二人|二人とも")
_TRAILING = re.compile(r"(?:…|\.\.\.|―|－)[」』）)]?$")  # cut off mid-sentence: someone cut in
# Who someone is, said of themselves (「私は投資の観点から」「私はエンジニアで」): pins them later.
_IDENTITY = re.compile(
    r"(投資|VC|銀行|金融|コンサル|エンジニア|研究者|デザイナー|営業|創業者|起業家|経営者|CEO|CFO|COO|CTO|記者|編集者|作家|医師|弁護士|教師|"
    r"学生|選手|監督|プロデューサー|シェフ|料理人|母親|父親)"
)
_SELF = re.compile(r"私|僕|俺|自分")  # 「投資家として」 alone may describe someone else
_HOST_REVEALED = re.compile(
    r"(?:聞き手|司会|インタビュアー|進行|MC)(?:の|は|を務める|を務めます|を担当する)\s*"
    r"([^\s、。「」]{1,10}?)(?:です|と申します|が|でした)"
)


@dataclass(frozen=True, slots=True)
class Guest:
    """A guest found in the title or addressed in the text."""

    name: str  # as written: full name when the title gives it
    aliases: tuple[str, ...]  # the name and its parts, as the text may use them


def find_guests(title: str, host_texts: Sequence[str]) -> list[Guest]:
    """Guests named by the title, then names the interviewer addresses (「サム、…」「…、ブラッド?」)."""
    guests = title_guests(title)
    for text in host_texts:
        for found in _VOCATIVE.finditer(text):
            name = _bare(found["a"] or found["b"] or found["c"])
            if not any(name in guest.aliases for guest in guests):
                guests.append(Guest(name, (name,)))
    return guests


def title_guests(title: str) -> list[Guest]:
    """People the title names: the 「サム・アルトマン | …」 head, or 〜氏 / 〜さん anywhere."""
    names: list[str] = []
    for part in _TITLE_PARTS.split(unicodedata.normalize("NFC", title).strip()):
        if _TITLE_NAME.match(part.strip()):
            names.append(_bare(part.strip()))
        else:
            break  # names lead the title; the rest is the topic
    names += [_bare(found[0]) for found in _TITLE_HONORED.finditer(title) if _bare(found[0]) not in names]
    guests = []
    for name in names:
        parts = [p for p in re.split(r"[・=＝ ]", name) if len(p) >= 2]
        guests.append(Guest(name, tuple(dict.fromkeys([name, *parts]))))
    return guests


def _bare(name: str) -> str:
    return re.sub(rf"{_HONORIFIC}$", "", name)


def addressed(question: str, guests: Sequence[Guest]) -> int | None:
    """The guest a question calls by name (「サム、…」「…、ブラッド?」「高橋さんは…ですか？」), if any."""
    names = [_bare(found["a"] or found["b"] or found["c"]) for found in _VOCATIVE.finditer(question)]
    names += [_bare(found[1]) for found in _VIEWPOINT.finditer(question)]
    for sentence in split_sentences(question):
        # Japanese avoids 「あなた」: 「高橋さんは…ですか？」 asks 高橋 about themselves, unless it asks for praise.
        if is_question(sentence) and not _PRAISE_ASKED.search(sentence):
            names += [_bare(found[1]) for found in _POLITE_TOPIC.finditer(sentence)]
    for name in names:
        for n, guest in enumerate(guests):
            if name in guest.aliases:
                return n
    return None


def mentioned(text: str, guests: Sequence[Guest]) -> list[int]:
    """The guests a text names, in guest order."""
    return [n for n, guest in enumerate(guests) if _mentions(text, guest)]


def _mentions(text: str, guest: Guest) -> bool:
    return any(re.search(rf"{re.escape(alias)}{_HONORIFIC}?(?![ァ-ヶーA-Za-z])", text) for alias in guest.aliases)


def third_person(text: str, guests: Sequence[Guest], default: int) -> int | None:
    """A guest who talks about another guest in the third person is not that guest."""
    if len(guests) < 2:
        return None
    named = mentioned(text, guests)
    if len(named) != 1:
        return None
    if len(guests) == 2:
        return 1 - named[0]
    return None if default != named[0] else next(n for n in range(len(guests)) if n != named[0])


def replies_to_other(text: str) -> bool:
    """「私はそのことを知りませんでした」「私もそう思います」: a reply to the guest who just spoke."""
    return bool(_OTHER_REPLY.search(text))


def is_aside(text: str) -> bool:
    """「何も言わないでいいですよ」: the guest being talked about cutting in on the answer."""
    return bool(_ASIDE.search(text))


def asks_both(question: str) -> bool:
    """Whether a question is put to both guests (「お二人は…」)."""
    return bool(_BOTH.search(question))


def cut_in_by(previous: str, guests: Sequence[Guest], speaker: int) -> int | None:
    """The guest named in a paragraph that breaks off (「…」): the one likely to cut in next."""
    if not _TRAILING.search(previous):
        return None
    named = [n for n in mentioned(previous, guests) if n != speaker]
    return named[0] if len(named) == 1 else None


def identities(text: str) -> set[str]:
    """Identity words in first-person sentences: 「私は投資家でした」 -> {投資}."""
    sentences = split_sentences(text)
    return {word for sentence in sentences if _SELF.search(sentence) for word in _IDENTITY.findall(sentence)}


def identified(text: str, profiles: Sequence[set[str]]) -> int | None:
    """The one guest whose earlier self-description matches what this text says of its speaker."""
    words = identities(text)
    matches = [n for n, profile in enumerate(profiles) if words & profile]
    return matches[0] if len(matches) == 1 else None


def host_name(host_texts: Sequence[str]) -> str | None:
    """The interviewer's name when they introduce themselves (「司会の松木です」)."""
    for text in host_texts:
        found = _HOST_REVEALED.search(text)
        if found:
            return found[1]
    return None

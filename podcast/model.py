"""Plain data passed between the pipeline stages: transcript, script, voices, audio, episode."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Role = Literal["host", "guest", "narrator"]
ROLES: tuple[Role, ...] = ("host", "guest", "narrator")
EpisodeType = Literal["full", "trailer", "bonus"]  # itunes:episodeType
EPISODE_TYPES: tuple[EpisodeType, ...] = ("full", "trailer", "bonus")
Gender = Literal["female", "male"]  # how a speaker's voice should sound: what casting matches voices on
GENDERS: tuple[Gender, ...] = ("female", "male")
Age = Literal["young", "adult", "older"]
AGES: tuple[Age, ...] = ("young", "adult", "older")


@dataclass(frozen=True, slots=True)
class Utterance:
    """One paragraph of a transcript, as written."""

    text: str  # the paragraph, original spelling, stripped
    line: int  # 1-based line number in the source file
    label: str | None = None  # speaker label written in the source, if any
    heading: bool = False  # a section heading: starts a chapter, is not spoken
    segment: bool = False  # a timestamp or caption cue opened it: speech-to-text tools start one per speaker change


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone the transcript names as taking part before they speak: a 出席者 list, 「（以下、山田）」."""

    name: str  # fullest form written: 山田太郎
    aliases: tuple[str, ...] = ()  # shorter forms the labels or the text use: 山田
    role: Role | None = None  # host when listed as 司会, 聞き手, インタビュアー…; None: not said
    note: str = ""  # what the list says of them: company, title


@dataclass(frozen=True, slots=True)
class Transcript:
    """A transcript file with its page chrome removed."""

    title: str  # episode title (from the first title line, else the file name)
    utterances: tuple[Utterance, ...]  # paragraphs and headings in reading order
    source: str = ""  # path of the file it came from, for error messages
    participants: tuple[Participant, ...] = ()  # listed or introduced before speaking; never voiced
    dropped: tuple[tuple[int, str], ...] = ()  # (line, text) taken out as page chrome or a participant list


@dataclass(frozen=True, slots=True)
class Hints:
    """What the user knows about who was there (`podcast split --speakers --host --guest`)."""

    speakers: int | None = None  # how many people speak, host(s) included; None: read it from the text
    hosts: tuple[str, ...] = ()  # names of the interviewer(s)
    guests: tuple[str, ...] = ()  # names of the guests, in order of importance
    genders: tuple[tuple[str, Gender], ...] = ()  # (name, gender) given with a name: `--guest 佐藤:male`
    ages: tuple[tuple[str, Age], ...] = ()  # (name, age) given with a name: `--guest 佐藤:male:older`


@dataclass(frozen=True, slots=True)
class Speaker:
    """Someone who talks in the episode."""

    id: str  # short key used by turns and voices.yaml ("host", "sam")
    name: str  # display name, spoken in tags and transcripts ("サム・アルトマン")
    role: Role  # host | guest | narrator
    gender: Gender | None = None  # female | male: the default cast gives a voice that fits; None: not said
    age: Age | None = None  # young | adult | older; None: not said


@dataclass(frozen=True, slots=True)
class Turn:
    """One uninterrupted stretch of speech by one speaker."""

    speaker: str  # Speaker.id
    text: str  # what is said, original spelling
    line: int | None = None  # source line it came from, for review and errors
    review: bool = False  # attribution rests on weak evidence: a human should check it
    why: str = ""  # what makes the speaker unsure, shown beside review
    sure: float = 1.0  # attribution's probability that the speaker is right (not saved in the script file)


@dataclass(frozen=True, slots=True)
class Chapter:
    """A titled run of turns; becomes an ID3 chapter."""

    title: str
    turns: tuple[Turn, ...]


@dataclass(frozen=True, slots=True)
class Script:
    """The editable episode script: the unit that gets rendered."""

    title: str
    speakers: dict[str, Speaker]  # id -> speaker, in order of appearance
    chapters: tuple[Chapter, ...]
    source: str = ""  # path of the file it came from, for error messages
    id: str = ""  # the episode's identity: kept through retitles, so the feed never shows it twice; "" = from title
    episode: int | None = None  # itunes:episode number, if the show numbers its episodes
    season: int | None = None  # itunes:season number
    episode_type: EpisodeType = "full"  # itunes:episodeType: full, trailer or bonus
    dropped: tuple[tuple[int, str], ...] = ()  # (line, text) of the transcript left unvoiced as page chrome

    @property
    def turns(self) -> list[Turn]:
        """Every turn in reading order."""
        return [turn for chapter in self.chapters for turn in chapter.turns]


@dataclass(frozen=True, slots=True)
class Voice:
    """How one speaker sounds: an engine voice plus prosody."""

    engine: str  # engine registry key: "kokoro", "openjtalk", "edge"
    name: str  # the engine's voice id: "jm_kumo", "mei", "ja-JP-NanamiNeural"
    speed: float = 1.0  # kokoro, openjtalk: 1.0 is the voice's natural pace
    half_tone: float = 0.0  # openjtalk: pitch shift in semitones
    rate: str = "+0%"  # edge: speaking rate offset
    pitch: str = "+0Hz"  # edge: pitch offset
    volume: str = "+0%"  # edge: volume offset


@dataclass(frozen=True, slots=True)
class WordTime:
    """When the engine says one word is spoken, from the start of its clip."""

    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class Clip:
    """Synthesized speech for one piece of text: 16-bit mono PCM."""

    pcm: bytes  # little-endian int16 samples
    sample_rate: int  # Hz
    words: tuple[WordTime, ...] = ()  # word boundaries, from engines that report them (edge); else empty

    @property
    def duration_ms(self) -> int:
        return len(self.pcm) * 1000 // (2 * self.sample_rate)


@dataclass(frozen=True, slots=True)
class SpokenTurn:
    """A turn cut into sentences, each with its audio (None where there is nothing to say)."""

    turn: Turn
    sentences: tuple[str, ...]  # as written, for the transcript
    clips: Sequence[Clip | None]  # one per sentence (from synthesis: read from the clip cache when used)
    fresh: bool  # at least one clip was synthesized now rather than taken from the cache
    key: str = ""  # names the turn's sound (its sentences' clip keys); "" = do not cache its leveled audio


@dataclass(frozen=True, slots=True)
class LeveledTurn:
    """A turn's sentences trimmed, joined and leveled on their own: what the episode is laid out from."""

    pcm: bytes  # little-endian int16 samples at the episode's rate
    sentence_spans: tuple[tuple[int, int], ...]  # (start, end) sample of each sentence's words
    ceiling_db: float  # true-peak limiter ceiling it was leveled with


@dataclass(frozen=True, slots=True)
class Cue:
    """A span of the finished audio: one spoken sentence, for the transcript."""

    start_ms: int
    end_ms: int
    speaker: str  # Speaker.name, as shown in the transcript
    text: str


@dataclass(frozen=True, slots=True)
class ChapterMark:
    """Where a chapter starts and ends in the finished audio."""

    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class StageTime:
    """Time one pipeline stage took in one render."""

    name: str  # "parse", "synthesis", "assembly", "loudness", "encode", "tagging"
    wall_s: float  # elapsed
    cpu_s: float  # this process's CPU time, all threads (ffmpeg runs in its own process and is not counted)
    calls: int = 1  # times the stage ran: encode runs once per true-peak pass


@dataclass(frozen=True, slots=True)
class PriorRender:
    """What an episode folder held before a render replaced it, so the user is told."""

    title: str  # the title it had then
    engine: str  # engine that rendered it ("" when an old folder does not say)
    rendered: str  # ISO 8601 time of that render ("" when unknown)
    duration_ms: int  # its length (0 when unknown)


@dataclass(frozen=True, slots=True)
class Episode:
    """A rendered episode folder: its files, timing and identity; a render adds what it took to make it.

    episode_dir.py makes it both ways: as a render writes the folder, and read back for the feed and server.
    """

    script: Script  # what was rendered (script.yaml)
    slug: str  # folder name and the MP3's stem
    directory: Path  # OUTPUT_DIR/<slug>/
    audio: Path  # <slug>.mp3
    chapters_json: Path
    transcript_vtt: Path
    script_yaml: Path
    duration_ms: int
    chapters: tuple[ChapterMark, ...]
    published: datetime.datetime  # first render, UTC: the feed's pubDate, kept by re-renders
    guid: str  # the feed's item guid, fixed at the first render
    engine: str = ""  # the engine that rendered it last ("" when an old folder does not say)
    size: int = 0  # MP3 bytes: the enclosure length
    cues: tuple[Cue, ...] = ()  # one per spoken sentence; () when read back (transcript.vtt holds them)
    clips_synthesized: int = 0  # this render: turns that needed at least one fresh synthesis
    clips_cached: int = 0  # this render: turns served entirely from the clip cache
    stages: tuple[StageTime, ...] = ()  # where this render's time went
    replaced: PriorRender | None = None  # the earlier render of this episode that this one replaced

    @property
    def title(self) -> str:
        """The Japanese title, as written in the script."""
        return self.script.title

    @property
    def speakers(self) -> tuple[str, ...]:
        """Display names, in order of appearance."""
        return tuple(speaker.name for speaker in self.script.speakers.values())

    @property
    def date(self) -> str:
        """The first render's local date, ISO: the ID3 date."""
        return self.published.astimezone().date().isoformat()

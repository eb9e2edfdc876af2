"""podcast: a Japanese interview transcript in, a chaptered multi-voice podcast episode out."""

from .engines import VoiceListing
from .errors import AssemblyError, ConfigError, EngineError, PodcastError, TranscriptError
from .feed import Channel, PublishedEpisode
from .model import Chapter, ChapterMark, Clip, Cue, Episode, Hints, Script, Speaker, Turn, Utterance, Voice
from .pipeline import (
    Feed,
    build_episode,
    feed,
    list_voices,
    load_input,
    readings_report,
    render,
    split,
    summary,
)
from .proof import HeardSentence, Misheard, ProofReport, check
from .readings import Lexicon, ReadingRow, apply_readings, load_lexicon
from .serve import serve
from .writers import format_timestamp

__all__ = [
    "AssemblyError",
    "Chapter",
    "Channel",
    "ChapterMark",
    "Clip",
    "ConfigError",
    "Cue",
    "EngineError",
    "Episode",
    "Feed",
    "HeardSentence",
    "Hints",
    "Lexicon",
    "Misheard",
    "PodcastError",
    "ProofReport",
    "PublishedEpisode",
    "ReadingRow",
    "Script",
    "Speaker",
    "TranscriptError",
    "Turn",
    "Utterance",
    "Voice",
    "VoiceListing",
    "apply_readings",
    "build_episode",
    "check",
    "feed",
    "format_timestamp",
    "list_voices",
    "load_input",
    "load_lexicon",
    "readings_report",
    "render",
    "serve",
    "split",
    "summary",
]

"""podcast: a Japanese interview transcript in, a chaptered multi-voice podcast episode out."""

__version__ = "0.2.0"  # the package's version (pyproject.toml reads it from here): `podcast --version`

from .channel import Channel, init_channel
from .engines import VoiceListing
from .errors import AssemblyError, ConfigError, EngineError, PodcastError, TranscriptError
from .feed import PublishedEpisode
from .model import (
    AGES,
    GENDERS,
    Age,
    Chapter,
    ChapterMark,
    Clip,
    Cue,
    Episode,
    Gender,
    Hints,
    Script,
    Speaker,
    Turn,
    Utterance,
    Voice,
)
from .pipeline import (
    build_episode,
    list_voices,
    load_input,
    readings_report,
    render,
    split,
    summary,
)
from .progress import ProgressReporter
from .proof import HeardSentence, Misheard, ProofReport, check
from .publish import Feed, feed
from .readings import Lexicon, ReadingRow, apply_readings, load_lexicon
from .serve import serve
from .voices import init_voices
from .writers import format_clock, format_timestamp

__all__ = [
    "AGES",
    "GENDERS",
    "Age",
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
    "Gender",
    "HeardSentence",
    "Hints",
    "Lexicon",
    "Misheard",
    "PodcastError",
    "ProofReport",
    "ProgressReporter",
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
    "format_clock",
    "format_timestamp",
    "init_channel",
    "init_voices",
    "list_voices",
    "load_input",
    "load_lexicon",
    "readings_report",
    "render",
    "serve",
    "split",
    "summary",
]

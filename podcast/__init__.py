"""podcast: a Japanese interview transcript in, a chaptered multi-voice podcast episode out."""

from .errors import AssemblyError, ConfigError, EngineError, PodcastError, TranscriptError
from .model import Chapter, ChapterMark, Clip, Cue, Episode, Script, Speaker, Turn, Utterance, Voice
from .pipeline import build_episode, load_input, render, split, split_transcript, summary
from .writers import format_timestamp

__all__ = [
    "AssemblyError",
    "Chapter",
    "ChapterMark",
    "Clip",
    "ConfigError",
    "Cue",
    "EngineError",
    "Episode",
    "PodcastError",
    "Script",
    "Speaker",
    "TranscriptError",
    "Turn",
    "Utterance",
    "Voice",
    "build_episode",
    "format_timestamp",
    "load_input",
    "render",
    "split",
    "split_transcript",
    "summary",
]

"""podcast: a Japanese interview transcript in, a chaptered multi-voice podcast episode out.

Each public name is imported from its module on first use (PEP 562), so `import podcast.text` loads no audio,
feed or server library. The preview server is `podcast.serve.serve`: nothing here imports it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"  # the package's version (pyproject.toml reads it from here): `podcast --version`

if TYPE_CHECKING:  # the same names for type checkers, which do not run __getattr__
    from .batch import EpisodeResult, expand_inputs, render_batch
    from .channel import Channel, init_channel
    from .engines import VoiceListing
    from .errors import AssemblyError, ConfigError, EngineError, PodcastError, TranscriptError
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
    from .pipeline import build_episode, list_voices, load_input, readings_report, render, split, summary
    from .progress import BatchProgressReporter, ProgressReporter
    from .proof import HeardSentence, Misheard, ProofReport, check
    from .publish import Feed, publish_feed
    from .readings import Lexicon, ReadingRow, apply_readings, load_lexicon
    from .voices import init_voices
    from .writers import format_clock, format_timestamp

# fmt: off
__all__ = [  # every public name; _NAMES says which module defines each
    "AGES", "Age", "AssemblyError", "BatchProgressReporter", "Channel", "Chapter", "ChapterMark", "Clip",
    "ConfigError", "Cue", "EngineError", "Episode", "EpisodeResult", "Feed", "GENDERS", "Gender", "HeardSentence",
    "Hints", "Lexicon", "Misheard", "PodcastError", "ProgressReporter", "ProofReport", "ReadingRow", "Script",
    "Speaker", "TranscriptError", "Turn", "Utterance", "Voice", "VoiceListing", "apply_readings", "build_episode",
    "check", "expand_inputs", "format_clock", "format_timestamp", "init_channel", "init_voices", "list_voices",
    "load_input", "load_lexicon", "publish_feed", "readings_report", "render", "render_batch", "split", "summary",
]
# fmt: on
_NAMES = {  # module -> the public names it defines
    "batch": "EpisodeResult expand_inputs render_batch",
    "channel": "Channel init_channel",
    "engines": "VoiceListing",
    "errors": "AssemblyError ConfigError EngineError PodcastError TranscriptError",
    "model": "AGES GENDERS Age Chapter ChapterMark Clip Cue Episode Gender Hints Script Speaker Turn Utterance Voice",
    "pipeline": "build_episode list_voices load_input readings_report render split summary",
    "progress": "BatchProgressReporter ProgressReporter",
    "proof": "HeardSentence Misheard ProofReport check",
    "publish": "Feed publish_feed",
    "readings": "Lexicon ReadingRow apply_readings load_lexicon",
    "voices": "init_voices",
    "writers": "format_clock format_timestamp",
}
_HOMES = {name: module for module, names in _NAMES.items() for name in names.split()}  # name -> its module


def __getattr__(name: str) -> Any:
    """A public name, imported from its module the first time it is asked for."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value  # asked once
    return value

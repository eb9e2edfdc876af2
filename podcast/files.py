"""Files in and out: config YAML read with one-line errors, atomic writes that never leave half a file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from .errors import AssemblyError, ConfigError

MAX_ALIASES = 8  # config files reuse a voice or two; each alias can multiply what a message would print


class _Loader(yaml.SafeLoader):
    """safe_load that stops a billion-laughs file: its value is tiny in memory but gigabytes when shown."""

    aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                problem = f"more than {MAX_ALIASES} aliases (*name); write the values out"
                raise yaml.composer.ComposerError(None, None, problem, event.start_mark)  # type: ignore[arg-type]
        return super().compose_node(parent, index)


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
    Errors raised inside the block pass through as they are: wrap writes in writing(final) to name
    the file, so nested atomic_paths never blame the wrong one.
    """
    try:
        fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    except OSError as exc:
        raise AssemblyError(
            f"{final}: cannot write ({exc.strerror or exc}); check the folder exists and is writable"
        ) from exc
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with writing(final):
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; episodes and scripts are meant to be shared
            os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def read_yaml(path: Path, *, kind: str, fix: str = "check the path") -> Any:
    """A small config file (voices, readings, channel) parsed with safe_load; errors name file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read {kind} ({reason}); {fix}") from exc
    try:
        loader = _Loader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: YAML error: {problem} (fix that line)") from exc

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


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """A temporary path beside final: renamed onto final when the block succeeds, removed when it fails.

    Readers of final see the old file or the new one, never half of one, even if the process dies.
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
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; episodes and scripts are meant to be shared
        os.replace(tmp, final)
    except OSError as exc:
        raise AssemblyError(f"{final}: cannot write ({exc.strerror or exc}); check free space and permissions") from exc
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
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: YAML error: {problem} (fix that line)") from exc

"""Atomic file writes: a temporary name beside the target, renamed onto it only on success."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import AssemblyError


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

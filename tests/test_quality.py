"""The code checks CI relies on: ruff lint and format, mypy --strict, the layer rule and a light package import."""

from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import podcast

from .conftest import REPO

# Import only from a lower layer; nothing imports cli, and only cli (in its serve command) imports serve. The
# truth for STYLE.md's module map: L0 errors · L1 model, text, files, sequence, loudness, media · L2 timing,
# captions, cues, script, readings, engines, cache, writers, channel, artwork · L3 transcript, guests, voices,
# chaptering, synth, assemble, feed · L4 attribution, episode_dir, progress, cluster · L5 pipeline, publish,
# proof · L6 batch, serve · L7 cli · L8 __main__.
LAYERS = {
    "errors": 0,  # any module may raise a PodcastError
    "model": 1, "text": 1, "files": 1, "sequence": 1, "loudness": 1,
    "media": 1,  # ffmpeg I/O: engines decode with it, assemble encodes with it
    "timing": 2, "cues": 2, "script": 2, "engines": 2, "cache": 2, "readings": 2, "writers": 2,
    "captions": 2,  # below transcript, which reads SRT, WebVTT and JSON exports through it
    "channel": 2, "artwork": 2,  # podcast.yaml and the directories' rules; the cover's header and the default cover
    "transcript": 3, "chaptering": 3, "synth": 3, "assemble": 3,
    "voices": 3,  # voices.yaml: its sections are the registered engines' names
    "guests": 3,  # which guest: uses the cue vocabulary, used by attribution
    "feed": 3,  # episodes -> RSS: it reads no folder, episode_dir hands it episodes
    "attribution": 4, "progress": 4,
    "episode_dir": 4,  # the episode folder: layout, written whole (encoded by assemble), read back as an Episode
    "proof": 5,  # proof-listen: an episode's cues, read by episode_dir, heard back and compared on readings
    "pipeline": 5, "publish": 5,  # render, and `podcast feed`'s publish folder: side by side, neither imports the other
    "cluster": 4,  # synthesis as Ray tasks: over synth and the cache
    "batch": 6,  # many episodes over pipeline (and cluster); cli reaches it through podcast/__init__
    "serve": 6, "cli": 7, "__main__": 8,
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


def _imported(path: Path, code: str | None = None) -> Iterator[tuple[int, str]]:
    """(line, module of this package) for every import in the file, in every form: `import podcast.x`,
    `from podcast.x import y`, `from . import x`, `from .x import y`, `from .. import x`, inside functions too.
    A public name taken from the package (`from . import render`) counts as an import of the module defining it."""
    package = ["podcast", *path.relative_to(REPO / "podcast").parent.parts]  # where this file's `.` points

    def named(parts: list[str], names: list[str]) -> Iterator[str]:
        if parts[1:]:
            yield parts[1]
        else:  # the package itself: each name is a module or a public name re-exported by __init__
            for name in (n for n in names if n != "__version__"):  # the version: package metadata, no module
                yield name if (REPO / "podcast" / f"{name}.py").exists() else podcast._HOMES.get(name, "__init__")

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8") if code is None else code)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "podcast":
                    yield from ((node.lineno, m) for m in named(alias.name.split("."), [alias.name]))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package[: len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
            else:
                parts = (node.module or "").split(".")
            if parts[0] == "podcast":
                yield from ((node.lineno, m) for m in named(parts, [a.name for a in node.names]))


def test_every_module_has_a_layer() -> None:
    modules = {_module_of(path) for path in (REPO / "podcast").rglob("*.py")} - {"__init__"}
    assert not modules - LAYERS.keys()


@pytest.mark.parametrize("path", sorted((REPO / "podcast").rglob("*.py")), ids=lambda p: p.name)
def test_imports_go_down_the_layers(path: Path) -> None:
    module = _module_of(path)
    if module == "__init__":
        return  # the public surface re-exports from every layer, each name on first use
    for line, target in _imported(path):
        if target == module:
            continue  # inside engines/
        assert target != "__init__", f"{path.name}:{line} imports the package itself; import the defining module"
        assert LAYERS[target] < LAYERS[module], (
            f"{path.name}:{line} (layer {LAYERS[module]}) imports {target} (layer {LAYERS[target]})"
        )


def test_the_layer_check_sees_every_form_of_import() -> None:
    """The forms the old check skipped (`from . import x`, absolute and in-function imports) are all seen."""
    code = (
        "from . import assemble\nimport podcast.feed\nfrom podcast import serve\nfrom podcast.cli import app\n"
        "def f():\n    from .pipeline import render\n    from . import render as r\n"
    )
    found = [target for _, target in _imported(REPO / "podcast" / "text.py", code)]
    assert found == ["assemble", "feed", "serve", "cli", "pipeline", "pipeline"]


def test_importing_a_module_loads_no_audio_feed_or_server_library() -> None:
    """`import podcast.text` runs podcast/__init__, which must import nothing heavy and look for no ffmpeg."""
    heavy = ("aiohttp", "scipy", "feedgen", "mutagen", "pydub", "imageio_ffmpeg", "numpy", "podcast.serve")
    code = f"import sys, podcast.text, podcast.model; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_no_public_name_shadows_a_module() -> None:
    """`import podcast.feed as m` gives the module, whatever was imported before."""
    modules = {path.stem for path in (REPO / "podcast").glob("*.py")} | {"engines"}
    assert not modules & set(podcast.__all__)
    assert sorted(podcast.__all__) == sorted(podcast._HOMES)  # every public name has a home, and only those
    for name in podcast.__all__:
        getattr(podcast, name)  # every public name resolves
    for name in sorted(modules - {"__init__", "__main__"}):
        assert type(importlib.import_module(f"podcast.{name}")).__name__ == "module"
        assert type(getattr(podcast, name)).__name__ == "module", name

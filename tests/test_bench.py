"""The benchmark script runs end to end on a short interview and reports every figure the targets need."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import E2E, REPO


@pytest.mark.slow  # a dozen renders in their own processes: over a minute
def test_bench_reports_stages_ratios_and_targets(tmp_path: Path) -> None:
    command = [sys.executable, str(REPO / "benchmarks" / "bench.py"), "--engines", "openjtalk,edge"]
    result = subprocess.run([*command, "--input", str(E2E), "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    runs, figures = report["runs"], report["figures"]
    for engine in ("openjtalk", "edge"):
        cold = runs[engine]["cold"]
        assert list(cold["stages"]) == ["parse", "synthesis", "assembly", "loudness", "encode", "tagging"]
        assert cold["clips_synthesized"] == 6 and runs[engine]["cached"]["clips_synthesized"] == 0
        assert runs[engine]["voice_change"]["clips_synthesized"] == 3  # the host's turns, and only those
        assert 0 < figures[engine]["cached_share"] < 1 and 0 < cold["peak_rss_mb"] < 24 * 1024
    assert figures["edge"]["c8_speedup_synthesis"] > 1  # concurrency helps even on 6 turns at 300 ms latency
    assert [runs["openjtalk"][f"length_{f}x"]["clips_cached"] for f in ("0.5", "1", "2")] == [4, 6, 12]
    assert runs["openjtalk"]["profile"]["profile"]  # the profile names functions
    assert set(report["targets"]) >= {"peak_rss_mb", "edge_c8_speedup", "assembly_scaling", "cached_share_kokoro"}
    assert report["targets"]["overhead_share_kokoro"]["met"] is None  # kokoro was not run: not judged
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| edge-cold-c8 |" in markdown and "## Profile" in markdown

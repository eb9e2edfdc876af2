"""A throwaway Ray cluster on 127.0.0.1: a head and more nodes, one CPU each, as `ray start --block` subprocesses.

The Ray tests and benchmarks/scale.py start one; every process of a node is in the process group of its
`ray start`, so stopping a node kills that group and nothing else. With `count_synthesis=log`, the nodes'
Python processes append each openjtalk clip they finish synthesizing to log (via a sitecustomize on their
PYTHONPATH), so a test counts synthesis calls made on other processes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")
OBJECT_STORE_BYTES = 200_000_000  # Ray's minimum-ish; the tasks pass only keys and small reports
START_TIMEOUT_S = 120.0  # a node on 2 busy cores takes 5-20 s to come up

_SITECUSTOMIZE = '''
import os, sys

_LOG = os.environ.get("PODCAST_TEST_SYNTH_LOG")


class _Patch:
    """After podcast.engines.openjtalk is imported, wrap its synthesize to log each finished clip's key."""

    def find_spec(self, name, path=None, target=None):
        if name != "podcast.engines.openjtalk":
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(name)
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module):
            run(module)
            from podcast.cache import clip_key

            original = module.OpenJTalkEngine.synthesize

            async def synthesize(self, text, voice):
                clip = await original(self, text, voice)
                line = (clip_key(self.fingerprint(voice), text) + " " + str(os.getpid()) + "\\n").encode()
                fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, line)  # one write with O_APPEND: lines from many processes never interleave
                finally:
                    os.close(fd)
                return clip

            module.OpenJTalkEngine.synthesize = synthesize

        loader.exec_module = exec_module
        return spec


if _LOG:
    sys.meta_path.insert(0, _Patch())
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalCluster:
    """A head and nodes - 1 more node processes on this machine; stop() kills exactly what start() made."""

    def __init__(self, nodes: int = 2, *, cache_dir: Path, count_synthesis: Path | None = None) -> None:
        self.temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # short: Ray's socket paths have a limit
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "RAY_USAGE_STATS_ENABLED": "0",
            "PODCAST_CACHE_DIR": str(cache_dir),  # the nodes' own models cache (openjtalk's warped voices)
        }
        if count_synthesis is not None:
            helper = self.temp / "sitecustomize"
            helper.mkdir()
            (helper / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
            self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(helper), os.environ.get("PYTHONPATH")]))
            self.env["PODCAST_TEST_SYNTH_LOG"] = str(count_synthesis)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.count = nodes

    def start(self) -> LocalCluster:
        self._node(["--head", "--port", str(self.port), "--temp-dir", str(self.temp), "--include-dashboard", "false"])
        self._wait(1)
        for _ in range(self.count - 1):
            self._node(["--address", self.address])
        self._wait(self.count)
        return self

    def _node(self, args: list[str]) -> None:
        # Every port a node listens on, free ones: two clusters (a test, a benchmark) may run at once.
        ports = ["--dashboard-agent-listen-port", str(free_port()), "--metrics-export-port", str(free_port())]
        ports += ["--runtime-env-agent-port", str(free_port())]
        if "--head" in args:
            ports += ["--ray-client-server-port", str(free_port())]
        log = (self.temp / f"node{len(self.processes)}.log").open("wb")
        command = [str(RAY), "start", "--block", "--num-cpus", "1", "--object-store-memory", str(OBJECT_STORE_BYTES)]
        command += ["--node-ip-address", "127.0.0.1", *ports, *args]
        self.processes.append(
            subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )

    def _wait(self, nodes: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"a ray node exited at start; see {self.temp}/node*.log")
            status = subprocess.run(
                [str(RAY), "status", "--address", self.address], env=self.env, capture_output=True, text=True
            )
            if status.returncode == 0 and status.stdout.count(" node_") >= nodes:
                return
            time.sleep(1.0)
        raise RuntimeError(f"{nodes} ray nodes not up after {START_TIMEOUT_S:.0f} s; see {self.temp}/node*.log")

    def worker_pids(self, task: str | None = "make_clips") -> list[int]:
        """Worker processes of this cluster running task now (their process title is ray::<task>); None: all.

        Ray starts each worker in a session of its own, so a worker is known by its parent: a raylet of ours.
        """
        groups = {process.pid for process in self.processes}
        stats = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    stats[int(entry.name)] = (int(fields[1]), int(fields[2]))  # parent pid, process group
                except (OSError, IndexError, ValueError):
                    continue
        pids = []
        for pid, (parent, _) in stats.items():
            if stats.get(parent, (0, 0))[1] not in groups:
                continue
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if title.startswith("ray::" if task is None else f"ray::{task}") and "Agent" not in title:
                pids.append(pid)
        return pids

    def cpu_by_process(self) -> dict[int, float]:
        """CPU seconds (user + system) each live process of this cluster, workers included, has used so far.

        Ray ends a driver's workers when the driver goes, so whoever sums a run samples this while it runs.
        """
        pids = [process.pid for process in self.processes] + self.worker_pids(None)
        groups = {process.pid for process in self.processes}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) not in pids:
                try:
                    if os.getpgid(int(entry.name)) in groups:
                        pids.append(int(entry.name))
                except OSError:
                    continue
        used = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        return used

    def stop(self) -> None:
        workers = self.worker_pids(None)  # in sessions of their own: not in the groups killed below
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 5.0
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)  # gcs_server and raylet outlive a SIGTERM for long
            except ProcessLookupError:
                pass
            process.wait()
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)  # they exit when their raylet goes; this is for one that did not
            except ProcessLookupError:
                pass
        shutil.rmtree(self.temp, ignore_errors=True)

"""`emosync batch --ray` on a real Ray cluster: a head on 127.0.0.1 with two worker processes,
a manifest with broken lines, one worker killed mid-run; every good line arrives exactly once."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Only looked for, never imported here: with ray imported, a pytest process that also ran the
# bpy tests hangs at exit in bpy's own exit handler (measured with bpy 4.5). Ray runs in the
# batch subprocess and the `ray` command.
if importlib.util.find_spec("ray") is None:
    pytest.skip("ray is not installed (pip install 'emosync[ray]')", allow_module_level=True)

from emosync.exporters.dispatch import read

ROOT = Path(__file__).resolve().parents[1]
HELLO = ROOT / "examples" / "hello.wav"
RAY = Path(sys.executable).parent / "ray"
# Ray swaps 127.0.0.1 for the machine's outward address unless clusters are "not supported";
# this keeps every Ray server of the test on loopback.
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
N_GOOD = 10
START_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """`ray start --head --block` in a session of its own, stopped in a finally."""
    if not RAY.is_file():
        pytest.skip("the ray command is not installed")
    port = free_port()
    env = {**os.environ, **RAY_ENV}
    cmd = [str(RAY), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
           "--port", str(port), "--num-cpus", "2", "--include-dashboard", "false",
           "--object-store-memory", str(100 * 1024 * 1024), "--disable-usage-stats"]  # fmt: skip
    log = tmp_path_factory.mktemp("ray") / "head.log"
    with open(log, "w") as out:
        head = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Ray runtime started" not in log.read_text(errors="replace"):
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail("ray did not start:\n" + log.read_text(errors="replace")[-2000:])
            time.sleep(0.2)
        yield f"127.0.0.1:{port}", head.pid
    finally:
        _stop(head)


def _stop(head: subprocess.Popen) -> None:
    """SIGTERM to every process of the head's session (Ray's workers have process groups of
    their own), then SIGKILL to what is left after a few seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _processes(head.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while _processes(head.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    with contextlib.suppress(subprocess.TimeoutExpired):
        head.wait(timeout=5)


def _processes(sid: int) -> dict[int, bytes]:
    """The command lines of the live processes in session `sid`."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) != sid or fields[0] == "Z":
                continue
            found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the Ray workers through /proc")
def test_ray_batch_survives_a_killed_worker(ray_head, tmp_path):
    address, session = ray_head
    rows = [{"audio": str(HELLO), "out": f"line_{i:02d}.json"} for i in range(N_GOOD)]
    rows[3:3] = [{"audio": "missing.wav"}, {"audio": str(HELLO), "mood": "odd"}]
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 20)
    rows.append({"audio": "broken.wav", "out": "broken.json"})
    manifest = tmp_path / "lines.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "emosync.cli.main", "batch", str(manifest), "-o", str(out),
           "--engine", "neural", f"--ray={address}"]  # fmt: skip
    batch = subprocess.Popen(
        cmd, env={**os.environ, **RAY_ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    killed = None
    try:
        deadline = time.monotonic() + 90
        while killed is None and batch.poll() is None and time.monotonic() < deadline:
            busy = [p for p, cmd in _processes(session).items() if cmd.startswith(b"ray::run_line")]
            if busy:  # a worker in the middle of a line
                killed = busy[0]
                os.kill(killed, signal.SIGKILL)
            time.sleep(0.02)
        stdout, stderr = batch.communicate(timeout=120)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert killed is not None, "the batch ended before a worker could be killed"
    assert batch.returncode == 1, stderr  # the broken lines failed
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["runner"] == "ray"
    by_status: dict[str, list[str]] = {}
    for line in report["lines"]:
        by_status.setdefault(line["status"], []).append(line["label"])
    assert len(by_status["done"]) == N_GOOD and len(by_status["failed"]) == 3, by_status
    assert sorted(report["lines"][i]["index"] for i in range(len(rows))) == list(range(len(rows)))
    reasons = " ".join(line["reason"] or "" for line in report["lines"])
    assert "audio not found" in reasons and "unknown key 'mood'" in reasons
    assert "not audio or is corrupt" in reasons
    expected = sorted([f"line_{i:02d}.json" for i in range(N_GOOD)] + ["report.json"])
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == expected  # no .part files
    assert all(read(out / name).n_frames > 0 for name in expected[:-1])
    assert f"{N_GOOD} done" in stdout and "3 failed" in stdout

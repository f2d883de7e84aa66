"""The cluster runner: every line is a Ray task, retried by Ray when its worker dies.

Ray schedules and retries; this module only keeps a bounded number of tasks in flight and hands
each result on once. A Ray worker process is reused for many tasks, so the models it loads stay
loaded (the same per-process caches as the local pool). Every node needs EmoSync installed and
the manifest's files and the output folder at the same paths (a shared file system).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from typing import Any

from emosync.errors import InputError
from emosync.studio.jobs import LineResult, run_line, run_line_in_worker
from emosync.studio.manifest import Line
from emosync.studio.pool import OnResult

CONNECT_TIMEOUT_S = 5.0
TASK_RETRIES = 3  # Ray retries a task whose worker died (crash, node lost, out of memory)
IN_FLIGHT_PER_CPU = 3


def run_ray(
    lines: Iterable[Line],
    outdir: str,
    address: str | None,
    on_result: OnResult,
    force: bool = False,
    mesh: str | None = None,
) -> None:
    """Run every line as a Ray task on the cluster at `address` (None: RAY_ADDRESS, or a Ray
    started on this machine); `on_result` gets each line's result once."""
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'emosync[ray]'") from None
    if address and address not in ("auto", "local") and "://" not in address:
        _check_reachable(address)
    try:
        ray.init(address=address or None, log_to_driver=False, logging_level=logging.ERROR)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise InputError(f"cannot reach the Ray cluster at {address or 'auto'}: {exc}") from None
    try:
        # Any: Ray's typing of remote functions does not follow default arguments
        task: Any = ray.remote(run_line_in_worker).options(max_retries=TASK_RETRIES, num_cpus=1)
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        todo = list(lines)
        todo.reverse()  # popped from the end: manifest order
        running: dict[Any, Line] = {}
        while todo or running:
            while todo and len(running) < cpus * IN_FLIGHT_PER_CPU:
                line = todo.pop()
                if line.error is not None:  # failed while the manifest was read
                    on_result(run_line(line, outdir, force, mesh))
                    continue
                running[task.remote(line, outdir, force, mesh)] = line
            if not running:
                break
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                on_result(_result(ray, ref, running.pop(ref)))
    finally:
        ray.shutdown()


def _result(ray: Any, ref: Any, line: Line) -> LineResult:
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:  # retries used up: the line fails alone
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        reason = f"Ray gave up after {TASK_RETRIES} retries: {type(exc).__name__}: {first[:200]}"
        return LineResult(line.index, line.label, "failed", list(line.outputs), reason)


def _check_reachable(address: str) -> None:
    """A clear error in seconds for an address nothing listens on (Ray itself waits minutes)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"a Ray address is HOST:PORT, got '{address}'")
    try:
        socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise InputError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}"
        ) from None

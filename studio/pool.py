"""The local runner: a process pool with a few lines in flight per worker.

Each worker process keeps the models it loads (the convertor, the aligner, the emotion
encoders are cached per process), so a model loads once per worker, not once per line. A
worker that dies (a crash, the out-of-memory killer) breaks the pool: the pool is started again
and the lines that were running are tried again, up to MAX_ATTEMPTS times each.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from emosync.studio.jobs import LineResult, run_line, run_line_in_worker
from emosync.studio.manifest import Line

IN_FLIGHT_PER_WORKER = 3  # enough queued work that no worker waits, little memory held
MAX_ATTEMPTS = 3
OnResult = Callable[[LineResult], None]


def _context() -> multiprocessing.context.BaseContext:
    """A forkserver where there is one (fresh processes without the parent's threads, and
    quick to start), else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["emosync.studio.jobs", "emosync.inference.pipeline"])
        return ctx
    return multiprocessing.get_context("spawn")


def run_local(
    lines: Iterable[Line],
    outdir: str,
    workers: int,
    on_result: OnResult,
    force: bool = False,
    mesh: str | None = None,
) -> None:
    """Run every line on `workers` processes; `on_result` gets each line's result once."""
    todo = [line for line in lines if not _settled(line, outdir, force, mesh, on_result)]
    todo.reverse()  # popped from the end: manifest order
    while todo:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
            suspects = _drain(pool, todo, outdir, workers, force, mesh, on_result)
        for line in suspects:  # each alone, so a crash is pinned on the line that caused it
            _isolated(line, outdir, force, mesh, on_result)


def _settled(line: Line, outdir: str, force: bool, mesh: str | None, on_result: OnResult) -> bool:
    """A line that failed while the manifest was read needs no process."""
    if line.error is None:
        return False
    on_result(run_line(line, outdir, force, mesh))
    return True


def _isolated(line: Line, outdir: str, force: bool, mesh: str | None, on_result: OnResult) -> None:
    """Run one line in a pool of its own, up to MAX_ATTEMPTS times while its worker dies."""
    for _ in range(MAX_ATTEMPTS):
        with ProcessPoolExecutor(max_workers=1, mp_context=_context()) as pool:
            try:
                on_result(pool.submit(run_line_in_worker, line, outdir, force, mesh).result())
                return
            except BrokenProcessPool:
                continue
    reason = f"its worker process died {MAX_ATTEMPTS} times (a crash or out of memory)"
    on_result(LineResult(line.index, line.label, "failed", list(line.outputs), reason))


def _drain(
    pool: ProcessPoolExecutor,
    todo: list[Line],
    outdir: str,
    workers: int,
    force: bool,
    mesh: str | None,
    on_result: OnResult,
) -> list[Line]:
    """Keep the pool fed until `todo` is empty. If a worker dies, the lines in flight (one of
    them killed it) are returned to be run alone."""
    running: dict[Future, Line] = {}
    try:
        while todo or running:
            while todo and len(running) < workers * IN_FLIGHT_PER_WORKER:
                line = todo.pop()
                running[pool.submit(run_line_in_worker, line, outdir, force, mesh)] = line
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                del running[future]
                on_result(result)
    except BrokenProcessPool:
        suspects = []
        for future, line in running.items():
            if future.done() and future.exception() is None:
                on_result(future.result())
            else:
                suspects.append(line)
        return suspects
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return []

"""Atomic file writes: a reader never sees a half-written file, and nothing is overwritten
unless the caller says so. Inside `atomic_set()` several outputs become one unit: each is written
to its temporary file, and only when all are written are they renamed into place (an error or
Ctrl-C before that leaves none of them)."""

from __future__ import annotations

import contextlib
import contextvars
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from emosync.errors import InputError

# (temporary file, final path, force) of every output written inside the current atomic_set()
_PENDING: contextvars.ContextVar[list[tuple[str, Path, bool]] | None] = contextvars.ContextVar(
    "emosync_atomic_set", default=None
)


def check_writable(path: str | os.PathLike, force: bool = False) -> Path:
    """Fail early with an InputError if `path` cannot be written as an output file."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"output {p} is a directory")
    if p.exists() and not force:
        raise InputError(f"output {p} exists (use --force to overwrite)")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(f"output folder {parent} is not writable")
    return p


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", force: bool = False) -> Iterator[IO]:
    """Open a temporary file beside `path`; on success it replaces `path` in one rename."""
    p = check_writable(path, force=force)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent or ".")
    except OSError as exc:
        raise InputError(f"cannot write {p}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(
            fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})
        ) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_mode(p))
        if p.exists() and not force:
            raise InputError(f"output {p} exists (use --force to overwrite)")
        pending = _PENDING.get()
        if pending is None:
            os.replace(tmp, p)
        else:
            pending.append((tmp, p, force))
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {p}: {exc.strerror or exc}") from None
        raise


@contextlib.contextmanager
def atomic_set() -> Iterator[None]:
    """Outputs written inside the block appear together at its end, or not at all."""
    if _PENDING.get() is not None:  # nested: the outer set decides
        yield
        return
    pending: list[tuple[str, Path, bool]] = []
    token = _PENDING.set(pending)
    placed: list[Path] = []
    try:
        yield
        for _, path, force in pending:  # another process may have made one meanwhile
            if path.exists() and not force:
                raise InputError(f"output {path} exists (use --force to overwrite)")
        while pending:
            tmp, path, force = pending[0]
            existed = path.exists()
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
            pending.pop(0)
            if not existed:
                placed.append(path)
    except BaseException:
        for path in placed:  # new files of a set that did not finish (a forced overwrite stays)
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise
    finally:
        _PENDING.reset(token)
        for tmp, _, _ in pending:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _default_mode(path: Path) -> int:
    """The mode an ordinary open() would give: the old file's, or 0o666 less the umask."""
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike, data: bytes, force: bool = False) -> Path:
    """Write `data` to `path` in one rename (see atomic_open)."""
    with atomic_open(path, "wb", force=force) as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, force: bool = False) -> Path:
    """Write `text` (UTF-8) to `path` in one rename (see atomic_open)."""
    with atomic_open(path, "w", force=force) as f:
        f.write(text)
    return Path(path)

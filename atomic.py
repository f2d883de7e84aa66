"""Atomic file writes: a reader never sees a half-written file, and nothing is overwritten
unless the caller says so."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from emosync.errors import InputError


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
        os.replace(tmp, p)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {p}: {exc.strerror or exc}") from None
        raise


def _default_mode(path: Path) -> int:
    """The mode an ordinary open() would give: the old file's, or 0o666 less the umask."""
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike, data: bytes, force: bool = False) -> Path:
    with atomic_open(path, "wb", force=force) as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, force: bool = False) -> Path:
    with atomic_open(path, "w", force=force) as f:
        f.write(text)
    return Path(path)

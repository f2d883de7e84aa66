"""Text outputs written piece by piece: a long clip's file is never held whole in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from emosync.atomic import atomic_open

Progress = Callable[[float, float], None]  # (frames written, frames)


def write_pieces(
    path: str | Path,
    pieces: Iterable[str],
    n_frames: int,
    rows: int,
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write a header piece then pieces of `rows` frames each (then any tail) to `path`,
    atomically; `progress` gets (frames written, n_frames) after each piece."""
    with atomic_open(path, "w", force=force) as f:
        for i, piece in enumerate(pieces):
            f.write(piece)
            if progress is not None:
                progress(float(min(n_frames, i * rows)), float(n_frames))
    return Path(path)

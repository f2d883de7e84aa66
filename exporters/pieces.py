"""Outputs written piece by piece: a clip arrives as FaceCurves pieces (FaceCurves.start,
.total) and every output is written as they come, so a long clip's curves and files are never
held whole in memory. Several outputs are written from one pass over the pieces."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from emosync.atomic import atomic_open
from emosync.inference.facecurves import FaceCurves

Progress = Callable[[float, float], None]  # (frames written, frames)
PIECE_ROWS = 4096  # frames per piece when a whole clip is written


class PieceWriter(Protocol):
    """One output being written: every piece in order, then close() (before the file is
    committed)."""

    def write(self, piece: FaceCurves) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None:
        """Let go of the file after a failure (it is removed, not committed)."""


Opener = Callable[[IO[Any], FaceCurves], PieceWriter]  # (open file, first piece) -> writer


class TextWriter:
    """A text format whose text is made piece by piece (`text(piece)` gives the piece's part)."""

    def __init__(self, f: IO[Any], text: Callable[[FaceCurves], Iterable[str]]) -> None:
        self.f, self.text = f, text

    def write(self, piece: FaceCurves) -> None:
        for part in self.text(piece):
            self.f.write(part)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


def write_all(
    pieces: Iterable[FaceCurves],
    outputs: Sequence[tuple[Path, str, Opener]],
    force: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Write every output (path, file mode, opener) from one pass over `pieces`, each to a
    temporary file that replaces its path at the end (emosync.atomic; inside atomic_set() all
    of them or none). `progress` gets (frames written, frames) after each piece."""
    stream = iter(pieces)
    first = next(stream, None)
    if first is None:
        raise ValueError("no pieces to write")
    total = first.clip_frames
    with contextlib.ExitStack() as stack:
        writers = []
        for path, mode, opener in outputs:
            writers.append(opener(stack.enter_context(atomic_open(path, mode, force=force)), first))
        try:
            _write_pieces(itertools.chain([first], stream), writers, total, progress)
        except BaseException:
            for writer in writers:
                writer.abort()
            raise
    return [path for path, _, _ in outputs]


def _write_pieces(
    pieces: Iterable[FaceCurves], writers: list[PieceWriter], total: int, progress: Progress | None
) -> None:
    if progress is not None:
        progress(0.0, float(total))
    done = 0
    for piece in pieces:
        if piece.start != done or piece.clip_frames != total:
            raise ValueError(
                f"piece at frame {piece.start} of {piece.clip_frames}, expected {done} of {total}"
            )
        for writer in writers:
            writer.write(piece)
        done += piece.n_frames
        if progress is not None:
            progress(float(done), float(total))
    if done != total:
        raise ValueError(f"pieces ended at frame {done} of {total}")
    for writer in writers:
        writer.close()

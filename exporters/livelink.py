"""Unreal Live Link Face CSV: write it the way the iPhone app does, read it by column name.

Header: `Timecode,BlendShapeCount,` + 52 PascalCase names in Live Link column order + 9
rotation names (radians, the convention in gltf_rotation.py). Timecode `HH:MM:SS:FF.fff`:
FF is the frame within the second at the timecode rate, `.fff` the sub-frame fraction.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from emosync.atomic import check_writable
from emosync.errors import InputError
from emosync.exporters.pieces import PIECE_ROWS, Opener, TextWriter, write_all
from emosync.inference.facecurves import FaceCurves, interp_rows
from emosync.rigs.channels import ARKIT_NAMES, CHANNELS, ROTATION_NAMES, canonical_name, pascal

# The app's column order: Apple's ARKit order except JawRight before JawLeft and MouthRight before
# MouthLeft. EmoSync's channel order is this one (DESIGN.md), so columns map one to one.
LIVELINK_BLENDSHAPES: tuple[str, ...] = tuple(pascal(n) for n in ARKIT_NAMES)
LIVELINK_ROTATIONS: tuple[str, ...] = tuple(pascal(n) for n in ROTATION_NAMES)
LIVELINK_COLUMNS: tuple[str, ...] = LIVELINK_BLENDSHAPES + LIVELINK_ROTATIONS
COUNT_HEADERS = ("BlendShapeCount", "BlendshapeCount")  # ours, the iPhone app's
# Channel (lowerCamel) of each data column, in column order.
COLUMN_CHANNELS: tuple[str, ...] = tuple(canonical_name(n) or "" for n in LIVELINK_COLUMNS)
assert COLUMN_CHANNELS == CHANNELS

CSV_ROWS = 4096  # lines per piece written
_TIMECODE = re.compile(r"^(\d+):(\d\d):(\d\d)[:;.](\d+)(?:\.(\d+))?$")
_TIMECODE_RATES = (24, 25, 30, 48, 50, 60, 72, 90, 100, 120, 240)


# --- writing ---------------------------------------------------------------------------------
def timecode(frame: int, fps: float) -> str:
    """`HH:MM:SS:FF.fff` of frame `frame` at `fps` (sub-frame fraction for fractional rates)."""
    seconds, within = divmod(frame / fps, 1.0)
    position = within * fps
    whole = int(position + 1e-9)
    millis = min(999, int(round((position - whole) * 1000)))
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{whole:02d}.{millis:03d}"


def _number(value: np.float32) -> str:
    # The shortest text that reads back as the same float32: exact round trips, short files.
    return np.format_float_positional(value, unique=True, trim="-")


def livelink_text(curves: FaceCurves) -> str:
    """The CSV text for `curves` (channels missing from the curves are written as 0)."""
    return "".join(livelink_pieces(curves))


def livelink_pieces(curves: FaceCurves, rows: int = CSV_ROWS) -> Iterator[str]:
    """livelink_text in pieces of `rows` lines, so a long clip is written in bounded memory; a
    piece of a clip (FaceCurves.start) gives its lines, and the header if it is the first."""
    where = {name: i for i, name in enumerate(curves.channels)}
    if not any(name in where for name in ARKIT_NAMES):
        raise InputError("Live Link CSV needs ARKit blendshape channels; these curves have none")
    source = [where.get(name) for name in COLUMN_CHANNELS]
    count = str(len(LIVELINK_COLUMNS))
    if curves.start == 0:
        out = io.StringIO()
        header = ["Timecode", COUNT_HEADERS[0], *LIVELINK_COLUMNS]
        csv.writer(out, lineterminator="\n").writerow(header)
        yield out.getvalue()
    first = curves.start
    for a in range(0, curves.n_frames, rows):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        block = curves.values[a : a + rows]
        columns = np.zeros((len(block), len(COLUMN_CHANNELS)), dtype=np.float32)
        for j, i in enumerate(source):
            if i is not None:
                columns[:, j] = block[:, i]
        for k, row in enumerate(columns):
            writer.writerow([timecode(first + a + k, curves.fps), count, *map(_number, row)])
        yield out.getvalue()


def write_livelink_csv(
    curves: FaceCurves,
    path: str | Path,
    force: bool = False,
    progress: Callable[[float, float], None] | None = None,
) -> Path:
    """Write `curves` as an Unreal Live Link Face CSV at `path` (atomically, piece by piece);
    `progress` gets (frames written, frames)."""
    path = Path(path)
    check_writable(path, force=force)
    return write_all(curves.pieces(PIECE_ROWS), [livelink_opener(path)], force, progress)[0]


def livelink_opener(path: Path) -> tuple[Path, str, Opener]:
    """(path, file mode, opener) of a Live Link CSV output for exporters.pieces.write_all."""
    return path, "w", lambda f, first: TextWriter(f, livelink_pieces)


# --- reading ---------------------------------------------------------------------------------
def _parse_timecode(text: str, line: int) -> tuple[int, int, float]:
    """(whole seconds, frame, sub-frame fraction) of one timecode."""
    match = _TIMECODE.match(text.strip())
    if not match:
        raise InputError(f"line {line}: bad timecode {text!r} (expected HH:MM:SS:FF.fff)")
    h, m, s, ff, frac = match.groups()
    fraction = float(f"0.{frac}") if frac else 0.0
    return int(h) * 3600 + int(m) * 60 + int(s), int(ff), fraction


def _timecode_rate(seconds: np.ndarray, frames: np.ndarray) -> int:
    """The timecode frame rate: where the frame counter wraps, its largest value + 1 (snapped
    to a standard rate); in a clip shorter than a second, the smallest of 30/60/120/240 that
    holds its frame numbers."""
    top = int(frames.max()) + 1
    wraps = np.diff(seconds) > 0
    if wraps.any():
        return next((r for r in _TIMECODE_RATES if r >= top), top)
    return next((r for r in (30, 60, 120, 240) if r >= top), top)


def _data_fps(times: np.ndarray, rate: int) -> float:
    """Rows per second: the median row step, snapped to the timecode rate or a standard rate."""
    steps = np.diff(times)
    steps = steps[steps > 0]
    if steps.size == 0:
        return float(rate)
    fps = 1.0 / float(np.median(steps))
    for candidate in (rate, *_TIMECODE_RATES):
        if abs(fps - candidate) <= 0.01 * candidate:
            return float(candidate)
    return fps


def _header_columns(header: list[str]) -> tuple[int, int | None, dict[str, int]]:
    """Index of Timecode, of the count column, and of every known channel column."""
    names = [h.strip() for h in header]
    lower = [n.lower() for n in names]
    if "timecode" not in lower:
        raise InputError("not a Live Link Face CSV: no Timecode column in the header")
    count = next((i for i, n in enumerate(lower) if n == "blendshapecount"), None)
    channels: dict[str, int] = {}
    for i, name in enumerate(names):
        channel = canonical_name(name) if i != count else None
        if channel is not None and channel not in channels:
            channels[channel] = i
    if not any(c in channels for c in ARKIT_NAMES):
        raise InputError("not a Live Link Face CSV: no blendshape columns in the header")
    return lower.index("timecode"), count, channels


def _read_rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {type(exc).__name__}") from None
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise InputError(f"{path.name} is empty")
    return rows


def read_livelink_csv(path: str | Path, fps: float | None = None) -> FaceCurves:
    """Read a Live Link Face CSV by column name into FaceCurves.

    Any column order, either spelling of the count column, extra columns ignored; missing
    channels (e.g. tongueOut in 51-name files) are 0 and listed in metadata["warnings"].
    `fps` overrides the rate inferred from the timecodes; rows that are not evenly spaced
    (dropped or repeated frames) are resampled onto an even grid.
    """
    path = Path(path)
    try:
        rows = _read_rows(path)
        tc_col, _, columns = _header_columns(rows[0])
        data = rows[1:]
        if not data:
            raise InputError("no data rows")
        width = max(columns.values()) + 1
        stamps = []
        values = np.zeros((len(data), len(CHANNELS)), dtype=np.float32)
        index = {name: i for i, name in enumerate(CHANNELS)}
        for r, row in enumerate(data):
            line = r + 2
            if len(row) < max(width, tc_col + 1):
                raise InputError(f"line {line}: {len(row)} fields, the header has {len(rows[0])}")
            stamps.append(_parse_timecode(row[tc_col], line))
            for channel, col in columns.items():
                try:
                    values[r, index[channel]] = float(row[col])
                except ValueError:
                    raise InputError(
                        f"line {line}: bad number {row[col]!r} in column {rows[0][col].strip()}"
                    ) from None
        if not np.isfinite(values).all():
            raise InputError("the CSV holds non-finite numbers")
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}" if path.name not in str(exc) else str(exc)) from None
    return _to_curves(path, stamps, values, columns, fps)


def _to_curves(
    path: Path,
    stamps: list[tuple[int, int, float]],
    values: np.ndarray,
    columns: dict[str, int],
    fps: float | None,
) -> FaceCurves:
    if fps is not None and fps <= 0:
        raise InputError(f"fps must be positive, got {fps}")
    seconds = np.array([s for s, _, _ in stamps], dtype=np.float64)
    seconds = np.where(seconds < seconds[0] - 43200, seconds + 86400, seconds)  # past midnight
    frames = np.array([f + x for _, f, x in stamps], dtype=np.float64)
    rate = _timecode_rate(seconds, frames.astype(int)) if fps is None else float(fps)
    times = seconds + frames / rate
    times -= times[0]
    if np.any(np.diff(times) < 0):
        line = int(np.argmax(np.diff(times) < 0)) + 3
        raise InputError(f"{path.name}: line {line}: the timecode goes backwards")
    warnings = []
    missing = [c for c in CHANNELS if c not in columns]
    if missing:
        warnings.append(f"{len(missing)} channel(s) missing, set to 0: {', '.join(missing)}")
    out_fps = float(fps) if fps else _data_fps(times, int(rate))
    steps = np.diff(times)
    if np.all(np.abs(steps - 1.0 / out_fps) < 0.25 / out_fps):
        out = values
    else:
        out = _resample(times, values, out_fps)
        warnings.append("rows were not evenly spaced: resampled to an even frame grid")
    start = stamps[0]
    metadata = {
        "name": path.stem,
        "source": str(path),
        "format": "livelink_csv",
        "timecode_start": _start_text(start, rate),
        "timecode_rate": rate,
        "warnings": warnings,
    }
    return FaceCurves(out_fps, out, CHANNELS, metadata)


def _start_text(start: tuple[int, int, float], rate: float) -> str:
    seconds, frame, fraction = start
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{frame:02d}.{round(fraction * 1000):03d} @ {rate:g} fps"


def _resample(times: np.ndarray, values: np.ndarray, fps: float) -> np.ndarray:
    """Linear interpolation onto frames k/fps over the recording (duplicates keep the first)."""
    keep = np.concatenate([[True], np.diff(times) > 0])
    times, values = times[keep], values[keep]
    n = max(1, int(math.floor(times[-1] * fps + 1e-6)) + 1)
    return interp_rows(np.arange(n) / fps, times, values)

"""FaceCurves: the one type that carries animation across every boundary."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emosync.errors import InputError
from emosync.rigs.channels import CHANNELS, N_BLENDSHAPES

FORMAT_VERSION = 1
JSON_ROWS = 4096  # frames per piece of json_pieces


def _rounded(values: np.ndarray) -> np.ndarray:
    """The 6-decimal float64 values the JSON form holds."""
    return np.round(values.astype(np.float64), 6)


def resample_rows(
    values: np.ndarray, fps_in: float, n_out: int, fps_out: float, start: int = 0
) -> np.ndarray:
    """Linear resampling, the one used everywhere: rows at times i / fps_in to n_out float32
    rows at times (start + j) / fps_out, edges held. A 1-D track gives a 1-D track."""
    v = np.asarray(values, dtype=np.float32)
    dst = np.arange(start, start + n_out) / fps_out
    return interp_rows(dst, np.arange(len(v)) / fps_in, v)


def interp_rows(dst: np.ndarray, src: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The rows of `values` (at increasing times `src`) linearly interpolated at times `dst`,
    float32, edges held; resample_rows on an even grid, the Live Link reader on timecodes."""
    v = np.asarray(values)
    if v.ndim == 1:
        return np.interp(dst, src, v).astype(np.float32)
    out = np.empty((len(dst), v.shape[1]), dtype=np.float32)
    for c in range(v.shape[1]):
        out[:, c] = np.interp(dst, src, v[:, c])
    return out


@dataclass
class FaceCurves:
    """Per-frame channel values sampled at `fps`; frame i is at time i / fps seconds.

    `values` is float32 [frames × channels]. Blendshape channels are weights in [0, 1];
    rotation channels are radians. `metadata` holds provenance (source audio, engine, emotion
    timeline, model version) as JSON-serialisable values.

    A long clip travels as pieces, each a FaceCurves: `start` is the clip frame of its first
    row and `total` the clip's frame count (None: this is the whole clip). Every piece carries
    the clip's fps, channels and metadata, so a writer can begin with the first piece (see
    exporters.dispatch.export_pieces); `pieces` cuts a clip, `join` puts one together.
    """

    fps: float
    values: np.ndarray
    channels: tuple[str, ...] = CHANNELS
    metadata: dict[str, Any] = field(default_factory=dict)
    start: int = 0
    total: int | None = None

    def __post_init__(self) -> None:
        self.values = np.ascontiguousarray(self.values, dtype=np.float32)
        self.channels = tuple(self.channels)
        if self.values.ndim != 2 or self.values.shape[1] != len(self.channels):
            raise ValueError(
                f"values must be [frames × {len(self.channels)}], got {self.values.shape}"
            )
        if not self.fps or self.fps <= 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        if self.start < 0 or self.start + self.n_frames > self.clip_frames:
            raise ValueError(f"frames {self.start}+{self.n_frames} are not in {self.clip_frames}")

    # --- shape and access -------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    @property
    def clip_frames(self) -> int:
        """Frames of the whole clip this piece belongs to (n_frames for a whole clip)."""
        return self.n_frames if self.total is None else int(self.total)

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.start, self.start + self.n_frames, dtype=np.float64) / self.fps

    def pieces(self, rows: int) -> Iterator[FaceCurves]:
        """This whole clip as pieces of `rows` frames (views of its values)."""
        for a in range(0, max(1, self.n_frames), rows):
            yield FaceCurves(
                self.fps, self.values[a : a + rows], self.channels, self.metadata, a, self.n_frames
            )

    @classmethod
    def join(cls, pieces: Iterable[FaceCurves]) -> FaceCurves:
        """The whole clip from its pieces, in order (each piece's rows copied once)."""
        values: np.ndarray | None = None
        first: FaceCurves | None = None
        for piece in pieces:
            if values is None:
                first = piece
                values = np.empty((piece.clip_frames, len(piece.channels)), np.float32)
            values[piece.start : piece.start + piece.n_frames] = piece.values
        if first is None or values is None:
            raise ValueError("no pieces to join")
        return cls(first.fps, values, first.channels, first.metadata)

    def channel(self, name: str) -> np.ndarray:
        return self.values[:, self.channels.index(name)]

    def blendshapes(self) -> np.ndarray:
        """The ARKit-52 block [frames × 52] (a view), when the schema is the standard one."""
        if self.channels[:N_BLENDSHAPES] != CHANNELS[:N_BLENDSHAPES]:
            raise ValueError("curves do not use the ARKit channel schema")
        return self.values[:, :N_BLENDSHAPES]

    def copy(self) -> FaceCurves:
        meta = copy.deepcopy(self.metadata)
        return FaceCurves(self.fps, self.values.copy(), self.channels, meta, self.start, self.total)

    # --- time operations ---------------------------------------------------------------------
    def resample(self, fps: float) -> FaceCurves:
        """Linear resampling to another frame rate over the same duration."""
        if fps <= 0:
            raise InputError(f"fps must be positive, got {fps}")
        if fps == self.fps or self.n_frames < 2:
            same = self.copy()
            same.fps = float(fps)
            return same
        n_out = max(1, int(round(self.duration * fps)))
        values = resample_rows(self.values, self.fps, n_out, fps)
        return FaceCurves(float(fps), values, self.channels, copy.deepcopy(self.metadata))

    def slice(self, start: float, end: float | None = None) -> FaceCurves:
        """Frames from `start` to `end` seconds (end exclusive)."""
        a = max(0, int(round(start * self.fps)))
        b = self.n_frames if end is None else min(self.n_frames, int(round(end * self.fps)))
        return FaceCurves(
            self.fps, self.values[a : max(a, b)].copy(), self.channels, copy.deepcopy(self.metadata)
        )

    def concat(self, other: FaceCurves, crossfade: float = 0.0) -> FaceCurves:
        """Append `other`; with `crossfade` seconds the two overlap and blend with a cosine ramp."""
        if other.channels != self.channels:
            raise ValueError("cannot concatenate curves with different channels")
        if other.fps != self.fps:
            other = other.resample(self.fps)
        n = min(int(round(crossfade * self.fps)), self.n_frames, other.n_frames)
        if n <= 0:
            values = np.concatenate([self.values, other.values])
        else:
            w = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n + 2)[1:-1]))[:, None]
            blend = (1 - w) * self.values[-n:] + w * other.values[:n]
            values = np.concatenate([self.values[:-n], blend, other.values[n:]])
        return FaceCurves(
            self.fps, values.astype(np.float32), self.channels, copy.deepcopy(self.metadata)
        )

    # --- serialisation -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {**self._header(), "frames": _rounded(self.values).tolist()}

    def _header(self) -> dict[str, Any]:
        return {
            "format": "emosync.facecurves",
            "version": FORMAT_VERSION,
            "fps": self.fps,
            "channels": list(self.channels),
            "metadata": self.metadata,
        }

    def json_pieces(self, rows: int = JSON_ROWS) -> Iterator[str]:
        """`to_json`'s text in pieces of `rows` frames, so writing a long clip never holds all
        its frames as Python floats (about 30 bytes each) nor the whole text. A piece of a
        clip gives its part of the clip's text: the head with its first frame, the end with
        its last."""
        if self.start == 0:
            head = json.dumps(self._header(), separators=(",", ":"))
            yield head[:-1] + ',"frames":['
        for a in range(0, self.n_frames, rows):
            text = json.dumps(_rounded(self.values[a : a + rows]).tolist(), separators=(",", ":"))
            yield ("," if self.start + a else "") + text[1:-1]
        if self.start + self.n_frames == self.clip_frames:
            yield "]}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaceCurves:
        if data.get("format") != "emosync.facecurves":
            raise InputError("not an EmoSync FaceCurves file")
        channels = tuple(data["channels"])
        values = np.asarray(data["frames"], dtype=np.float32).reshape(-1, len(channels))
        return cls(float(data["fps"]), values, channels, dict(data.get("metadata", {})))

    def to_json(self) -> str:
        return "".join(self.json_pieces())

    @classmethod
    def from_json(cls, text: str) -> FaceCurves:
        try:
            return cls.from_dict(json.loads(text))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"not a valid FaceCurves JSON: {exc}") from None

    def npz_arrays(self) -> dict[str, np.ndarray | np.generic]:
        return {
            "values": self.values,
            "fps": np.float64(self.fps),
            "channels": np.array(self.channels),
            "metadata": np.array(json.dumps(self.metadata)),
        }

    @classmethod
    def from_npz_arrays(cls, arrays: Any) -> FaceCurves:
        try:
            return cls(
                float(arrays["fps"]),
                np.asarray(arrays["values"]),
                tuple(str(c) for c in arrays["channels"]),
                json.loads(str(arrays["metadata"])),
            )
        except KeyError as exc:
            raise InputError(f"not an EmoSync FaceCurves NPZ (missing {exc})") from None

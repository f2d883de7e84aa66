"""The pictures of docs/rendering.md, drawn from measured portrait clips (eval_portrait.py).

- emotion_sheet: per portrait a row: the photo, then one decoded frame per emotion, each labelled
  with the FER2013 classifier's top class and probability;
- stability: where the pixels of a whole clip ever change against the photo, and how much the
  background (everything beyond the head) moves;
- lips_plot: the video's inner-lip opening against the curves' lip gap, P/B/M phones shaded.

Development only: nothing in the runtime imports this module.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from emosync.evaluation.fer_classifier import FerClassifier
from emosync.evaluation.metrics import normalised_phones
from emosync.evaluation.portrait_eval import SIZE, ClipResult
from emosync.evaluation.portrait_lips import CLOSED, video_frames
from emosync.exporters.preview import contact_sheet
from emosync.inference.timed_phones import Alignment
from emosync.rigs.phonemes import BILABIAL

TILE = 150  # pixels of one tile of the emotion sheet
FACE_ZOOM = 1.5  # a tile shows this many times the classifier's face box
HEAD_MARGIN = 0.45  # face sizes around the landmarks that still count as head (hair, neck)
CHANGED = 16  # grey levels: a pixel that differs from the photo by more has moved


def _label(tile: np.ndarray, lines: list[str]) -> np.ndarray:
    import cv2

    out = tile.copy()
    for k, text in enumerate(lines):
        y = 13 + 14 * k
        cv2.putText(out, text, (4, y), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(out, text, (4, y), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1)
    return out


def _tile(image: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray:
    """The face (FACE_ZOOM times the classifier's box, about its centre) as a TILE square;
    the whole image without a box."""
    import cv2

    if box is not None:
        x, y, w, h = box
        half = int(FACE_ZOOM * max(w, h) / 2)
        cx, cy = x + w // 2, y + h // 2
        pad = cv2.copyMakeBorder(image, half, half, half, half, cv2.BORDER_REPLICATE)
        image = pad[cy : cy + 2 * half, cx : cx + 2 * half]
    return cv2.resize(image, (TILE, TILE), interpolation=cv2.INTER_AREA)


def _read_tile(image: np.ndarray, judge: FerClassifier, first_line: str) -> np.ndarray:
    reading = judge.read(image)
    seen = "no face" if reading is None else f"{reading.top} {reading.scores[reading.top]:.2f}"
    box = None if reading is None else reading.box
    return _label(_tile(image, box), [first_line, f"FER: {seen}"])


def emotion_sheet(
    results: list[ClipResult], photos: dict[str, np.ndarray], judge: FerClassifier
) -> np.ndarray:
    """Rows of [photo, a frame per emotion] for each portrait in `photos` (in its order), the
    face cropped from each and labelled with the classifier's top class."""
    tiles, emotions = [], list(dict.fromkeys(r.emotion for r in results))
    for name, photo in photos.items():
        tiles.append(_read_tile(photo, judge, f"{name}: photo"))
        for emotion in emotions:
            r = next(r for r in results if r.portrait == name and r.emotion == emotion)
            tiles.append(_read_tile(next(iter(r.stills.values())), judge, emotion))
    return contact_sheet(tiles, cols=len(emotions) + 1)


def _head_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The face's landmark hull grown by HEAD_MARGIN face sizes (True: head)."""
    import cv2

    hull = cv2.convexHull(points[:, :2].astype(np.float32)).astype(np.int32)
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    span = points[:, :2].max(axis=0) - points[:, :2].min(axis=0)
    grow = int(2 * HEAD_MARGIN * span.max()) | 1
    return cv2.dilate(mask, np.ones((grow, grow), np.uint8)).astype(bool)


def stability(video: Path, photo: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """[the photo | the largest change of each pixel over the clip | pixels that changed by
    more than CHANGED grey levels, the head region outlined] and the background's numbers."""
    import cv2

    from emosync.render.portrait import load_portrait

    portrait = load_portrait(photo, "photo")
    portrait = portrait.scaled(*_video_size(video))
    grey = cv2.cvtColor(portrait.image, cv2.COLOR_RGB2GRAY).astype(np.int16)
    peak = np.zeros_like(grey)
    n = 0
    for frame in video_frames(video):
        diff = np.abs(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.int16) - grey)
        np.maximum(peak, diff, out=peak)
        n += 1
    head = _head_mask(portrait.points, grey.shape)
    moved = peak > CHANGED
    background = ~head
    stats = {
        "frames": n,
        "background_share": round(float(background.mean()), 3),
        "background_moved_share": round(float(moved[background].mean()), 4),
        "background_peak_p99": int(np.percentile(peak[background], 99)),
        "head_moved_share": round(float(moved[head].mean()), 3),
    }
    heat = cv2.applyColorMap(np.clip(peak * 4, 0, 255).astype(np.uint8), cv2.COLORMAP_INFERNO)
    marks = np.where(moved[:, :, None], 255, portrait.image // 3).astype(np.uint8)
    edge = cv2.morphologyEx(head.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3)))
    marks[edge.astype(bool)] = (80, 200, 255)
    tiles = [portrait.image, heat[:, :, ::-1], marks]
    half = [cv2.resize(t, (SIZE // 2, SIZE // 2), interpolation=cv2.INTER_AREA) for t in tiles]
    labels = ["the photo", "largest change per pixel (x4)", f"changed > {CHANGED} levels"]
    return contact_sheet([_label(t, [s]) for t, s in zip(half, labels, strict=True)], 3), stats


def _video_size(video: Path) -> tuple[int, int]:
    frame = next(video_frames(video))
    return frame.shape[1], frame.shape[0]


def lips_plot(result: ClipResult, reference: Alignment, fps: float) -> bytes:
    """PNG bytes: the video's opening and the curves' lip gap over time, P/B/M shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.arange(result.openings.size) / fps
    fig, ax = plt.subplots(figsize=(9, 2.6), dpi=90)
    for p in normalised_phones(reference):
        if p.label in BILABIAL:
            ax.axvspan(p.start, p.end, color="#f5c542", alpha=0.35, lw=0)
    ax.plot(t, result.openings, color="#1f6fb4", lw=1.2, label="video: inner-lip opening")
    ax.axhline(CLOSED, color="#1f6fb4", lw=0.6, ls=":")
    ax.set_ylabel("opening / eye span")
    right = ax.twinx()
    gap = result.curve_gap[: t.size]
    right.plot(t[: gap.size], gap, color="#c0392b", lw=1.0, alpha=0.8, label="curves: lip_gap")
    right.set_ylabel("lip_gap")
    ax.set_xlabel("seconds (P/B/M phones shaded)")
    ax.set_title(
        f"{result.portrait}, {result.emotion}: r = {result.lip_correlation:.3f}, "
        f"P/B/M closed {result.closures[0]}/{result.closures[1]}",
        fontsize=9,
        loc="left",
    )
    fig.legend(loc="upper right", fontsize=7, ncol=2, frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def write_small_png(path: Path, image: np.ndarray, force: bool) -> None:
    """A PNG of 256 colours (photos tile into a few hundred KB instead of a megabyte)."""
    from PIL import Image  # matplotlib's dependency

    from emosync.atomic import atomic_write_bytes

    buf = io.BytesIO()
    palette = Image.fromarray(image).quantize(256, dither=Image.Dither.NONE)
    palette.save(buf, format="PNG", optimize=True)
    atomic_write_bytes(path, buf.getvalue(), force=force)


def write_pictures(
    results: list[ClipResult],
    photos: dict[str, np.ndarray],
    reference: Alignment,
    folder: Path,
    force: bool,
) -> dict[str, Any]:
    """Write portrait_emotions.png, portrait_stability.png and portrait_lips.png into `folder`
    (the first of `photos` is the one in the stability and lips pictures); the stability
    numbers."""
    from emosync.atomic import atomic_write_bytes

    first = next(iter(photos))
    sheet = emotion_sheet(results, photos, FerClassifier())
    write_small_png(folder / "portrait_emotions.png", sheet, force)
    neutral = next(r for r in results if r.portrait == first and r.emotion == "neutral")
    sheet, stats = stability(neutral.video, photos[first])
    write_small_png(folder / "portrait_stability.png", sheet, force)
    png = lips_plot(neutral, reference, neutral.frame_rate)
    atomic_write_bytes(folder / "portrait_lips.png", png, force=force)
    return stats

"""Talking portraits measured from outside: emotion, lips, stability and speed (issue #27).

Each photo of evaluation/portraits.toml that is present (head-cropped, evaluation.portraits)
speaks examples/hello.wav with its transcript once per emotion at intensity 1.0 and once without
(evaluation.portrait_eval: MP4 at 512², decoded and read by the FER2013 classifier and
mediapipe). Prints the tables of docs/rendering.md and writes the raw numbers as JSON; with
--pictures, writes docs/img/portrait_emotions.png (a frame per emotion for the --picture
portraits, labelled with the classifier's reading), portrait_stability.png (where the pixels
of a whole clip ever change) and portrait_lips.png (the video's lip opening against the curves').

    nice -n 15 .venv/bin/python training/eval_portrait.py [--portraits astronaut,hopper]
        [--emotions neutral,happy] [--fer-every 10] [--expression-gain G] [--pictures --force]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from emosync.evaluation.fer_classifier import FerClassifier
from emosync.evaluation.portrait_eval import (
    MEASURED,
    ClipResult,
    emotion_curves,
    measure_clip,
    reference_alignment,
)
from emosync.evaluation.portraits import FOLDER, head_crop, load_photo, locate, read_manifest
from emosync.inference.timed_phones import Alignment

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "examples" / "hello.wav"
TRANSCRIPT = ROOT / "examples" / "hello.txt"
OUT = ROOT / "data" / "portrait_eval"
IMG = ROOT / "docs" / "img"
STILL_AT = 0.42  # the picture's frame: this far into the clip (mid-sentence)


def run(
    photos: dict[str, np.ndarray], emotions: list[str], fer_every: int, gain: float | None = None
) -> tuple[list[ClipResult], Alignment]:
    """Every photo speaking the clip with every emotion, measured; and the reference phones."""
    transcript = TRANSCRIPT.read_text(encoding="utf-8").strip()
    reference = reference_alignment(CLIP, transcript)
    curves = {e: emotion_curves(CLIP, transcript, e) for e in emotions}
    judge = FerClassifier()
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for name, image in photos.items():
        for emotion in emotions:
            c = curves[emotion]
            still = int(STILL_AT * c.n_frames)
            r = measure_clip(
                image, name, emotion, c, reference, CLIP, OUT / f"{name}_{emotion}.mp4", judge,
                fer_every, keep=(still,), expression_gain=gain,
            )  # fmt: skip
            print(json.dumps(r.summary()), flush=True)
            results.append(r)
    return results, reference


def emotion_table(results: list[ClipResult]) -> list[str]:
    names = list(dict.fromkeys(r.portrait for r in results))
    emotions = list(dict.fromkeys(r.emotion for r in results))
    cell = {(r.portrait, r.emotion): r for r in results}
    lines = ["| emotion | " + " | ".join(names) + " | all | top-1 classes read (all portraits) |"]
    lines.append("|---" * (len(names) + 3) + "|")
    for e in emotions:
        row = [cell[(n, e)] for n in names if (n, e) in cell]
        tops = [t or "no face" for r in row for t in r.tops]
        share = sum(r.share * len(r.tops) for r in row) / max(1, len(tops))
        others = {t: tops.count(t) for t in set(tops)}
        counts = ", ".join(f"{k} {v}" for k, v in sorted(others.items(), key=lambda x: -x[1]))
        shares = " | ".join(f"{cell[(n, e)].share:.2f}" if (n, e) in cell else "-" for n in names)
        lines.append(f"| {e} | {shares} | **{share:.2f}** | {counts} |")
    return lines


def lip_table(results: list[ClipResult]) -> list[str]:
    lines = ["| portrait | lip correlation (median, min over emotions) | P/B/M closed | "]
    lines[0] += "curves' own seal rate | frames without a face |"
    lines.append("|---|---|---|---|---|")
    for name in dict.fromkeys(r.portrait for r in results):
        row = [r for r in results if r.portrait == name]
        corr = [r.lip_correlation for r in row]
        shut = sum(r.closures[0] for r in row)
        total = sum(r.closures[1] for r in row)
        seal = np.mean([r.curve_seal_rate for r in row if r.curve_seal_rate is not None])
        lost = sum(int(np.isnan(r.openings).sum()) for r in row)
        frames = sum(r.openings.size for r in row)
        lines.append(
            f"| {name} | {np.median(corr):.3f}, {min(corr):.3f} | {shut}/{total} = "
            f"{shut / max(1, total):.3f} | {seal:.3f} | {lost}/{frames} |"
        )
    return lines


def speed_table(results: list[ClipResult]) -> list[str]:
    lines = ["| portrait | photo tracking s | frames | draw + encode s | fps | CPU ms per frame |"]
    lines.append("|---|---|---|---|---|---|")
    for name in dict.fromkeys(r.portrait for r in results):
        row = [r for r in results if r.portrait == name]
        n = sum(r.n_frames for r in row)
        track = float(np.mean([r.track_s for r in row]))
        video = sum(r.video_s for r in row)
        fps = n / (track * len(row) + video)
        cpu = 1000 * sum(r.cpu_s for r in row) / n
        lines.append(f"| {name} | {track:.2f} | {n} | {video:.1f} | {fps:.1f} | {cpu:.1f} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    present = [p.name for p in read_manifest() if locate(p, FOLDER) is not None]
    ap.add_argument("--portraits", default=",".join(present), help="names from the manifest")
    ap.add_argument("--emotions", default=",".join(MEASURED))
    ap.add_argument("--fer-every", type=int, default=10, help="read every Nth frame")
    ap.add_argument(
        "--expression-gain", type=float, default=None, help="the renderer's (default: its own)"
    )
    ap.add_argument("--pictures", action="store_true", help="write docs/img/portrait_*.png")
    ap.add_argument("--picture", default="astronaut,hopper", help="portraits pictured")
    ap.add_argument("--json", type=Path, default=OUT / "results.json")
    ap.add_argument("--force", action="store_true", help="overwrite the pictures")
    args = ap.parse_args()
    manifest = {p.name: p for p in read_manifest()}
    photos = {n: head_crop(load_photo(manifest[n])) for n in args.portraits.split(",")}
    started, load0 = time.perf_counter(), os.getloadavg()
    results, reference = run(photos, args.emotions.split(","), args.fer_every, args.expression_gain)
    elapsed, load1 = time.perf_counter() - started, os.getloadavg()
    for table in (emotion_table, lip_table, speed_table):
        print("\n".join(table(results)) + "\n")
    print(f"{elapsed:.0f} s; load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([r.summary() for r in results], indent=1), encoding="utf-8")
    if args.pictures:
        from emosync.evaluation.portrait_pictures import write_pictures

        pictured = {n: photos[n] for n in args.picture.split(",") if n in photos}
        stats = write_pictures(results, pictured, reference, IMG, args.force)
        print(f"background (beyond the head) of {next(iter(pictured))}, neutral: {stats}")


if __name__ == "__main__":
    main()

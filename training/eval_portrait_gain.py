"""Diagnostic: would stronger expressions read? The FER2013 share per photo and emotion with the
portrait's expression fields scaled at render time.

Scales the carried fields of the expression targets (brows, lids' squint and widening, cheeks,
sneer, smile, frown, dimple, stretch, press, upper lip, shrug; the jaw, the other lip shapes,
blinks and gaze untouched) by each GAIN, by wrapping render.video.face_motion, and reads
`--frames` evenly spaced frames per clip (drawn, not encoded) with the classifier. Gain 1 is the
renderer as it is. Not a setting of the renderer: a measurement of how far its expressions are
from reading.

    nice -n 15 .venv/bin/python training/eval_portrait_gain.py [--gains 1,2] [--frames 10]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from emosync.evaluation.fer_classifier import FerClassifier
from emosync.evaluation.portrait_eval import MEASURED, SIZE, emotion_curves, fer_class
from emosync.evaluation.portraits import FOLDER, head_crop, load_photo, locate, read_manifest
from emosync.render import video
from emosync.render.portrait import load_portrait
from emosync.rigs.channels import ARKIT_NAMES

ROOT = Path(__file__).resolve().parents[1]
EXPRESSION = ("brow", "eyeSquint", "eyeWide", "cheek", "noseSneer", "mouthSmile",
              "mouthFrown", "mouthDimple", "mouthStretch", "mouthPress", "mouthUpperUp",
              "mouthShrug")  # fmt: skip
SCALED = np.array([n.startswith(EXPRESSION) for n in ARKIT_NAMES])


def with_gain(gain: float) -> None:
    """Make render.video build its FaceMotion with the expression fields times `gain`."""
    original = getattr(video.face_motion, "original", video.face_motion)
    factor = np.where(SCALED, gain, 1.0).astype(np.float32)[:, None, None]

    def scaled(*args, **kwargs):
        motion = original(*args, **kwargs)
        return dataclasses.replace(motion, fields=motion.fields * factor)

    scaled.original = original  # type: ignore[attr-defined]
    video.face_motion = scaled


def shares(portrait, curves: dict, judge: FerClassifier, frames: int) -> list[str]:
    row = []
    for emotion, c in curves.items():
        weights, rotations = video.frame_channels(c)
        renderer = video.PortraitRenderer(portrait, SIZE)
        picks = np.linspace(0, c.n_frames - 1, frames + 2)[1:-1].round().astype(int)
        readings = [judge.read(renderer.frame(weights[i], rotations[i])) for i in picks]
        tops = [r.top if r is not None else "no face" for r in readings]
        share = tops.count(fer_class(emotion)) / len(tops)
        most = max(set(tops), key=tops.count)
        row.append(f"{share:.1f} ({most})")
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gains", default="1,2")
    ap.add_argument("--frames", type=int, default=10)
    args = ap.parse_args()
    transcript = (ROOT / "examples" / "hello.txt").read_text(encoding="utf-8").strip()
    clip = ROOT / "examples" / "hello.wav"
    curves = {e: emotion_curves(clip, transcript, e) for e in MEASURED}
    judge = FerClassifier()
    print("| photo | gain | " + " | ".join(MEASURED) + " |")
    print("|---" * (len(MEASURED) + 2) + "|")
    for photo in read_manifest():
        if locate(photo, FOLDER) is None:
            continue
        portrait = load_portrait(head_crop(load_photo(photo)), photo.name)
        for gain in (float(g) for g in args.gains.split(",")):
            with_gain(gain)
            row = shares(portrait, curves, judge, args.frames)
            print(f"| {photo.name} | {gain:g} | " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()

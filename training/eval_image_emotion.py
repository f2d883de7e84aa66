"""Round trip on the demo face: render each emotion, read it back from the image.

Renders the seven emotions at intensity 1 facing the camera and turned by TURN radians, reads
each with emotion_image (mediapipe + the ARKit fit), prints the confusion matrix, the accuracy
and the time per image, then the astronaut portrait's reading.

    .venv/bin/python training/eval_image_emotion.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from emosync.exporters.preview import render, write_png
from emosync.inference.emotion_image import image_emotion
from emosync.rigs.demo_face import load_demo_face
from emosync.rigs.emotion_poses import pose_for
from emosync.rigs.emotions import EMOTIONS, N_EMOTIONS, describe, dominant

TURNS = (0.0, 0.2)
LABELS = (*EMOTIONS, "neutral")


def main() -> None:
    confusion = np.zeros((N_EMOTIONS, len(LABELS)), dtype=int)
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, emotion in enumerate(EMOTIONS):
            for yaw in TURNS:
                rotations = np.zeros(9)
                rotations[0] = yaw
                image = render(load_demo_face(), pose_for(np.eye(N_EMOTIONS)[i]), rotations)
                path = write_png(Path(tmp) / f"{emotion}_{yaw}.png", image)
                start = time.perf_counter()
                reading = image_emotion(path)
                seconds.append(time.perf_counter() - start)
                got = dominant(reading.state)
                confusion[i, LABELS.index(got)] += 1
                print(f"{emotion:10s} yaw {yaw:4.2f} -> {got:10s} {describe(reading.state)}")
        print("confusion (rows: rendered, columns: read):")
        print("           " + " ".join(f"{n[:5]:>5s}" for n in LABELS))
        for i, emotion in enumerate(EMOTIONS):
            print(f"{emotion:10s} " + " ".join(f"{c:5d}" for c in confusion[i]))
        accuracy = np.trace(confusion) / confusion.sum()
        print(f"accuracy {accuracy:.3f} ({np.trace(confusion)}/{confusion.sum()})")
        print(f"seconds per image: median {np.median(seconds[1:]):.3f}, first {seconds[0]:.3f}")
        from skimage import data  # training-side only

        path = write_png(Path(tmp) / "astronaut.png", data.astronaut())
        reading = image_emotion(path)
        print(f"astronaut -> {dominant(reading.state)} ({describe(reading.state)})")


if __name__ == "__main__":
    main()

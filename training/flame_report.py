"""The numbers and the picture of docs/flame.md, on the synthetic FLAME-like model.

    .venv/bin/python training/flame_report.py [--picture docs/img/flame_animated.png]

Builds the FLAME-like model of training/flame_synthetic.py (a 105-point landmark embedding,
like the FLAME site's), fits it with and without the embedding, prints the fit error table
(markdown), then animates examples/hello.wav (happy) and renders frames of the demo face (ARKit
curves) above the FLAME-like mesh posed by the FLAME parameters, with exporters/preview.py.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from emosync.exporters.flame import load_flame_rig, to_flame
from emosync.exporters.preview import contact_sheet, render, render_strip, write_png
from emosync.inference.pipeline import AnimateOptions, animate
from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.flame_face import posed_face
from emosync.training.flame_synthetic import (
    build_synthetic_flame,
    write_embedding,
    write_flame_pickle,
)

ROOT = Path(__file__).resolve().parents[1]
TIMES = (0.45, 0.85, 1.25, 1.65, 2.05, 2.45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--picture", type=Path, help="write the picture here (PNG)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        synthetic = build_synthetic_flame(n_embedded=105)
        model_path = write_flame_pickle(folder / "flame_like.pkl", synthetic.arrays)
        embedding = write_embedding(folder / "embedding.npz", synthetic.embedding)
        start = time.perf_counter()
        rig = load_flame_rig(model_path, embedding)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        nearest = load_flame_rig(model_path).fit
        nearest_s = time.perf_counter() - start
        fit = rig.fit
        print(f"fit with the embedding: {fit_s:.2f} s; without (ICP): {nearest_s:.2f} s\n")
        print(
            "| ARKit target | target (mm) | fit error, embedding (mm) | jaw (deg) "
            "| fit error, no embedding (mm) |"
        )
        print("|---|---:|---:|---:|---:|")
        for k, name in enumerate(ARKIT_NAMES):
            jaw = np.degrees(fit.jaw[k])
            jaw_text = ", ".join(f"{a:+.1f}" for a in jaw) if fit.jaw[k].any() else ""
            print(
                f"| {name} | {fit.target_mm[k]:.2f} | {fit.rms_mm[k]:.3f} | {jaw_text} "
                f"| {nearest.rms_mm[k]:.3f} |"
            )
        moving = fit.target_mm > 0
        ratio = fit.rms_mm[moving].sum() / fit.target_mm[moving].sum()
        ratio_n = nearest.rms_mm[moving].sum() / nearest.target_mm[moving].sum()
        print(
            f"\nsum of errors / sum of target sizes: {ratio:.3f} (embedding), "
            f"{ratio_n:.3f} (no embedding)"
        )
        if not args.picture:
            return
        text = (ROOT / "examples" / "hello.txt").read_text().strip()
        options = AnimateOptions(transcript=text, emotion="happy")
        curves = animate(ROOT / "examples" / "hello.wav", options)
        animation = to_flame(curves, rig)
        top = render_strip(curves, TIMES, size=256)
        frames = []
        for t in TIMES:
            i = min(curves.n_frames - 1, round(t * curves.fps))
            face = posed_face(rig.model, animation.expression[i], animation.pose(i))
            frames.append(render(face, size=(256, 256)))
        bottom = contact_sheet(frames, len(frames))
        write_png(args.picture, np.concatenate([top, bottom], axis=0), force=True)
        print(f"wrote {args.picture}")


if __name__ == "__main__":
    main()

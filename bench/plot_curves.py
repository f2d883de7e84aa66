"""Plot one test-split Asterisk prompt's animation against its reference alignment.

    python bench/plot_curves.py [--prompt NAME] [-o docs/img/curves.png] [--force]

Top: the waveform with the forced-alignment phones (bilabials shaded). Bottom: jawOpen,
mouthClose and the lip gap of rigs.mouth with the SEAL_GAP and OPEN_JAW lines, with and without
the transcript.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from emosync.atomic import atomic_write_bytes
from emosync.evaluation.asterisk import SAMPLE_RATE, decode_g722, list_prompts
from emosync.rigs import mouth
from emosync.rigs.phonemes import BILABIAL, OPEN_VOWELS, SILENCE, normalise_phone

DEFAULT_PROMPT = "agent-user"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompt", default=DEFAULT_PROMPT, help="a test-split prompt name")
    parser.add_argument("-o", "--output", default="docs/img/curves.png")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()

    from emosync.inference.alignment import align
    from emosync.inference.audio import Audio
    from emosync.inference.pipeline import AnimateOptions, animate

    prompt = next((p for p in list_prompts("test") if p.name == args.prompt), None)
    if prompt is None:
        raise SystemExit(f"{args.prompt} is not a test-split prompt")
    samples = decode_g722(prompt.audio_path)
    audio = Audio(samples, SAMPLE_RATE, 1, None)
    reference = align(samples, prompt.text)
    runs = {
        "with transcript": animate(audio, AnimateOptions(transcript=prompt.text)),
        "recognition": animate(audio, AnimateOptions()),
    }

    fig, axes = plt.subplots(3, 1, figsize=(12, 7.5), sharex=True, height_ratios=[1, 1.3, 1.3])
    t_audio = np.arange(len(samples)) / SAMPLE_RATE
    axes[0].plot(t_audio, samples, color="0.55", lw=0.4)
    for p in reference.phones:
        label = normalise_phone(p.label)
        if label == SILENCE:
            continue
        if label in BILABIAL:
            axes[0].axvspan(p.start, p.end, color="tab:red", alpha=0.25, lw=0)
        elif label in OPEN_VOWELS:
            axes[0].axvspan(p.start, p.end, color="tab:blue", alpha=0.12, lw=0)
        axes[0].text((p.start + p.end) / 2, 0.9 * np.abs(samples).max(), label, ha="center",
                     fontsize=6)  # fmt: skip
    axes[0].set_title(f'"{prompt.text}" ({prompt.name}); red: P B M, blue: open vowels')
    axes[0].set_yticks([])
    for ax, (title, curves) in zip(axes[1:], runs.items(), strict=True):
        w = curves.blendshapes()
        t = curves.times
        ax.plot(t, mouth.jaw_open(w), label="jawOpen")
        ax.plot(t, curves.channel("mouthClose"), label="mouthClose")
        ax.plot(t, mouth.lip_gap(w), label="lip gap", color="k", lw=1.2)
        ax.axhline(mouth.SEAL_GAP, color="tab:red", ls="--", lw=0.8, label="SEAL_GAP")
        ax.axhline(mouth.OPEN_JAW, color="tab:blue", ls=":", lw=0.8, label="OPEN_JAW")
        for p in reference.phones:
            if normalise_phone(p.label) in BILABIAL:
                ax.axvspan(p.start, p.end, color="tab:red", alpha=0.15, lw=0)
        ax.set_ylabel(title)
        ax.set_ylim(-0.02, 1.0)
    axes[1].legend(loc="upper right", ncol=5, fontsize=8)
    axes[-1].set_xlabel("seconds")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.output, buf.getvalue(), force=args.force)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

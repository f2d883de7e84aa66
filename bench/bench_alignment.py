"""No-transcript phone timing on the Asterisk DEV split: bilabial recall/precision and speed.

The reference is forced alignment of each prompt with its true transcript. A reference P/B/M
counts as found when recognition (no transcript) puts a P/B/M start within +-60 ms of its start;
precision is the same test the other way round. Speed is wall (and this process's CPU) seconds of
`align(samples)` per minute of audio, clips one after another (short prompts are never split);
`--long` also times one joined clip of `--seconds` audio, which `align` cuts and decodes on all
cores. Deterministic: the same prompts in name order, a fixed dither, no randomness.

    .venv/bin/python bench/bench_alignment.py                   # every setting in SETTINGS
    .venv/bin/python bench/bench_alignment.py --setting chosen --long
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from emosync.evaluation.asterisk import decode_g722, list_prompts
from emosync.inference import alignment
from emosync.rigs.phonemes import BILABIAL

TOLERANCE = 0.06
_OFF = {"fwdflat": False, "bestpath": False}
# name -> pocketsphinx Config options of the word recogniser
SETTINGS: dict[str, dict[str, object]] = {
    "pocketsphinx-defaults": {},
    "no-second-passes": _OFF,
    "beam-1e-40": {**_OFF, "beam": 1e-40, "pbeam": 1e-40, "lpbeam": 1e-35, "wbeam": 1e-25,
                   "lponlybeam": 1e-25},
    "beam-1e-30": {**_OFF, "beam": 1e-30, "pbeam": 1e-30, "lpbeam": 1e-25, "wbeam": 1e-20,
                   "lponlybeam": 1e-20},
    "maxhmmpf-3000": {**_OFF, "maxhmmpf": 3000},
    "topn-2": {**_OFF, "topn": 2},
    "ds-2": {**_OFF, "ds": 2},
    "chosen": dict(alignment.RECOGNITION_OPTIONS),
}  # fmt: skip


def bilabial_starts(al: alignment.Alignment) -> np.ndarray:
    return np.array([p.start for p in al.phones if p.label in BILABIAL])


def hits(a: np.ndarray, b: np.ndarray) -> int:
    """How many times in `a` have a time in `b` within TOLERANCE."""
    if a.size == 0 or b.size == 0:
        return 0
    return int(np.count_nonzero(np.min(np.abs(a[:, None] - b[None, :]), axis=1) <= TOLERANCE))


def measure(clips: list[np.ndarray], refs: list[np.ndarray]) -> dict[str, float]:
    found = placed = n_hyp = 0
    seconds = cpu = 0.0
    for x, ref in zip(clips, refs, strict=True):
        start, cpu_start = time.perf_counter(), time.process_time()
        hyp = bilabial_starts(alignment.align(x))
        seconds += time.perf_counter() - start
        cpu += time.process_time() - cpu_start
        found += hits(ref, hyp)
        placed += hits(hyp, ref)
        n_hyp += hyp.size
    minutes = sum(x.size for x in clips) / alignment.SAMPLE_RATE / 60
    n_ref = sum(r.size for r in refs)
    return {
        "recall": found / n_ref,
        "precision": placed / max(n_hyp, 1),
        "s_per_min": seconds / minutes,
        "cpu_s_per_min": cpu / minutes,
    }


def long_clip(clips: list[np.ndarray], seconds: float) -> np.ndarray:
    gap = np.zeros(int(0.3 * alignment.SAMPLE_RATE), np.float32)
    parts, n = [], 0
    for x in clips:
        if n + x.size + gap.size > seconds * alignment.SAMPLE_RATE:
            break
        parts += [x, gap]
        n += x.size + gap.size
    return np.concatenate(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--setting", action="append", choices=sorted(SETTINGS))
    parser.add_argument("--limit", type=int, default=None, help="first N dev prompts")
    parser.add_argument("--long", action="store_true", help="also time one long joined clip")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    prompts = list_prompts("dev")[: args.limit]
    clips = [decode_g722(p.audio_path) for p in prompts]
    refs, kept = [], []
    for p, x in zip(prompts, clips, strict=True):
        ref = alignment.align(x, p.text)
        if ref.method == "forced":  # a prompt whose text does not fit its audio has no reference
            refs.append(bilabial_starts(ref))
            kept.append(x)
    minutes = sum(x.size for x in kept) / alignment.SAMPLE_RATE / 60
    n_ref = sum(r.size for r in refs)
    print(f"dev: {len(kept)} of {len(prompts)} prompts, {minutes:.2f} min, {n_ref} bilabials")
    header = f"{'setting':24} recall precision s/min cpu-s/min"
    print(header + ("  long s/min" if args.long else ""))
    joined = long_clip(kept, args.seconds) if args.long else None
    for name in args.setting or list(SETTINGS):
        alignment.set_recognition_options(SETTINGS[name])
        alignment.align(kept[0])  # load the decoder outside the timing
        row = measure(kept, refs)
        line = f"{name:24} {row['recall']:6.3f} {row['precision']:9.3f} {row['s_per_min']:5.2f}"
        line += f" {row['cpu_s_per_min']:9.2f}"
        if joined is not None:
            alignment.align(joined)  # start the worker processes outside the timing
            start = time.perf_counter()
            alignment.align(joined)
            per_min = (time.perf_counter() - start) / (joined.size / alignment.SAMPLE_RATE / 60)
            line += f"  {per_min:10.2f}"
        print(line, "  ", json.dumps(SETTINGS[name]), flush=True)


if __name__ == "__main__":
    main()

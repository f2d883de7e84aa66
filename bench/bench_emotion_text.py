"""Text emotion speed: loading the shipped ONNX encoder and reading one prompt at a time.

Run: .venv/bin/python bench/bench_emotion_text.py [--repeat 5]
Prints the load time and the median over repeats of the mean milliseconds per prompt, over the
78 held-out words and phrases (training/emotion_text/heldout.py), each read by `encode_text`, the
learned path of what the CLI calls (no CLIP folder set).
"""

from __future__ import annotations

import argparse
import statistics
import time

from emosync.inference.emotion_text import default_encoder, encode_text
from emosync.training.emotion_text import heldout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    prompts = [p for p, _c in heldout.WORDS]
    t0 = time.perf_counter()
    default_encoder()
    load_s = time.perf_counter() - t0
    encode_text("warm up")
    means = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        for prompt in prompts:
            encode_text(prompt)
        means.append((time.perf_counter() - t) / len(prompts) * 1000)
    print(f"load {load_s:.2f} s; {statistics.median(means):.2f} ms per prompt "
          f"(median of {args.repeat} passes over {len(prompts)} prompts)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

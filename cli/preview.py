"""`emosync preview CURVES -o strip.png`: frames of an animation rendered on the demo face."""

from __future__ import annotations

import argparse

import numpy as np

from emosync.atomic import check_writable
from emosync.errors import InputError
from emosync.exporters.dispatch import read
from emosync.exporters.preview import render_strip, write_png


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preview", help="render frames of a curves file on the demo face (PNG)")
    p.add_argument("curves", help="a .json, .npz, Live Link .csv or .glb/.gltf written by emosync")
    p.add_argument("-o", "--output", required=True, metavar="PNG")
    p.add_argument("--frames", type=int, default=8, help="evenly spaced frames (default 8)")
    p.add_argument("--times", help="comma-separated times in seconds instead of --frames")
    p.add_argument("--size", type=int, default=256, help="pixels per frame (default 256)")
    p.add_argument("--cols", type=int, default=None, help="frames per row (default: one row)")
    p.add_argument("--force", action="store_true", help="overwrite the PNG")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.output.lower().endswith(".png"):
        raise InputError("the preview is a PNG: name the output *.png")
    check_writable(args.output, force=args.force)
    if not 16 <= args.size <= 2048:
        raise InputError(f"--size must be between 16 and 2048, got {args.size}")
    curves = read(args.curves)
    times = parse_times(args.times) if args.times else even_times(curves.duration, args.frames)
    sheet = render_strip(curves, times, size=args.size, cols=args.cols)
    print(f"wrote {write_png(args.output, sheet, force=args.force)}")
    return 0


def even_times(duration: float, n: int) -> list[float]:
    if not 1 <= n <= 64:
        raise InputError(f"--frames must be between 1 and 64, got {n}")
    return list(np.linspace(0.0, duration, n + 2)[1:-1])


def parse_times(text: str) -> list[float]:
    try:
        times = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError(f"--times must be numbers separated by commas, got '{text}'") from None
    if not times or len(times) > 64 or min(times) < 0:
        raise InputError("--times needs 1 to 64 non-negative times")
    return times

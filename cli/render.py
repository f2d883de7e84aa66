"""`emosync render CURVES --portrait IMG [--audio WAV] -o OUT.mp4`: a talking portrait video
from curves made earlier; its options are also `emosync animate --portrait`'s."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emosync.atomic import check_writable
from emosync.cli.progress import ProgressBar
from emosync.errors import InputError
from emosync.exporters.dispatch import READABLE, read
from emosync.inference.facecurves import FaceCurves
from emosync.render.motion import EXPRESSION_GAIN
from emosync.render.portrait import Portrait, load_portrait
from emosync.render.video import (
    MAX_EXPRESSION_GAIN,
    MAX_FPS,
    MAX_SIZE,
    MIN_SIZE,
    STRIP_FRAMES,
    check_expression_gain,
    check_fps,
    check_size,
    write_video,
)

VIDEO_SUFFIX = ".mp4"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render", help="a talking portrait video (MP4) from saved curves and a photo"
    )
    p.add_argument("curves", help=f"ARKit curves written earlier ({' '.join(READABLE)})")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mp4", help="the video")
    p.add_argument("--audio", metavar="WAV", help="the voice to mux in (AAC), from time 0")
    p.add_argument(
        "--fps",
        type=float,
        default=None,
        help=f"video frame rate, at most {MAX_FPS:g} (default: the curves')",
    )
    add_portrait_options(p, required=True)
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(run=run)


def add_portrait_options(p: argparse.ArgumentParser, required: bool = False) -> None:
    """--portrait, --size and --strip (render, and animate with an .mp4 output)."""
    p.add_argument(
        "--portrait",
        metavar="IMG",
        required=required,
        help="a photo with one face (the largest is used): the video's face",
    )
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help=f"video's longer side in pixels, {MIN_SIZE} to {MAX_SIZE} "
        f"(default: the photo's, at most {MAX_SIZE}); the photo's aspect is kept",
    )
    p.add_argument(
        "--strip",
        metavar="PNG",
        help=f"also write a PNG of {STRIP_FRAMES} frames of the video, cropped to the head",
    )
    p.add_argument(
        "--keep-expression",
        action="store_true",
        help="keep the photo's own smile (or frown) at rest instead of easing it to neutral",
    )
    p.add_argument(
        "--expression-gain",
        type=float,
        default=None,
        metavar="G",
        help="scale the expressions (brows, squint, smile, frown, sneer ...; not the lips' "
        f"speech) by G, 0 to {MAX_EXPRESSION_GAIN:g} (default {EXPRESSION_GAIN:g}: a photo "
        "shows them fainter than a 3D face)",
    )


def check_video_args(outputs: list[Path], args: argparse.Namespace) -> None:
    """Before any work: the video outputs and the strip may be written."""
    for out in outputs:
        if out.suffix.lower() != VIDEO_SUFFIX:
            raise InputError(f"a portrait video is an MP4: name the output *.mp4, not {out.name}")
        check_writable(out, force=args.force)
    if len(outputs) > 1:
        raise InputError("one portrait video per run: give one .mp4 output")
    if args.strip is not None:
        if not args.strip.lower().endswith(".png"):
            raise InputError("the strip is a PNG: name it *.png")
        check_writable(args.strip, force=args.force)
    check_size(args.size)
    if args.expression_gain is not None:
        check_expression_gain(args.expression_gain)


def video_outputs(args: argparse.Namespace) -> list[Path]:
    """animate's video output, checked: the .mp4 among -o when --portrait is given (an .mp4
    without --portrait is an unknown output format there)."""
    if args.portrait is None:
        if args.size is not None or args.strip is not None or args.expression_gain is not None:
            raise InputError(
                "--size, --strip and --expression-gain go with --portrait (a portrait video)"
            )
        return []
    videos = [Path(o) for o in args.output if Path(o).suffix.lower() == VIDEO_SUFFIX]
    if not videos:
        raise InputError("--portrait makes a video: add an output named *.mp4 (-o talk.mp4)")
    check_video_args(videos, args)
    return videos


def portrait_from(args: argparse.Namespace) -> Portrait:
    """The tracked --portrait; its warnings (several faces) go to stderr."""
    portrait = load_portrait(args.portrait)
    for warning in portrait.warnings:
        print(f"emosync: warning: {warning}", file=sys.stderr)
    return portrait


def write_portrait_video(
    curves: FaceCurves,
    portrait: Portrait,
    out: Path,
    audio: str | None,
    args: argparse.Namespace,
    fps: float | None = None,
) -> None:
    """Render and encode the video (and the strip), then say what was written."""
    bar = ProgressBar(f"rendering {out.name}", unit="frames")
    result = write_video(
        curves,
        portrait,
        out,
        audio,
        args.size,
        bar,
        fps=fps,
        strip=args.strip,
        force=args.force,
        keep_expression=args.keep_expression,
        expression_gain=EXPRESSION_GAIN if args.expression_gain is None else args.expression_gain,
    )
    if not args.quiet:
        print(
            f"wrote {result.path} ({result.n_frames} frames at {result.fps:g} fps, "
            f"{result.width}×{result.height}, {result.frames_per_second:.1f} frames/s)"
        )
        if result.strip is not None:
            print(f"wrote {result.strip}")


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    check_video_args([out], args)
    if args.fps is not None:
        check_fps(args.fps)
    curves = read(args.curves)
    portrait = portrait_from(args)
    write_portrait_video(curves, portrait, out, args.audio, args, fps=args.fps)
    return 0

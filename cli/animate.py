"""`emosync animate AUDIO -o OUT [-o OUT …]`."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from emosync.atomic import atomic_set
from emosync.cli.clip_option import add_clip_option
from emosync.cli.flame_option import add_flame_options, check_flame_args, flame_rig
from emosync.cli.life_option import add_life_options
from emosync.cli.output_option import add_output_option
from emosync.cli.progress import ProgressBar
from emosync.cli.render import (
    add_portrait_options,
    portrait_from,
    video_outputs,
    write_portrait_video,
)
from emosync.errors import InputError
from emosync.exporters.dispatch import check_outputs, export_pieces
from emosync.exporters.flame import FlameRig, write_flame_outputs
from emosync.exporters.rig_presets import RIGS, apply_rig
from emosync.inference.facecurves import FaceCurves
from emosync.inference.pipeline import ENGINES, animate_pieces
from emosync.studio.options import animate_options, check_rig_outputs


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("animate", help="animate a voice clip into ARKit curves")
    p.add_argument("audio", help="voice clip: WAV, FLAC, OGG or MP3 ('-': read it from stdin)")
    add_output_option(p)
    p.add_argument(
        "--transcript", metavar="TEXT_OR_FILE", help="what is said: the text itself or a .txt file"
    )
    p.add_argument(
        "--emotion",
        metavar="TEXT",
        help="preset, synonym or mixture, e.g. 'slightly sad', '0.6 happy + 0.3 surprised'",
    )
    p.add_argument("--emotion-image", metavar="IMG", help="emotion from a reference photo")
    p.add_argument("--emotion-audio", metavar="WAV", help="emotion from a reference voice")
    p.add_argument(
        "--copy-expression",
        action="store_true",
        help="with --emotion-image: blend the photo's fitted ARKit expression into the face",
    )
    p.add_argument("--intensity", default="1.0", help="emotion intensity, 0 to 1.5 (default 1)")
    add_clip_option(p)
    p.add_argument("--timeline", metavar="FILE.json", help="emotion segments along the clip")
    p.add_argument("--fps", default="60", help="frames per second (default 60)")
    p.add_argument(
        "--engine",
        default="auto",
        choices=ENGINES,
        help="auto (default): phonetic when a transcript is given, else the neural network",
    )
    p.add_argument(
        "--rig",
        default="arkit",
        choices=(*RIGS, "flame"),
        help="channels to write: ARKit-52 (default), VRM 1.0 expressions, or the 15 "
        "Oculus visemes (viseme_aa, …); vrm/visemes go to .json/.npz or --mesh GLBs; "
        "flame: FLAME parameters (.npz) or your FLAME mesh (.glb), see --flame-model",
    )
    add_flame_options(p)
    p.add_argument(
        "--mesh", metavar="GLB", help="for .glb/.gltf: your mesh with ARKit morph targets"
    )
    add_life_options(p)
    add_portrait_options(p)  # with an -o OUT.mp4: a talking portrait video of the photo
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(run=run)


@contextlib.contextmanager
def stdin_audio(value: str) -> Iterator[str]:
    """The audio path; for '-', stdin copied to a temporary file named "stdin" (in blocks, so
    memory stays small), removed afterwards."""
    if value != "-":
        yield value
        return
    if sys.stdin is None or sys.stdin.isatty():
        raise InputError("'-' reads the audio from stdin: pipe a file in (cat a.wav | emosync …)")
    with tempfile.TemporaryDirectory(prefix="emosync-stdin-") as folder:
        path = Path(folder) / "stdin"
        with path.open("wb") as f:
            shutil.copyfileobj(sys.stdin.buffer, f, 1 << 20)
        if path.stat().st_size == 0:
            raise InputError("stdin held no audio (0 bytes)")
        yield str(path)


def checked_outputs(args: argparse.Namespace) -> tuple[list[Path], list[Path]]:
    """The output paths, each with a known format, writable, named once and fit for the rig;
    and apart, the portrait video (.mp4 with --portrait)."""
    videos = video_outputs(args)
    outputs = [Path(o) for o in args.output if Path(o) not in videos]
    check_outputs(outputs, force=args.force)
    check_flame_args(args, outputs)
    if args.rig == "flame" and args.mesh:
        raise InputError("--rig flame animates your FLAME model; --mesh does not apply")
    if args.rig != "flame":
        check_rig_outputs(args.rig, outputs, args.mesh)
    return outputs, videos


def run(args: argparse.Namespace) -> int:
    outputs, videos = checked_outputs(args)
    options = animate_options(
        transcript=args.transcript,
        emotion=args.emotion,
        emotion_image=args.emotion_image,
        emotion_audio=args.emotion_audio,
        copy_expression=args.copy_expression,
        intensity=args.intensity,
        timeline=args.timeline,
        fps=args.fps,
        engine=args.engine,
        blink=args.blink,
        gaze=args.gaze,
        head=args.head,
        seed=args.seed,
        clip=args.clip,
    )
    if args.mesh and not Path(args.mesh).is_file():
        raise InputError(f"mesh {args.mesh} not found")
    flame = flame_rig(args)  # loaded and fitted before the (longer) animation
    portrait = portrait_from(args) if videos else None  # tracked before it too
    with stdin_audio(args.audio) as audio:
        pieces = animate_pieces(audio, options, progress=ProgressBar("animating"))
        first = next(pieces)  # the clip's analysis is done here: its warnings are known
        for warning in first.metadata.get("warnings", []):
            print(f"emosync: warning: {warning}", file=sys.stderr)
        clip = itertools.chain([first], pieces)  # the face is made as the outputs are written
        with atomic_set():  # the video and the other outputs: all or none
            if portrait is not None:
                curves = FaceCurves.join(clip)
                write_portrait_video(curves, portrait, videos[0], audio, args)
                clip = itertools.chain([curves])
            if flame is not None:
                write_flame(FaceCurves.join(clip), outputs, flame, args)
            elif outputs:
                write_outputs(clip, outputs, args)
    return 0


def write_flame(
    curves: FaceCurves, outputs: list[Path], flame: FlameRig, args: argparse.Namespace
) -> None:
    """Write the FLAME parameters or meshes, all or none."""
    with atomic_set():  # all outputs or none, as below
        written = write_flame_outputs(curves, outputs, flame, force=args.force)
    for path in written:
        if not args.quiet:
            print(f"wrote {path} ({curves.n_frames} frames at {curves.fps:g} fps, FLAME)")


def write_outputs(
    pieces: Iterator[FaceCurves], outputs: list[Path], args: argparse.Namespace
) -> None:
    """Retarget the clip's pieces to --rig and write every output from one pass over them,
    all or none."""
    first = next(pieces)
    clip = (apply_rig(p, args.rig) for p in itertools.chain([first], pieces))
    bar = ProgressBar(f"writing {', '.join(o.name for o in outputs)}", unit="frames")
    with atomic_set():  # all outputs or none: a failure or Ctrl-C midway leaves nothing
        export_pieces(clip, outputs, force=args.force, mesh=args.mesh, progress=bar)
    if not args.quiet:
        for out in outputs:
            print(f"wrote {out} ({first.clip_frames} frames at {first.fps:g} fps)")

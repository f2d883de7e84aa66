"""`emosync batch MANIFEST -o OUTDIR`: many voice lines, resumable, locally or on Ray."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emosync.cli.flame_option import add_flame_options
from emosync.cli.life_option import add_life_options
from emosync.cli.progress import CountBar
from emosync.errors import InputError
from emosync.exporters.dispatch import SUFFIXES
from emosync.exporters.flame import load_flame_rig
from emosync.exporters.rig_presets import RIGS
from emosync.inference.pipeline import ENGINES
from emosync.studio.batch import BatchRun, default_workers, prepare, run_batch
from emosync.studio.jobs import LineResult
from emosync.studio.manifest import FLAME_KEYS
from emosync.studio.options import gain

# Command-line options that are defaults for rows that leave the key out (dest -> option name).
ROW_DEFAULTS = ("emotion", "emotion_image", "emotion_audio", "intensity", "timeline", "fps")
LIFE_DEFAULTS = ("blink", "gaze", "head", "seed")
PATH_DEFAULTS = ("emotion_image", "emotion_audio", "timeline")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="animate every line of a manifest (JSONL, CSV or a folder), resumable",
        description="Animate every voice line of a manifest into OUTDIR. Options below are "
        "defaults for rows that leave them out. A line whose outputs are current is skipped; "
        "OUTDIR/report.json lists every line. Exit 1 if any line failed.",
    )
    p.add_argument("manifest", nargs="?", help="a .jsonl or .csv manifest, or a folder of clips")
    p.add_argument("-o", "--outdir", required=True, metavar="OUTDIR", help="output folder")
    p.add_argument(
        "--format",
        default="glb",
        help=f"output formats for rows without 'out', comma-separated "
        f"({','.join(s[1:] for s in SUFFIXES)}; default glb)",
    )
    p.add_argument("--emotion", metavar="TEXT", help="default emotion prompt or preset")
    p.add_argument("--emotion-image", metavar="IMG", help="default emotion from a photo")
    p.add_argument("--emotion-audio", metavar="WAV", help="default emotion from a voice")
    p.add_argument("--intensity", help="default emotion intensity, 0 to 1.5 (default 1)")
    p.add_argument("--timeline", metavar="FILE.json", help="default emotion timeline")
    p.add_argument("--fps", help="default frames per second (default 60)")
    p.add_argument("--engine", choices=ENGINES, help="default engine (default auto)")
    p.add_argument(
        "--rig",
        choices=(*RIGS, "flame"),
        help="default channels to write (default arkit); flame: FLAME parameters (.npz) or "
        "your FLAME mesh (.glb) from --flame-model",
    )
    add_flame_options(p)
    p.add_argument("--mesh", metavar="GLB", help="for .glb/.gltf: your mesh with ARKit targets")
    add_life_options(p, defaults=False)
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"local worker processes (default: the usable cores, {default_workers()} here)",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run on a Ray cluster (HOST:PORT; without it RAY_ADDRESS or a local Ray)",
    )
    p.add_argument("--force", action="store_true", help="redo every line, overwrite outputs")
    p.add_argument("-q", "--quiet", action="store_true", help="print only failures")
    p.set_defaults(run=run)


def parse_formats(value: str) -> tuple[str, ...]:
    formats = tuple(f".{f.strip().lower().lstrip('.')}" for f in value.split(",") if f.strip())
    unknown = [f for f in formats if f not in SUFFIXES]
    if not formats or unknown:
        raise InputError(
            f"unknown format '{(unknown or [value])[0]}'; use some of: "
            f"{','.join(s[1:] for s in SUFFIXES)}"
        )
    if len(set(formats)) != len(formats):
        raise InputError(f"a format is named twice in '{value}'")
    return formats


def _manifest_and_ray(args: argparse.Namespace) -> tuple[str, str | None]:
    """`--ray MANIFEST` reads as a Ray address to argparse; an existing path is never one."""
    if args.manifest:
        return args.manifest, args.ray
    if args.ray and Path(args.ray).exists():
        return args.ray, ""
    raise InputError("give a manifest (.jsonl, .csv or a folder of clips)")


def build_run(args: argparse.Namespace) -> BatchRun:
    manifest, ray = _manifest_and_ray(args)
    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    defaults = {k: getattr(args, k) for k in (*ROW_DEFAULTS, *LIFE_DEFAULTS, "engine", "rig")}
    defaults.update({k: getattr(args, k) for k in FLAME_KEYS})
    for key in ("blink", "gaze", "head"):  # checked once here, not failing every line
        if defaults[key] is not None:
            defaults[key] = gain(defaults[key], key)
    for key in (*PATH_DEFAULTS, "flame_model", "flame_landmarks"):
        if defaults[key]:  # absolute: workers (on other machines, too) may run elsewhere
            defaults[key] = str(Path(defaults[key]).resolve())
    return BatchRun(
        manifest=manifest,
        outdir=args.outdir,
        defaults={k: v for k, v in defaults.items() if v is not None},
        formats=parse_formats(args.format),
        workers=workers,
        ray=ray,
        force=args.force,
        mesh=str(Path(args.mesh).resolve()) if args.mesh else None,
    )


def run(args: argparse.Namespace) -> int:
    if not args.flame_model and (
        args.rig == "flame" or args.flame_landmarks or args.flame_expressions is not None
    ):
        raise InputError(
            "--rig flame, --flame-landmarks and --flame-expressions need --flame-model"
        )
    batch = build_run(args)
    if args.flame_model:  # read safely and fitted once here; workers read the cached fit
        load_flame_rig(args.flame_model, args.flame_landmarks, args.flame_expressions)
    lines = prepare(batch)  # a manifest that cannot be read fails here, before any work
    bar = CountBar("batch", len(lines))
    done = 0

    def on_result(result: LineResult) -> None:
        nonlocal done
        done += 1
        if result.status == "failed":
            if bar.enabled:
                sys.stderr.write("\r\033[K")
            print(f"emosync: {result.label} failed: {result.reason}", file=sys.stderr)
        bar(done)

    report = run_batch(batch, on_result, lines)
    failed = report.count("failed")
    if not args.quiet or failed:
        print(report.summary())
    return 1 if failed else 0

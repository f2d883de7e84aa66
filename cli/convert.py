"""`emosync convert CURVES --rig NAME -o OUT`: curves made earlier, in another rig or format."""

from __future__ import annotations

import argparse
from pathlib import Path

from emosync.atomic import atomic_set, check_writable
from emosync.cli.flame_option import add_flame_options, check_flame_args, flame_rig
from emosync.cli.output_option import add_output_option
from emosync.errors import InputError
from emosync.exporters.dispatch import READABLE, SUFFIXES, export, read
from emosync.exporters.flame import write_flame_outputs
from emosync.exporters.rig_presets import RIGS, apply_rig
from emosync.studio.options import check_rig_outputs


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert",
        help="turn saved curves (.json/.npz/.csv) into another rig's channels or FLAME",
    )
    p.add_argument("curves", help=f"ARKit curves written earlier ({' '.join(READABLE)})")
    add_output_option(p)
    p.add_argument(
        "--rig",
        default="arkit",
        choices=(*RIGS, "flame"),
        help="arkit (default), vrm, visemes, or flame (with --flame-model)",
    )
    add_flame_options(p)
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    outputs = [Path(o) for o in args.output]
    if len(set(outputs)) != len(outputs):
        raise InputError("the same output is named twice")
    for out in outputs:
        if out.suffix.lower() not in SUFFIXES:
            raise InputError(
                f"unknown output format '{out.suffix or out.name}'; "
                f"use one of: {', '.join(SUFFIXES)}"
            )
        check_writable(out, force=args.force)
    check_flame_args(args, outputs)
    if args.rig != "flame":
        check_rig_outputs(args.rig, outputs, None)
    curves = read(args.curves)
    rig = flame_rig(args)
    with atomic_set():  # all outputs or none
        if rig is not None:
            written = write_flame_outputs(curves, outputs, rig, force=args.force)
        else:
            converted = apply_rig(curves, args.rig)
            written = [export(converted, out, force=args.force) for out in outputs]
    if not args.quiet:
        for path in written:
            print(f"wrote {path} ({curves.n_frames} frames at {curves.fps:g} fps)")
    return 0

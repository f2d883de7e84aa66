"""`--rig flame` and its options, shared by the commands that write animation
(`animate`, `convert`, and any other that calls these three functions)."""

from __future__ import annotations

import argparse
from pathlib import Path

from emosync.errors import InputError
from emosync.exporters.flame import FLAME_SUFFIXES, FlameRig, load_flame_rig


def add_flame_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--flame-model",
        metavar="FILE",
        help="with --rig flame: your FLAME model (.pkl as downloaded, or its converted .npz)",
    )
    p.add_argument(
        "--flame-landmarks",
        metavar="FILE",
        help="with --rig flame: FLAME's mediapipe_landmark_embedding.npz (a finer fit)",
    )
    p.add_argument(
        "--flame-expressions",
        type=int,
        metavar="N",
        help="with --rig flame: expression parameters to write (default: all the file has)",
    )


def check_flame_args(
    args: argparse.Namespace, outputs: list[Path], rig_option: str = "--rig"
) -> None:
    """Cheap checks before any work: the options belong together and the outputs fit.
    `rig_option` names the option that asks for FLAME (`args.<its name>` == "flame")."""
    given = [args.flame_model, args.flame_landmarks, args.flame_expressions]
    if not _wants_flame(args, rig_option):
        if any(v is not None for v in given):
            raise InputError(
                f"--flame-model, --flame-landmarks, --flame-expressions need {rig_option} flame"
            )
        return
    if not args.flame_model:
        raise InputError(
            f"{rig_option} flame needs --flame-model FILE (your FLAME model, e.g. flame2023.pkl)"
        )
    for out in outputs:
        if out.suffix.lower() not in FLAME_SUFFIXES:
            raise InputError(
                f"{rig_option} flame writes {', '.join(FLAME_SUFFIXES)} (parameters or your FLAME "
                f"mesh), not {out.name}"
            )


def flame_rig(args: argparse.Namespace, rig_option: str = "--rig") -> FlameRig | None:
    """The user's FLAME model with its fit (loaded safely, fitted once, cached), or None."""
    if not _wants_flame(args, rig_option):
        return None
    return load_flame_rig(args.flame_model, args.flame_landmarks, args.flame_expressions)


def _wants_flame(args: argparse.Namespace, rig_option: str) -> bool:
    return getattr(args, rig_option.removeprefix("--").replace("-", "_")) == "flame"

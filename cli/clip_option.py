"""`--clip DIR`, shared by `emotion` and `animate`: read words and photos with a CLIP model
aligned by training/clip_head.py instead of the shipped encoders."""

from __future__ import annotations

import argparse

from emosync.inference.emotion_clip import ENV, use_clip


def add_clip_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--clip",
        metavar="DIR",
        help=f"a folder made by training/clip_head.py: its CLIP towers read prompts and photos "
        f"(default: ${ENV} if set, else the shipped encoders)",
    )


def apply_clip_option(args: argparse.Namespace) -> None:
    use_clip(args.clip or None)  # None also clears a choice left by an earlier in-process run

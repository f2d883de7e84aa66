"""`--clip DIR`, shared by `emotion` and `animate`: read words and photos with a CLIP model
aligned by training/clip_head.py instead of the shipped encoders. The folder travels with the
request (AnimateOptions.clip, read_emotion's `clip`), never as process-wide state."""

from __future__ import annotations

import argparse

from emosync.inference.emotion_clip import ENV


def add_clip_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--clip",
        metavar="DIR",
        help=f"a folder made by training/clip_head.py: its CLIP towers read prompts and photos "
        f"(default: ${ENV} if set, else the shipped encoders)",
    )

"""`-o OUT` (repeatable, required): the outputs of the commands that write animation files."""

from __future__ import annotations

import argparse

from emosync.exporters.dispatch import SUFFIXES


def add_output_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o",
        "--output",
        action="append",
        required=True,
        metavar="OUT",
        help=f"output file, format by suffix ({' '.join(SUFFIXES)}); repeatable",
    )

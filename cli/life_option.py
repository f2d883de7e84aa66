"""`--blink --gaze --head --seed`: the life layer's gains and seed, shared by `animate`,
`live` and `batch` (where they are defaults for rows that leave them out)."""

from __future__ import annotations

import argparse


def add_life_options(p: argparse.ArgumentParser, defaults: bool = True) -> None:
    """The four options; `defaults=False` leaves them None when not given (batch)."""
    gain, seed = (1.0, 0) if defaults else (None, None)
    p.add_argument("--blink", default=gain, help="blink gain, 0 to 3 (0 = off)")
    p.add_argument("--gaze", default=gain, help="eye-motion gain, 0 to 3 (0 = off)")
    p.add_argument("--head", default=gain, help="head-motion gain, 0 to 3 (0 = off)")
    p.add_argument("--seed", type=int, default=seed, help="seed of blinks, gaze and breathing")

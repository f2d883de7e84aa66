"""How open the lips and jaw are, read from ARKit weights. One definition shared by the
articulation model (which must meet it), the evaluation (which scores it) and the tests.

ARKit authors `mouthClose` against `jawOpen`: with jawOpen = x, mouthClose = x brings the lips
back together while the jaw stays open. The lip gap is therefore the jaw opening that mouthClose
does not cancel, plus the lip-raising/lowering and funnel shapes that part the lips themselves.
"""

from __future__ import annotations

import numpy as np

from emosync.rigs.channels import ARKIT_NAMES

_I = {n: i for i, n in enumerate(ARKIT_NAMES)}

SEAL_GAP = 0.05  # lips count as sealed below this gap
OPEN_JAW = 0.25  # an open vowel opens the jaw at least this far
REST_JAW = 0.08  # at rest the jaw is within this of closed


def lip_gap(weights: np.ndarray) -> np.ndarray:
    """Lip separation per frame, 0 = sealed, about 1 = wide open. `weights`: [frames × 52]."""
    w = np.asarray(weights, dtype=np.float32)
    jaw_gap = np.clip(w[:, _I["jawOpen"]] - w[:, _I["mouthClose"]], 0.0, None)
    lower = 0.5 * (w[:, _I["mouthLowerDownLeft"]] + w[:, _I["mouthLowerDownRight"]])
    upper = 0.5 * (w[:, _I["mouthUpperUpLeft"]] + w[:, _I["mouthUpperUpRight"]])
    return jaw_gap + 0.6 * lower + 0.6 * upper + 0.3 * w[:, _I["mouthFunnel"]]


def jaw_open(weights: np.ndarray) -> np.ndarray:
    """The jawOpen channel of [frames x 52] weights."""
    return np.asarray(weights, dtype=np.float32)[:, _I["jawOpen"]]


def sealed(weights: np.ndarray) -> np.ndarray:
    """Per frame: the lips are closed (their gap under SEAL_GAP)."""
    return lip_gap(weights) < SEAL_GAP


def at_rest(weights: np.ndarray) -> np.ndarray:
    """Per frame: jaw nearly closed and lips sealed."""
    return (jaw_open(weights) < REST_JAW) & sealed(weights)

"""ARKit → Oculus visemes: the bilabial closure that PP must never miss."""

import numpy as np

from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.mouth import sealed
from emosync.rigs.retarget import OCULUS_VISEMES, to_visemes

PP = OCULUS_VISEMES.index("PP")


def _pose(**weights: float) -> np.ndarray:
    w = np.zeros((1, len(ARKIT_NAMES)), np.float32)
    for name, value in weights.items():
        w[0, ARKIT_NAMES.index(name)] = value
    return w


def test_a_seal_held_against_an_open_jaw_is_pp():
    seal = _pose(jawOpen=0.4, mouthClose=0.4)  # lips shut by mouthClose, no press or roll
    assert sealed(seal)[0]
    assert to_visemes(seal)[0, PP] == 1.0


def test_rest_and_open_vowels_are_not_pp():
    rest = _pose()
    assert sealed(rest)[0] and to_visemes(rest)[0, PP] == 0.0
    vowel = _pose(jawOpen=0.45)
    assert not sealed(vowel)[0] and to_visemes(vowel)[0, PP] < 0.2

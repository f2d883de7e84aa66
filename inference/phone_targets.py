"""Articulatory targets per ARPAbet phone: where each phone wants the jaw, lips and tongue, and
how firmly (dominance) and how far in time (reach) it holds them.

The articulation model blends these targets with Cohen-Massaro dominance functions. Targets are
written in a small articulatory space, not in ARKit channels, so that the jaw and the lips
coarticulate separately:

    jaw     jaw opening (-> jawOpen; about 0.55 for AA, near 0 for S and rest)
    funnel  open lip rounding, lips flared (AO, OW)        -> mouthFunnel
    pucker  tight lip rounding and protrusion (UW, W)      -> mouthPucker
    spread  lip corners drawn back (IY, EY, S)             -> mouthStretch (+ a little dimple)
    lower   lower lip pulled down, lower teeth show (AA)   -> mouthLowerDown
    upper   upper lip raised, upper teeth show (AE, S, R)  -> mouthUpperUp
    tongue  tongue tip visible between the teeth (TH, L)   -> tongueOut
    close   lips held together (rest in pauses)            -> mouthClose against jawOpen
    speech  1 while speaking, 0 in pauses (gates emotion effects that belong to speech)

Bilabial closure (P B M) and lower-lip-to-teeth (F V) are not blended: they are hard contacts,
made by pulses in articulation.py that always reach their target, however short the phone.

Values follow the Preston Blair / Rhubarb shapes (A closed PBM, B slightly open, C open EH AE,
D wide AA, E rounded AO ER, F puckered UW OW W, G F/V, H L) and the Oculus visemes, tuned to
ARKit rigs where jawOpen 1.0 is a yawn, so speech stays within about 0.6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emosync.rigs.phonemes import SILENCE

PARAMS: tuple[str, ...] = (
    "jaw", "funnel", "pucker", "spread", "lower", "upper", "tongue", "close", "speech",
)  # fmt: skip
P = {name: i for i, name in enumerate(PARAMS)}
N_PARAMS = len(PARAMS)

# which group each parameter's dominance and reach come from
_GROUP = {
    "jaw": "jaw", "speech": "jaw",
    "funnel": "lip", "pucker": "lip", "spread": "lip", "lower": "lip", "upper": "lip",
    "close": "lip",
    "tongue": "tongue",
}  # fmt: skip


@dataclass(frozen=True)
class PhoneClass:
    """How firmly a class of phones holds each articulator (dominance, unitless) and how far its
    influence reaches before its start and after its end (seconds, Gaussian width)."""

    jaw: float
    lip: float
    tongue: float
    jaw_before: float = 0.03
    jaw_after: float = 0.03
    lip_before: float = 0.06
    lip_after: float = 0.05
    tongue_before: float = 0.035
    tongue_after: float = 0.035


CLASSES: dict[str, PhoneClass] = {
    "open_vowel": PhoneClass(jaw=1.5, lip=0.8, tongue=0.3),
    "vowel": PhoneClass(jaw=1.0, lip=0.8, tongue=0.3),
    # rounding is planned early: its reach stretches back over preceding consonants
    "round_vowel": PhoneClass(jaw=1.0, lip=1.3, tongue=0.3, lip_before=0.15, lip_after=0.08),
    "bilabial": PhoneClass(jaw=1.2, lip=0.3, tongue=0.1),
    "labiodental": PhoneClass(jaw=0.9, lip=0.3, tongue=0.1),
    "dental": PhoneClass(jaw=0.4, lip=0.2, tongue=1.5),
    "lateral": PhoneClass(jaw=0.3, lip=0.15, tongue=1.0),
    "alveolar": PhoneClass(jaw=0.35, lip=0.15, tongue=0.3),
    "sibilant": PhoneClass(jaw=0.7, lip=0.4, tongue=0.3),
    "postalveolar": PhoneClass(jaw=0.5, lip=0.8, tongue=0.3, lip_before=0.09),
    "velar": PhoneClass(jaw=0.25, lip=0.1, tongue=0.2),
    "glottal": PhoneClass(jaw=0.05, lip=0.05, tongue=0.05),
    "rhotic": PhoneClass(jaw=0.3, lip=0.6, tongue=0.2, lip_before=0.1),
    "round_glide": PhoneClass(jaw=0.4, lip=1.5, tongue=0.2, lip_before=0.12),
    "spread_glide": PhoneClass(jaw=0.4, lip=0.6, tongue=0.2),
    # a pause's dominance grows with its length (see silence_dominance)
    "silence": PhoneClass(jaw=2.0, lip=2.0, tongue=2.0, jaw_before=0.04, jaw_after=0.05),
}

# phone: (class, jaw, funnel, pucker, spread, lower, upper, tongue, close)
# diphthongs list their onset here; DIPHTHONGS gives the glide they end in
_TABLE: dict[str, tuple[str, float, float, float, float, float, float, float, float]] = {
    "AA": ("open_vowel", 0.55, 0.00, 0.00, 0.05, 0.25, 0.08, 0.00, 0.0),
    "AE": ("open_vowel", 0.45, 0.00, 0.00, 0.30, 0.25, 0.15, 0.00, 0.0),
    "AH": ("open_vowel", 0.40, 0.00, 0.00, 0.05, 0.15, 0.05, 0.00, 0.0),
    "AO": ("open_vowel", 0.45, 0.45, 0.10, 0.00, 0.10, 0.05, 0.00, 0.0),
    "AW": ("open_vowel", 0.50, 0.00, 0.00, 0.05, 0.20, 0.08, 0.00, 0.0),
    "AY": ("open_vowel", 0.50, 0.00, 0.00, 0.10, 0.20, 0.08, 0.00, 0.0),
    "EH": ("vowel", 0.30, 0.00, 0.00, 0.30, 0.15, 0.08, 0.00, 0.0),
    "ER": ("round_vowel", 0.18, 0.30, 0.20, 0.00, 0.00, 0.08, 0.00, 0.0),
    "EY": ("vowel", 0.25, 0.00, 0.00, 0.35, 0.10, 0.08, 0.00, 0.0),
    "IH": ("vowel", 0.18, 0.00, 0.00, 0.35, 0.05, 0.05, 0.00, 0.0),
    "IY": ("vowel", 0.12, 0.00, 0.00, 0.50, 0.00, 0.08, 0.00, 0.0),
    "OW": ("round_vowel", 0.30, 0.50, 0.20, 0.00, 0.05, 0.00, 0.00, 0.0),
    "OY": ("round_vowel", 0.35, 0.45, 0.15, 0.00, 0.05, 0.00, 0.00, 0.0),
    "UH": ("round_vowel", 0.18, 0.30, 0.40, 0.00, 0.00, 0.00, 0.00, 0.0),
    "UW": ("round_vowel", 0.10, 0.20, 0.75, 0.00, 0.00, 0.00, 0.00, 0.0),
    "P": ("bilabial", 0.05, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 1.0),
    "B": ("bilabial", 0.06, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 1.0),
    "M": ("bilabial", 0.05, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 1.0),
    "F": ("labiodental", 0.10, 0.00, 0.00, 0.05, 0.00, 0.00, 0.00, 0.0),
    "V": ("labiodental", 0.10, 0.00, 0.00, 0.05, 0.00, 0.00, 0.00, 0.0),
    "TH": ("dental", 0.15, 0.00, 0.00, 0.10, 0.05, 0.05, 0.45, 0.0),
    "DH": ("dental", 0.14, 0.00, 0.00, 0.10, 0.05, 0.05, 0.35, 0.0),
    "L": ("lateral", 0.20, 0.00, 0.00, 0.10, 0.05, 0.05, 0.12, 0.0),
    "T": ("alveolar", 0.12, 0.00, 0.00, 0.15, 0.03, 0.05, 0.00, 0.0),
    "D": ("alveolar", 0.12, 0.00, 0.00, 0.15, 0.03, 0.05, 0.00, 0.0),
    "N": ("alveolar", 0.12, 0.00, 0.00, 0.12, 0.03, 0.03, 0.00, 0.0),
    "S": ("sibilant", 0.05, 0.00, 0.00, 0.30, 0.05, 0.10, 0.00, 0.0),
    "Z": ("sibilant", 0.05, 0.00, 0.00, 0.30, 0.05, 0.10, 0.00, 0.0),
    "SH": ("postalveolar", 0.08, 0.35, 0.25, 0.00, 0.05, 0.12, 0.00, 0.0),
    "ZH": ("postalveolar", 0.08, 0.35, 0.25, 0.00, 0.05, 0.12, 0.00, 0.0),
    "CH": ("postalveolar", 0.08, 0.30, 0.25, 0.00, 0.05, 0.10, 0.00, 0.0),
    "JH": ("postalveolar", 0.08, 0.30, 0.25, 0.00, 0.05, 0.10, 0.00, 0.0),
    "K": ("velar", 0.16, 0.00, 0.00, 0.05, 0.05, 0.03, 0.00, 0.0),
    "G": ("velar", 0.16, 0.00, 0.00, 0.05, 0.05, 0.03, 0.00, 0.0),
    "NG": ("velar", 0.14, 0.00, 0.00, 0.05, 0.03, 0.03, 0.00, 0.0),
    "HH": ("glottal", 0.25, 0.00, 0.00, 0.00, 0.10, 0.05, 0.00, 0.0),
    "R": ("rhotic", 0.14, 0.20, 0.30, 0.00, 0.00, 0.08, 0.00, 0.0),
    "W": ("round_glide", 0.08, 0.20, 0.80, 0.00, 0.00, 0.00, 0.00, 0.0),
    "Y": ("spread_glide", 0.10, 0.00, 0.00, 0.35, 0.00, 0.05, 0.00, 0.0),
    SILENCE: ("silence", 0.02, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 1.0),
}

# diphthong: (glide it ends in, fraction of the phone spent on the onset)
DIPHTHONGS: dict[str, tuple[str, float]] = {
    "AW": ("UH", 0.55),
    "AY": ("IH", 0.55),
    "OY": ("IY", 0.55),
    "EY": ("IY", 0.5),
    "OW": ("UH", 0.5),
}

# contacts made by pulses, with how much each puffs the cheeks (plosive pressure)
BILABIAL_PUFF: dict[str, float] = {"P": 0.10, "B": 0.06, "M": 0.0}

LABELS: tuple[str, ...] = tuple(_TABLE)
LABEL_INDEX: dict[str, int] = {label: i for i, label in enumerate(LABELS)}


def _arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = len(LABELS)
    target = np.zeros((n, N_PARAMS))
    dominance = np.zeros((n, N_PARAMS))
    before = np.zeros((n, N_PARAMS))
    after = np.zeros((n, N_PARAMS))
    for i, label in enumerate(LABELS):
        cls_name, *values = _TABLE[label]
        cls = CLASSES[cls_name]
        target[i, : len(values)] = values
        target[i, P["speech"]] = 0.0 if label == SILENCE else 1.0
        for name, group in _GROUP.items():
            j = P[name]
            dominance[i, j] = getattr(cls, group)
            before[i, j] = getattr(cls, f"{group}_before")
            after[i, j] = getattr(cls, f"{group}_after")
    return target, dominance, before, after


# [labels × params] lookup tables used by the articulation model
TARGET, DOMINANCE, REACH_BEFORE, REACH_AFTER = _arrays()


OPEN_LABELS: frozenset[str] = frozenset(k for k, v in _TABLE.items() if v[0] == "open_vowel")


def short_vowel_boost(duration: np.ndarray) -> np.ndarray:
    """Extra jaw dominance for an open vowel shorter than 80 ms (up to ×3 as it shrinks to
    nothing), so a clipped vowel between two consonants still visibly opens the jaw."""
    short = np.clip((0.08 - np.asarray(duration, dtype=np.float64)) / 0.08, 0.0, 1.0)
    return 1.0 + 2.0 * short


def silence_dominance(duration: np.ndarray) -> np.ndarray:
    """Scale of a pause's dominance by its length: a 40 ms gap between words barely lets the
    mouth relax, a pause of 150 ms or more returns it to rest."""
    x = np.clip((np.asarray(duration, dtype=np.float64) - 0.04) / 0.11, 0.0, 1.0)
    return 0.05 + 0.95 * x * x * (3.0 - 2.0 * x)

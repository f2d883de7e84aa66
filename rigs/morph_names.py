"""The one matcher of shape-key and morph-target names to EmoSync channels: ARKit spellings,
VRM 1.0 expressions (VRM 0 aliases and prefixes too), the 15 Oculus visemes (viseme prefixes)
and a user's custom map. The Blender add-on maps shape keys with it and the glTF writer maps a
user mesh's morph targets (`--mesh`), so one character maps the same in both."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from emosync.rigs.channels import ARKIT_NAMES, N_BLENDSHAPES, canonical_name
from emosync.rigs.retarget import (
    ARKIT_TO_VISEMES,
    ARKIT_TO_VRM,
    OCULUS_VISEMES,
    VRM_EXPRESSIONS,
)

SCHEMES = ("AUTO", "ARKIT", "VRM", "VISEMES")

# VRM 0.x preset names that VRM 1.0 renamed.
_VRM0_ALIASES = {
    "a": "aa", "i": "ih", "u": "ou", "e": "ee", "o": "oh",
    "joy": "happy", "sorrow": "sad", "fun": "relaxed",
    "blinkl": "blinkLeft", "blinkr": "blinkRight",
}  # fmt: skip
_VRM_PREFIX = re.compile(r"^(vrm|expression|exp|preset)[_.\-: ]+", re.IGNORECASE)
_VISEME_PREFIX = re.compile(r"^(viseme|vis|v)[_.\-: ]+", re.IGNORECASE)
_VRM_CANON = {name.lower(): name for name in VRM_EXPRESSIONS}
# Oculus names are case-sensitive in the SDK, but rigs write them in any case; "E" is unique.
_VISEME_CANON = {name.lower(): name for name in OCULUS_VISEMES}
# Names no VRM expression uses: a rig with several of them is a viseme rig.
_VISEME_ONLY = frozenset(n.lower() for n in OCULUS_VISEMES) - set(_VRM_CANON) - {"e", "sil"}
_ONE_HOT = np.eye(N_BLENDSHAPES, dtype=np.float32)


@dataclass
class KeyTarget:
    key: str  # the shape key's name on the mesh
    scheme: str  # "arkit", "vrm" or "viseme"
    source: str  # the ARKit channel, VRM expression or viseme that drives it
    row: np.ndarray  # [52]: the key's weight is row · ARKit weights
    custom: bool = False


@dataclass
class KeyMapping:
    targets: list[KeyTarget] = field(default_factory=list)
    unused_keys: list[str] = field(default_factory=list)  # keys nothing drives
    errors: list[str] = field(default_factory=list)  # custom entries that could not be used

    @property
    def matched_channels(self) -> list[str]:
        """ARKit channels that reach some key (directly or through a retarget)."""
        reach = np.zeros(N_BLENDSHAPES, dtype=bool)
        for target in self.targets:
            reach |= np.abs(target.row) > 1e-6
        return [name for name, hit in zip(ARKIT_NAMES, reach, strict=True) if hit]

    @property
    def unmatched_channels(self) -> list[str]:
        hit = set(self.matched_channels)
        return [name for name in ARKIT_NAMES if name not in hit]

    def weights(self, blend: np.ndarray) -> np.ndarray:
        """[frames × 52] ARKit weights → [frames × len(targets)] shape key values in [0, 1]."""
        if not self.targets:
            return np.zeros((len(blend), 0), dtype=np.float32)
        matrix = np.stack([t.row for t in self.targets])
        return np.clip(np.asarray(blend, dtype=np.float32) @ matrix.T, 0.0, 1.0)


def vrm_name(name: str) -> str | None:
    """A shape key name as a VRM 1.0 expression (`Happy`, `vrm_blinkLeft`, VRM 0 `Joy`)."""
    key = _VRM_PREFIX.sub("", name.strip()).replace("_", "").replace(" ", "").lower()
    if key in _VRM0_ALIASES:
        return _VRM0_ALIASES[key]
    return _VRM_CANON.get(key)


def viseme_name(name: str) -> str | None:
    """A shape key name as an Oculus viseme (`viseme_PP`, `V_aa`, `sil`)."""
    key = _VISEME_PREFIX.sub("", name.strip()).replace(" ", "").lower()
    return _VISEME_CANON.get(key)


def source_row(source: str) -> tuple[str, str, np.ndarray] | None:
    """A custom map's right-hand side (`jawOpen`, `vrm:happy`, `viseme:PP`, or any spelling
    the automatic matching accepts) → (scheme, canonical name, row), or None."""
    text = source.strip()
    scheme, _, rest = text.partition(":")
    if rest and scheme.lower() == "vrm":
        name = vrm_name(rest)
        return ("vrm", name, ARKIT_TO_VRM[VRM_EXPRESSIONS.index(name)]) if name else None
    if rest and scheme.lower() in ("viseme", "visemes"):
        name = viseme_name(rest)
        return ("viseme", name, ARKIT_TO_VISEMES[OCULUS_VISEMES.index(name)]) if name else None
    arkit = canonical_name(text)
    if arkit in ARKIT_NAMES:
        return ("arkit", arkit, _ONE_HOT[ARKIT_NAMES.index(arkit)])
    name = vrm_name(text)
    if name:
        return ("vrm", name, ARKIT_TO_VRM[VRM_EXPRESSIONS.index(name)])
    name = viseme_name(text)
    if name:
        return ("viseme", name, ARKIT_TO_VISEMES[OCULUS_VISEMES.index(name)])
    return None


def _detect_secondary(keys: list[str]) -> str:
    """For keys that are not ARKit names: "VISEMES" or "VRM", whichever the rig looks like."""
    viseme_like = 0
    for key in keys:
        stripped = _VISEME_PREFIX.sub("", key.strip())
        if stripped != key.strip() and viseme_name(key):
            viseme_like += 2
        elif stripped.lower() in _VISEME_ONLY:
            viseme_like += 1
    return "VISEMES" if viseme_like >= 3 else "VRM"


def _auto_target(key: str, scheme: str) -> KeyTarget | None:
    if scheme in ("AUTO", "ARKIT"):
        arkit = canonical_name(key)
        if arkit in ARKIT_NAMES:
            return KeyTarget(key, "arkit", arkit, _ONE_HOT[ARKIT_NAMES.index(arkit)])
        if scheme == "ARKIT":
            return None
    if scheme in {"VRM", "AUTO_VRM"}:
        name = vrm_name(key)
        if name:
            return KeyTarget(key, "vrm", name, ARKIT_TO_VRM[VRM_EXPRESSIONS.index(name)])
    if scheme in {"VISEMES", "AUTO_VISEMES"}:
        name = viseme_name(key)
        if name:
            return KeyTarget(key, "viseme", name, ARKIT_TO_VISEMES[OCULUS_VISEMES.index(name)])
    return None


def match_keys(
    key_names: Iterable[str], scheme: str = "AUTO", custom: Mapping[str, str] | None = None
) -> KeyMapping:
    """Map a mesh's shape keys (the basis excluded by the caller) to EmoSync channels.

    Custom entries (shape key → source) win over automatic matches; an empty source excludes
    the key. AUTO matches ARKit spellings first, then VRM or viseme names, whichever the rest
    of the rig looks like.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown mapping scheme {scheme!r}; choose one of {SCHEMES}")
    keys = list(dict.fromkeys(key_names))
    custom = dict(custom or {})
    out = KeyMapping()
    for key in custom:
        if key not in keys:
            out.errors.append(f"custom map: no shape key named '{key}'")
    secondary = None
    if scheme == "AUTO":
        rest = [k for k in keys if canonical_name(k) not in ARKIT_NAMES]
        secondary = "AUTO_" + _detect_secondary(rest)
    for key in keys:
        if key in custom:
            source = custom[key].strip()
            if not source:
                out.unused_keys.append(key)
                continue
            found = source_row(source)
            if found is None:
                out.errors.append(f"custom map: '{source}' (for '{key}') is not a known channel")
                out.unused_keys.append(key)
                continue
            kind, name, row = found
            out.targets.append(KeyTarget(key, kind, name, row, custom=True))
            continue
        target = _auto_target(key, scheme)
        if target is None and secondary:
            target = _auto_target(key, secondary)
        if target is None:
            out.unused_keys.append(key)
        else:
            out.targets.append(target)
    return out

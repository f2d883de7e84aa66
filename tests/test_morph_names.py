"""Shape key matching (ARKit spellings, VRM 1.0, Oculus visemes, custom maps) and the linear
retargets behind VRM and visemes."""

from __future__ import annotations

import numpy as np
import pytest

from emosync.rigs.channels import ARKIT_NAMES, pascal
from emosync.rigs.retarget import (
    OCULUS_VISEMES,
    VISEME_PROTOTYPES,
    VRM_EXPRESSIONS,
    VRM_PROTOTYPES,
    to_visemes,
    to_vrm,
)

pytest.importorskip("bpy")
from addon_loader import load_addon

mapping = __import__(load_addon().__name__ + ".mapping", fromlist=["match_keys"])


@pytest.mark.parametrize(
    "spell",
    [lambda n: n, pascal, lambda n: "ARKit_" + pascal(n), lambda n: n.upper(),
     lambda n: "A01_" + pascal(n)],
)  # fmt: skip
def test_arkit_spellings_all_match(spell):
    result = mapping.match_keys([spell(n) for n in ARKIT_NAMES] + ["Smile_extra"])
    assert [t.source for t in result.targets] == list(ARKIT_NAMES)
    assert result.unmatched_channels == []
    assert result.unused_keys == ["Smile_extra"]


def test_partial_rig_reports_missing_channels():
    result = mapping.match_keys(["jawOpen", "EyeBlinkLeft"])
    assert result.matched_channels == ["eyeBlinkLeft", "jawOpen"]
    assert "tongueOut" in result.unmatched_channels and len(result.unmatched_channels) == 50


def test_arkit_key_value_is_its_channel():
    blend = np.random.default_rng(1).uniform(0, 1, (20, 52)).astype(np.float32)
    result = mapping.match_keys(["mouthSmileLeft", "jawOpen"])
    out = result.weights(blend)
    np.testing.assert_allclose(out[:, 0], blend[:, ARKIT_NAMES.index("mouthSmileLeft")])
    np.testing.assert_allclose(out[:, 1], blend[:, ARKIT_NAMES.index("jawOpen")])


def test_vrm_names_and_vrm0_aliases():
    keys = ["Happy", "vrm_blinkLeft", "A", "Joy2", "Sorrow", "lookLeft"]
    result = mapping.match_keys(keys)
    got = {t.key: (t.scheme, t.source) for t in result.targets}
    assert got == {
        "Happy": ("vrm", "happy"),
        "vrm_blinkLeft": ("vrm", "blinkLeft"),
        "A": ("vrm", "aa"),
        "Sorrow": ("vrm", "sad"),
        "lookLeft": ("vrm", "lookLeft"),
    }
    assert result.unused_keys == ["Joy2"]


def test_oculus_visemes_detected_over_vrm():
    keys = [f"viseme_{v}" for v in OCULUS_VISEMES]
    result = mapping.match_keys(keys)
    assert [t.source for t in result.targets] == list(OCULUS_VISEMES)
    assert {t.scheme for t in result.targets} == {"viseme"}
    # Bare names shared with VRM ("aa", "oh") follow the rest of the rig.
    bare = mapping.match_keys(["PP", "FF", "TH", "kk", "aa", "oh"])
    assert {t.scheme for t in bare.targets} == {"viseme"}
    assert {t.scheme for t in mapping.match_keys(["aa", "oh", "happy"]).targets} == {"vrm"}


def test_custom_map_overrides_and_excludes():
    keys = ["jawOpen", "MouthWide", "Blink_Both", "eyeBlinkLeft"]
    custom = {"MouthWide": "jawOpen", "Blink_Both": "vrm:blink", "eyeBlinkLeft": ""}
    result = mapping.match_keys(keys, custom=custom)
    got = {t.key: (t.scheme, t.source, t.custom) for t in result.targets}
    assert got == {
        "jawOpen": ("arkit", "jawOpen", False),
        "MouthWide": ("arkit", "jawOpen", True),
        "Blink_Both": ("vrm", "blink", True),
    }
    assert result.unused_keys == ["eyeBlinkLeft"]
    bad = mapping.match_keys(["a"], custom={"a": "notAChannel", "missing": "jawOpen"})
    assert len(bad.errors) == 2 and not bad.targets


def test_scheme_restricts_matching():
    assert not mapping.match_keys(["happy", "viseme_PP"], scheme="ARKIT").targets
    assert [t.source for t in mapping.match_keys(["jawOpen", "PP"], "VISEMES").targets] == ["PP"]
    with pytest.raises(ValueError):
        mapping.match_keys(["x"], scheme="FBX")


def test_retargets_rest_is_zero_and_prototypes_win():
    rest = np.zeros((3, 52), dtype=np.float32)
    assert not to_vrm(rest).any() and not to_visemes(rest).any()
    for protos, names, convert, distinct in (
        (VRM_PROTOTYPES, VRM_EXPRESSIONS, to_vrm,
         ["happy", "angry", "sad", "surprised", "aa", "ou", "oh", "lookUp", "lookLeft"]),
        (VISEME_PROTOTYPES, OCULUS_VISEMES, to_visemes, ["PP", "FF", "TH", "aa", "oh", "ou"]),
    ):  # fmt: skip
        out = convert(protos.astype(np.float32))
        assert out.min() >= 0 and out.max() <= 1
        for name in distinct:
            row = out[names.index(name)]
            assert row.argmax() == names.index(name), name
            assert row.max() > 0.8, name

"""Shape key and morph target name matching (ARKit spellings, VRM 1.0, Oculus visemes, custom
maps) and the linear retargets behind VRM and visemes."""

from __future__ import annotations

import numpy as np
import pytest

from emosync.rigs import morph_names as mapping
from emosync.rigs.channels import ARKIT_NAMES, pascal
from emosync.rigs.retarget import (
    OCULUS_VISEMES,
    VISEME_PROTOTYPES,
    VRM_EXPRESSIONS,
    VRM_PROTOTYPES,
    to_visemes,
    to_vrm,
)


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


def test_a_user_mesh_maps_its_targets_as_blender_does(tmp_path):
    """`--mesh` reads VRM and viseme target names through this matcher too: a VRM 0 "Joy" and a
    "vrm_blinkLeft" follow the ARKit curves through the same rows the add-on uses."""
    from pygltflib import GLTF2

    from emosync.exporters.gltf import export_gltf
    from emosync.exporters.gltf_user import mapping_report
    from emosync.inference.facecurves import FaceCurves
    from emosync.rigs.channels import CHANNELS

    rng = np.random.default_rng(0)
    values = rng.random((12, len(CHANNELS))).astype(np.float32) * 0.5
    face = FaceCurves(30.0, values)
    demo = export_gltf(face, tmp_path / "demo.glb")
    gltf = GLTF2().load(str(demo))
    gltf.animations = []
    names = gltf.meshes[0].extras["targetNames"]
    renamed = {0: "Joy", 1: "vrm_blinkLeft", 2: "jawOpen"}
    for j, name in renamed.items():
        names[j] = name
    gltf.save_binary(str(tmp_path / "user.glb"))
    expected = mapping.match_keys(renamed.values())
    by_key = {t.key: t for t in expected.targets}
    mapped = mapping_report(tmp_path / "user.glb")["meshes"][0]["mapped"]
    assert mapped["Joy"] == "vrm:happy" and mapped["vrm_blinkLeft"] == "vrm:blinkLeft"
    assert mapped["jawOpen"] == "jawOpen"

    out = GLTF2().load(str(export_gltf(face, tmp_path / "out.glb", mesh=tmp_path / "user.glb")))
    sampler = out.animations[0].samplers[out.animations[0].channels[0].sampler]
    accessor = out.accessors[sampler.output]
    view = out.bufferViews[accessor.bufferView]
    start = (view.byteOffset or 0) + (accessor.byteOffset or 0)
    written = np.frombuffer(out.binary_blob(), "<f4", accessor.count, start)
    written = written.reshape(face.n_frames, len(names))
    for j, key in ((0, "Joy"), (1, "vrm_blinkLeft")):
        want = np.clip(face.values[:, : len(ARKIT_NAMES)] @ by_key[key].row, 0.0, 1.0)
        np.testing.assert_allclose(written[:, j], want, atol=1e-6)

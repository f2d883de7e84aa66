"""The demo face: its data file, its 52 targets and the geometric facts other code relies on."""

from __future__ import annotations

import numpy as np
import pytest

from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.demo_face import (
    MAX_DARKENING,
    N_LANDMARKS,
    SKINLESS_UV,
    deform,
    load_demo_face,
    vertex_normals,
    weights_from,
    wrinkle_darkening,
)
from emosync.rigs.mouth import SEAL_GAP, lip_gap

MM = 0.001
LIP_LANDMARKS = [0, 13, 14, 17, 37, 39, 40, 61, 78, 81, 82, 84, 87, 91, 267, 269, 270, 291, 308]
LIP_PAIRS = [(13, 14), (82, 87), (312, 317)]


@pytest.fixture(scope="module")
def face():
    return load_demo_face()


@pytest.fixture(scope="module")
def mirror(face):
    """perm[i]: the vertex at i's mirror position across x = 0 (the face is built symmetric).
    Closed lips put two vertices at one place, so match on the open-jaw shape as well."""
    opened = face.vertices + face.targets[ARKIT_NAMES.index("jawOpen")]
    key = np.concatenate([face.vertices, opened], axis=1).astype(np.float64)
    reflected = key * [-1, 1, 1, -1, 1, 1]
    perm = np.array([np.abs(key - r).sum(axis=1).argmin() for r in reflected])
    assert np.abs(key[perm] - reflected).max() < 1e-6
    return perm


def lip_distance(v: np.ndarray) -> float:
    return min(float(np.linalg.norm(v[a] - v[b])) for a, b in LIP_PAIRS)


def shape(face, **values: float) -> np.ndarray:
    return deform(face, weights_from(values))


def test_file_loads_with_52_arkit_targets(face):
    assert face.target_names == ARKIT_NAMES
    n = len(face.vertices)
    assert n > N_LANDMARKS
    assert face.targets.shape == (52, n, 3) and face.targets.dtype == np.float32
    assert face.faces.dtype == np.uint32 and face.faces.max() < n
    assert face.normals.shape == face.colors.shape == (n, 3)
    for a in (face.vertices, face.targets, face.colors, face.normals):
        assert np.isfinite(a).all()
    assert ((face.colors >= 0) & (face.colors <= 1)).all()
    assert [e.name for e in face.eyes] == ["EyeLeft", "EyeRight"]
    assert load_demo_face() is face  # cached


def test_size_and_orientation(face):
    v = face.vertices
    width = v[454, 0] - v[234, 0]
    assert 0.13 < width < 0.17  # metres, +X is the subject's left
    assert v[10, 1] > v[1, 1] > v[152, 1]  # forehead above nose above chin: Y up
    assert v[1, 2] > v[234, 2] + 0.03  # nose toward +Z
    assert vertex_normals(v, face.faces)[1, 2] > 0.7  # outward winding at the nose tip
    left_eye = next(e for e in face.eyes if e.name == "EyeLeft")
    assert left_eye.center[0] > 0


def test_every_target_moves_something(face):
    magnitude = np.linalg.norm(face.targets, axis=2).max(axis=1)
    still = [n for n, m in zip(ARKIT_NAMES, magnitude, strict=True) if m < 1 * MM]
    assert not still


def test_targets_confined_to_their_region(face):
    t = {n: np.linalg.norm(face.targets[i], axis=1) for i, n in enumerate(ARKIT_NAMES)}
    v = face.vertices
    for name in ("browDownLeft", "browDownRight", "browInnerUp", "eyeBlinkLeft", "eyeWideRight"):
        assert t[name][LIP_LANDMARKS].max() < 0.05 * MM, name
    moved = t["eyeBlinkLeft"] > 0.05 * MM
    assert (v[moved, 0] > 0).all()  # only the subject's left
    eye = v[[263, 362, 386, 374]].mean(axis=0)
    assert np.linalg.norm(v[moved] - eye, axis=1).max() < 0.035
    for name in ("mouthSmileLeft", "jawOpen", "mouthPucker", "tongueOut"):
        assert t[name][[159, 145, 386, 374, 105, 334]].max() < 0.05 * MM, name
    assert t["mouthSmileLeft"][61] < 0.05 * MM and t["mouthSmileLeft"][291] > 3 * MM


@pytest.mark.parametrize(
    "left",
    [n for n in ARKIT_NAMES if n.endswith("Left") and n not in ("mouthLeft", "jawLeft")],
)
def test_paired_targets_mirror(face, mirror, left):
    right = left[:-4] + "Right"
    tl = face.targets[ARKIT_NAMES.index(left)]
    tr = face.targets[ARKIT_NAMES.index(right)]
    assert np.abs(tr - tl[mirror] * [-1, 1, 1]).max() < 0.05 * MM


def test_sideways_targets_move_the_right_way(face):
    for name, sign in (("mouthLeft", 1), ("mouthRight", -1), ("jawLeft", 1), ("jawRight", -1)):
        assert sign * face.targets[ARKIT_NAMES.index(name)][14, 0] > 3 * MM, name
    smile = face.targets[ARKIT_NAMES.index("mouthSmileLeft")][291]
    frown = face.targets[ARKIT_NAMES.index("mouthFrownLeft")][291]
    assert smile[1] > 3 * MM and frown[1] < -3 * MM
    assert face.targets[ARKIT_NAMES.index("cheekPuff")][[425, 205], 0] @ [1, -1] > 6 * MM
    assert face.targets[ARKIT_NAMES.index("browInnerUp")][336, 1] > 3 * MM


def test_lips_closed_at_neutral_and_open_with_the_jaw(face):
    assert lip_distance(face.vertices) < 1.0 * MM
    assert lip_distance(shape(face, jawOpen=0.5)) > 8 * MM
    assert lip_distance(shape(face, jawOpen=0.5, mouthClose=0.5)) < 1.5 * MM
    assert lip_distance(shape(face, mouthLowerDownLeft=1, mouthLowerDownRight=1)) > 3 * MM
    assert lip_distance(shape(face, mouthFunnel=1)) > 3 * MM


def test_sealed_curves_show_sealed_lips(face):
    """rigs.mouth's definition of sealed holds on the mesh: gap < SEAL_GAP => lips touch."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        jaw = rng.uniform(0, 0.8)
        w = weights_from({"jawOpen": jaw, "mouthClose": jaw - rng.uniform(0, 0.04)})
        assert lip_gap(w[None])[0] < SEAL_GAP
        assert lip_distance(deform(face, w)) < 2.0 * MM


def test_blink_closes_the_lids_and_wide_opens_them(face):
    lids = {"Left": (386, 374), "Right": (159, 145)}
    for side, (up, lo) in lids.items():
        v0 = face.vertices
        closed = shape(face, **{f"eyeBlink{side}": 1.0})
        assert np.linalg.norm(v0[up] - v0[lo]) > 4 * MM
        assert np.hypot(*(closed[up] - closed[lo])[1:]) < 1 * MM  # lid gap across the eye
        wide = shape(face, **{f"eyeWide{side}": 1.0})
        assert wide[up, 1] - wide[lo, 1] > v0[up, 1] - v0[lo, 1] + 1.5 * MM
    squint = shape(face, eyeSquintLeft=1.0)
    assert squint[374, 1] > face.vertices[374, 1] + 1 * MM


def test_closed_lids_stay_outside_the_eyeball(face):
    for eye, blink in zip(face.eyes, ("eyeBlinkLeft", "eyeBlinkRight"), strict=True):
        radius = np.linalg.norm(eye.vertices, axis=1).max()
        for amount in (0.0, 0.5, 1.0):
            v = shape(face, **{blink: amount})
            near = np.linalg.norm(v[:N_LANDMARKS] - eye.center, axis=1).min()
            assert near > radius, (blink, amount)


def test_tongue_out_passes_the_lips(face):
    i = ARKIT_NAMES.index("tongueOut")
    moved = np.linalg.norm(face.targets[i], axis=1) > 1 * MM
    assert moved.any() and not moved[:N_LANDMARKS].any()
    v = shape(face, tongueOut=1.0, jawOpen=0.6)
    assert v[moved, 2].max() > face.vertices[[13, 14], 2].max() + 5 * MM


def test_jaw_open_moves_chin_down_and_lower_teeth_with_it(face):
    i = ARKIT_NAMES.index("jawOpen")
    d = face.targets[i]
    assert d[152, 1] < -15 * MM  # chin
    assert np.abs(d[[13, 10, 1]]).max() < 0.5 * MM  # upper lip, forehead, nose stay
    below = face.vertices[:, 1] < face.vertices[14, 1] - 5 * MM
    inner = np.arange(len(d)) >= N_LANDMARKS * 4  # parts appended after the subdivided face
    assert (d[below & inner, 1] < 0).mean() > 0.9


def test_neutral_mouth_is_neutral(face):
    """The portrait's smile is out of the rest shape: a neutral width, corners not raised."""
    v = face.vertices
    width = v[291, 0] - v[61, 0]
    assert 0.30 < width / (v[454, 0] - v[234, 0]) < 0.40  # the astronaut's smile was 0.47
    lip_line = v[[13, 14], 1].mean()
    assert v[291, 1] < lip_line + 1 * MM and v[61, 1] < lip_line + 1 * MM  # was 5 mm above


# (target, landmark, axis, least movement as a share of the face height 10-152; signed)
FULL_EXTENT = [
    ("mouthFrownLeft", 291, 1, -0.05),  # AU15: corner down ~9 mm on a 177 mm face
    ("mouthSmileLeft", 291, 1, 0.04),  # AU12: corner up
    ("mouthSmileLeft", 291, 0, 0.03),  # and out
    ("mouthStretchLeft", 291, 0, 0.05),  # AU20: corner out
    ("mouthDimpleLeft", 291, 2, -0.025),  # AU14: corner drawn back
    ("browDownLeft", 336, 1, -0.05),  # AU4: inner brow down
    ("browDownLeft", 336, 0, -0.015),  # and toward the midline
    ("browInnerUp", 336, 1, 0.05),  # AU1: inner brow up
    ("browOuterUpLeft", 300, 1, 0.045),  # AU2
    ("noseSneerLeft", 358, 1, 0.025),  # AU9: nose wing up
    ("cheekSquintLeft", 330, 1, 0.025),  # AU6: cheek up
    ("eyeSquintLeft", 374, 1, 0.02),  # AU7: lower lid up
    ("eyeWideLeft", 386, 1, 0.018),  # AU5: upper lid up
    ("mouthShrugLower", 17, 1, 0.02),  # AU17: chin and lower lip up
]


@pytest.mark.parametrize(("name", "landmark", "axis", "share"), FULL_EXTENT)
def test_targets_reach_their_full_extent(face, name, landmark, axis, share):
    height = face.vertices[10, 1] - face.vertices[152, 1]
    moved = face.targets[ARKIT_NAMES.index(name)][landmark, axis]
    assert np.sign(moved) == np.sign(share) and abs(moved) >= abs(share) * height, (name, moved)


def test_press_thins_the_lips_and_inner_brow_lifts_more_than_the_tail(face):
    press = face.targets[ARKIT_NAMES.index("mouthPressLeft")]
    press = press + face.targets[ARKIT_NAMES.index("mouthPressRight")]
    assert press[0, 1] < -1 * MM and press[17, 1] > 1 * MM  # outer lip edges close in
    up = face.targets[ARKIT_NAMES.index("browInnerUp")]
    assert up[336, 1] - up[300, 1] > 5 * MM  # oblique (sad, fear), not a whole-brow lift


CREASING = ["browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "noseSneerLeft",
            "noseSneerRight", "mouthFrownLeft", "mouthSmileLeft", "cheekSquintLeft",
            "eyeSquintLeft", "mouthShrugLower", "mouthPressLeft", "mouthStretchLeft"]  # fmt: skip


def test_wrinkle_maps_cover_the_creasing_targets(face):
    names = [ARKIT_NAMES[k] for k in face.wrinkle_targets]
    assert set(CREASING) <= set(names) and len(names) == len(set(names))
    maps = face.wrinkle_maps
    assert maps.ndim == 3 and maps.shape[0] == len(names) and maps.shape[1] == maps.shape[2]
    assert ((maps >= 0) & (maps <= 1)).all()
    for name in names:
        assert maps[names.index(name)].max() > 0.5, name  # a crease, not a tint
        if name.endswith("Left"):
            twin = maps[names.index(name[:-4] + "Right")]
            np.testing.assert_array_equal(maps[names.index(name)], twin[:, ::-1])
    skin = (face.uv >= 0).all(axis=1)
    assert skin[:N_LANDMARKS].all() and ((face.uv[skin] >= 0) & (face.uv[skin] <= 1)).all()
    assert (face.uv[~skin] == SKINLESS_UV).all() and (~skin).sum() > 100  # mouth, teeth, sockets


def uv_at(face, landmark: int, dx_mm: float = 0.0, dy_mm: float = 0.0) -> np.ndarray:
    """The wrinkle-map coordinate of a point offset from a landmark on the neutral face."""
    x = face.vertices[landmark, 0] + dx_mm * MM
    y = face.vertices[landmark, 1] + dy_mm * MM
    u0, v0 = face.uv[landmark]
    scale = (face.uv[10, 1] - face.uv[152, 1]) / (face.vertices[152, 1] - face.vertices[10, 1])
    return np.array(
        [
            [
                u0 + (x - face.vertices[landmark, 0]) * scale,
                v0 - (y - face.vertices[landmark, 1]) * scale,
            ]
        ]
    )


@pytest.mark.parametrize(
    ("name", "crease", "smooth"),
    [
        ("browDownLeft", (336, -9.7, 4.0), (336, 25.0, 15.0)),  # glabella, not the mid-forehead
        ("browInnerUp", (9, 0.0, 19.0), (330, 0.0, 0.0)),  # forehead lines, not the cheek
        ("mouthFrownLeft", (291, 5.0, -10.0), (1, 0.0, 0.0)),  # below the corner, not the nose
        ("noseSneerLeft", (168, 6.5, -17.0), (9, 0.0, 19.0)),  # across the nose, not the forehead
        ("mouthShrugLower", (17, 0.0, -13.4), (336, 0.0, 0.0)),  # under the lip, not the brow
    ],
)
def test_wrinkles_sit_where_the_muscle_folds_the_skin(face, name, crease, smooth):
    on = weights_from({name: 1.0})
    fold, flat = uv_at(face, *crease), uv_at(face, *smooth)
    assert wrinkle_darkening(face, on, fold)[0] > 0.4, name
    assert wrinkle_darkening(face, on, flat)[0] < 0.02, name
    assert wrinkle_darkening(face, on * 0, fold)[0] == 0.0
    both = weights_from({name: 1.0, "browDownRight": 1.0, "mouthFrownRight": 1.0})
    assert wrinkle_darkening(face, 3 * both, fold)[0] <= MAX_DARKENING + 1e-6
    assert wrinkle_darkening(face, on, np.array([[SKINLESS_UV, SKINLESS_UV]]))[0] == 0.0

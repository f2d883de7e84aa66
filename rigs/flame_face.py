"""A FLAME mesh shaped like rigs.demo_face.DemoFace, for the glTF exporter and the preview.

`flame_face` gives the user's FLAME mesh with the 52 ARKit targets as FLAME shapes (each the
posed FLAME model at its fitted expression and jaw rotation, minus the rest shape), the eyeballs
as separate meshes about their joints and the neck joint as the head pivot: the exporters'
demo-face scene (Head node, eye nodes, morph weights) then animates it unchanged.
`posed_face` is one frame of FLAME parameters, posed exactly (skinning and correctives), as a
face without targets for exporters/preview.py.
"""

from __future__ import annotations

import numpy as np

from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.demo_face import DemoFace, EyeMesh, vertex_normals
from emosync.rigs.flame_fit import FlameFit
from emosync.rigs.flame_model import JAW, N_JOINTS, NECK, FlameModel, flame_vertices

SKIN = np.array([0.62, 0.40, 0.32])  # linear RGB
SCLERA = np.array([0.80, 0.76, 0.72])
IRIS = np.array([0.17, 0.085, 0.035])
PUPIL = np.array([0.01, 0.01, 0.01])
IRIS_COS, PUPIL_COS = np.cos(np.radians(24.0)), np.cos(np.radians(10.0))


def _submesh(faces: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertex indices of `keep` and the faces whose corners all lie in it, renumbered."""
    index = np.full(len(keep), -1, dtype=np.int64)
    ids = np.flatnonzero(keep)
    index[ids] = np.arange(len(ids))
    inside = keep[faces].all(axis=1)
    return ids, index[faces[inside]].astype(np.uint32)


def eye_vertex_sets(model: FlameModel) -> list[np.ndarray]:
    """Boolean masks of the (left, right) eyeball vertices: mostly skinned to an eye joint."""
    owner = model.weights.argmax(axis=1)
    return [owner == j for j in model.eye_joints()]


def vertex_colors(model: FlameModel) -> np.ndarray:
    """Skin, and eyeballs with an iris and pupil where they face forward (+Z) at rest."""
    colors = np.tile(SKIN, (model.n_vertices, 1))
    joints = model.joints()
    for mask, joint in zip(eye_vertex_sets(model), model.eye_joints(), strict=True):
        d = model.v_template[mask] - joints[joint]
        front = d[:, 2] / np.maximum(np.linalg.norm(d, axis=1), 1e-12)
        eye = np.where((front > IRIS_COS)[:, None], IRIS, SCLERA)
        colors[mask] = np.where((front > PUPIL_COS)[:, None], PUPIL, eye)
    return colors.astype(np.float32)


def _eye_meshes(model: FlameModel, vertices: np.ndarray) -> list[EyeMesh]:
    joints = model.joints()
    colors = vertex_colors(model)
    eyes = []
    for name, mask, joint in zip(
        ("EyeLeft", "EyeRight"), eye_vertex_sets(model), model.eye_joints(), strict=True
    ):
        ids, faces = _submesh(model.faces, mask)
        centre = joints[joint]
        v = vertices[ids] - centre
        eyes.append(
            EyeMesh(
                name=name,
                vertices=v.astype(np.float32),
                faces=faces,
                normals=vertex_normals(v, faces) if len(faces) else np.zeros_like(v, np.float32),
                colors=colors[ids],
                center=centre.astype(np.float32),
            )
        )
    return eyes


def flame_face(model: FlameModel, fit: FlameFit) -> DemoFace:
    """The FLAME mesh with ARKit morph targets from `fit` (see the module docstring)."""
    left, right = eye_vertex_sets(model)
    ids, faces = _submesh(model.faces, ~(left | right))
    rest = model.v_template
    targets = np.zeros((len(ARKIT_NAMES), len(ids), 3), dtype=np.float32)
    for k in range(len(ARKIT_NAMES)):
        if not (fit.expression[k].any() or fit.jaw[k].any()):
            continue
        pose = np.zeros((N_JOINTS, 3))
        pose[JAW] = fit.jaw[k]
        moved = flame_vertices(model, fit.expression[k], pose, vertices=ids)
        targets[k] = moved - rest[ids]
    joints = model.joints()
    vertices = rest[ids].astype(np.float32)
    return DemoFace(
        vertices=vertices,
        faces=faces,
        normals=vertex_normals(vertices, faces),
        colors=np.tile(SKIN, (len(ids), 1)).astype(np.float32),
        target_names=ARKIT_NAMES,
        targets=targets,
        eyes=_eye_meshes(model, rest),
        head_pivot=joints[NECK].astype(np.float32),
        jaw_pivot=joints[JAW].astype(np.float32),
    )


def posed_face(model: FlameModel, expression: np.ndarray, pose: np.ndarray) -> DemoFace:
    """One frame of FLAME parameters as a target-less face (eyeballs included in the mesh)."""
    v = flame_vertices(model, expression, pose).astype(np.float32)
    faces = model.faces.astype(np.uint32)
    joints = model.joints()
    empty = EyeMesh(
        "none",
        np.zeros((0, 3), np.float32),
        np.zeros((0, 3), np.uint32),
        np.zeros((0, 3), np.float32),
        np.zeros((0, 3), np.float32),
        np.zeros(3, np.float32),
    )
    return DemoFace(
        vertices=v,
        faces=faces,
        normals=vertex_normals(v, faces),
        colors=vertex_colors(model),
        target_names=(),
        targets=np.zeros((0, len(v), 3), np.float32),
        eyes=[empty, empty],
        head_pivot=joints[NECK].astype(np.float32),
        jaw_pivot=joints[JAW].astype(np.float32),
    )

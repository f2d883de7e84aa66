"""A user's FLAME model: loaded safely, checked, converted once to NPZ, and posed (numpy only).

    model = load_flame_model("flame2023_Open.pkl")   # or the .npz it was converted to
    vertices = flame_vertices(model, expression, pose)

The pickle goes through rigs.flame_pickle's allow-list unpickler. Its arrays are checked (keys,
shapes, dtypes, finite values) and written to `<name>.<sha256[:16]>.emosync-flame.npz` beside
the file, or in the cache folder when that one is not writable; later runs read that NPZ with
`allow_pickle=False`. FLAME's `shapedirs` holds 300 identity components, then the expression
components (50 or 100): only the expression ones and the mean shape are kept — expression
parameters do not depend on identity. Joints: root, neck, jaw, two eyes; pose is axis-angle.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosync.checksum import file_sha256
from emosync.errors import InputError
from emosync.rigs.flame_pickle import RefusedPickle, load_flame_pickle

N_IDENTITY = 300  # FLAME's shapedirs: 300 identity components, then the expression ones
MAX_EXPRESSIONS = 100
N_JOINTS = 5  # root (global), neck, jaw, left eye, right eye — in the file's order
NECK, JAW = 1, 2
CONVERTED_SUFFIX = ".emosync-flame.npz"
_KEYS = ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table")


@dataclass(frozen=True)
class FlameModel:
    """The parts of a FLAME model that expression and pose need (float64, metres)."""

    v_template: np.ndarray  # [V, 3]
    faces: np.ndarray  # int64 [F, 3]
    expr_dirs: np.ndarray  # [V, 3, n_exp]
    posedirs: np.ndarray  # [V, 3, 9 * (J - 1)]
    j_regressor: np.ndarray  # [J, V]
    weights: np.ndarray  # [V, J]
    parents: np.ndarray  # int64 [J], -1 for the root
    sha256: str  # of the user's original file
    source: str  # its file name

    @property
    def n_vertices(self) -> int:
        return int(self.v_template.shape[0])

    @property
    def n_expressions(self) -> int:
        return int(self.expr_dirs.shape[2])

    def joints(self) -> np.ndarray:
        """Rest joint positions [J, 3]."""
        return self.j_regressor @ self.v_template

    def eye_joints(self) -> tuple[int, int]:
        """(subject's left, subject's right) eye joint indices: +X is the subject's left."""
        j = self.joints()
        a, b = 3, 4
        return (a, b) if j[a, 0] >= j[b, 0] else (b, a)

    def with_expressions(self, n: int | None) -> FlameModel:
        """The same model using the first `n` expression components (None: all)."""
        if n is None or n == self.n_expressions:
            return self
        if not 1 <= n <= self.n_expressions:
            raise InputError(
                f"--flame-expressions must be between 1 and {self.n_expressions} "
                f"(what {self.source} has), got {n}"
            )
        return FlameModel(**{**self.__dict__, "expr_dirs": self.expr_dirs[:, :, :n].copy()})


def cache_folder() -> Path:
    """$EMOSYNC_CACHE, else $XDG_CACHE_HOME/emosync, else ~/.cache/emosync."""
    if os.environ.get("EMOSYNC_CACHE"):
        return Path(os.environ["EMOSYNC_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "emosync"


def cache_path(source: Path, sha256: str, suffix: str) -> Path:
    """Where a file derived from `source` lives: beside it when that folder is writable."""
    name = f"{source.stem}.{sha256[:16]}{suffix}"
    if os.access(source.parent, os.W_OK):
        return source.parent / name
    return cache_folder() / "flame" / name


def save_npz_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a cache NPZ in one rename; a cache that cannot be written is only skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except OSError:
        return


def _check(arrays: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    """The FLAME arrays checked for presence, numeric dtype, shape and finiteness."""
    missing = [k for k in _KEYS if k not in arrays]
    if missing:
        raise InputError(f"{name} is not a FLAME model: it has no {', '.join(missing)}")
    out: dict[str, np.ndarray] = {}
    for key in _KEYS:
        value = arrays[key]
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf":
            raise InputError(f"{name}: '{key}' is not a numeric array")
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise InputError(f"{name}: '{key}' holds NaN or infinite values")
        out[key] = value
    v = out["v_template"]
    if v.ndim != 2 or v.shape[1] != 3 or v.shape[0] < 4:
        raise InputError(f"{name}: v_template must be [vertices × 3], got {v.shape}")
    n_v = v.shape[0]
    f = out["f"]
    if f.ndim != 2 or f.shape[1] != 3 or f.dtype.kind not in "iu" or f.min() < 0 or f.max() >= n_v:
        raise InputError(f"{name}: f must be [faces × 3] vertex indices below {n_v}")
    sd = out["shapedirs"]
    if sd.ndim != 3 or sd.shape[:2] != (n_v, 3) or sd.shape[2] <= N_IDENTITY:
        raise InputError(
            f"{name}: shapedirs must be [{n_v} × 3 × {N_IDENTITY} identity + expression "
            f"components], got {sd.shape}"
        )
    kt = out["kintree_table"]
    if kt.ndim != 2 or kt.shape != (2, N_JOINTS):
        raise InputError(f"{name}: kintree_table must be [2 × {N_JOINTS}], got {kt.shape}")
    jr = out["J_regressor"]
    if jr.shape != (N_JOINTS, n_v):
        raise InputError(f"{name}: J_regressor must be [{N_JOINTS} × {n_v}], got {jr.shape}")
    w = out["weights"]
    if w.shape != (n_v, N_JOINTS):
        raise InputError(f"{name}: weights must be [{n_v} × {N_JOINTS}], got {w.shape}")
    pd = out["posedirs"]
    if pd.shape != (n_v, 3, 9 * (N_JOINTS - 1)):
        raise InputError(f"{name}: posedirs must be [{n_v} × 3 × 36], got {pd.shape}")
    return out


def _parents(kintree: np.ndarray, name: str) -> np.ndarray:
    """Parent index per joint from kintree_table (row 0: parent ids, row 1: joint ids)."""
    ids = [int(i) for i in kintree[1]]
    if sorted(ids) != list(range(N_JOINTS)):
        raise InputError(f"{name}: kintree_table does not list joints 0..{N_JOINTS - 1}")
    by_id = {j: int(p) for p, j in zip(kintree[0], kintree[1], strict=True)}
    parents = np.array([by_id[j] for j in range(N_JOINTS)], dtype=np.int64)
    parents[0] = -1
    if any(not 0 <= parents[j] < j for j in range(1, N_JOINTS)):
        raise InputError(f"{name}: kintree_table is not a tree rooted at joint 0")
    return parents


def _converted(arrays: dict[str, np.ndarray], sha256: str, source: str) -> dict[str, np.ndarray]:
    """The arrays EmoSync keeps, in the converted NPZ's layout."""
    sd = arrays["shapedirs"]
    n_exp = min(sd.shape[2] - N_IDENTITY, MAX_EXPRESSIONS)
    return {
        "v_template": arrays["v_template"].astype(np.float64),
        "faces": arrays["f"].astype(np.int64),
        "expr_dirs": sd[:, :, N_IDENTITY : N_IDENTITY + n_exp].astype(np.float64),
        "posedirs": arrays["posedirs"].astype(np.float64),
        "j_regressor": arrays["J_regressor"].astype(np.float64),
        "weights": arrays["weights"].astype(np.float64),
        "parents": _parents(arrays["kintree_table"], source),
        "sha256": np.array(sha256),
        "source": np.array(source),
    }


def _from_npz(path: Path) -> FlameModel:
    try:
        with np.load(path, allow_pickle=False) as data:
            a = {k: data[k] for k in data.files}
        model = FlameModel(
            v_template=a["v_template"],
            faces=a["faces"],
            expr_dirs=a["expr_dirs"],
            posedirs=a["posedirs"],
            j_regressor=a["j_regressor"],
            weights=a["weights"],
            parents=a["parents"],
            sha256=str(a["sha256"]),
            source=str(a["source"]),
        )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path.name} is not a converted FLAME model ({reason})") from None
    n_v = model.v_template.shape[0]
    if (
        model.v_template.shape != (n_v, 3)
        or model.expr_dirs.shape[:2] != (n_v, 3)
        or model.weights.shape != (n_v, N_JOINTS)
        or model.j_regressor.shape != (N_JOINTS, n_v)
    ):
        raise InputError(f"{path.name}: the converted FLAME arrays do not fit together")
    return model


def load_flame_model(path: str | Path, n_expressions: int | None = None) -> FlameModel:
    """The user's FLAME model (.pkl as distributed, or the .npz EmoSync converted it to).

    A pickle that names anything outside the allow-list is refused with an InputError (the
    CLI's one line and exit 2) and nothing in it runs."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"FLAME model {path} not found")
    if path.suffix.lower() == ".npz":
        return _from_npz(path).with_expressions(n_expressions)
    sha = file_sha256(path)
    converted = cache_path(path, sha, CONVERTED_SUFFIX)
    if converted.is_file():
        model = _from_npz(converted)
        if model.sha256 == sha:
            return model.with_expressions(n_expressions)
    try:
        raw = load_flame_pickle(path)
    except RefusedPickle as exc:
        if str(exc).startswith("chumpy"):
            raise InputError(
                f"{path.name}: refused: it holds a chumpy object ({exc}) that EmoSync's safe "
                "loader does not know (only chumpy.ch.Ch); nothing in it was run"
            ) from None
        raise InputError(
            f"{path.name}: refused: the pickle asks to run {exc}, which no FLAME model "
            "contains; nothing in it was run"
        ) from None
    except Exception as exc:  # whatever an untrusted pickle makes fail is bad input
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path.name} is not a readable FLAME pickle ({reason})") from None
    arrays = _converted(_check(raw, path.name), sha, path.name)
    save_npz_atomic(converted, arrays)
    return FlameModel(
        **{k: arrays[k] for k in ("v_template", "faces", "expr_dirs", "posedirs")},
        j_regressor=arrays["j_regressor"],
        weights=arrays["weights"],
        parents=arrays["parents"],
        sha256=sha,
        source=path.name,
    ).with_expressions(n_expressions)


# --------------------------------------------------------------------------- posing


def rodrigues(axis_angle: np.ndarray) -> np.ndarray:
    """Rotation matrices [..., 3, 3] from axis-angle vectors [..., 3]."""
    r = np.asarray(axis_angle, dtype=np.float64)
    angle = np.linalg.norm(r, axis=-1, keepdims=True)
    axis = r / np.maximum(angle, 1e-12)
    x, y, z = np.moveaxis(axis, -1, 0)
    zero = np.zeros_like(x)
    k = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape(*r.shape[:-1], 3, 3)
    s, c = np.sin(angle)[..., None], np.cos(angle)[..., None]
    eye = np.broadcast_to(np.eye(3), k.shape)
    return eye + s * k + (1.0 - c) * (k @ k)


def axis_angle(matrix: np.ndarray) -> np.ndarray:
    """Axis-angle vectors [..., 3] of rotation matrices [..., 3, 3] (angles below pi)."""
    m = np.asarray(matrix, dtype=np.float64)
    cos = np.clip((np.trace(m, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    v = np.stack(
        [m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1
    )
    sin = np.sin(angle)
    scale = np.where(sin > 1e-8, angle / (2.0 * np.maximum(sin, 1e-12)), 0.5)
    return v * scale[..., None]


def flame_vertices(
    model: FlameModel,
    expression: np.ndarray | None = None,
    pose: np.ndarray | None = None,
    vertices: np.ndarray | None = None,
) -> np.ndarray:
    """Posed FLAME vertices [V, 3] (or only those in `vertices`) for expression [n_exp] and
    pose [J, 3] axis-angle per joint (root, neck, jaw, eyes): blend shapes, pose correctives,
    then linear blend skinning about the rest joints."""
    idx = slice(None) if vertices is None else np.asarray(vertices)
    v = model.v_template[idx].copy()
    if expression is not None:
        e = np.asarray(expression, dtype=np.float64)
        v += model.expr_dirs[idx, :, : e.shape[0]] @ e
    if pose is None:
        return v
    p = np.asarray(pose, dtype=np.float64).reshape(N_JOINTS, 3)
    rot = rodrigues(p)
    feature = (rot[1:] - np.eye(3)).reshape(-1)
    v += model.posedirs[idx] @ feature
    joints = model.joints()
    if expression is not None:  # joints follow the shaped mesh, as in FLAME
        joints = joints + np.einsum(
            "jv,vcn,n->jc", model.j_regressor, model.expr_dirs[:, :, : e.shape[0]], e
        )
    world_r = np.empty_like(rot)
    world_t = np.empty((N_JOINTS, 3))
    for j in range(N_JOINTS):
        parent = model.parents[j]
        if parent < 0:
            world_r[j], world_t[j] = rot[j], joints[j]
        else:
            world_r[j] = world_r[parent] @ rot[j]
            world_t[j] = world_r[parent] @ (joints[j] - joints[parent]) + world_t[parent]
    # skinning transform of joint j: x ↦ R_j (x − J_j) + t_j
    moved = np.einsum("jab,vb->vja", world_r, v) + (
        world_t - np.einsum("jab,jb->ja", world_r, joints)
    )
    return np.einsum("vj,vja->va", model.weights[idx], moved)

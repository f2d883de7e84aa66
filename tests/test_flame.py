"""FLAME output: the safe loader, the ARKit→FLAME fit, the NPZ/GLB writers and the CLI, on
synthetic FLAME-structured files (training/flame_synthetic.py) — the real model is licensed."""

from __future__ import annotations

import json
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from emosync.cli.main import main
from emosync.errors import InputError
from emosync.exporters.curves_file import write_curves
from emosync.exporters.flame import euler_axis_angle, load_flame_rig, to_flame
from emosync.inference.facecurves import FaceCurves
from emosync.rigs.channels import ARKIT_NAMES, CHANNELS
from emosync.rigs.demo_face import N_LANDMARKS
from emosync.rigs.flame_fit import cached_fit, fit_cache_file, fit_flame
from emosync.rigs.flame_landmarks import load_landmarks, nearest_landmarks
from emosync.rigs.flame_model import (
    JAW,
    NECK,
    axis_angle,
    flame_vertices,
    load_flame_model,
    rodrigues,
)
from emosync.rigs.flame_pickle import load_flame_pickle
from emosync.training.flame_synthetic import (
    EXPRESSION_SOURCES,
    OPPOSITES,
    build_synthetic_flame,
    write_embedding,
    write_flame_pickle,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gltf_validate import node_available, validate


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory):
    """The FLAME-like model as a chumpy-style pickle, with a 105-point and a 468-point
    landmark embedding."""
    folder = tmp_path_factory.mktemp("flame")
    full = build_synthetic_flame(n_embedded=N_LANDMARKS)
    small = build_synthetic_flame(n_embedded=105)
    model = write_flame_pickle(folder / "flame_like.pkl", full.arrays)
    return {
        "folder": folder,
        "flame": full,
        "model": model,
        "all": write_embedding(folder / "embedding_all.npz", full.embedding),
        "105": write_embedding(folder / "embedding_105.npz", small.embedding),
    }


def _curves(n: int = 30, **values: float) -> FaceCurves:
    v = np.zeros((n, len(CHANNELS)), np.float32)
    for name, value in values.items():
        v[:, CHANNELS.index(name)] = value
    return FaceCurves(30.0, v, metadata={"name": "test"})


# --------------------------------------------------------------------------- safe loading


def test_allow_list_unpickler_reads_chumpy_and_sparse(synthetic) -> None:
    raw = synthetic["model"].read_bytes()
    assert b"chumpy.ch\nCh\n" in raw and b"scipy.sparse" in raw  # what FLAME files name
    with pytest.raises(ModuleNotFoundError):  # an ordinary load would import chumpy
        pickle.loads(raw, encoding="latin1")
    data = load_flame_pickle(synthetic["model"])
    arrays = synthetic["flame"].arrays
    for key in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "f"):
        assert isinstance(data[key], np.ndarray)
        np.testing.assert_array_equal(data[key], arrays[key])


def test_a_pickle_that_runs_code_is_refused_and_nothing_runs(tmp_path, capsys) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "flame_evil.pkl"
    evil.write_bytes(pickle.dumps({"v_template": Payload(), "f": np.zeros((2, 3))}, protocol=2))
    # the payload is real: an ordinary unpickler runs it
    pickle.loads(evil.read_bytes())
    assert marker.exists()
    marker.unlink()

    curves = write_curves(_curves(), tmp_path / "c.json")
    out = tmp_path / "out.npz"
    code = main(
        ["convert", str(curves), "--rig", "flame", "--flame-model", str(evil), "-o", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("emosync: error: flame_evil.pkl: refused")
    assert "posix.system" in err or "os.system" in err
    assert not marker.exists()
    assert not out.exists() and not list(tmp_path.glob("*.emosync-flame.npz"))


def test_model_checks_keys_shapes_and_dtypes(synthetic, tmp_path) -> None:
    arrays = synthetic["flame"].arrays
    bad = dict(arrays)
    del bad["posedirs"]
    with pytest.raises(InputError, match="no posedirs"):
        load_flame_model(write_flame_pickle(tmp_path / "a.pkl", bad))
    bad = {**arrays, "weights": arrays["weights"][:, :4]}
    with pytest.raises(InputError, match="weights must be"):
        load_flame_model(write_flame_pickle(tmp_path / "b.pkl", bad))
    bad = {**arrays, "v_template": np.array(["a"] * 6).reshape(2, 3)}
    with pytest.raises(InputError, match="not a numeric array"):
        load_flame_model(write_flame_pickle(tmp_path / "c.pkl", bad))
    good = synthetic["model"].read_bytes()
    odd = {
        "d.pkl": b"not a pickle",
        "e.pkl": good[: len(good) // 2],  # truncated
        "f.pkl": pickle.dumps([1, 2], protocol=2),  # not a dict
        "g.pkl": b"\x80\x02c__builtin__\nobject\n)R}X\x01\x00\x00\x00aK\x01sb.",  # BUILD fails
    }
    for name, data in odd.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError, match="not a readable FLAME pickle"):
            load_flame_model(tmp_path / name)


def test_converted_once_to_an_npz_without_pickles(synthetic) -> None:
    model = load_flame_model(synthetic["model"])
    (converted,) = synthetic["folder"].glob("flame_like.*.emosync-flame.npz")
    assert model.sha256[:16] in converted.name
    with np.load(converted, allow_pickle=False) as data:
        assert data["expr_dirs"].shape == (model.n_vertices, 3, 50)
    again = load_flame_model(converted)
    np.testing.assert_array_equal(again.expr_dirs, model.expr_dirs)
    assert again.sha256 == model.sha256
    assert load_flame_model(synthetic["model"], 20).n_expressions == 20
    with pytest.raises(InputError, match="between 1 and 50"):
        load_flame_model(synthetic["model"], 51)


# --------------------------------------------------------------------------- posing


def test_rotations_round_trip_and_jaw_opens_downward(synthetic) -> None:
    r = np.array([[0.3, -0.2, 0.1], [0.0, 0.0, 0.0], [1.0, 0.5, -0.7]])
    np.testing.assert_allclose(axis_angle(rodrigues(r)), r, atol=1e-9)
    model = load_flame_model(synthetic["model"])
    pose = np.zeros((5, 3))
    pose[JAW, 0] = 0.2
    chin = 152  # mediapipe's chin landmark is demo (and FLAME-like) vertex 152
    moved = flame_vertices(model, None, pose) - model.v_template
    assert moved[chin, 1] < -0.005  # positive jaw pitch opens the mouth
    pose = np.zeros((5, 3))
    pose[NECK] = [0.0, 0.3, 0.0]
    head = flame_vertices(model, None, pose)
    joints = model.joints()
    fixed = model.weights[:, NECK] > 0.999
    expected = (model.v_template[fixed] - joints[NECK]) @ rodrigues(pose[NECK]).T + joints[NECK]
    corrective = model.posedirs[fixed] @ (rodrigues(pose)[1:] - np.eye(3)).reshape(-1)
    np.testing.assert_allclose(
        head[fixed], expected + corrective @ rodrigues(pose[NECK]).T, atol=1e-9
    )


# --------------------------------------------------------------------------- the fit


def test_fit_recovers_the_known_expression_combinations(synthetic) -> None:
    model = load_flame_model(synthetic["model"])
    fit = fit_flame(model, load_landmarks(synthetic["all"], model))
    truth = np.linalg.inv(synthetic["flame"].mixing)  # column i: the coefficients of source i
    n = len(EXPRESSION_SOURCES)
    checked = 0
    for name in ARKIT_NAMES:
        k = ARKIT_NAMES.index(name)
        if name in EXPRESSION_SOURCES and name != "jawRight":
            expected = truth[:, EXPRESSION_SOURCES.index(name)]
        elif name in OPPOSITES and OPPOSITES[name] != "jawRight":
            expected = -truth[:, EXPRESSION_SOURCES.index(OPPOSITES[name])]
        else:
            continue
        np.testing.assert_allclose(fit.expression[k, :n], expected, atol=0.01, err_msg=name)
        assert np.abs(fit.expression[k, n:]).max() < 0.01, name
        assert not fit.jaw[k].any(), name
        assert fit.rms_mm[k] < 0.02, name
        checked += 1
    assert checked == 46


def test_jaw_open_is_a_jaw_rotation(synthetic) -> None:
    model = load_flame_model(synthetic["model"])
    fit = fit_flame(model, load_landmarks(synthetic["105"], model))
    k = ARKIT_NAMES.index("jawOpen")
    assert 0.15 < fit.jaw[k, 0] < 0.6 and np.abs(fit.jaw[k, 1:]).max() < 0.05
    assert fit.rms_mm[k] < 0.1 * fit.target_mm[k]
    left, right = ARKIT_NAMES.index("jawLeft"), ARKIT_NAMES.index("jawRight")
    assert fit.jaw[left, 1] > 0.01 and fit.jaw[right, 1] < -0.01  # yaw toward the side
    assert fit.landmarks == "embedding_105.npz" and fit.n_landmarks == 105


def test_without_an_embedding_the_landmarks_are_found_by_alignment(synthetic) -> None:
    from emosync.rigs.demo_face import load_demo_face

    model = load_flame_model(synthetic["model"])
    found = nearest_landmarks(model, load_demo_face().vertices[:N_LANDMARKS])
    vertex = model.faces[found.face_idx, found.bary.argmax(axis=1)]
    # the mesh is the demo face, moved: most landmarks land on their own vertex, the rest
    # (outline points on surfaces that face sideways) on a neighbour
    assert np.mean(vertex == found.mediapipe) > 0.85
    miss = np.linalg.norm(model.v_template[vertex] - model.v_template[found.mediapipe], axis=1)
    assert np.quantile(miss, 0.95) < 0.004
    fit = fit_flame(model, None)
    assert fit.landmarks.startswith("nearest")
    moving = fit.target_mm > 0.5
    # coarser than an embedding (closed lips: some lower-lip points take upper-lip vertices)
    assert (fit.rms_mm[moving] < 0.5 * fit.target_mm[moving]).all()


def test_fit_is_cached_by_checksum(synthetic) -> None:
    model = load_flame_model(synthetic["model"])
    landmarks = load_landmarks(synthetic["105"], model)
    path = fit_cache_file(model, synthetic["model"], landmarks)
    path.unlink(missing_ok=True)
    first = cached_fit(model, synthetic["model"], landmarks)
    assert path.is_file() and model.sha256[:16] in path.name
    stamp = path.stat().st_mtime_ns
    second = cached_fit(model, synthetic["model"], landmarks)
    assert path.stat().st_mtime_ns == stamp  # read, not refitted
    np.testing.assert_array_equal(first.expression, second.expression)
    with np.load(path, allow_pickle=False) as data:
        assert str(data["model_sha256"]) == model.sha256


# --------------------------------------------------------------------------- output


def test_to_flame_maps_weights_head_and_eyes(synthetic) -> None:
    rig = load_flame_rig(synthetic["model"], synthetic["105"])
    curves = _curves(jawOpen=0.5, mouthSmileLeft=0.8, headYaw=0.2, headPitch=-0.1, leftEyeYaw=0.15)
    anim = to_flame(curves, rig)
    k, s = ARKIT_NAMES.index("jawOpen"), ARKIT_NAMES.index("mouthSmileLeft")
    np.testing.assert_allclose(anim.jaw_pose[0], 0.5 * rig.fit.jaw[k], atol=1e-6)
    expected = 0.5 * rig.fit.expression[k] + 0.8 * rig.fit.expression[s]
    np.testing.assert_allclose(anim.expression[0], expected, atol=1e-5)
    neck = rodrigues(anim.neck_pose[0])
    nose = neck @ np.array([0.0, 0.0, 1.0])
    assert nose[0] > 0.15 and nose[1] > 0.05  # turned to the subject's left, tipped up
    left = 0 if anim.eye_pose_joints[0] == "left" else 3
    np.testing.assert_allclose(anim.eye_pose[0, left : left + 3], [0.0, 0.15, 0.0], atol=1e-6)
    assert not anim.eye_pose[0, 3 - left : 6 - left].any()
    np.testing.assert_allclose(euler_axis_angle([0.3], [0.0], [0.0]), [[0.0, 0.3, 0.0]])


def test_convert_writes_flame_npz_and_a_valid_glb(synthetic, tmp_path, capsys) -> None:
    curves = _curves(jawOpen=0.6, browInnerUp=0.4, headRoll=0.1)
    src = write_curves(curves, tmp_path / "curves.json")
    npz, glb = tmp_path / "flame.npz", tmp_path / "flame.glb"
    args = ["convert", str(src), "--rig", "flame", "--flame-model", str(synthetic["model"])]
    args += ["--flame-landmarks", str(synthetic["105"]), "--flame-expressions", "30"]
    assert main([*args, "-o", str(npz), "-o", str(glb)]) == 0
    with np.load(npz, allow_pickle=False) as data:
        assert data["expression"].shape == (30, 30)
        assert data["jaw_pose"].shape == data["neck_pose"].shape == (30, 3)
        assert data["eye_pose"].shape == (30, 6)
        assert float(data["fps"]) == 30.0
        provenance = json.loads(str(data["provenance"]))
    assert provenance["rig"] == "flame" and provenance["flame_expressions"] == 30
    assert provenance["flame_sha256"] == load_flame_model(synthetic["model"]).sha256
    assert main([*args, "-o", str(npz)]) == 2  # exists, no --force
    assert "exists" in capsys.readouterr().err
    if node_available():
        report = validate(glb)
        assert report["issues"]["numErrors"] == 0, report["issues"]["messages"]


def test_flame_options_are_checked_before_any_work(synthetic, tmp_path, capsys) -> None:
    src = write_curves(_curves(), tmp_path / "c.npz")
    model = str(synthetic["model"])
    cases = [
        (["--rig", "flame", "-o", str(tmp_path / "a.npz")], "needs --flame-model"),
        (["--rig", "flame", "--flame-model", model, "-o", str(tmp_path / "a.csv")], "writes"),
        (["--flame-model", model, "-o", str(tmp_path / "a.json")], "need --rig flame"),
        (
            [
                "--rig",
                "flame",
                "--flame-model",
                str(tmp_path / "no.pkl"),
                "-o",
                str(tmp_path / "a.npz"),
            ],
            "found",
        ),
    ]
    for extra, message in cases:
        assert main(["convert", str(src), *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert not list(tmp_path.glob("a.*"))


def test_glb_targets_are_the_posed_flame_model(synthetic) -> None:
    from emosync.rigs.flame_face import eye_vertex_sets, flame_face, posed_face

    rig = load_flame_rig(synthetic["model"], synthetic["105"])
    face = flame_face(rig.model, rig.fit)
    k = ARKIT_NAMES.index("jawOpen")
    pose = np.zeros((5, 3))
    pose[JAW] = rig.fit.jaw[k]
    exact = posed_face(rig.model, rig.fit.expression[k], pose).vertices
    left, right = eye_vertex_sets(rig.model)  # the face mesh leaves the eyeballs out
    ids = np.flatnonzero(~(left | right))
    np.testing.assert_allclose(face.vertices, rig.model.v_template[ids], atol=1e-6)
    np.testing.assert_allclose(face.vertices + face.targets[k], exact[ids], atol=1e-5)
    assert len(face.eyes) == 2 and all(len(e.vertices) for e in face.eyes)


def test_animate_writes_flame_parameters(synthetic, tmp_path) -> None:
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "hello_flame.npz"
    code = main(
        [
            "animate",
            str(root / "examples" / "hello.wav"),
            "--transcript",
            str(root / "examples" / "hello.txt"),
            "--fps",
            "25",
            "--rig",
            "flame",
            "--flame-model",
            str(synthetic["model"]),
            "-o",
            str(out),
            "-q",
        ]
    )
    assert code == 0
    with np.load(out, allow_pickle=False) as data:
        n = data["expression"].shape[0]
        assert abs(n / 25.0 - 10.07) < 0.1 and data["expression"].shape[1] == 50
        assert data["jaw_pose"][:, 0].max() > 0.05  # speech opens the jaw
        assert json.loads(str(data["provenance"]))["engine"] == "phonetic"


def test_live_records_flame_parameters(synthetic, tmp_path, capsys) -> None:
    root = Path(__file__).resolve().parents[1]
    out, curves_out = tmp_path / "live_flame.npz", tmp_path / "live.json"
    flame = ["--record-rig", "flame", "--flame-model", str(synthetic["model"])]
    clip = str(root / "examples" / "hello.wav")
    # An ARKit-only recording cannot be FLAME: refused before the stream starts, nothing written.
    assert main(["live", "--input", clip, *flame, "-o", str(curves_out), "-q"]) == 2
    assert "--record-rig flame writes" in capsys.readouterr().err and not curves_out.exists()
    assert main(["live", "--input", clip, *flame, "-o", str(out), "-q"]) == 0
    with np.load(out, allow_pickle=False) as data:
        assert abs(data["expression"].shape[0] / 50.0 - 10.07) < 0.2
        assert float(data["fps"]) == 50.0
        assert data["jaw_pose"][:, 0].max() > 0.05  # speech opens the jaw
        assert json.loads(str(data["provenance"]))["live"] is True


def test_batch_writes_flame_rows_and_resumes(synthetic, tmp_path, capsys) -> None:
    root = Path(__file__).resolve().parents[1]
    manifest = tmp_path / "lines.jsonl"
    rows = [
        {"audio": str(root / "examples" / "hello.wav"), "rig": "flame", "out": "a.npz"},
        {"audio": str(root / "examples" / "hello.wav"), "out": "b.json"},  # ARKit beside it
        {"audio": str(root / "examples" / "hello.wav"), "rig": "flame", "out": "c.csv"},
    ]
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    argv = ["batch", str(manifest), "-o", str(out), "--workers", "1", "-q"]
    argv += ["--fps", "25", "--flame-model", str(synthetic["model"])]
    assert main(argv) == 1  # the third line cannot be FLAME in a CSV: it fails alone
    report = json.loads((out / "report.json").read_text())
    assert [line["status"] for line in report["lines"]] == ["done", "done", "failed"]
    assert "rig 'flame' writes .npz, .glb, .gltf" in report["lines"][2]["reason"]
    with np.load(out / "a.npz", allow_pickle=False) as data:
        assert data["expression"].shape == (round(10.07 * 25), 50)
        assert data["jaw_pose"][:, 0].max() > 0.05
    assert (out / "b.json").is_file()
    assert main(argv) == 1  # resumed: the finished lines are current
    report = json.loads((out / "report.json").read_text())
    assert [line["status"] for line in report["lines"]][:2] == ["skipped", "skipped"]
    capsys.readouterr()
    assert main(["batch", str(manifest), "-o", str(tmp_path / "o2"), "--rig", "flame"]) == 2
    assert "need --flame-model" in capsys.readouterr().err

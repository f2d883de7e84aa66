"""Length and memory: silent files refused before any work, truncated WAVs named, the neural
engine fed block by block giving the in-memory result, text outputs written piece by piece,
progress lines that never swallow a message. Long-clip memory itself is measured by
bench/bench_memory.py (docs/reliability.md)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from gltf_validate import node_available, problems, validate

from emosync.cli import progress
from emosync.errors import InputError
from emosync.exporters.dispatch import export, export_pieces, read
from emosync.exporters.livelink import (
    livelink_pieces,
    livelink_text,
    read_livelink_csv,
    write_livelink_csv,
)
from emosync.inference.audio import (
    SAMPLE_RATE,
    check_audible,
    load_audio,
    stream_audio,
    truncation_warning,
)
from emosync.inference.convertor import (
    MODEL_FPS,
    SMOOTH_SIGMA,
    ModelFrames,
    NeuralOutput,
    model_available,
    neural_face,
    neural_face_blocks,
    resample_frames,
    shipped_convertor,
    smooth_frames,
)
from emosync.inference.facecurves import JSON_ROWS, FaceCurves
from emosync.inference.life import LifeSettings
from emosync.inference.pipeline import AnimateOptions, animate

ROOT = Path(__file__).resolve().parents[1]
HELLO = ROOT / "examples" / "hello.wav"
needs_model = pytest.mark.skipif(not model_available(), reason="convertor.onnx not installed")


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "emosync.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _write(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    sf.write(path, samples, rate, "PCM_16")
    return path


# --- silence -----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["zeros", "hiss"])
def test_silent_scan_is_fast_and_names_the_level(tmp_path: Path, level: str) -> None:
    n = 20 * 60 * SAMPLE_RATE  # 20 minutes
    rng = np.random.default_rng(0)
    x = np.zeros(n) if level == "zeros" else rng.standard_normal(n) * 10.0 ** (-72 / 20)
    path = _write(tmp_path / "quiet.wav", x.astype(np.float32))
    start = time.perf_counter()
    with pytest.raises(InputError, match="is silent") as err:
        check_audible(path)
    assert time.perf_counter() - start < 5.0
    assert ("all samples zero" in str(err.value)) == (level == "zeros")
    # one loud 10 ms at the very end is enough to be animated
    x[-200:] = 0.1
    check_audible(_write(tmp_path / "late.wav", x.astype(np.float32)))


@pytest.mark.parametrize("engine", ["neural", "phonetic"])
def test_cli_refuses_a_long_silent_file_before_any_work(tmp_path: Path, engine: str) -> None:
    """Ten minutes of a -70 dBFS hiss: one error line, exit 2, no output, in seconds (the
    phonetic path used to align the whole file first, ~5 minutes here)."""
    if engine == "neural" and not model_available():
        pytest.skip("convertor.onnx not installed")
    hiss = np.random.default_rng(1).standard_normal(600 * SAMPLE_RATE) * 10.0 ** (-70 / 20)
    audio = _write(tmp_path / "hiss.wav", hiss.astype(np.float32))
    out = tmp_path / "out.npz"
    start = time.monotonic()
    run = _cli("animate", str(audio), "-o", str(out), "--engine", engine)
    assert time.monotonic() - start < 60.0
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2 and len(lines) == 1, run.stderr
    assert lines[0].startswith("emosync: error:") and "is silent" in lines[0]
    assert not out.exists()


# --- truncated WAV -----------------------------------------------------------------------------


def test_truncation_warning_only_for_cut_files(tmp_path: Path) -> None:
    data = HELLO.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 3])
    message = truncation_warning(cut)
    assert message is not None and "truncated" in message and "10.06 s" in message
    assert truncation_warning(HELLO) is None
    # a streaming writer's placeholder size is not a truncation
    unset = bytearray(data)
    at = unset.index(b"data") + 4
    unset[at : at + 4] = (0xFFFFFFFF).to_bytes(4, "little")
    (tmp_path / "unset.wav").write_bytes(bytes(unset))
    assert truncation_warning(tmp_path / "unset.wav") is None


@needs_model
def test_cli_warns_once_about_a_truncated_wav(tmp_path: Path) -> None:
    data = HELLO.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) * 3 // 10])
    out = tmp_path / "out.npz"
    run = _cli("animate", str(cut), "-o", str(out), "-q")
    assert run.returncode == 0, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("emosync: warning: audio file")
    assert "truncated" in lines[0]
    held = sf.info(str(cut)).duration
    with np.load(out) as arrays:
        assert abs(len(arrays["values"]) / 60.0 - held) < 0.02


# --- the neural engine on blocks ----------------------------------------------------------------


@needs_model
@pytest.mark.parametrize("emotional", [False, True])
def test_neural_blocks_equal_the_in_memory_face(emotional: bool) -> None:
    audio = load_audio(HELLO)
    emotion = np.zeros(7, np.float32)
    if emotional:
        emotion[4] = 0.8  # happy: the neutral pass for closures runs beside it
    whole = neural_face(audio, emotion, LifeSettings(), 2, 60.0)
    # one 30 s block is what stream_audio gives a 10 s clip: bit for bit the same
    one = neural_face_blocks([audio.samples], emotion, LifeSettings(), 2, 60.0)
    np.testing.assert_array_equal(one.values, whole.values)
    # many short blocks (multiples of the 10 ms hop): the model's windows fall elsewhere
    seen: list[float] = []
    size = 160 * 97
    blocks = (audio.samples[a : a + size] for a in range(0, audio.samples.size, size))
    many = neural_face_blocks(blocks, emotion, LifeSettings(), 2, 60.0, progress=seen.append)
    np.testing.assert_allclose(many.values, whole.values, atol=2e-4)
    assert many.metadata["duration"] == round(audio.samples.size / SAMPLE_RATE, 6)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(audio.duration)


@needs_model
def test_animate_streams_a_file_with_the_in_memory_result() -> None:
    """The CLI path (a file, decoded block by block) against a decoded Audio: the same curves
    up to the streaming resampler's rounding."""
    options = AnimateOptions(emotion="happy", fps=60.0)
    from_file = animate(HELLO, options)
    in_memory = animate(load_audio(HELLO), options)
    assert from_file.values.shape == in_memory.values.shape
    np.testing.assert_allclose(from_file.values, in_memory.values, atol=1e-4)
    assert from_file.metadata["duration"] == in_memory.metadata["duration"]
    whole = np.concatenate(list(stream_audio(HELLO)))
    assert from_file.metadata["duration"] == round(whole.size / SAMPLE_RATE, 6)


# --- text outputs in pieces --------------------------------------------------------------------


def _curves(n: int) -> FaceCurves:
    values = np.random.default_rng(3).random((n, 61)).astype(np.float32)
    return FaceCurves(60.0, values, metadata={"name": "ünï", "warnings": []})


def test_json_pieces_are_the_one_shot_text() -> None:
    c = _curves(2 * JSON_ROWS + 5)
    assert c.to_json() == json.dumps(c.to_dict(), separators=(",", ":"))
    back = FaceCurves.from_json(c.to_json())
    np.testing.assert_allclose(back.values, c.values, atol=5e-7)
    empty = FaceCurves(60.0, np.zeros((0, 61), np.float32))
    assert json.loads(empty.to_json())["frames"] == []


def test_livelink_csv_in_pieces_round_trips(tmp_path: Path) -> None:
    c = _curves(9000)
    pieces = list(livelink_pieces(c, rows=4096))
    assert len(pieces) == 1 + 3 and pieces[0].startswith("Timecode,")
    seen: list[tuple[float, float]] = []
    path = write_livelink_csv(c, tmp_path / "c.csv", progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (9000.0, 9000.0)
    back = read_livelink_csv(path)
    np.testing.assert_array_equal(back.values, c.values)


# --- outputs written from pieces ---------------------------------------------------------------


def _clip(n: int) -> FaceCurves:
    """Curves with moving head and eyes (so the quaternion sign carry is exercised)."""
    c = _curves(n)
    t = np.arange(n) / 60.0
    for k in range(52, 61):  # rotations sweep through a full turn and back
        c.values[:, k] = (np.pi * np.sin(t * (0.3 + 0.1 * k))).astype(np.float32)
    return c


def _reference(curves: FaceCurves, path: Path) -> bytes | str:
    """What the format holds for the whole clip, made without the piece writers."""
    if path.suffix == ".npz":
        return ""  # compared by value below
    if path.suffix == ".json":
        return json.dumps(curves.to_dict(), separators=(",", ":"))
    if path.suffix == ".csv":
        return livelink_text(curves)
    one = path.with_name(f"one{path.suffix}")  # the glTF from a single piece of the whole clip
    export_pieces([curves], [one])
    return one.read_bytes()


@pytest.mark.parametrize("suffix", [".npz", ".csv", ".json", ".glb", ".gltf"])
def test_a_clip_written_in_pieces_equals_the_whole_clip(tmp_path: Path, suffix: str) -> None:
    """Pieces of odd sizes (not the writers' own 4,096) give the file the whole clip gives."""
    curves = _clip(10_000)
    sizes = [1, 999, 4096, 4904]
    starts = np.cumsum([0, *sizes[:-1]])
    pieces = [
        FaceCurves(60.0, curves.values[a : a + k], curves.channels, curves.metadata, a, 10_000)
        for a, k in zip(starts.tolist(), sizes, strict=True)
    ]
    out = tmp_path / f"out{suffix}"
    seen: list[float] = []
    export_pieces(iter(pieces), [out], progress=lambda d, t: seen.append(d))
    assert seen == [0.0, 1.0, 1000.0, 5096.0, 10000.0]
    if suffix == ".npz":
        with np.load(out) as z:
            assert list(z.keys()) == ["values", "fps", "channels", "metadata"]
            np.testing.assert_array_equal(z["values"], curves.values)
            assert json.loads(str(z["metadata"])) == curves.metadata
        assert read(out).values.shape == (10_000, 61)
        return
    ref = _reference(curves, out)
    assert (out.read_bytes() if suffix in (".glb", ".gltf") else out.read_text()) == ref
    if suffix in (".glb", ".gltf"):
        got = read(out)
        np.testing.assert_array_equal(got.blendshapes(), curves.blendshapes())
        if node_available():
            report = validate(out)
            assert report["issues"]["numErrors"] == 0, problems(report)


def test_several_outputs_from_one_pass_and_none_on_failure(tmp_path: Path) -> None:
    curves = _clip(5000)
    outs = [tmp_path / f"all{s}" for s in (".npz", ".csv", ".json", ".glb")]
    made = []

    def pieces():  # the pieces are made once, while all four files are written
        for piece in curves.pieces(1234):
            made.append(piece.start)
            yield piece

    export_pieces(pieces(), outs)
    assert made == [0, 1234, 2468, 3702, 4936]
    for out in outs:
        single = tmp_path / f"single{out.suffix}"
        export(curves, single)
        if out.suffix == ".npz":
            np.testing.assert_array_equal(read(out).values, read(single).values)
        else:
            assert out.read_bytes() == single.read_bytes()
    # a failure midway (here: pieces that stop short) leaves no file and no temporary
    fresh = [tmp_path / "sub" / f"x{s}" for s in (".npz", ".csv", ".json", ".glb")]
    fresh[0].parent.mkdir()
    with pytest.raises(ValueError, match="ended at frame"):
        export_pieces(list(curves.pieces(1000))[:3], fresh)
    assert list(fresh[0].parent.iterdir()) == []


def _peak_writing(n: int, folder: Path) -> int:
    """Python's peak allocation while a clip of n frames, made piece by piece, is written to
    .npz and .glb at once."""
    rng = np.random.default_rng(0)
    channels = _curves(1).channels

    def pieces():
        for a in range(0, n, 8192):
            values = rng.random((min(8192, n - a), 61), dtype=np.float32) * 0.5
            yield FaceCurves(60.0, values, channels, {"name": "long"}, a, n)

    folder.mkdir()
    tracemalloc.start()
    try:
        export_pieces(pieces(), [folder / "long.npz", folder / "long.glb"])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_writing_a_long_clip_holds_one_piece_not_the_clip(tmp_path: Path) -> None:
    """An hour at 60 fps (216,000 frames, 53 MB of curves) needs no more memory to write than
    six minutes (5 MB): the writers hold a piece, not the clip."""
    short = _peak_writing(21_600, tmp_path / "short")
    long = _peak_writing(216_000, tmp_path / "long")
    assert long < short + 8e6, f"{short / 1e6:.0f} MB for 6 min, {long / 1e6:.0f} MB for 1 h"
    with np.load(tmp_path / "long" / "long.npz") as z:
        assert z["values"].shape == (216_000, 61)


@needs_model
def test_model_frames_set_aside_read_back_as_the_whole_clip_resampled() -> None:
    """The neural engine's first pass keeps its smoothed, calibrated frames in a temporary
    file; rows read back at the output rate equal the in-memory smoothing and resampling."""
    conv = shipped_convertor()
    rng = np.random.default_rng(2)
    n_model = 4001
    curves = rng.random((n_model, 55), dtype=np.float32)
    phones = rng.random((n_model, len(conv.phones)), dtype=np.float32)
    whole = conv.calibrate(smooth_frames(curves, SMOOTH_SIGMA))
    with ModelFrames(conv) as frames:
        for a in range(0, n_model, 333):  # pieces of another size than the smoothing's
            frames.add(NeuralOutput(curves[a : a + 333], phones[a : a + 333]))
        frames.finish()
        assert frames.n == n_model
        np.testing.assert_array_equal(frames.seal, conv.seal_track(phones))
        for fps in (60.0, 24.0, 50.0):
            n = round(n_model / MODEL_FPS * fps)
            expect = resample_frames(whole, n, fps)
            got = np.concatenate(
                [frames.rows(a, min(n, a + 1000), n, fps) for a in range(0, n, 1000)]
            )
            np.testing.assert_array_equal(got, expect)


# --- progress lines ----------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_message_after_a_half_drawn_bar_gets_its_own_line() -> None:
    term = _Terminal()
    bar = progress.ProgressBar("animating", stream=term)
    bar(10.0, 100.0)
    progress.end_line()
    term.write("emosync: interrupted\n")
    assert term.getvalue().splitlines()[-1] == "emosync: interrupted"
    progress.end_line()  # nothing open: nothing written
    assert term.getvalue().endswith("emosync: interrupted\n")
    frames = progress.ProgressBar("writing out.csv", stream=term, unit="frames")
    frames(120.0, 120.0)
    assert term.getvalue().endswith("100% 120/120 frames\n")

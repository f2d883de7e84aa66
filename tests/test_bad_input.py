"""The bad-input matrix: every way a user can get an input wrong, through the real CLI in a
subprocess (so native libraries' own stderr lines count too).

Each refusal must exit 2 with exactly one stderr line, `emosync: error: …` naming the cause, no
traceback, and leave its folder as it was (no new, changed or temporary file). Cases that should
succeed with a warning must print only `emosync: warning:` lines, one per cause. The cases run
four at a time in one module fixture; each test then checks one result. docs/reliability.md lists
the matrix with each case's message.

Permission cases run the CLI as `nobody` (setpriv) when the tests run as root, where permissions
do not bite; they are skipped only where that cannot be done.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent / "data"))
import user_mesh  # noqa: E402

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SETPRIV = shutil.which("setpriv")
CAN_DROP = not IS_ROOT or SETPRIV is not None


@dataclass
class Case:
    name: str
    argv: list[str]
    expect: str  # a piece of the one stderr line
    setup: Callable[[Path], None] | None = None
    nobody: bool = False  # run as an unprivileged user (permission cases)
    code: int = 2
    warnings: int = 0  # for code 0: how many `emosync: warning:` lines
    result: dict = field(default_factory=dict)


# --- inputs shared by the cases (read-only for them) -----------------------------------------
def make_inputs(folder: Path) -> None:
    speech, rate = sf.read(ROOT / "examples" / "hello.wav", dtype="float32")
    sf.write(folder / "short.wav", speech[: int(2.5 * rate)], rate)
    sf.write(folder / "silent.wav", np.zeros(2 * 16000, np.float32), 16000)
    sf.write(folder / "tiny.wav", speech[:80], rate)
    (folder / "empty.wav").write_bytes(b"")
    rng = np.random.default_rng(0)
    (folder / "corrupt.wav").write_bytes(b"RIFF" + rng.bytes(3000))
    (folder / "bad.mp3").write_bytes(b"\xff\xfb\x90\x00" + rng.bytes(3000))
    (folder / "noise.png").write_bytes(_noise_png(rng))
    (folder / "notmesh.glb").write_bytes(b"glTF" + rng.bytes(200))
    user_mesh.write_glb(folder / "nomorphs.glb", names=["Key 1", "Key 2", "Bulge"])
    user_mesh.write_glb(folder / "face.glb", head=False)
    timelines = {
        "broken.json": "{not json",
        "typo.json": {"segments": [{"start": 0, "end": 1, "emotoin": "happy", "emotion": "sad"}]},
        "empty_tl.json": {"segments": []},
        "overlap.json": {
            "segments": [
                {"start": 0, "end": 2, "emotion": "happy"},
                {"start": 1, "end": 3, "emotion": "sad"},
            ]
        },
        "gibberish_tl.json": {"segments": [{"start": 0, "end": 1, "emotion": "flibbertigibbet"}]},
        "late.json": {
            "segments": [
                {"start": 0, "end": 1, "emotion": "happy"},
                {"start": 4, "end": 9, "emotion": "sad"},
            ]
        },
    }
    for name, data in timelines.items():
        text = data if isinstance(data, str) else json.dumps(data)
        (folder / name).write_text(text)
    (folder / "folder.wav").mkdir()
    from emosync.exporters.preview import render, write_png
    from emosync.rigs.demo_face import load_demo_face
    from emosync.rigs.emotion_poses import pose_for

    happy = np.eye(7)[4]  # a rendered demo face: mediapipe finds it
    write_png(folder / "face.png", render(load_demo_face(), pose_for(happy), None, (320, 320)))
    (folder / "folder.json").mkdir()
    make_portraits(folder)


def make_portraits(folder: Path) -> None:
    """Photos for --portrait (scikit-image's astronaut) and a short curves file to drive them."""
    import cv2
    from PIL import Image
    from skimage.data import astronaut

    from emosync.inference.facecurves import FaceCurves
    from emosync.rigs.channels import CHANNELS, INDEX

    photo = astronaut()  # RGB
    cv2.imwrite(str(folder / "photo.jpg"), photo[:, :, ::-1])
    cv2.imwrite(str(folder / "grey.png"), photo.mean(axis=2).astype(np.uint8))
    alpha = np.full(photo.shape[:2], 255, np.uint8)
    alpha[:60] = 0
    cv2.imwrite(str(folder / "rgba.png"), np.dstack([photo[:, :, ::-1], alpha]))
    turned = Image.fromarray(np.ascontiguousarray(np.rot90(photo)))
    exif = turned.getexif()
    exif[0x0112] = 6  # shown rotated 90° clockwise
    turned.save(folder / "exif.jpg", quality=92, exif=exif.tobytes())
    head = photo[0:280, 90:370]  # two heads side by side, the right one smaller
    second = np.zeros_like(head)
    second[30:254, 28:252] = cv2.resize(head, (224, 224))
    cv2.imwrite(str(folder / "two.jpg"), np.concatenate([head, second], 1)[:, :, ::-1])
    cv2.imwrite(str(folder / "small.png"), cv2.resize(photo, (200, 200))[:, :, ::-1])
    (folder / "photo_text.jpg").write_text("not a photo")
    (folder / "huge.png").write_bytes(_png_header(40000, 40000))
    values = np.zeros((6, len(CHANNELS)), np.float32)
    values[:, INDEX["jawOpen"]] = np.linspace(0, 0.6, 6)
    (folder / "short.json").write_text(FaceCurves(30.0, values).to_json())


def _noise_png(rng: np.random.Generator) -> bytes:
    height = width = 96
    rows = b"".join(b"\0" + rng.bytes(width * 3) for _ in range(height))
    return _png_header(width, height, rows)


def _png_header(width: int, height: int, rows: bytes = b"") -> bytes:
    """A PNG of `width` × `height` with `rows` as its (maybe too short) pixel data."""
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\0\0\0"
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# --- per-case setups (run in the case's own folder) ------------------------------------------
def existing_output(folder: Path) -> None:
    (folder / "out.json").write_text("precious")


def locked_folder(folder: Path) -> None:
    locked = folder / "locked"
    locked.mkdir()
    shutil.copy(INPUTS / "short.wav", locked / "voice.wav")
    (locked / "words.txt").write_text("hello")
    shutil.copy(INPUTS / "face.glb", locked / "face.glb")
    locked.chmod(0)


def read_only_folder(folder: Path) -> None:
    (folder / "ro").mkdir()
    (folder / "ro").chmod(0o555)


INPUTS = Path()  # set by the fixture: the shared inputs folder
I = "{inputs}"  # noqa: E741  (placeholder in argv for that folder)
AUDIO = f"{I}/short.wav"
CASES = [
    # audio
    Case("audio missing", ["animate", "nope.wav", "-o", "o.json"], "does not exist"),
    Case("audio empty", ["animate", f"{I}/empty.wav", "-o", "o.json"], "is empty"),
    Case("audio corrupt", ["animate", f"{I}/corrupt.wav", "-o", "o.json"], "corrupt.wav"),
    Case("MP3 corrupt (decoder notes)", ["animate", f"{I}/bad.mp3", "-o", "o.json"], "bad.mp3"),
    Case("audio silent", ["animate", f"{I}/silent.wav", "-o", "o.json"], "silent"),
    Case("audio too short", ["animate", f"{I}/tiny.wav", "-o", "o.json"], "too short"),
    Case("audio from an empty stdin", ["animate", "-", "-o", "o.json"], "stdin held no audio"),
    Case("audio is a folder", ["animate", f"{I}/folder.wav", "-o", "o.json"], "directory"),
    Case(
        "audio in unreadable folder",
        ["animate", "locked/voice.wav", "-o", "o.json"],
        "permission denied",
        locked_folder,
        nobody=True,
    ),
    # emotion
    Case(
        "emotion gibberish",
        ["animate", AUDIO, "-o", "o.json", "--emotion", "flibbertigibbet"],
        "does not describe a feeling",
    ),
    Case(
        "emotion non-word with filler words",
        ["animate", AUDIO, "-o", "o.json", "--emotion", "xyzzy-not-an-emotion-42"],
        "does not describe a feeling",
    ),
    Case(
        "emotion keyboard mash",
        ["animate", AUDIO, "-o", "o.json", "--emotion", "asdfgh"],
        "does not describe a feeling",
    ),
    Case(
        "emotion unrelated sentence",
        ["animate", AUDIO, "-o", "o.json", "--emotion", "the train leaves at noon"],
        "does not describe a feeling",
    ),
    Case(
        "emotion negative amount",
        ["animate", AUDIO, "-o", "o.json", "--emotion=-0.5 happy"],
        "negative amount",
    ),
    Case(
        "emotion negative in a mixture",
        ["animate", AUDIO, "-o", "o.json", "--emotion", "happy + -0.3 sad"],
        "negative amount",
    ),
    Case(
        "intensity too high",
        ["animate", AUDIO, "-o", "o.json", "--intensity", "2"],
        "between 0 and 1.5",
    ),
    Case(
        "intensity not a number",
        ["animate", AUDIO, "-o", "o.json", "--intensity", "lots"],
        "must be a number",
    ),
    Case(
        "two emotion sources",
        ["animate", AUDIO, "-o", "o.json", "--emotion", "happy", "--emotion-audio", AUDIO],
        "give one of",
    ),
    Case(
        "copy expression without photo",
        ["animate", AUDIO, "-o", "o.json", "--copy-expression"],
        "needs --emotion-image",
    ),
    Case(
        "photo without a face (TFLite lines)",
        ["animate", AUDIO, "-o", "o.json", "--emotion-image", f"{I}/noise.png"],
        "no face found",
    ),
    Case(
        "photo missing",
        ["animate", AUDIO, "-o", "o.json", "--emotion-image", "nope.png"],
        "nope.png",
    ),
    Case(
        "reference voice corrupt",
        ["animate", AUDIO, "-o", "o.json", "--emotion-audio", f"{I}/corrupt.wav"],
        "corrupt.wav",
    ),
    Case("emotion command: nothing", ["emotion"], "give a prompt"),
    Case("emotion command: negative", ["emotion", "--", "-0.5 happy"], "negative amount"),
    # timeline
    Case(
        "timeline missing",
        ["animate", AUDIO, "-o", "o.json", "--timeline", "nope.json"],
        "not found",
    ),
    Case(
        "timeline not JSON",
        ["animate", AUDIO, "-o", "o.json", "--timeline", f"{I}/broken.json"],
        "not valid JSON",
    ),
    Case(
        "timeline unknown key",
        ["animate", AUDIO, "-o", "o.json", "--timeline", f"{I}/typo.json"],
        "unknown key 'emotoin'",
    ),
    Case(
        "timeline empty",
        ["animate", AUDIO, "-o", "o.json", "--timeline", f"{I}/empty_tl.json"],
        "no segments",
    ),
    Case(
        "timeline overlapping",
        ["animate", AUDIO, "-o", "o.json", "--timeline", f"{I}/overlap.json"],
        "overlap",
    ),
    Case(
        "timeline gibberish emotion",
        ["animate", AUDIO, "-o", "o.json", "--timeline", f"{I}/gibberish_tl.json"],
        "does not describe a feeling",
    ),
    # transcript
    Case(
        "transcript file missing",
        ["animate", AUDIO, "-o", "o.json", "--transcript", "t.txt"],
        "not found",
    ),
    Case(
        "transcript in unreadable folder",
        ["animate", AUDIO, "-o", "o.json", "--transcript", "locked/words.txt"],
        "permission denied",
        locked_folder,
        nobody=True,
    ),
    # outputs
    Case("output format unknown", ["animate", AUDIO, "-o", "o.mp4"], "unknown output format"),
    Case("output exists", ["animate", AUDIO, "-o", "out.json"], "--force", existing_output),
    Case("output folder missing", ["animate", AUDIO, "-o", "no/o.json"], "does not exist"),
    Case("output is a folder", ["animate", AUDIO, "-o", f"{I}/folder.json"], "directory"),
    Case("same output twice", ["animate", AUDIO, "-o", "o.json", "-o", "o.json"], "twice"),
    Case("rig cannot go to CSV", ["animate", AUDIO, "-o", "o.csv", "--rig", "vrm"], "--rig vrm"),
    Case(
        "output folder read-only",
        ["animate", AUDIO, "-o", "ro/o.json"],
        "not writable",
        read_only_folder,
        nobody=True,
    ),
    Case(
        "output in unreadable folder",
        ["animate", AUDIO, "-o", "locked/o.json"],
        "permission denied",
        locked_folder,
        nobody=True,
    ),
    Case("fps out of range", ["animate", AUDIO, "-o", "o.json", "--fps", "0"], "fps"),
    # meshes and the output set
    Case("mesh missing", ["animate", AUDIO, "-o", "o.glb", "--mesh", "nope.glb"], "not found"),
    Case(
        "mesh not glTF",
        ["animate", AUDIO, "-o", "o.glb", "--mesh", f"{I}/notmesh.glb"],
        "not a readable glTF",
    ),
    Case(
        "mesh fails on the third output (set is all-or-nothing)",
        [
            "animate",
            AUDIO,
            "-o",
            "a.json",
            "-o",
            "b.csv",
            "-o",
            "c.glb",
            "--mesh",
            f"{I}/nomorphs.glb",
        ],
        "no morph targets named like ARKit",
    ),
    Case(
        "mesh in unreadable folder",
        ["animate", AUDIO, "-o", "o.glb", "--mesh", "locked/face.glb"],
        "permission denied",
        locked_folder,
        nobody=True,
    ),
    # preview and usage
    Case(
        "preview of a non-glTF .glb",
        ["preview", f"{I}/notmesh.glb", "-o", "p.png"],
        "not a readable glTF",
    ),
    Case("preview of an unknown suffix", ["preview", AUDIO, "-o", "p.png"], "suffix must be"),
    Case("unknown option", ["animate", AUDIO, "-o", "o.json", "--colour", "red"], "unrecognized"),
    # portraits (emosync render, animate --portrait)
    Case(
        "portrait not an image",
        ["render", f"{I}/short.json", "--portrait", f"{I}/photo_text.jpg", "-o", "v.mp4"],
        "is not an image",
    ),
    Case(
        "portrait without a face",
        ["render", f"{I}/short.json", "--portrait", f"{I}/noise.png", "-o", "v.mp4"],
        "no face found",
    ),
    Case(
        "portrait face too small",
        ["render", f"{I}/short.json", "--portrait", f"{I}/small.png", "-o", "v.mp4"],
        "needs at least 64 px",
    ),
    Case(
        "portrait too large to decode",
        ["render", f"{I}/short.json", "--portrait", f"{I}/huge.png", "-o", "v.mp4"],
        "too large",
    ),
    Case(
        "portrait missing",
        ["render", f"{I}/short.json", "--portrait", "nope.jpg", "-o", "v.mp4"],
        "not found",
    ),
    Case(
        "portrait video not MP4",
        ["render", f"{I}/short.json", "--portrait", f"{I}/photo.jpg", "-o", "v.gif"],
        "*.mp4",
    ),
    Case(
        "portrait video too big",
        [
            "render",
            f"{I}/short.json",
            "--portrait",
            f"{I}/photo.jpg",
            "-o",
            "v.mp4",
            "--size",
            "2048",
        ],
        "--size must be between",
    ),
    Case(
        "portrait expression gain out of range",
        [
            "render",
            f"{I}/short.json",
            "--portrait",
            f"{I}/photo.jpg",
            "-o",
            "v.mp4",
            "--expression-gain=-1",
        ],
        "--expression-gain must be between",
    ),
    Case(
        "portrait audio corrupt",
        [
            "render",
            f"{I}/short.json",
            "--portrait",
            f"{I}/photo.jpg",
            "-o",
            "v.mp4",
            "--audio",
            f"{I}/corrupt.wav",
        ],
        "corrupt.wav",
    ),
    Case(
        "animate portrait without an MP4",
        ["animate", AUDIO, "-o", "o.json", "--portrait", f"{I}/photo.jpg"],
        "add an output named *.mp4",
    ),
    Case(
        "animate portrait without a face",
        ["animate", AUDIO, "-o", "o.mp4", "--portrait", f"{I}/noise.png"],
        "no face found",
    ),
    # successes that must warn, once per cause, and nothing else
    Case(
        "timeline past the clip's end",
        ["animate", AUDIO, "-o", "o.json", "--timeline", f"{I}/late.json"],
        "past the clip's end",
        code=0,
        warnings=1,
    ),
    Case(
        "photo with a face (no TFLite lines)", ["emotion", "--image", f"{I}/face.png"], "", code=0
    ),
    Case(
        "portrait in grey",
        ["render", f"{I}/short.json", "--portrait", f"{I}/grey.png", "-o", "v.mp4", "-q"],
        "",
        code=0,
    ),
    Case(
        "portrait with alpha",
        ["render", f"{I}/short.json", "--portrait", f"{I}/rgba.png", "-o", "v.mp4", "-q"],
        "",
        code=0,
    ),
    Case(
        "portrait EXIF-rotated",
        ["render", f"{I}/short.json", "--portrait", f"{I}/exif.jpg", "-o", "v.mp4", "-q"],
        "",
        code=0,
    ),
    Case(
        "portrait with two faces",
        ["render", f"{I}/short.json", "--portrait", f"{I}/two.jpg", "-o", "v.mp4", "-q"],
        "used face",
        code=0,
        warnings=1,
    ),
    Case(
        "mesh without head or eye nodes",
        ["animate", AUDIO, "-o", "o.glb", "--mesh", f"{I}/face.glb"],
        "no node named like",
        code=0,
        warnings=1,
    ),
]


def _command(case: Case, folder: Path) -> list[str]:
    argv = [a.replace(I, str(INPUTS)) for a in case.argv]
    command = [sys.executable, "-m", "emosync.cli.main", *argv]
    if case.nobody and IS_ROOT:
        command = [SETPRIV, "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
    return command


def _snapshot(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[str(path.relative_to(folder))] = "dir"
    return out


def _run(case: Case, base: Path) -> dict:
    folder = base / case.name.replace(" ", "_").replace("/", "_")
    folder.mkdir()
    folder.chmod(0o777)
    if case.setup:
        case.setup(folder)
    before = _snapshot(folder)
    home = folder.parent / "home"  # onnxruntime and matplotlib keep caches there
    env = {**os.environ, "HOME": str(home), "MPLCONFIGDIR": str(home / ".mpl")}
    env.pop("EMOSYNC_DEBUG", None)
    done = subprocess.run(
        _command(case, folder),
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    for path in folder.rglob("*"):  # let pytest clean up what the case locked
        if path.is_dir():
            path.chmod(0o755)
    after = _snapshot(folder)
    return {"code": done.returncode, "stderr": done.stderr, "before": before, "after": after}


@pytest.fixture(scope="module")
def results() -> dict[str, dict]:
    global INPUTS
    base = Path(tempfile.mkdtemp(prefix="emosync-bad-input-"))
    base.chmod(0o755)  # `nobody` must reach the case folders and the inputs
    INPUTS = base / "inputs"
    (base / "home").mkdir(mode=0o777)
    (base / "home").chmod(0o777)
    INPUTS.mkdir()
    make_inputs(INPUTS)
    for path in [INPUTS, *INPUTS.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    inputs_before = _snapshot(INPUTS)
    runnable = [c for c in CASES if not c.nobody or CAN_DROP]
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = dict(
            zip(
                [c.name for c in runnable], pool.map(lambda c: _run(c, base), runnable), strict=True
            )
        )
    assert _snapshot(INPUTS) == inputs_before, "a case changed the shared inputs"
    yield found
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, results: dict[str, dict]) -> None:
    if case.nobody and not CAN_DROP:
        pytest.skip("running as root without setpriv: cannot drop privileges")
    got = results[case.name]
    lines = got["stderr"].splitlines()
    assert "Traceback" not in got["stderr"], got["stderr"]
    assert got["code"] == case.code, got["stderr"]
    if case.code == 2:
        assert len(lines) == 1, lines
        assert lines[0].startswith("emosync: error: ") and case.expect in lines[0], lines
        assert got["after"] == got["before"], "a refused run left or changed a file"
    else:
        assert all(line.startswith("emosync: warning: ") for line in lines), lines
        assert len(lines) == case.warnings == len(set(lines)), lines
        assert case.expect in got["stderr"]


def test_permission_cases_really_bite() -> None:
    """Guard against a silent pass: as root the permission cases must run as `nobody`."""
    if IS_ROOT and SETPRIV is None:
        pytest.skip("setpriv is not installed")
    folder = Path(tempfile.mkdtemp())
    try:
        (folder / "x").write_text("x")
        folder.chmod(0)
        command = ["cat", str(folder / "x")]
        if IS_ROOT:
            command = [SETPRIV, "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
        assert subprocess.run(command, capture_output=True, check=False).returncode != 0
    finally:
        folder.chmod(stat.S_IRWXU)
        shutil.rmtree(folder)


# --- fallbacks that used to be silent (in-process: they succeed) -----------------------------
def _espeak(text: str, path: Path) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
    return path


def test_gibberish_prompt_reads_neutral_with_one_warning() -> None:
    from emosync.inference.emotion_condition import read_emotion

    for prompt in ("flibbertigibbet", "xyzzy-not-an-emotion-42", "asdfgh"):
        reading = read_emotion(prompt)
        assert not reading.state.any() and len(reading.warnings) == 1, prompt
    assert read_emotion("gobsmacked").state.max() > 0.5  # a rare real word still reads


def test_band_limited_voice_keeps_its_transcript(tmp_path) -> None:
    """An 8 kHz recording (nothing above 4 kHz) with its correct transcript is aligned to that
    transcript, not dropped as "does not match" (the phone pass failed on this clip before)."""
    from emosync.inference.alignment import align
    from emosync.inference.audio import load_audio

    text = "i never said she stole my money"
    x = load_audio(_espeak(text, tmp_path / "v.wav")).samples
    spectrum = np.fft.rfft(x)
    spectrum[np.fft.rfftfreq(x.size, 1 / 16000) > 4000] = 0
    narrow = np.fft.irfft(spectrum, x.size).astype(np.float32)
    result = align(narrow, text)
    assert result.method == "forced", result.warnings
    assert [w.label for w in result.words] == text.split()


def test_missing_neural_model_is_an_error(tmp_path, monkeypatch) -> None:
    """Without a transcript "auto" runs only the neural engine: no model is one error line,
    not a silent (or warned) fall back to the slow recognition path."""
    from emosync.errors import InputError
    from emosync.inference import convertor
    from emosync.inference.pipeline import AnimateOptions, animate

    voice = _espeak("hello there", tmp_path / "v.wav")
    monkeypatch.setattr(convertor, "default_model_path", lambda: tmp_path / "convertor.onnx")
    with pytest.raises(InputError, match=r"^the neural engine's model \(convertor\.onnx\)"):
        animate(voice, AnimateOptions())
    with pytest.raises(InputError, match=r"does not match the audio.*convertor\.onnx"):
        animate(voice, AnimateOptions(transcript="seven eight nine ten"))
    assert animate(voice, AnimateOptions(engine="phonetic")).metadata["alignment"] == "recognition"


def test_auto_hears_a_transcript_that_does_not_fit(tmp_path) -> None:
    """A transcript that forced alignment cannot fit: "auto" runs the neural engine (said
    once), `--engine phonetic` recognises, as asked."""
    from emosync.inference.pipeline import AnimateOptions, animate

    voice = _espeak("hello there, how are you today", tmp_path / "v.wav")
    wrong = "seven eight nine ten"
    meta = animate(voice, AnimateOptions(transcript=wrong)).metadata
    assert meta["engine"] == "neural", meta
    assert meta["warnings"] == [
        "the transcript does not match the audio (forced alignment failed); used the neural "
        "engine, which hears the audio"
    ]
    meta = animate(voice, AnimateOptions(transcript=wrong, engine="phonetic")).metadata
    assert (meta["engine"], meta["alignment"]) == ("phonetic", "recognition")
    assert any("used recognition instead" in w for w in meta["warnings"]), meta


def test_audio_from_stdin(tmp_path) -> None:
    with (ROOT / "examples" / "hello.wav").open("rb") as voice:
        done = subprocess.run(
            [sys.executable, "-m", "emosync.cli.main", "animate", "-", "-o", "o.json", "-q"],
            cwd=tmp_path,
            stdin=voice,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert json.loads((tmp_path / "o.json").read_text())["metadata"]["name"] == "stdin"

"""The talking portrait (render/): a real photo (scikit-image's astronaut) through the real
mediapipe tracker, the warp and the real ffmpeg; the video is read back with ffmpeg and its
frames are tracked again with mediapipe. The refusals of bad photos are in test_bad_input.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mediapipe")
skimage_data = pytest.importorskip("skimage.data")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

from emosync.inference.emotion_image import detect_faces  # noqa: E402
from emosync.inference.facecurves import FaceCurves  # noqa: E402
from emosync.render.portrait import load_portrait  # noqa: E402
from emosync.render.video import PortraitRenderer, render_frames, write_video  # noqa: E402
from emosync.rigs.channels import CHANNELS, INDEX  # noqa: E402
from emosync.rigs.demo_face import weights_from  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VOICE = ROOT / "examples" / "hello.wav"
FPS = 30
SECONDS = 2.0


def talking_curves(seconds: float = SECONDS, fps: float = FPS) -> FaceCurves:
    """The jaw opening and closing at 1.5 Hz with the lips pressed shut between openings
    (bilabials), a blink at 1 s, a small head turn and a glance."""
    t = np.arange(round(seconds * fps)) / fps
    v = np.zeros((len(t), len(CHANNELS)), np.float32)
    jaw = 0.6 * np.clip(np.sin(2 * np.pi * 1.5 * t), 0, None)
    v[:, INDEX["jawOpen"]] = jaw
    v[:, INDEX["mouthClose"]] = np.where(jaw < 0.05, 0.3, 0.0)
    v[:, INDEX["eyeBlinkLeft"]] = v[:, INDEX["eyeBlinkRight"]] = np.exp(-(((t - 1) / 0.06) ** 2))
    v[:, INDEX["headYaw"]] = 0.06 * np.sin(2 * np.pi * t / seconds)
    v[:, INDEX["leftEyeYaw"]] = v[:, INDEX["rightEyeYaw"]] = 0.2 * np.sin(2 * np.pi * t)
    return FaceCurves(fps, v)


def still(weights: dict[str, float], rotations: np.ndarray | None = None) -> FaceCurves:
    """One frame of curves."""
    v = np.zeros((1, len(CHANNELS)), np.float32)
    v[0, :52] = weights_from(weights)
    if rotations is not None:
        v[0, 52:] = rotations
    return FaceCurves(FPS, v)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return skimage_data.astronaut()


@pytest.fixture(scope="module")
def portrait(photo):
    return load_portrait(photo, "astronaut")


@pytest.fixture(scope="module")
def video(tmp_path_factory, portrait):
    folder = tmp_path_factory.mktemp("video")
    result = write_video(
        talking_curves(), portrait, folder / "talk.mp4", VOICE, strip=folder / "talk.png"
    )
    return result


def ffmpeg(*args: str) -> subprocess.CompletedProcess:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    return subprocess.run(command, capture_output=True, check=False, timeout=120)


def test_video_reads_back_with_its_frames_rate_and_size(video):
    reader = imageio_ffmpeg.read_frames(str(video.path))
    meta = next(reader)
    frames = list(reader)
    assert meta["size"] == (512, 512) and meta["fps"] == FPS
    assert len(frames) == round(SECONDS * FPS) == video.n_frames
    assert (video.width, video.height) == (512, 512)


def test_audio_is_aac_and_as_long_as_the_curves(video):
    info = ffmpeg("-i", str(video.path)).stderr.decode()
    assert "Audio: aac" in info and "Video: h264" in info, info
    pcm = ffmpeg("-i", str(video.path), "-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", "-")
    assert pcm.returncode == 0
    seconds = len(pcm.stdout) / 2 / 16000
    assert abs(seconds - SECONDS) < 0.05, seconds


def test_audio_is_in_sync(tmp_path, portrait):
    """A click at 1 s in the voice is heard at 1 s in the video (no offset from AAC priming)."""
    import soundfile as sf

    rate = 16000
    click = np.zeros(2 * rate, np.float32)
    click[rate : rate + 80] = 0.9
    sf.write(tmp_path / "click.wav", click, rate)
    result = write_video(talking_curves(), portrait, tmp_path / "c.mp4", tmp_path / "click.wav")
    pcm = ffmpeg("-i", str(result.path), "-vn", "-ac", "1", "-ar", str(rate), "-f", "s16le", "-")
    heard = np.abs(np.frombuffer(pcm.stdout, np.int16).astype(np.float32))
    assert abs(int(np.argmax(heard)) / rate - 1.0) < 0.01


def test_strip_holds_eight_head_crops(video):
    import cv2

    strip = cv2.imread(str(video.strip))
    assert strip is not None and strip.shape[0] <= 256 + 8
    tile = strip.shape[0] - 8
    assert abs(strip.shape[1] - (8 * (tile + 4) + 4)) <= 8


def lip_gap(image: np.ndarray) -> float:
    """The inner lips' opening over the face's height, tracked by mediapipe."""
    faces = detect_faces(image)
    assert len(faces) == 1
    lm = faces[0].landmarks * [image.shape[1], image.shape[0], 1]
    height = lm[152, 1] - lm[10, 1]
    return float((lm[14, 1] - lm[13, 1]) / height)


def test_open_mouth_tracks_wider_than_closed(portrait, photo):
    closed = next(render_frames(still({}), portrait))
    half = next(render_frames(still({"jawOpen": 0.3}), portrait))
    wide = next(render_frames(still({"jawOpen": 0.7}), portrait))
    gaps = [lip_gap(closed), lip_gap(half), lip_gap(wide)]
    assert gaps[0] < lip_gap(photo)  # the photo's parted lips are closed at rest
    assert gaps[0] < 0.02, gaps
    assert gaps[0] + 0.03 < gaps[1] < gaps[2], gaps


SEALED = {
    "jawOpen": 0.3,
    "mouthClose": 0.3,
    "mouthPressLeft": 0.3,
    "mouthPressRight": 0.3,
    "mouthRollLower": 0.1,
    "mouthRollUpper": 0.08,
}  # an /m/ mid-sentence: lip_gap 0
EXPRESSIONS = {
    "none": {},
    "sad": {"mouthFrownLeft": 0.8, "mouthFrownRight": 0.8, "browInnerUp": 0.9},
    "happy": {"mouthSmileLeft": 0.7, "mouthSmileRight": 0.7, "cheekSquintLeft": 0.5,
              "cheekSquintRight": 0.5},
    "surprised": {"browInnerUp": 0.8, "browOuterUpLeft": 0.8, "browOuterUpRight": 0.8,
                  "eyeWideLeft": 0.7, "eyeWideRight": 0.7},
}  # fmt: skip


def sealed_photos() -> list:
    """The astronaut (parted lips, teeth showing) and, where fetched, Franck (lips slightly
    apart, a mouth the expression fitter reads as puckered and rolled)."""
    from emosync.evaluation.portraits import FOLDER, head_crop, load_photo, locate, read_manifest

    franck = next(p for p in read_manifest() if p.name == "franck")
    fetched = locate(franck, FOLDER) is not None
    return [
        pytest.param(skimage_data.astronaut, id="astronaut"),
        pytest.param(
            lambda: head_crop(load_photo(franck)),
            id="franck",
            marks=pytest.mark.skipif(not fetched, reason="franck.jpg not fetched"),
        ),
    ]


@pytest.mark.parametrize("expression", list(EXPRESSIONS))
@pytest.mark.parametrize("image", sealed_photos())
def test_sealed_lips_meet_on_the_video_whatever_the_expression(image, expression, request):
    """Where the curves seal the lips (rigs.mouth.sealed), the rendered lips meet: mediapipe,
    tracking the frame again, measures an opening under the evaluation's closed threshold."""
    from emosync.evaluation.portrait_lips import CLOSED, frame_opening
    from emosync.rigs.mouth import sealed

    if request.node.callspec.id == "astronaut-sad":
        # known: her eased smile under a 0.8 frown leaves a pale, thin lower lip that mediapipe
        # takes for an opening (0.18; the drawn inner lips are 0.002 apart), docs/rendering.md
        request.applymarker(pytest.mark.xfail(strict=True, reason="pale lower lip re-tracked"))
    weights = weights_from({**SEALED, **EXPRESSIONS[expression]})
    assert sealed(weights[None])[0]
    renderer = PortraitRenderer(load_portrait(image(), "photo"), 512)
    frame = renderer.frame(weights, np.zeros(9))
    assert frame_opening(frame) < CLOSED


@pytest.mark.parametrize("keep", [True, False])
def test_neutral_frame_is_the_photo_but_the_mouth(portrait, photo, keep):
    """At rest only the mouth moves: the photo's parted lips close, and (unless kept) its smile
    eases. Eyes, brows, hair and background are the photo's own pixels."""
    frame = next(render_frames(still({}), portrait, keep_expression=keep))
    changed = np.argwhere(np.abs(frame.astype(int) - photo).max(axis=2) > 0)[:, ::-1]  # x, y
    assert len(changed) > 0
    oval = portrait.points[:468, :2]
    margin = 0.0 if keep else 0.15 * (oval[:, 1].max() - oval[:, 1].min())
    lo = np.array([oval[:, 0].min() - margin, portrait.points[[145, 374], 1].max() + 3])
    hi = oval.max(axis=0) + margin
    assert ((changed >= lo) & (changed <= hi)).all(), (changed.min(axis=0), changed.max(axis=0))


def test_head_turn_moves_the_face_and_keeps_the_far_background(portrait, photo):
    renderer = PortraitRenderer(portrait)
    turned = renderer.frame(weights_from({}), np.array([0.15, 0, 0, 0, 0, 0, 0, 0, 0]))
    x0, y0, x1, y1 = renderer.mesh.box
    outside = np.ones(photo.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert (turned[outside] == photo[outside]).all()
    face = (slice(80, 160), slice(180, 270))
    assert np.abs(turned[face].astype(int) - photo[face]).mean() > 5


def test_blink_closes_the_lids(portrait, photo):
    frame = next(render_frames(still({"eyeBlinkLeft": 1, "eyeBlinkRight": 1}), portrait))
    faces = detect_faces(frame)
    lm = faces[0].landmarks * [512, 512, 1]
    ref = detect_faces(photo)[0].landmarks * [512, 512, 1]
    for upper, lower in ((159, 145), (386, 374)):
        assert lm[lower, 1] - lm[upper, 1] < 0.5 * (ref[lower, 1] - ref[upper, 1])


def test_exif_rotated_photo_is_read_upright(tmp_path, photo):
    from PIL import Image

    upright = tmp_path / "upright.jpg"
    Image.fromarray(photo).save(upright, quality=95)
    turned = Image.fromarray(np.ascontiguousarray(np.rot90(photo)))
    exif = turned.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    turned.save(tmp_path / "exif.jpg", quality=95, exif=exif.tobytes())
    a, b = load_portrait(upright), load_portrait(tmp_path / "exif.jpg")
    assert b.image.shape == a.image.shape
    assert np.abs(a.points[:, :2] - b.points[:, :2]).mean() < 2.0


def test_grey_and_rgba_photos_are_accepted(photo):
    grey = photo.mean(axis=2).astype(np.uint8)
    rgba = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    for image in (grey, rgba):
        frame = next(render_frames(still({"jawOpen": 0.4}), load_portrait(image), size=256))
        assert frame.shape == (256, 256, 3) and frame.dtype == np.uint8


def test_ctrl_c_leaves_no_video(tmp_path, photo):
    import cv2

    cv2.imwrite(str(tmp_path / "face.png"), photo[:, :, ::-1])
    long = talking_curves(seconds=120, fps=60)
    (tmp_path / "long.json").write_text(long.to_json())
    temp = tmp_path / "temp"  # the run's own TMPDIR: the encoder's folder appears there
    temp.mkdir()
    before = sorted(os.listdir(tmp_path))
    command = [sys.executable, "-m", "emosync.cli.main", "render", "long.json"]
    command += ["--portrait", "face.png", "--audio", str(VOICE), "-o", "talk.mp4"]
    env = {**os.environ, "TMPDIR": str(temp)}
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(temp.glob("emosync-video-*/video.mp4")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.2)
    time.sleep(1.0)  # some frames into the encoder
    assert proc.poll() is None, "finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert sorted(os.listdir(tmp_path)) == before
    assert not list(temp.iterdir())  # the encoder's temporary folder is gone too


def test_cli_render_writes_the_video_and_the_strip(tmp_path, photo):
    import cv2

    cv2.imwrite(str(tmp_path / "face.jpg"), photo[:, :, ::-1])
    (tmp_path / "c.json").write_text(talking_curves(seconds=1.0).to_json())
    command = [sys.executable, "-m", "emosync.cli.main", "render", "c.json", "--portrait"]
    command += ["face.jpg", "-o", "t.mp4", "--strip", "t.png", "--size", "256", "--fps", "25"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "wrote t.mp4 (25 frames at 25 fps, 256×256" in done.stdout
    meta = next(imageio_ffmpeg.read_frames(str(tmp_path / "t.mp4")))
    assert meta["size"] == (256, 256) and meta["fps"] == 25
    assert (tmp_path / "t.png").is_file()


def test_cli_animate_portrait_with_the_voice_in_sync(tmp_path, photo):
    """examples/hello.wav through the whole pipeline into a video and curves at once: the video
    has a frame per curve frame and the whole voice as AAC."""
    import cv2
    import soundfile as sf

    cv2.imwrite(str(tmp_path / "face.jpg"), photo[:, :, ::-1])
    command = [sys.executable, "-m", "emosync.cli.main", "animate", str(VOICE), "--portrait"]
    command += ["face.jpg", "--emotion", "quietly furious", "-o", "t.mp4", "-o", "t.json"]
    command += ["--fps", "25", "--size", "256", "-q"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    curves = FaceCurves.from_json((tmp_path / "t.json").read_text())
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "t.mp4"))
    meta = next(reader)
    assert meta["fps"] == 25 and sum(1 for _ in reader) == curves.n_frames
    pcm = ffmpeg(
        "-i", str(tmp_path / "t.mp4"), "-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", "-"
    )
    assert abs(len(pcm.stdout) / 2 / 16000 - sf.info(VOICE).duration) < 0.1

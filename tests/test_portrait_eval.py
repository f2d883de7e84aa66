"""The portrait evaluation's pieces: the photos from packages, the lip opening read by mediapipe,
the bilabial count, the video decoding and the FER class names (real files, real mediapipe)."""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from emosync.checksum import file_sha256
from emosync.evaluation.portrait_eval import MEASURED, fer_class
from emosync.evaluation.portrait_lips import (
    CLOSED,
    bilabial_closures,
    correlation,
    frame_opening,
    lip_opening,
    video_frames,
)
from emosync.evaluation.portraits import (
    FOLDER,
    fetch,
    fetch_command,
    fetch_one,
    head_crop,
    load_photo,
    locate,
    read_manifest,
)
from emosync.exporters.preview import render
from emosync.inference.emotion_image import detect_faces
from emosync.inference.timed_phones import Alignment, Segment
from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.demo_face import load_demo_face

PHOTOS = read_manifest()
INSTALLED = [p for p in PHOTOS if not p.fetched]
FETCHED = [p for p in PHOTOS if p.fetched]


def by_name(name: str):
    return next(p for p in PHOTOS if p.name == name)


def test_the_manifest_has_four_or_more_people_of_both_sexes():
    names = [p.name for p in PHOTOS]
    assert len(set(names)) == len(names) >= 4
    assert {p.sex for p in PHOTOS} == {"f", "m"}
    assert all(p.licence and p.package and len(p.sha256) == 64 for p in PHOTOS)
    assert INSTALLED, "some photos must come with installed dependencies (always testable)"


@pytest.mark.parametrize("photo", INSTALLED, ids=lambda p: p.name)
def test_installed_photos_are_the_manifests_files_with_one_face(photo):
    path = locate(photo)
    assert path is not None, f"{photo.package} does not ship {photo.member}"
    assert file_sha256(path) == photo.sha256
    crop = head_crop(load_photo(photo))
    assert crop.shape[0] == crop.shape[1] >= 300 and crop.shape[2] == 3
    assert len(detect_faces(crop)) == 1


@pytest.mark.parametrize("photo", FETCHED, ids=lambda p: p.name)
def test_fetched_photos_load_with_one_face(photo):
    path = locate(photo)
    if path is None:
        pytest.skip(f"{photo.name} is not in {FOLDER} (offline set-up?): {fetch_command()}")
    assert file_sha256(path) == photo.sha256
    faces = detect_faces(head_crop(load_photo(photo)))
    assert len(faces) == 1 and faces[0].size >= 150


def test_the_head_crop_centres_a_small_face():
    # Grace Hopper's face, off-centre in a larger canvas, comes back centred
    photo = load_photo(by_name("hopper"))  # 512 x 600, her face about 200 px
    canvas = np.full((1100, 1100, 3), 200, np.uint8)
    canvas[450:1050, 380:892] = photo
    crop = head_crop(canvas)
    faces = detect_faces(crop)
    assert len(faces) == 1
    side = crop.shape[0]
    assert crop.shape[:2] == (side, side) and 2.8 * faces[0].size <= side <= 3.2 * faces[0].size
    box = faces[0].bbox
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    assert np.all(np.abs(centre - side / 2) < 0.05 * side)


def _archive_with(tmp_path, data: bytes, member: str):
    archive = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(member, data)
    return archive


def test_a_fetch_takes_the_one_file_out_and_checks_its_sha256(tmp_path):
    data = locate(by_name("astronaut")).read_bytes()
    member = "pkg/data/face.png"
    archive = _archive_with(tmp_path, data, member)
    good = dataclasses.replace(
        by_name("luispedro"), name="face", member=member, sha256=hashlib.sha256(data).hexdigest()
    )
    cache = {(good.source, good.package, good.version): archive}
    out = tmp_path / "portraits"
    out.mkdir()
    assert fetch_one(good, out, cache).read_bytes() == data
    bad = dataclasses.replace(good, name="other", sha256="0" * 64)
    with pytest.raises(OSError, match="SHA-256"):
        fetch_one(bad, out, cache)
    assert not (out / "other.png").exists()
    with pytest.raises(KeyError):
        fetch_one(dataclasses.replace(good, member="pkg/absent.png"), out, cache)


def test_a_fetch_that_cannot_run_its_client_is_a_problem_line_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no npm to run, and no network used
    franck = by_name("franck")
    problems = fetch([by_name("astronaut"), franck], tmp_path)
    assert len(problems) == 1 and problems[0].startswith("franck: ")
    assert not (tmp_path / franck.file_name).exists()


def test_lip_opening_is_the_inner_lip_gap_over_the_eye_span():
    points = np.zeros((478, 3))
    points[33, :2], points[263, :2] = (100, 200), (200, 200)
    points[13, :2], points[14, :2] = (150, 300), (150, 307)
    assert lip_opening(points) == pytest.approx(0.07)
    assert np.isnan(lip_opening(np.zeros((478, 2))))


def test_real_photos_read_closed_and_open():
    assert frame_opening(load_photo(by_name("hopper"))) < CLOSED  # lips together
    assert frame_opening(load_photo(by_name("astronaut"))) > 2 * CLOSED  # a smile with teeth
    assert np.isnan(frame_opening(np.full((256, 256, 3), 90, np.uint8)))


def test_the_opening_follows_the_jaw_of_a_rendered_face():
    face, jaw = load_demo_face(), ARKIT_NAMES.index("jawOpen")
    openings = []
    for value in (0.0, 0.2, 0.5):
        weights = np.zeros(52)
        weights[jaw] = value
        openings.append(frame_opening(render(face, weights, size=(256, 256))))
    assert openings[0] < CLOSED < openings[1] < openings[2]


def test_bilabials_count_as_closed_when_the_mouth_shuts_inside_their_window():
    fps = 50.0
    phones = [
        Segment("SIL", 0.0, 0.2),
        Segment("M", 0.2, 0.3),
        Segment("AA", 0.3, 0.6),
        Segment("P", 0.6, 0.7),
        Segment("AA", 0.7, 1.0),
        Segment("B", 1.0, 1.1),
        Segment("AA", 1.1, 1.4),
    ]
    reference = Alignment(phones, duration=1.4)
    openings = np.full(70, 0.12)
    openings[12] = 0.01  # inside M (0.2-0.3 s = frames 10-15)
    openings[29] = 0.0  # P's window starts 20 ms early: frame 29 (0.58 s) counts
    openings[57] = np.nan  # B: no face there, and open elsewhere
    assert bilabial_closures(openings, reference, fps) == (2, 3)
    assert bilabial_closures(np.full(70, 0.0), reference, fps) == (3, 3)
    assert bilabial_closures(np.full(40, 0.0), reference, fps) == (2, 2)  # B is past the end


def test_correlation_skips_frames_without_a_face():
    curves = np.sin(np.linspace(0, 6, 50))
    video = 0.1 * curves + 0.3
    video[[3, 9]] = np.nan
    assert correlation(video, curves) == pytest.approx(1.0)
    assert np.isnan(correlation(np.full(50, 0.1), curves))


def test_video_frames_decodes_what_ffmpeg_wrote(tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    path = tmp_path / "clip.mp4"
    writer = imageio_ffmpeg.write_frames(str(path), (64, 48), fps=25, macro_block_size=16)
    writer.send(None)
    for k in range(10):
        writer.send(np.full((48, 64, 3), 20 * k, np.uint8).tobytes())
    writer.close()
    frames = list(video_frames(path))
    assert len(frames) == 10 and frames[0].shape == (48, 64, 3)
    assert abs(float(frames[9].mean()) - 180) < 6 and frames[0].mean() < frames[5].mean()
    with pytest.raises(OSError):
        list(video_frames(tmp_path / "absent.mp4"))


def test_each_measured_emotion_has_a_fer_class():
    assert [fer_class(e) for e in MEASURED] == [
        "neutral",
        "angry",
        "disgust",
        "fear",
        "happy",
        "sad",
        "surprise",
    ]
    assert fer_class("contempt") is None


def test_a_measured_clip_reads_the_written_video(tmp_path):
    # the first 2.5 s of hello.wav ("Hello! My name is Emma.": M twice) on the astronaut, end to
    # end: curves, write_video's MP4 decoded, mediapipe and the FER2013 classifier
    from emosync.evaluation.fer_classifier import FerClassifier
    from emosync.evaluation.portrait_eval import emotion_curves, measure_clip, reference_alignment

    root = Path(__file__).resolve().parents[1]
    clip, text = root / "examples" / "hello.wav", (root / "examples" / "hello.txt").read_text()
    curves = emotion_curves(clip, text.strip(), "happy").slice(0.0, 2.5)
    reference = reference_alignment(clip, text.strip())
    photo = head_crop(load_photo(by_name("astronaut")))
    out = tmp_path / "talk.mp4"
    r = measure_clip(
        photo, "astronaut", "happy", curves, reference, clip, out, FerClassifier(), 5, (30,)
    )
    assert out.is_file() and r.n_frames == curves.n_frames == r.openings.size == 75
    assert len(r.tops) == 15 and r.share >= 0.8  # she smiles in the photo and in the clip
    assert not np.isnan(r.openings).any() and r.lip_correlation > 0.8
    shut, total = r.closures
    assert total >= 2 and shut == total  # the M of "My" and of "Emma" at least
    assert set(r.stills) == {30} and r.stills[30].shape == (512, 512, 3)
    summary = r.summary()
    assert summary["frames"] == 75 and summary["cpu_s"] > 0 and summary["fps"] > 0

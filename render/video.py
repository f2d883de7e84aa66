"""Frames of a talking portrait from FaceCurves, and the H.264/AAC MP4 they make.

Per frame: the carried target fields and rotations give the landmarks (render/motion.py), the
photo is warped onto them (render/warp.py), and the mouth's inside is painted where the lips part
(render/mouth.py). ffmpeg (the static build imageio-ffmpeg ships) encodes the frames it is fed
through a pipe while the next ones are drawn, and muxes the voice in as AAC.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosync.atomic import atomic_open, atomic_set, check_writable
from emosync.errors import InputError
from emosync.exporters.preview import contact_sheet, write_png
from emosync.inference.audio import ffmpeg_exe
from emosync.inference.facecurves import FaceCurves
from emosync.inference.life import LOOK_PITCH_RANGE, LOOK_YAW_RANGE
from emosync.render.motion import EXPRESSION_GAIN, FaceMotion, face_motion
from emosync.render.mouth import MouthShape, paint_mouth
from emosync.render.portrait import Portrait
from emosync.render.warp import Warper, WarpMesh, build_mesh
from emosync.rigs import face_landmarks as lm
from emosync.rigs.channels import ARKIT_NAMES, ROTATION_NAMES
from emosync.rigs.demo_face import N_LANDMARKS, SKINLESS_UV, load_demo_face, wrinkle_darkening

MAX_SIZE = 1024  # the longer side of a video, pixels
MIN_SIZE = 64
MAX_FPS = 60.0
MAX_EXPRESSION_GAIN = 4.0  # beyond this the carried fields fold the face over
STRIP_FRAMES = 8
STRIP_HEIGHT = 256
WRINKLE_GAIN = 0.5  # a photo has its own shading: the demo face's wrinkles, lighter
WRINKLE_BLUR = 0.012  # and softer: blurred by this × the face's size

Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class VideoResult:
    path: Path
    n_frames: int
    fps: float
    width: int
    height: int
    seconds: float  # wall time of rendering and encoding
    strip: Path | None = None

    @property
    def frames_per_second(self) -> float:
        return self.n_frames / max(self.seconds, 1e-9)


def check_size(size: int | None) -> None:
    """InputError unless `size` is None or MIN_SIZE to MAX_SIZE pixels."""
    if size is not None and not MIN_SIZE <= int(size) <= MAX_SIZE:
        raise InputError(f"--size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")


def check_fps(fps: float) -> None:
    """InputError unless 0 < `fps` <= MAX_FPS."""
    if not 0 < fps <= MAX_FPS:
        raise InputError(f"--fps must be above 0 and at most {MAX_FPS:g}, got {fps:g}")


def check_expression_gain(gain: float) -> None:
    """InputError unless 0 <= `gain` <= MAX_EXPRESSION_GAIN."""
    if not 0 <= gain <= MAX_EXPRESSION_GAIN:
        raise InputError(
            f"--expression-gain must be between 0 and {MAX_EXPRESSION_GAIN:g}, got {gain:g}"
        )


def output_size(width: int, height: int, size: int | None = None) -> tuple[int, int]:
    """The video's width and height: the photo's aspect with the longer side `size` (default:
    the photo's own, capped at MAX_SIZE), both even (H.264 in 4:2:0 needs that)."""
    check_size(size)
    longer = int(size) if size is not None else min(max(width, height), MAX_SIZE)
    scale = longer / max(width, height)
    return (
        max(2, 2 * round(width * scale / 2)),
        max(2, 2 * round(height * scale / 2)),
    )


class PortraitRenderer:
    """One portrait at one output size, ready to draw frames."""

    def __init__(
        self,
        portrait: Portrait,
        size: int | None = None,
        keep_expression: bool = False,
        expression_gain: float = EXPRESSION_GAIN,
    ) -> None:
        check_expression_gain(expression_gain)
        width, height = output_size(portrait.width, portrait.height, size)
        self.portrait = portrait.scaled(width, height)
        expression = None if keep_expression else self.portrait.expression
        self.motion: FaceMotion = face_motion(
            self.portrait.points, expression, expression_gain=expression_gain
        )
        self.mesh: WarpMesh = build_mesh(self.portrait.points, width, height)
        self.warper = Warper(closed_mouth(self.portrait), self.mesh)
        self._tint = light_tint(self.portrait)
        self.face = load_demo_face()
        self._uv = np.full((len(self.mesh.source), 2), SKINLESS_UV)  # the rings: no skin
        if self.face.uv is not None:
            self._uv[:N_LANDMARKS] = self.face.uv[:N_LANDMARKS]
        ring = self.mesh.ring
        self._ring3 = np.concatenate([ring, np.full((len(ring), 1), self.motion.pivot[2])], 1)

    @property
    def size(self) -> tuple[int, int]:
        return self.portrait.width, self.portrait.height

    @property
    def head_box(self) -> tuple[int, int, int, int]:
        """A square x0, y0, x1, y1 around the head (inside the frame where it fits)."""
        oval = self.portrait.points[list(lm.FACE_OVAL), :2]
        centre = 0.5 * (oval.min(axis=0) + oval.max(axis=0))
        side = min(1.6 * float((oval.max(axis=0) - oval.min(axis=0)).max()), *self.size)
        x0, y0 = np.clip(np.round(centre - side / 2), 0, np.array(self.size) - side).astype(int)
        return int(x0), int(y0), int(x0 + side), int(y0 + side)

    def frame(self, weights: np.ndarray, rotations: np.ndarray) -> np.ndarray:
        """One RGB uint8 frame for ARKit `weights` [52] and `rotations` [9] (radians)."""
        motion, mesh = self.motion, self.mesh
        points = motion.pose(weights, rotations)
        dest = mesh.source.copy()
        dest[: mesh.n_face] = points[:, :2]
        turned = motion.rigid(self._ring3, rotations)[:, :2]
        ring = slice(mesh.n_face, mesh.n_face + len(mesh.ring))
        dest[ring] = mesh.ring + mesh.ring_follow[:, None] * (turned - mesh.ring)
        depth = np.full(len(dest), np.inf)
        depth[: mesh.n_face] = points[:, 2]
        depth[~np.isfinite(depth)] = points[:, 2].max() + 1e4
        image, ids = self.warper(dest, depth)
        self._wrinkle(image, ids, dest, weights)
        paint_mouth(image, self._mouth(points, weights, rotations))
        return image

    def _wrinkle(
        self, image: np.ndarray, ids: np.ndarray, dest: np.ndarray, weights: np.ndarray
    ) -> None:
        """Darken the skin by the demo face's wrinkle maps for this frame's weights (in place),
        read through the landmarks' place in the maps' frontal projection."""
        face = self.face
        if face.uv is None or not any(weights[k] > 1e-3 for k in face.wrinkle_targets):
            return
        import cv2

        blur = WRINKLE_BLUR * self.portrait.face_size
        step = max(1, int(blur))  # the shading is soft: read the maps on a coarser grid
        coarse = ids[::step, ::step]
        hit = coarse >= 0
        uv = self.warper.interpolate(coarse, dest, self._uv, step)[hit]
        dark = wrinkle_darkening(face, weights, uv)
        if not dark.any():
            return
        sharp = np.zeros(coarse.shape, np.float32)
        sharp[hit] = dark
        full = cv2.resize(sharp, ids.shape[::-1], interpolation=cv2.INTER_LINEAR)
        shade = cv2.GaussianBlur(full, (0, 0), blur)
        x0, y0, x1, y1 = self.mesh.box
        box = image[y0:y1, x0:x1].astype(np.float32) * (1.0 - WRINKLE_GAIN * shade[..., None])
        image[y0:y1, x0:x1] = np.clip(box + 0.5, 0, 255).astype(np.uint8)

    def _mouth(self, points: np.ndarray, weights: np.ndarray, rotations: np.ndarray) -> MouthShape:
        rest = self.motion.rest
        upper, lower = list(lm.LIP_INNER_UP), list(lm.LIP_INNER_LO)
        jaw = rest[lower] + self.motion.jaw_offset(weights)
        return MouthShape(
            upper_lip=points[upper, :2],
            lower_lip=points[lower, :2],
            upper_jaw=self.motion.rigid(rest[upper], rotations)[:, :2],
            lower_jaw=self.motion.rigid(jaw, rotations)[:, :2],
            width=self.motion.mouth_width,
            tongue_out=float(np.clip(weights[ARKIT_NAMES.index("tongueOut")], 0.0, 1.0)),
            tint=self._tint,
        )


def closed_mouth(portrait: Portrait) -> np.ndarray:
    """The photo with what shows between its parted lips (teeth, dark) painted over from the
    lips around (cv2.inpaint): the warp closes the lips at rest, and that squeezed into the
    seam would draw a dotted line."""
    import cv2

    upper, lower = list(lm.LIP_INNER_UP), list(lm.LIP_INNER_LO)
    polygon = np.concatenate([portrait.points[upper, :2], portrait.points[lower[-2:0:-1], :2]])
    mask = np.zeros(portrait.image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon * 16).astype(np.int32)], (255,), cv2.LINE_8, 4)
    if not mask.any():
        return portrait.image
    wider = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    return cv2.inpaint(portrait.image, wider, 3, cv2.INPAINT_TELEA)


def light_tint(portrait: Portrait) -> np.ndarray:
    """The colour of the light on the face [3] (max channel 1): the median of the cheeks'
    pixels, so the painted teeth and tongue sit in the photo's light."""
    samples = []
    for a, b in ((50, 205), (280, 425)):  # the cheeks: between the eye's foot and the jaw
        x0, y0 = np.floor(np.minimum(portrait.points[a, :2], portrait.points[b, :2])).astype(int)
        x1, y1 = np.ceil(np.maximum(portrait.points[a, :2], portrait.points[b, :2])).astype(int)
        patch = portrait.image[max(y0, 0) : max(y1, 1), max(x0, 0) : max(x1, 1)]
        samples.append(patch.reshape(-1, 3))
    pixels = np.concatenate(samples).astype(np.float64)
    if len(pixels) == 0:
        return np.ones(3)
    colour = np.median(pixels, axis=0) + 1.0
    return colour / colour.max()


def frame_channels(curves: FaceCurves) -> tuple[np.ndarray, np.ndarray]:
    """The ARKit weights [F, 52] and rotations [F, 9] of `curves`; eye rotations come from the
    eyeLook* weights (inference/life's ranges) where the curves carry none."""
    try:
        weights = curves.blendshapes()
    except ValueError:
        raise InputError(
            "a portrait is driven by ARKit curves; these have other channels "
            "(render curves written with --rig arkit)"
        ) from None
    rotations = np.zeros((curves.n_frames, len(ROTATION_NAMES)), dtype=np.float32)
    for k, name in enumerate(ROTATION_NAMES):
        if name in curves.channels:
            rotations[:, k] = curves.channel(name)
    if not rotations[:, 3:].any():
        w = {name: weights[:, ARKIT_NAMES.index(name)] for name in ARKIT_NAMES}
        for side, out, inward in (("Left", 1.0, -1.0), ("Right", -1.0, 1.0)):
            start = 3 if side == "Left" else 6
            yaw = out * w[f"eyeLookOut{side}"] + inward * w[f"eyeLookIn{side}"]
            pitch = w[f"eyeLookDown{side}"] - w[f"eyeLookUp{side}"]
            rotations[:, start] = yaw * LOOK_YAW_RANGE
            rotations[:, start + 1] = pitch * LOOK_PITCH_RANGE
    return weights, rotations


def render_frames(
    curves: FaceCurves,
    portrait: Portrait,
    size: int | None = None,
    keep_expression: bool = False,
    expression_gain: float = EXPRESSION_GAIN,
) -> Iterator[np.ndarray]:
    """RGB uint8 frames [H, W, 3] of `portrait` driven by `curves`, one per curve frame (at
    curves.fps). `size`: the longer side in pixels (default the photo's, at most MAX_SIZE).
    The photo's own mouth expression is undone at rest unless `keep_expression`;
    `expression_gain` scales the expression targets' fields (motion.EXPRESSION_TARGETS)."""
    weights, rotations = frame_channels(curves)
    renderer = PortraitRenderer(portrait, size, keep_expression, expression_gain)
    for i in range(curves.n_frames):
        yield renderer.frame(weights[i], rotations[i])


def _encoder(
    path: Path, width: int, height: int, fps: float, duration: float, audio: str | None
) -> list[str]:
    exe = ffmpeg_exe("writing a portrait video", "render")
    command = [exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}"]
    command += ["-framerate", f"{fps:g}", "-i", "pipe:0"]
    if audio is not None:
        command += ["-i", audio, "-map", "0:v:0", "-map", "1:a:0"]
        command += ["-c:a", "aac", "-b:a", "160k", "-af", "apad"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]
    command += ["-t", f"{duration:.6f}", "-movflags", "+faststart", "-f", "mp4", str(path)]
    return command


def write_video(
    curves: FaceCurves,
    portrait: Portrait,
    out_path: str | os.PathLike,
    audio_path: str | os.PathLike | None = None,
    size: int | None = None,
    progress: Progress | None = None,
    *,
    fps: float | None = None,
    strip: str | os.PathLike | None = None,
    force: bool = False,
    keep_expression: bool = False,
    expression_gain: float = EXPRESSION_GAIN,
) -> VideoResult:
    """Render `curves` on `portrait` into an H.264 MP4 at `out_path`, with `audio_path` muxed
    in as AAC from time 0 (cut or padded with silence to the curves' length), atomically.

    `fps` resamples the curves first (default: theirs; at most MAX_FPS); `strip` also writes a
    PNG of STRIP_FRAMES evenly spaced frames, cropped to the head; `progress` gets (frames done,
    frames); `keep_expression` keeps the photo's own mouth expression at rest;
    `expression_gain` scales the expression targets' fields (motion.EXPRESSION_TARGETS)."""
    out = check_writable(out_path, force=force)
    strip_path = check_writable(strip, force=force) if strip is not None else None
    if fps is not None:
        check_fps(fps)
        curves = curves.resample(fps) if fps != curves.fps else curves
    if curves.fps > MAX_FPS:
        raise InputError(f"{curves.fps:g} fps is more than a video takes ({MAX_FPS:g}): use --fps")
    if curves.n_frames == 0:
        raise InputError("the curves hold no frames")
    audio = _checked_audio(audio_path)
    started = time.monotonic()
    weights, rotations = frame_channels(curves)
    renderer = PortraitRenderer(portrait, size, keep_expression, expression_gain)
    width, height = renderer.size
    n = curves.n_frames
    keep = set(np.round(np.linspace(0, n, STRIP_FRAMES + 2)[1:-1]).astype(int).clip(0, n - 1))
    kept: list[np.ndarray] = []
    with tempfile.TemporaryDirectory(prefix="emosync-video-") as folder:
        encoded = Path(folder) / "video.mp4"
        command = _encoder(encoded, width, height, curves.fps, curves.duration, audio)
        log = Path(folder) / "ffmpeg.log"
        with log.open("wb") as errors:
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=errors)
            try:
                _feed(proc, renderer, weights, rotations, keep, kept, progress)
            finally:
                with contextlib.suppress(OSError):
                    proc.stdin.close()  # type: ignore[union-attr]
                code = proc.wait() if proc.poll() is None else proc.returncode
        if code != 0 or not encoded.is_file():
            raise InputError(f"ffmpeg could not write the video: {_last_line(log)}")
        with atomic_set():
            with encoded.open("rb") as src, atomic_open(out, "wb", force=force) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            if strip_path is not None:
                write_png(strip_path, strip_sheet(kept), force=force)
    return VideoResult(out, n, curves.fps, width, height, time.monotonic() - started, strip_path)


def _feed(
    proc: subprocess.Popen,
    renderer: PortraitRenderer,
    weights: np.ndarray,
    rotations: np.ndarray,
    keep: set[int],
    kept: list[np.ndarray],
    progress: Progress | None,
) -> None:
    """Draw every frame into ffmpeg's stdin; an ffmpeg that stops reading ends the loop."""
    n = len(weights)
    try:
        for i in range(n):
            image = renderer.frame(weights[i], rotations[i])
            if i in keep:
                x0, y0, x1, y1 = renderer.head_box
                kept.append(image[y0:y1, x0:x1])
            proc.stdin.write(image.tobytes())  # type: ignore[union-attr]
            if progress is not None:
                progress(float(i + 1), float(n))
    except BrokenPipeError:
        return  # ffmpeg failed: its log says why
    except BaseException:
        proc.kill()
        raise


def strip_sheet(frames: list[np.ndarray]) -> np.ndarray:
    """Frames side by side, each scaled to at most STRIP_HEIGHT pixels high."""
    import cv2

    height, width = frames[0].shape[:2]
    scale = min(1.0, STRIP_HEIGHT / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    tiles = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    return contact_sheet(tiles, cols=len(tiles))


def _checked_audio(audio_path: str | os.PathLike | None) -> str | None:
    if audio_path is None:
        return None
    from emosync.inference.audio import probe_audio

    probe_audio(audio_path)  # the same one-line errors as animate's for a bad file
    return str(audio_path)


def _last_line(log: Path) -> str:
    lines = [x for x in log.read_text(errors="replace").splitlines() if x.strip()]
    return lines[-1].strip() if lines else "no message"

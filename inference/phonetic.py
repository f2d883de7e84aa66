"""The phonetic engine's face: speech articulation from phone timing, the emotion pose on top,
composed. One definition for inference.pipeline (which adds life), evaluation.compare (the
engine and its teacher) and training/corpus/labels.py (the neural engine's training target)."""

from __future__ import annotations

import numpy as np

from emosync.inference.articulation import Articulation, articulate
from emosync.inference.compose import compose
from emosync.inference.emotion_layer import emotion_pose_frames
from emosync.inference.timed_phones import Alignment
from emosync.rigs.channels import N_BLENDSHAPES

TEACHER_BREATHE = 0.0  # the training target holds the emotion pose still (no breathing)


def phonetic_layers(
    alignment: Alignment, emotion: np.ndarray, fps: float, seed: int = 0, breathe: float = 1.0
) -> tuple[Articulation, np.ndarray]:
    """Articulation and the emotion pose [F × 52] for an emotion track [F × 7] at `fps`."""
    art = articulate(alignment, len(emotion), fps, emotion)
    return art, emotion_pose_frames(emotion, fps, seed=seed, breathe=breathe)


def phonetic_face(
    alignment: Alignment, emotion: np.ndarray, fps: float, seed: int = 0, breathe: float = 1.0
) -> tuple[np.ndarray, Articulation]:
    """The 52 weights [F × 52] with life off (no blinks, gaze or head), and the articulation."""
    art, pose = phonetic_layers(alignment, emotion, fps, seed, breathe)
    return compose(art, pose, np.zeros((art.n_frames, N_BLENDSHAPES), np.float32)), art


def teacher_face(
    alignment: Alignment, emotion: np.ndarray, fps: float, seed: int = 0
) -> tuple[np.ndarray, Articulation]:
    """The neural engine's training target: phonetic_face without breathing."""
    return phonetic_face(alignment, emotion, fps, seed, breathe=TEACHER_BREATHE)


def held(state: np.ndarray, n_frames: int) -> np.ndarray:
    """One emotion state [7] held for n_frames: an emotion track [n_frames × 7]."""
    return np.tile(np.asarray(state, dtype=np.float32), (n_frames, 1))

"""Print a hash of every engine's output on examples/hello.wav and of the eval numbers, so a
refactor can show that it changed nothing (same lines before and after).

    .venv/bin/python scripts/fingerprint.py

To fingerprint another checkout (say the commit before a change) put a folder holding a link
`emosync -> /path/to/checkout` first on PYTHONPATH; the first line names the tree it ran.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

import emosync
from emosync.inference.audio import load_audio
from emosync.inference.life import LifeSettings
from emosync.inference.pipeline import AnimateOptions, animate

ROOT = Path(emosync.__file__).resolve().parent
CLIP = ROOT / "examples" / "hello.wav"
TRANSCRIPT = (ROOT / "examples" / "hello.txt").read_text(encoding="utf-8").strip()
EMOTIONS = (None, "happy", "angry", "quietly furious", "sad and a little surprised")
PROMPTS = ("happy", "livid", "timid", "quietly furious", "sad and a little surprised", "")
TIMING_KEYS = {"seconds", "dir", "source_audio"}


def digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(np.ascontiguousarray(part).tobytes())
            h.update(str((part.dtype, part.shape)).encode())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def untimed(value: object) -> object:
    """A report without its timings and paths (they differ from run to run)."""
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value


def curves_lines() -> list[str]:
    lines = []
    audio = load_audio(CLIP)
    engines = (("phonetic+transcript", "phonetic", TRANSCRIPT),
               ("phonetic-recognition", "phonetic", None),
               ("neural", "neural", None))  # fmt: skip
    for label, engine, transcript in engines:
        for emotion in EMOTIONS:
            options = AnimateOptions(transcript=transcript, emotion=emotion, engine=engine)
            face = animate(audio, options)
            meta = untimed(face.metadata)
            lines.append(f"curves {label} {emotion!r}: {face.values.shape} "
                         f"values={digest(face.values)} meta={digest(meta)}")  # fmt: skip
    options = AnimateOptions(engine="neural", emotion="angry", fps=24.0, life=LifeSettings(0, 0, 0))
    face = animate(audio, options)
    lines.append(f"curves neural 24fps no-life: {face.values.shape} values={digest(face.values)}")
    return lines


def label_lines() -> list[str]:
    """training/corpus/labels.py's teacher curves (the neural engine's training target)."""
    from emosync.training.corpus.labels import make_labels

    samples = load_audio(CLIP).samples
    lines = []
    for emotion, intensity in (("neutral", 1.0), ("happy", 0.7), ("fear", 1.3)):
        labels = make_labels(samples, TRANSCRIPT, emotion, intensity, seed=3)
        lines.append(f"labels {emotion} {intensity}: {labels.curves.shape} "
                     f"{digest(labels.curves, labels.phones, labels.emotion)}")  # fmt: skip
    return lines


def emotion_lines() -> list[str]:
    from emosync.inference.emotion_condition import read_emotion

    lines = []
    for prompt in PROMPTS:
        reading = read_emotion(prompt)
        lines.append(f"emotion {prompt!r}: {np.round(reading.state, 4).tolist()} "
                     f"{digest(reading.state.astype(np.float64), reading.details)}")  # fmt: skip
    return lines


def eval_lines() -> list[str]:
    from emosync.evaluation.compare import compare_dir
    from emosync.evaluation.run import evaluate_dir

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(CLIP, Path(tmp) / "hello.wav")
        (Path(tmp) / "hello.txt").write_text(TRANSCRIPT + "\n", encoding="utf-8")
        plain = untimed(evaluate_dir(tmp, emotions="angry,happy"))
        both = untimed(compare_dir(tmp, emotions="angry,happy,sad"))
    pooled = both["engines"]
    summary = {e: round(pooled[e]["scores"]["neutral"]["l1_teacher"], 6) for e in pooled}
    return [f"eval run: {digest(plain)}", f"eval compare: {digest(both)} l1_teacher={summary}"]


def main() -> int:
    print(f"tree {ROOT}")
    for line in (*curves_lines(), *label_lines(), *emotion_lines(), *eval_lines()):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

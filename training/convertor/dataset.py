"""The speech corpus as training examples (contract: training/corpus/build.py writes it).

A corpus folder holds index.jsonl (each entry's "path" is "<set>/<id>") and, per clip,
<id>.wav (16 kHz mono), <id>.json and <id>.npz {curves [N, 55] at 50 fps, phones int16 [N],
emotion [7], text_id}. Log-mel features are computed
once per clip with emosync.inference.features.log_mel and cached beside the clip
(<id>.mel.npy). Training windows are random crops; when training/corpus/augment.py exists, a
share of the windows is augmented from the audio and its features recomputed.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from emosync.inference.audio import SAMPLE_RATE
from emosync.inference.features import log_mel

MEL_HOP = 160
FRAME_SAMPLES = 2 * MEL_HOP  # one 50 fps output frame


@dataclass
class Clip:
    id: str
    folder: Path
    meta: dict
    mel: np.ndarray  # float32 [2N, 80]
    curves: np.ndarray  # float32 [N, 55]
    phones: np.ndarray  # int64 [N]
    emotion: np.ndarray  # float32 [7]
    text_id: int

    @property
    def n_frames(self) -> int:
        return len(self.curves)

    def audio(self) -> np.ndarray:
        samples, sr = sf.read(self.folder / f"{self.id}.wav", dtype="float32", always_2d=False)
        if sr != SAMPLE_RATE:
            raise ValueError(f"{self.id}.wav is {sr} Hz, the corpus contract is {SAMPLE_RATE}")
        return samples


def read_index(folder: Path) -> list[dict]:
    """index.jsonl; a corpus still being built has none yet: then every labelled clip found."""
    index = folder / "index.jsonl"
    if not index.exists():
        return [_entry_of(meta, folder) for meta in sorted(folder.glob("*/*.json"))]
    lines = index.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _entry_of(meta: Path, root: Path) -> dict:
    entry = json.loads(meta.read_text(encoding="utf-8"))
    return {**entry, "path": str(meta.relative_to(root).with_suffix(""))}


def cached_mel(folder: Path, clip_id: str) -> np.ndarray:
    path = folder / f"{clip_id}.mel.npy"
    if path.exists():
        return np.load(path)
    samples, sr = sf.read(folder / f"{clip_id}.wav", dtype="float32", always_2d=False)
    if sr != SAMPLE_RATE:
        raise ValueError(f"{clip_id}.wav is {sr} Hz, the corpus contract is {SAMPLE_RATE}")
    mel = log_mel(samples).astype(np.float32)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, mel)
    tmp.replace(path)
    return mel


def load_clip(folder: Path, entry: dict) -> Clip:
    clip_id = str(entry["id"])
    labels = np.load(folder / f"{clip_id}.npz")
    mel = cached_mel(folder, clip_id)
    n = min(len(labels["curves"]), len(mel) // 2)
    return Clip(
        id=clip_id,
        folder=folder,
        meta=entry,
        mel=mel[: 2 * n],
        curves=labels["curves"][:n].astype(np.float32),
        phones=labels["phones"][:n].astype(np.int64),
        emotion=np.asarray(labels["emotion"], dtype=np.float32).reshape(7),
        text_id=int(labels["text_id"]),
    )


def load_corpus(
    folder: str | Path, splits: tuple[str, ...] = ("train",), skip: frozenset[str] = frozenset()
) -> list[Clip]:
    """Every clip of the listed splits (a clip without a split counts as train), except the ids
    in `skip` (clips already loaded, when a corpus still being built is scanned again)."""
    root = Path(folder)
    clips = []
    for entry in read_index(root):
        if entry.get("split", "train") not in splits or str(entry["id"]) in skip:
            continue
        if not entry.get("kept", True):  # a real-speech clip its build's filter dropped
            continue
        sub = (root / entry["path"]).parent if "path" in entry else root
        if not (sub / f"{entry['id']}.npz").exists():
            sub = _find_clip_folder(root, str(entry["id"]))
        clip = load_clip(sub, entry)
        clip.meta["corpus"] = str(root)
        if clip.n_frames >= 4:
            clips.append(clip)
    return clips


def _find_clip_folder(root: Path, clip_id: str) -> Path:
    hits = list(root.rglob(f"{clip_id}.npz"))
    if not hits:
        raise FileNotFoundError(f"clip {clip_id} is in {root}/index.jsonl but has no .npz")
    return hits[0].parent


def load_augment() -> Callable | None:
    """training/corpus/augment.py's augment(samples, sr, rng, strength), when it exists."""
    try:
        module = importlib.import_module("emosync.training.corpus.augment")
    except ImportError:
        return None
    return getattr(module, "augment", None)


def mel_stats(clips: list[Clip]) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin mean and standard deviation of the log-mel over all clips."""
    total = np.zeros(80)
    square = np.zeros(80)
    count = 0
    for clip in clips:
        total += clip.mel.sum(0)
        square += np.square(clip.mel.astype(np.float64)).sum(0)
        count += len(clip.mel)
    mean = total / max(count, 1)
    std = np.sqrt(np.maximum(square / max(count, 1) - mean**2, 1e-6))
    return mean.astype(np.float32), std.astype(np.float32)


@dataclass
class Batch:
    mel: torch.Tensor  # [B, 2L, 80]
    curves: torch.Tensor  # [B, L, 55]
    phones: torch.Tensor  # [B, L]
    emotion: torch.Tensor  # [B, 7] clip state
    text_id: torch.Tensor  # [B]
    mask: torch.Tensor  # [B, L]

    def frame_emotion(self) -> torch.Tensor:
        return self.emotion[:, None, :].expand(-1, self.curves.shape[1], -1)


class WindowSampler:
    """Random training windows of `frames` output frames; batches pair clips of one text.

    `shares` ({corpus root: share}) draws each window's clip first by the corpus it came from
    (clip.meta["corpus"], set by train.py), so a small real-speech corpus is not drowned by a
    large synthetic one; without it every clip is equally likely."""

    def __init__(
        self,
        clips: list[Clip],
        frames: int,
        rng: np.random.Generator,
        augment: Callable | None = None,
        augment_share: float = 0.3,
        augment_strength: float = 1.0,
        shares: dict[str, float] | None = None,
    ):
        self.frames = frames
        self.rng = rng
        self.augment = augment
        self.augment_share = augment_share
        self.augment_strength = augment_strength
        self.shares = shares
        self.by_text: dict[int, list[int]] = {}
        self.clips = []
        self.probability: np.ndarray | None = None
        self.add(clips)

    def add(self, clips: list[Clip]) -> None:
        """More clips (a corpus that grows while training runs)."""
        for clip in clips:
            self.by_text.setdefault(clip.text_id, []).append(len(self.clips))
            self.clips.append(clip)
        if self.shares:
            groups = [str(c.meta.get("corpus", "")) for c in self.clips]
            counts = {g: groups.count(g) for g in set(groups)}
            weight = np.array([self.shares.get(g, 0.0) / counts[g] for g in groups])
            if weight.sum() <= 0:
                raise ValueError(f"no clips in the corpora given shares: {sorted(self.shares)}")
            self.probability = weight / weight.sum()

    def batch(self, size: int, audio: bool = True) -> Batch:
        """`size` windows; audio=False skips augmentation (for models that read curves only)."""
        chosen: list[int] = []
        while len(chosen) < size:
            if self.probability is None:
                first = int(self.rng.integers(len(self.clips)))
            else:
                first = int(self.rng.choice(len(self.clips), p=self.probability))
            chosen.append(first)
            partners = [j for j in self.by_text[self.clips[first].text_id] if j != first]
            if partners and len(chosen) < size:
                chosen.append(int(self.rng.choice(partners)))
        return collate([self.window(self.clips[i], audio) for i in chosen], self.frames)

    def window(self, clip: Clip, audio: bool = True) -> tuple[np.ndarray, ...]:
        n = clip.n_frames
        length = min(self.frames, n)
        start = int(self.rng.integers(0, n - length + 1))
        stop = start + length
        curves, phones = clip.curves[start:stop], clip.phones[start:stop]
        if audio and self.augment is not None and self.rng.random() < self.augment_share:
            mel = self._augmented_mel(clip, start, length)
        else:
            mel = clip.mel[2 * start : 2 * stop]
        return mel, curves, phones, clip.emotion, clip.text_id

    def _augmented_mel(self, clip: Clip, start: int, length: int) -> np.ndarray:
        audio = clip.audio()[start * FRAME_SAMPLES : (start + length) * FRAME_SAMPLES]
        out = np.asarray(
            self.augment(audio, SAMPLE_RATE, self.rng, self.augment_strength), dtype=np.float32
        )
        mel = log_mel(out)
        if len(out) == len(audio):  # 2·length + 1 frames: the last is centred past the window
            return mel[: 2 * length].astype(np.float32)
        if len(mel) != 2 * length:  # a speed change: map the features back onto the labels
            pick = np.clip(np.round(np.linspace(0, len(mel) - 1, 2 * length)), 0, len(mel) - 1)
            mel = mel[pick.astype(int)]
        return mel.astype(np.float32)


def collate(items: list[tuple[np.ndarray, ...]], frames: int) -> Batch:
    b = len(items)
    mel = np.zeros((b, 2 * frames, 80), dtype=np.float32)
    mel[:] = -100.0  # padding is silence in dB
    curves = np.zeros((b, frames, items[0][1].shape[1]), dtype=np.float32)
    phones = np.zeros((b, frames), dtype=np.int64)
    mask = np.zeros((b, frames), dtype=np.float32)
    for i, (m, c, p, _, _) in enumerate(items):
        n = len(c)
        mel[i, : 2 * n] = m
        curves[i, :n] = c
        phones[i, :n] = p
        mask[i, :n] = 1.0
    return Batch(
        mel=torch.from_numpy(mel),
        curves=torch.from_numpy(curves),
        phones=torch.from_numpy(phones),
        emotion=torch.from_numpy(np.stack([it[3] for it in items])),
        text_id=torch.tensor([it[4] for it in items]),
        mask=torch.from_numpy(mask),
    )


def full_clip_batch(clip: Clip) -> Batch:
    """One whole clip as a batch of one (validation)."""
    item = (clip.mel, clip.curves, clip.phones, clip.emotion, clip.text_id)
    return collate([item], clip.n_frames)

"""CLIP as the alternative emotion encoder: a user's open_clip towers aligned to our space.

`training/clip_head.py` turns a local open_clip checkpoint into a folder holding
emotion_clip_text.onnx, emotion_clip_image.onnx, clip_tokenizer.json and MANIFEST.json. Point
EmoSync at that folder (`--clip DIR` on the CLI, or the EMOSYNC_CLIP environment variable) and
prompts are read by CLIP's text tower, reference photos by its image tower; both land in the same
seven-emotion space as the MiniLM encoder. Runs on onnxruntime + tokenizers (+ Pillow for
photos), never torch or open_clip.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from emosync.errors import InputError
from emosync.inference.onnx_model import check_emotions, load_model, load_tokenizer
from emosync.rigs.emotions import clip_state

TEXT_FILE, IMAGE_FILE = "emotion_clip_text.onnx", "emotion_clip_image.onnx"
TEXT_KIND, IMAGE_KIND = "emotion_clip_text", "emotion_clip_image"
ENV = "EMOSYNC_CLIP"
MIN_IMAGE_PX = 16


def clip_folder(chosen: str | Path | None = None) -> Path | None:
    """The CLIP folder to read prompts and photos with: `chosen` (a caller's --clip), else
    $EMOSYNC_CLIP, else None (the shipped encoders)."""
    if chosen is not None:
        path = Path(chosen).expanduser()
        if not path.is_dir():
            raise InputError(f"CLIP model folder not found: {path}")
        return path
    env = os.environ.get(ENV, "").strip()
    if not env:
        return None
    path = Path(env).expanduser()
    if not path.is_dir():
        raise InputError(f"{ENV}={env} is not a folder")
    return path


class ClipTextEncoder:
    """CLIP's text tower + head; `run` has the same contract as emotion_text.TextEncoder."""

    def __init__(self, folder: str | Path) -> None:
        self.model = check_emotions(load_model(Path(folder) / TEXT_FILE, TEXT_KIND))
        self.context = int(self.model.metadata.get("context_length", "77"))
        tokenizer_path = self.model.path.parent / self.model.metadata.get(
            "tokenizer_file", "clip_tokenizer.json"
        )
        self.tokenizer = load_tokenizer(tokenizer_path, self.context)
        # CLIP pools at the end-of-text token, found as the largest id: pad with 0, to full length
        self.tokenizer.enable_padding(pad_id=0, pad_token="!", length=self.context)

    def tokens(self, texts: list[str]) -> np.ndarray:
        return np.array([e.ids for e in self.tokenizer.encode_batch(list(texts))], dtype=np.int64)

    def run(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(states float64[n, 7], confidences float64[n]) for non-empty texts."""
        states, conf = self.model.run({"tokens": self.tokens(texts)})
        return clip_state(states), np.asarray(conf, dtype=np.float64).reshape(-1)


class ClipImageEncoder:
    """CLIP's image tower + head, with open_clip's preprocessing (resize, centre crop, norm)."""

    def __init__(self, folder: str | Path) -> None:
        self.model = check_emotions(load_model(Path(folder) / IMAGE_FILE, IMAGE_KIND))
        self.size = int(self.model.metadata.get("image_size", "224"))
        self.mean = np.asarray(self.model.meta_json("mean"), dtype=np.float32)
        self.std = np.asarray(self.model.meta_json("std"), dtype=np.float32)

    def pixels(self, path: str | Path) -> np.ndarray:
        """[1, 3, size, size] float32: shorter side resized (bicubic), centre crop, normalised."""
        image = open_rgb(path)
        width, height = image.size
        short, long = sorted((width, height))
        # as torchvision's Resize(int): the shorter side becomes size, the longer is truncated
        other = max(self.size, int(self.size * long / short))
        resized = (self.size, other) if width <= height else (other, self.size)
        from PIL import Image

        image = image.resize(resized, Image.Resampling.BICUBIC)
        left = int(round((resized[0] - self.size) / 2.0))
        top = int(round((resized[1] - self.size) / 2.0))
        image = image.crop((left, top, left + self.size, top + self.size))
        rgb = np.asarray(image, dtype=np.float32) / 255.0
        return ((rgb - self.mean) / self.std).transpose(2, 0, 1)[None].astype(np.float32)

    def read(self, path: str | Path) -> tuple[np.ndarray, float]:
        """(state float64[7], confidence) of a photo."""
        states, conf = self.model.run({"pixels": self.pixels(path)})
        return clip_state(states)[0], float(np.asarray(conf).reshape(-1)[0])


def open_rgb(path: str | Path):
    """A PIL RGB image, or a one-line InputError for a missing, unreadable or tiny file."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise InputError("reading a photo with CLIP needs Pillow: pip install pillow") from None
    path = Path(path)
    if not path.is_file():
        raise InputError(f"image not found: {path}")
    try:
        with Image.open(path) as img:
            img.load()
            image = img.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise InputError(f"{path} is not an image that can be read") from None
    if min(image.size) < MIN_IMAGE_PX:
        raise InputError(f"image {path} is {image.size[0]}×{image.size[1]} px; too small")
    return image


@lru_cache(maxsize=2)
def text_encoder(folder: Path) -> ClipTextEncoder:
    """The CLIP text tower of `folder`, loaded once per process."""
    return ClipTextEncoder(folder)


@lru_cache(maxsize=2)
def image_encoder(folder: Path) -> ClipImageEncoder:
    """The CLIP image tower of `folder`, loaded once per process."""
    return ClipImageEncoder(folder)

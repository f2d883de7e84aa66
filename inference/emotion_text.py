"""Words -> emotion state, with the learned text encoder (MiniLM + head, one ONNX graph).

Runs on numpy + onnxruntime + tokenizers only. How it combines with rigs.emotions:

- `text_emotion(prompt)` splits the prompt on '+'. A term that rigs.emotions.parse_emotion reads
  completely (preset names, its word list with degree words, "0.6 happy", "70% angry") is taken
  from it exactly. Any other term ("quietly furious", "not happy at all", "gobsmacked") goes to
  the learned encoder; a leading weight ("0.5 quietly furious") still multiplies it.
- `encode_text(prompt)` is the learned encoder alone.
- Empty text, text with no known English word besides degree words and fillers ("flibbertigibbet",
  "xyzzy-not-an-emotion-42", "the"), or text the encoder does not read as a feeling (confidence
  below 0.5) gives the neutral state and a warning instead of a guess; `animate` refuses it
  (check_feeling). A negative amount ("-0.5 happy") is an InputError: mixtures are sums of
  non-negative amounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from emosync.errors import InputError
from emosync.inference.onnx_model import (
    Model,
    asset_path,
    check_emotions,
    load_model,
    load_tokenizer,
)
from emosync.inference.word_vectors import WORD, WordVectors
from emosync.rigs.emotions import (
    EMOTIONS,
    NON_FEELING_WORDS,
    clip_state,
    mixture_terms,
    neutral,
    parse_emotion,
    parse_intensity,
    split_amount,
)

KIND = "emotion_text"
MODEL_FILE = "emotion_text.onnx"
RELEVANT = 0.5  # below this confidence the text is not about a feeling
WORDS_FILE = "words.npz"
# A word this frequent carries no meaning of its own ("the" 0.001, "not" 0.03, "so" 0.085);
# the table's weights fall with a word's frequency ("very" 0.16, "good" 0.17, "sad" 0.83).
CONTENT_WEIGHT = 0.1
_NEGATIVE = re.compile(r"(?<![\w.])[-\u2212]\s*(\d|\.\d)")


@dataclass
class TextReading:
    state: np.ndarray  # float64[7] in EMOTIONS order
    confidence: float  # 1.0 for exact parses; the encoder's relevance otherwise
    warnings: list[str] = field(default_factory=list)
    source: str = "model"  # "exact", "model", "mixed" or "none"

    def to_dict(self) -> dict:
        return {
            "emotion": {n: round(float(v), 4) for n, v in zip(EMOTIONS, self.state, strict=True)},
            "confidence": round(float(self.confidence), 4),
            "source": self.source,
            "warnings": list(self.warnings),
        }


class TextEncoder:
    """The exported text encoder and its tokenizer, both checked against MANIFEST.json."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.model: Model = check_emotions(load_model(path or asset_path(MODEL_FILE), KIND))
        folder, meta = self.model.path.parent, self.model.metadata
        self.tokenizer = load_tokenizer(
            folder / meta.get("tokenizer", "tokenizer.json"), int(meta.get("max_length", "128"))
        )
        words = meta.get("word_vectors")  # models trained with word vectors beside MiniLM
        self.words = WordVectors.load(folder / words) if words else None

    def feeds(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The graph's inputs for `texts`: token ids, mask and (when it reads them) word vectors."""
        encodings = self.tokenizer.encode_batch(list(texts))
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }
        if self.words is not None:
            feeds["word_vector"] = self.words.vectors(list(texts))
        return feeds

    def run(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(states float64[n, 7], confidences float64[n]) for non-empty texts."""
        states, conf = self.model.run(self.feeds(texts))
        return clip_state(states), np.asarray(conf, dtype=np.float64).reshape(-1)


class Encoder(Protocol):
    def run(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]: ...


@lru_cache(maxsize=2)
def default_encoder(path: str | None = None) -> TextEncoder:
    """The shipped text emotion encoder (or the one at `path`), loaded once."""
    return TextEncoder(path)


def active_encoder(clip: str | Path | None = None) -> Encoder:
    """CLIP's text tower when a CLIP folder is chosen (`clip`, else $EMOSYNC_CLIP), else the
    shipped MiniLM encoder."""
    from emosync.inference.emotion_clip import clip_folder, text_encoder

    folder = clip_folder(clip)
    return text_encoder(folder) if folder is not None else default_encoder()


def encode_text(
    prompt: str, encoder: Encoder | None = None, clip: str | Path | None = None
) -> TextReading:
    """The learned encoder's reading of `prompt` (neutral + a warning for empty/unrelated)."""
    text = prompt.strip() if isinstance(prompt, str) else ""
    if not text:
        return TextReading(neutral(), 0.0, ["empty emotion prompt; using neutral"], "none")
    encoder = encoder or active_encoder(clip)
    if not names_a_word(text, getattr(encoder, "words", None)):
        warning = f"'{_short(text)}' has no word that could name a feeling; using neutral"
        return TextReading(neutral(), 0.0, [warning], "none")
    states, conf = encoder.run([text])
    if conf[0] < RELEVANT:
        warning = f"'{_short(text)}' does not describe an emotion; using neutral"
        return TextReading(neutral(), float(conf[0]), [warning], "none")
    return TextReading(states[0], float(conf[0]), [], "model")


def text_emotion(
    prompt: str,
    intensity: float | str = 1.0,
    encoder: Encoder | None = None,
    clip: str | Path | None = None,
) -> TextReading:
    """The emotion state of a prompt: exact where rigs.emotions reads it, learned elsewhere
    (by `encoder`, else the CLIP text tower in `clip`, else the shipped encoder)."""
    gain = parse_intensity(intensity)
    if not isinstance(prompt, str) or not prompt.strip():
        return TextReading(neutral(), 0.0, ["empty emotion prompt; using neutral"], "none")
    if _NEGATIVE.search(prompt):
        raise InputError(
            f"'{_short(prompt.strip())}' has a negative amount; amounts are 0 to 1.5 "
            "(mixtures add emotions, e.g. '0.6 happy + 0.3 surprised')"
        )
    total, confidence, warnings, sources = neutral(), 1.0, [], set()
    for term in mixture_terms(prompt):
        reading = _read_term(term, encoder, clip)
        total += reading.state
        confidence = min(confidence, reading.confidence)
        warnings += reading.warnings
        sources.add(reading.source)
    sources.discard("none")
    source = sources.pop() if len(sources) == 1 else ("mixed" if sources else "none")
    return TextReading(clip_state(total * gain), confidence, warnings, source)


def _read_term(term: str, encoder: Encoder | None, clip: str | Path | None) -> TextReading:
    try:
        return TextReading(parse_emotion(term), 1.0, [], "exact")
    except InputError:
        pass
    weight, rest = split_amount(term)
    reading = encode_text(rest, encoder, clip)
    reading.state = reading.state * weight
    return reading


@lru_cache(maxsize=1)
def shipped_words() -> WordVectors | None:
    """The shipped word table (None where it is not installed)."""
    path = asset_path(WORDS_FILE)
    return WordVectors.load(path) if path.is_file() else None


def names_a_word(text: str, words: WordVectors | None = None) -> bool:
    """Whether `text` holds a known English word that is not a degree word, filler or one of
    the most frequent words: gibberish and "not an emotion" name no feeling. Without a word
    table every text passes (the encoder's relevance decides alone)."""
    words = words if words is not None else shipped_words()
    if words is None:
        return True
    for found in WORD.findall(text.lower()):
        word = found.strip("'")
        i = words.index.get(word)
        if i is not None and word not in NON_FEELING_WORDS and words.weights[i] >= CONTENT_WEIGHT:
            return True
    return False


def _short(text: str, limit: int = 40) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def check_feeling(prompt: str, confidence: float) -> None:
    """Refuse a prompt that does not describe a feeling where one is required (animating with it
    would silently drop what the user asked for; `emosync emotion` only warns)."""
    if confidence < RELEVANT:
        raise InputError(
            f"'{_short(prompt)}' does not describe a feeling; use a preset such as happy or sad, "
            "a mixture like '0.6 happy + 0.3 surprised', or words like 'quietly furious'"
        )

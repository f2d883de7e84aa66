"""The seven-emotion space of DESIGN.md: neutral at the origin, one non-negative axis per emotion.

An emotion state is a float 7-vector in EMOTIONS order; each entry is that emotion's intensity
(0 = none, 1 = full, up to MAX_INTENSITY = exaggerated). Mixtures are sums, clipped per entry.
This module turns the words people type ("slightly sad", "0.6 happy + 0.3 surprised", "70%
angry", "furious") into such a vector.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np

from emosync.errors import InputError

EMOTIONS: tuple[str, ...] = ("angry", "contempt", "disgusted", "fear", "happy", "sad", "surprised")
N_EMOTIONS = len(EMOTIONS)
MAX_INTENSITY = 1.5

_AXIS = {name: i for i, name in enumerate(EMOTIONS)}

# Each word maps to a base mixture {emotion: intensity}; the presets themselves are 1.0.
_WORDS: dict[str, dict[str, float]] = {
    # angry
    "angry": {"angry": 1.0}, "anger": {"angry": 1.0}, "mad": {"angry": 0.9},
    "furious": {"angry": 1.3}, "enraged": {"angry": 1.4}, "raging": {"angry": 1.4},
    "livid": {"angry": 1.3}, "irate": {"angry": 1.1}, "irritated": {"angry": 0.5},
    "annoyed": {"angry": 0.45}, "frustrated": {"angry": 0.6, "sad": 0.15},
    "cross": {"angry": 0.55}, "grumpy": {"angry": 0.4, "contempt": 0.1},
    "hostile": {"angry": 0.9, "contempt": 0.2}, "outraged": {"angry": 1.2, "surprised": 0.2},
    "indignant": {"angry": 0.7, "contempt": 0.3}, "aggressive": {"angry": 1.0},
    "resentful": {"angry": 0.5, "contempt": 0.3}, "fed up": {"angry": 0.5, "sad": 0.2},
    # contempt
    "contempt": {"contempt": 1.0}, "contemptuous": {"contempt": 1.0},
    "scornful": {"contempt": 1.0}, "scorn": {"contempt": 1.0},
    "disdainful": {"contempt": 0.9}, "disdain": {"contempt": 0.9},
    "smug": {"contempt": 0.7, "happy": 0.3}, "sneering": {"contempt": 0.9, "disgusted": 0.2},
    "condescending": {"contempt": 0.7}, "sarcastic": {"contempt": 0.6, "happy": 0.2},
    "arrogant": {"contempt": 0.7}, "dismissive": {"contempt": 0.6},
    "skeptical": {"contempt": 0.35}, "sceptical": {"contempt": 0.35},
    "unimpressed": {"contempt": 0.45},
    # disgusted
    "disgusted": {"disgusted": 1.0}, "disgust": {"disgusted": 1.0},
    "grossed out": {"disgusted": 1.0}, "repulsed": {"disgusted": 1.2},
    "revolted": {"disgusted": 1.2}, "sickened": {"disgusted": 1.1},
    "nauseated": {"disgusted": 0.9}, "repelled": {"disgusted": 0.9},
    "appalled": {"disgusted": 0.8, "surprised": 0.3}, "icked out": {"disgusted": 0.8},
    "horrified": {"fear": 1.1, "disgusted": 0.4, "surprised": 0.3},
    # fear
    "fear": {"fear": 1.0}, "fearful": {"fear": 1.0}, "afraid": {"fear": 0.9},
    "scared": {"fear": 0.9}, "frightened": {"fear": 1.0}, "terrified": {"fear": 1.4},
    "petrified": {"fear": 1.4}, "panicked": {"fear": 1.3, "surprised": 0.2},
    "anxious": {"fear": 0.5}, "nervous": {"fear": 0.45}, "worried": {"fear": 0.4, "sad": 0.2},
    "uneasy": {"fear": 0.35}, "tense": {"fear": 0.3, "angry": 0.2}, "alarmed": {"fear": 0.7,
    "surprised": 0.4}, "apprehensive": {"fear": 0.4}, "timid": {"fear": 0.3},
    "on edge": {"fear": 0.45},
    # happy
    "happy": {"happy": 1.0}, "happiness": {"happy": 1.0}, "joy": {"happy": 1.1},
    "joyful": {"happy": 1.1}, "cheerful": {"happy": 0.9}, "glad": {"happy": 0.7},
    "pleased": {"happy": 0.6}, "content": {"happy": 0.4}, "smiling": {"happy": 0.8},
    "delighted": {"happy": 1.2}, "elated": {"happy": 1.3}, "ecstatic": {"happy": 1.4},
    "thrilled": {"happy": 1.2, "surprised": 0.3}, "excited": {"happy": 1.0, "surprised": 0.3},
    "overjoyed": {"happy": 1.4}, "amused": {"happy": 0.7}, "playful": {"happy": 0.6},
    "friendly": {"happy": 0.45}, "warm": {"happy": 0.4}, "proud": {"happy": 0.6,
    "contempt": 0.1}, "relieved": {"happy": 0.5}, "grateful": {"happy": 0.6},
    "hopeful": {"happy": 0.4}, "calm": {"happy": 0.15}, "relaxed": {"happy": 0.2},
    "loving": {"happy": 0.7}, "laughing": {"happy": 1.3},
    "bittersweet": {"happy": 0.5, "sad": 0.5}, "nostalgic": {"happy": 0.35, "sad": 0.35},
    # sad
    "sad": {"sad": 1.0}, "sadness": {"sad": 1.0}, "unhappy": {"sad": 0.8},
    "gloomy": {"sad": 0.7}, "depressed": {"sad": 1.2}, "miserable": {"sad": 1.2},
    "sorrowful": {"sad": 1.1}, "grieving": {"sad": 1.3}, "heartbroken": {"sad": 1.4},
    "melancholy": {"sad": 0.6}, "melancholic": {"sad": 0.6}, "down": {"sad": 0.5},
    "blue": {"sad": 0.5}, "disappointed": {"sad": 0.6, "angry": 0.1},
    "hurt": {"sad": 0.7, "angry": 0.1}, "lonely": {"sad": 0.7}, "tearful": {"sad": 1.1},
    "crying": {"sad": 1.3}, "despairing": {"sad": 1.3, "fear": 0.2}, "tired": {"sad": 0.3},
    "bored": {"sad": 0.25, "contempt": 0.15}, "ashamed": {"sad": 0.6, "fear": 0.2},
    "guilty": {"sad": 0.5, "fear": 0.2}, "embarrassed": {"sad": 0.3, "fear": 0.3},
    "sorry": {"sad": 0.5}, "regretful": {"sad": 0.6},
    # surprised
    "surprised": {"surprised": 1.0}, "surprise": {"surprised": 1.0},
    "astonished": {"surprised": 1.2}, "amazed": {"surprised": 1.1, "happy": 0.2},
    "shocked": {"surprised": 1.3, "fear": 0.2}, "stunned": {"surprised": 1.2},
    "startled": {"surprised": 1.0, "fear": 0.3}, "astounded": {"surprised": 1.3},
    "dumbfounded": {"surprised": 1.1}, "in awe": {"surprised": 0.8, "happy": 0.3},
    "awed": {"surprised": 0.8, "happy": 0.3}, "curious": {"surprised": 0.3},
    "confused": {"surprised": 0.35, "fear": 0.1}, "puzzled": {"surprised": 0.3},
    "intrigued": {"surprised": 0.35, "happy": 0.15},
    "disbelieving": {"surprised": 0.7, "contempt": 0.2},
    # neutral
    "neutral": {}, "none": {}, "calm neutral": {}, "expressionless": {}, "blank": {},
    "deadpan": {}, "indifferent": {},
}  # fmt: skip

# Degree words multiply what follows them ("slightly sad" ≈ 0.35 sad).
_MODIFIERS: dict[str, float] = {
    "barely": 0.2, "faintly": 0.25, "slightly": 0.35, "a tiny bit": 0.25, "a little bit": 0.35,
    "a little": 0.4, "a bit": 0.4, "a touch": 0.35, "mildly": 0.45, "kind of": 0.5,
    "kinda": 0.5, "sort of": 0.5, "somewhat": 0.6, "moderately": 0.7, "fairly": 0.7,
    "rather": 0.8, "pretty": 0.85, "quite": 0.9, "clearly": 1.0, "really": 1.25, "very": 1.3,
    "so": 1.25, "deeply": 1.3, "truly": 1.25, "highly": 1.3, "super": 1.4, "totally": 1.4,
    "extremely": 1.5, "incredibly": 1.5, "intensely": 1.5, "absolutely": 1.5,
    "utterly": 1.5, "completely": 1.5, "overwhelmingly": 1.5,
}  # fmt: skip

# Words that carry no emotion and are skipped ("feeling a bit sad", "a happy face").
_FILLER = frozenset(
    {"feeling", "feels", "feel", "looking", "looks", "sounding", "sounds", "i", "am", "i'm",
     "im", "is", "be", "being", "face", "expression", "mood", "voice", "tone", "with", "of",
     "a", "an", "the", "and", "but", "also", "emotion", "emotional"}
)  # fmt: skip

# Words that are no feeling by themselves: degree words and fillers ("very", "feeling").
NON_FEELING_WORDS: frozenset[str] = frozenset(_FILLER | set(_MODIFIERS))

_SPLIT = re.compile(r"\s*(?:\+|,|;|&|\band\b|\bwith\b|\bbut\b)\s*")
_NUMBER = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*(%?)$")
_LEADING_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(%?)\s*\*?\s*(?=\D)")
_PHRASES = sorted((k for k in (*_WORDS, *_MODIFIERS) if " " in k), key=len, reverse=True)
_EXAMPLE = "'0.6 happy + 0.3 surprised'"


def neutral() -> np.ndarray:
    """The neutral emotion state: all seven intensities 0."""
    return np.zeros(N_EMOTIONS, dtype=np.float64)


def emotion_state(name: str, intensity: float = 1.0) -> np.ndarray:
    """float32 [7]: the emotion `name` (one of EMOTIONS) at `intensity`; "neutral" is zeros."""
    state = np.zeros(N_EMOTIONS, dtype=np.float32)
    if name != "neutral":
        state[EMOTIONS.index(name)] = intensity
    return state


def clip_state(state: np.ndarray) -> np.ndarray:
    """Clip every entry into [0, MAX_INTENSITY] (the last axis is the emotion axis)."""
    return np.clip(np.asarray(state, dtype=np.float64), 0.0, MAX_INTENSITY)


def mix(*states: np.ndarray) -> np.ndarray:
    """The sum of several states, clipped per entry."""
    total = neutral()
    for s in states:
        total = total + np.asarray(s, dtype=np.float64)
    return clip_state(total)


def from_mapping(mapping: Mapping[str, float]) -> np.ndarray:
    """`{"happy": 0.6, "surprised": 0.3}` -> state. Keys may be presets or synonyms."""
    state = neutral()
    for key, value in mapping.items():
        weight = parse_intensity(value, what=f"intensity of '{key}'")
        state += weight * _word_state(str(key).strip().lower())
    return clip_state(state)


def parse_emotion(text: str, intensity: float = 1.0) -> np.ndarray:
    """Parse a prompt ("slightly sad", "very happy + 0.3 surprised", "70% angry") into a state.

    `intensity` multiplies the whole result. Raises InputError for words it does not know.
    """
    gain = parse_intensity(intensity)
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"empty emotion; {_suggestion()}")
    terms = [t for addend in mixture_terms(text.lower()) for t in _SPLIT.split(addend) if t]
    if not terms:
        raise InputError(f"no emotion in '{text.strip()}'; {_suggestion()}")
    state = neutral()
    for term in terms:
        state += _parse_term(term)
    return clip_state(state * gain)


def mixture_terms(prompt: str) -> list[str]:
    """The addends of a mixture prompt ("0.6 happy + 0.3 surprised"), stripped, empty ones
    dropped: `+` is the one mixture operator of every emotion reader."""
    return [t.strip() for t in prompt.split("+") if t.strip()]


def split_amount(term: str) -> tuple[float, str]:
    """A term's leading amount and the rest: "0.5 quietly furious" -> (0.5, "quietly
    furious"), "70% sad" -> (0.7, "sad"), "0.6*happy"; (1.0, term) when it has none."""
    match = _LEADING_AMOUNT.match(term)
    if not match:
        return 1.0, term
    amount = parse_intensity(match.group(1) + match.group(2), what=f"weight in '{term}'")
    return amount, term[match.end() :]


def parse_intensity(value: str | float, what: str = "intensity") -> float:
    """A number in [0, MAX_INTENSITY]; "70%" is 0.7. InputError for anything else."""
    text = str(value).strip()
    scale = 1.0
    if text.endswith("%"):
        text, scale = text[:-1].strip(), 0.01
    try:
        number = float(text) * scale
    except ValueError:
        raise InputError(f"{what} must be a number, got '{value}'") from None
    if not math.isfinite(number) or not 0.0 <= number <= MAX_INTENSITY:
        raise InputError(f"{what} must be between 0 and {MAX_INTENSITY:g}, got '{value}'")
    return number


def emotion_to_dict(vec: np.ndarray) -> dict[str, float]:
    """{emotion name: intensity} for all seven axes, rounded for JSON."""
    values = np.asarray(vec, dtype=np.float64).reshape(-1)
    if values.size != N_EMOTIONS:
        raise ValueError(f"an emotion state has {N_EMOTIONS} entries, got {values.size}")
    return {name: round(float(v), 4) for name, v in zip(EMOTIONS, values, strict=True)}


def describe(vec: np.ndarray, floor: float = 0.01) -> str:
    """A prompt that parses back to (about) `vec`: "0.6 happy + 0.3 surprised" or "neutral"."""
    values = np.asarray(vec, dtype=np.float64).reshape(-1)
    parts = [f"{v:.2g} {name}" for name, v in zip(EMOTIONS, values, strict=True) if v >= floor]
    return " + ".join(parts) if parts else "neutral"


def dominant(vec: np.ndarray) -> str:
    """The strongest emotion's name, or "neutral" when all are (near) zero."""
    values = np.asarray(vec, dtype=np.float64).reshape(-1)
    return EMOTIONS[int(np.argmax(values))] if values.max(initial=0.0) > 0.05 else "neutral"


def _parse_term(term: str) -> np.ndarray:
    """One addend: optional weight, degree words, then an emotion word."""
    tokens = _tokenize(term)
    weight = 1.0
    state = None
    for token in tokens:
        number = _NUMBER.match(token)
        if number:
            value = parse_intensity(token, what=f"weight in '{term}'")
            weight *= value
        elif token in _MODIFIERS:
            weight *= _MODIFIERS[token]
        elif token in _FILLER:
            continue
        elif state is None:
            state = _word_state(token)
        else:
            raise InputError(f"cannot read '{term}' as one emotion; join mixtures with '+'")
    if state is None:
        raise InputError(f"no emotion word in '{term}'; {_suggestion()}")
    return state * weight


def _tokenize(term: str) -> list[str]:
    """Split on spaces, keeping known multi-word phrases ("a bit", "grossed out") whole."""
    text = re.sub(r"(\d)\s*%", r"\1%", term)
    text = re.sub(r"(\d)\s*([a-z])", r"\1 \2", text)  # "0.6happy"
    text = re.sub(r"[:=*]", " ", text)  # "happy:0.6", "0.6*happy"
    text = re.sub(r"[!?.\"()]+(?!\d)", " ", text)
    for phrase in _PHRASES:
        text = re.sub(rf"\b{re.escape(phrase)}\b", phrase.replace(" ", "_"), text)
    return [t.replace("_", " ") for t in text.split()]


def _word_state(word: str) -> np.ndarray:
    base = _WORDS.get(word)
    if base is None and word.endswith("ly") and word[:-2] in _WORDS:
        base = _WORDS[word[:-2]]  # "angrily" is rare but "sadly", "happily" are not
    if base is None and word.endswith("ily") and word[:-3] + "y" in _WORDS:
        base = _WORDS[word[:-3] + "y"]
    if base is None:
        raise InputError(f"unknown emotion '{word}'; {_suggestion()}")
    state = neutral()
    for name, value in base.items():
        state[_AXIS[name]] = value
    return state


def _suggestion() -> str:
    presets = ", ".join((*EMOTIONS[:5], "neutral", *EMOTIONS[5:]))
    return f"try one of: {presets}, or a mixture like {_EXAMPLE}"

"""Training prompts for the text emotion head, every word written for EmoSync.

A prompt is built from a descriptor (an emotion word, optionally with a degree word, a negation,
a suppression phrase or a second emotion) placed in a context template ("she looks {}", "a {}
expression"). Its target is a 7-vector in rigs.emotions.EMOTIONS order plus `relevant`: 1 when
the prompt talks about a feeling (neutral ones included), 0 for unrelated text.

Nothing here may appear in heldout.py: `check_disjoint()` enforces that.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from emosync.rigs.emotions import EMOTIONS, MAX_INTENSITY

AXIS = {name: i for i, name in enumerate(EMOTIONS)}

# Adjectives per category with their base intensity (1.0 = the plain emotion).
ADJECTIVES: dict[str, list[tuple[str, float]]] = {
    "angry": [("angry", 1.0), ("mad", 0.9), ("furious", 1.3), ("annoyed", 0.45),
              ("irritated", 0.5), ("livid", 1.35), ("cross", 0.55), ("hostile", 0.9),
              ("outraged", 1.25), ("raging", 1.4), ("resentful", 0.6), ("aggravated", 0.6),
              ("heated", 0.7), ("grumpy", 0.4), ("indignant", 0.7)],
    "contempt": [("contemptuous", 1.0), ("scornful", 1.0), ("sneering", 0.9),
                 ("condescending", 0.75), ("smug", 0.7), ("haughty", 0.8), ("dismissive", 0.6),
                 ("derisive", 0.9), ("patronizing", 0.7), ("mocking", 0.75), ("snide", 0.7),
                 ("arrogant", 0.7), ("unimpressed", 0.45), ("sarcastic", 0.6)],
    "disgusted": [("disgusted", 1.0), ("grossed out", 1.0), ("repulsed", 1.2),
                  ("revolted", 1.2), ("sickened", 1.1), ("nauseated", 0.9), ("queasy", 0.5),
                  ("repelled", 0.9), ("icked out", 0.8), ("put off", 0.5), ("appalled", 0.9),
                  ("grossed-out", 1.0)],
    "fear": [("afraid", 0.9), ("scared", 0.9), ("frightened", 1.0), ("terrified", 1.4),
             ("fearful", 1.0), ("anxious", 0.5), ("nervous", 0.45), ("panicked", 1.3),
             ("petrified", 1.4), ("worried", 0.45), ("uneasy", 0.35), ("alarmed", 0.75),
             ("threatened", 0.8), ("insecure", 0.35)],
    "happy": [("happy", 1.0), ("joyful", 1.1), ("cheerful", 0.9), ("glad", 0.7),
              ("delighted", 1.2), ("elated", 1.3), ("ecstatic", 1.4), ("pleased", 0.6),
              ("content", 0.4), ("thrilled", 1.25), ("overjoyed", 1.4), ("amused", 0.7),
              ("smiling", 0.8), ("laughing", 1.3), ("gleeful", 1.1), ("cheery", 0.85)],
    "sad": [("sad", 1.0), ("unhappy", 0.8), ("miserable", 1.2), ("depressed", 1.2),
            ("gloomy", 0.7), ("sorrowful", 1.1), ("heartbroken", 1.4), ("grieving", 1.3),
            ("melancholy", 0.6), ("tearful", 1.1), ("downcast", 0.8), ("crying", 1.3),
            ("lonely", 0.7), ("hurt", 0.7), ("disappointed", 0.6), ("sorry", 0.5)],
    "surprised": [("surprised", 1.0), ("astonished", 1.2), ("amazed", 1.1), ("shocked", 1.3),
                  ("stunned", 1.2), ("startled", 1.0), ("astounded", 1.3),
                  ("taken aback", 0.8), ("dumbfounded", 1.1), ("speechless", 1.0),
                  ("puzzled", 0.35), ("curious", 0.3), ("caught by surprise", 0.9)],
}  # fmt: skip

# Nouns per category, for "full of {}", "barely hiding her {}".
NOUNS: dict[str, list[tuple[str, float]]] = {
    "angry": [("anger", 1.0), ("rage", 1.35), ("fury", 1.35), ("irritation", 0.5),
              ("annoyance", 0.45), ("hostility", 0.9)],
    "contempt": [("contempt", 1.0), ("scorn", 1.0), ("condescension", 0.75),
                 ("derision", 0.9), ("smugness", 0.7)],
    "disgusted": [("disgust", 1.0), ("nausea", 0.8), ("repulsion", 1.2), ("distaste", 0.6),
                  ("grossness", 0.9)],
    "fear": [("fear", 1.0), ("terror", 1.4), ("panic", 1.3), ("anxiety", 0.5),
             ("worry", 0.45), ("fright", 1.0)],
    "happy": [("joy", 1.1), ("happiness", 1.0), ("delight", 1.2), ("glee", 1.1),
              ("cheer", 0.8), ("amusement", 0.7)],
    "sad": [("sadness", 1.0), ("sorrow", 1.1), ("grief", 1.3), ("misery", 1.2),
            ("heartbreak", 1.4), ("melancholy", 0.6)],
    "surprised": [("surprise", 1.0), ("astonishment", 1.2), ("amazement", 1.1),
                  ("shock", 1.3), ("disbelief", 0.8)],
}  # fmt: skip

# Words that already are mixtures.
MIXED_WORDS: list[tuple[str, dict[str, float]]] = [
    ("bittersweet", {"happy": 0.5, "sad": 0.5}),
    ("horrified", {"fear": 1.0, "disgusted": 0.5, "surprised": 0.3}),
    ("smug and amused", {"contempt": 0.7, "happy": 0.7}),
    ("nostalgic", {"happy": 0.4, "sad": 0.4}),
    ("frustrated", {"angry": 0.6, "sad": 0.2}),
    ("embarrassed", {"sad": 0.3, "fear": 0.4}),
    ("ashamed", {"sad": 0.6, "fear": 0.3}),
    ("excited", {"happy": 1.0, "surprised": 0.35}),
    ("shocked and appalled", {"surprised": 1.0, "disgusted": 0.7}),
    ("terrified and shocked", {"fear": 1.3, "surprised": 0.8}),
    ("sad but relieved", {"sad": 0.6, "happy": 0.4}),
    ("hurt and angry", {"sad": 0.7, "angry": 0.8}),
    ("jealous", {"angry": 0.6, "sad": 0.3, "contempt": 0.2}),
    ("betrayed", {"angry": 0.7, "sad": 0.7}),
    ("grateful", {"happy": 0.65}),
    ("relieved", {"happy": 0.55}),
    ("proud", {"happy": 0.65, "contempt": 0.15}),
]  # fmt: skip

NEUTRAL_WORDS = ["neutral", "calm", "expressionless", "blank", "deadpan", "composed",
                 "indifferent", "emotionless", "flat", "matter-of-fact", "poker-faced",
                 "relaxed and neutral", "no emotion", "without emotion", "a neutral face",
                 "serene", "even-tempered"]  # fmt: skip

# Degree words and what they multiply the base intensity by.
DEGREES: list[tuple[str, float]] = [
    ("barely", 0.2), ("faintly", 0.25), ("slightly", 0.35), ("a little", 0.4), ("a bit", 0.4),
    ("mildly", 0.45), ("kind of", 0.5), ("sort of", 0.5), ("somewhat", 0.6),
    ("moderately", 0.7), ("fairly", 0.7), ("rather", 0.8), ("quite", 0.9), ("really", 1.25),
    ("very", 1.3), ("so", 1.25), ("deeply", 1.3), ("truly", 1.25), ("super", 1.4),
    ("totally", 1.4), ("extremely", 1.5), ("incredibly", 1.5), ("utterly", 1.5),
    ("completely", 1.5), ("intensely", 1.5),
]  # fmt: skip

# Phrases that show an emotion only partly ("barely hiding her anger"): noun templates.
SUPPRESSED: list[tuple[str, float]] = [
    ("barely hiding {pos} {n}", 0.6), ("barely holding back {pos} {n}", 0.65),
    ("hiding {pos} {n} behind a smile", 0.45), ("trying not to show {pos} {n}", 0.4),
    ("a hint of {n}", 0.3), ("a trace of {n}", 0.25), ("a flicker of {n}", 0.3),
    ("overwhelmed by {n}", 1.4), ("consumed by {n}", 1.4), ("full of {n}", 1.15),
    ("filled with {n}", 1.1), ("with some {n}", 0.6), ("pure {n}", 1.3),
    ("a wave of {n}", 1.0), ("simmering {n}", 0.6),
]  # fmt: skip
# The same for adjectives ("quietly furious").
ADJ_MANNER: list[tuple[str, float]] = [
    ("quietly {a}", 0.6), ("secretly {a}", 0.5), ("visibly {a}", 1.1),
    ("openly {a}", 1.1), ("trying to hide being {a}", 0.45), ("almost {a}", 0.6),
]  # fmt: skip

NEGATIONS = ["not {a}", "not {a} at all", "not at all {a}", "never {a}", "no longer {a}",
             "anything but {a}", "far from {a}", "not the least bit {a}", "not even a bit {a}",
             "definitely not {a}", "not {a} in the slightest", "hardly {a} at all"]  # fmt: skip
NOUN_NEGATIONS = ["no {n}", "without any {n}", "free of {n}", "no sign of {n}",
                  "not a trace of {n}"]  # fmt: skip
# Negating happiness reads as mildly sad; other negations simply remove the emotion.
NEGATION_REMAINDER = {"happy": {"sad": 0.3}}

MIXTURES: list[tuple[str, float, float]] = [
    ("{a} and {b}", 1.0, 1.0), ("{a} but {b}", 1.0, 1.0), ("{a} yet {b}", 1.0, 1.0),
    ("both {a} and {b}", 1.0, 1.0), ("{a}, {b}", 1.0, 1.0), ("{a} and a little {b}", 1.0, 0.4),
    ("{a} with a touch of being {b}", 1.0, 0.35), ("half {a}, half {b}", 0.5, 0.5),
    ("mostly {a}, slightly {b}", 0.9, 0.35), ("{a} while also {b}", 1.0, 1.0),
]  # fmt: skip
CONTRASTS = ["not {a}, just {b}", "{b}, not {a}", "{b} rather than {a}", "less {a}, more {b}",
             "no longer {a}, now {b}"]  # fmt: skip

# Where a descriptor appears. {} is an adjective phrase.
CONTEXTS = ["{}", "{}", "{}", "feeling {}", "she is {}", "he looks {}", "a {} expression",
            "sounding {}", "make the face {}", "the character is {}", "i am {}", "they seem {}",
            "in a {} mood", "{} after hearing the news", "acting {}", "someone who is {}",
            "a {} face", "looking {}", "he sounds {}", "she seems {} today",
            "the speaker is {}", "play this line {}", "a {} look", "we are all {}",
            "a {} tone of voice", "obviously {}", "my character feels {}"]  # fmt: skip
NOUN_CONTEXTS = ["{}", "{}", "a face showing {}", "speaking with {}", "eyes full of {}",
                 "a voice that carries {}", "an expression of {}", "{} in her eyes"]  # fmt: skip

# Unrelated text: objects, instructions, code and noise (target: neutral, relevant = 0).
_SUBJECTS = ["the train", "a laptop", "the spreadsheet", "this function", "the printer",
             "my neighbour's car", "the kitchen table", "a cardboard box", "the server",
             "the recipe", "this paragraph", "the garden hose", "a wooden chair", "the invoice",
             "the bus to town", "the river", "the new phone", "our quarterly report"]  # fmt: skip
_VERBS = ["leaves at", "is stored in", "was moved to", "needs", "weighs", "is next to",
          "connects to", "was painted", "costs", "arrives on", "is made of", "uses"]  # fmt: skip
_OBJECTS = ["nine o'clock", "the top shelf", "three kilograms", "a USB cable", "ten dollars",
            "platform four", "oak and steel", "the second floor", "Tuesday", "the config file",
            "green paint", "two spoons of flour", "a spare battery",
            "the north window"]  # fmt: skip
_UNRELATED_FIXED = [
    "render at thirty frames per second", "export to glb", "table", "banana", "a pencil",
    "def foo(x): return x + 1", "SELECT * FROM users", "https://example.com/index.html",
    "1234567", "3.14159", "the quick brown fox jumps over the lazy dog", "lorem ipsum dolor",
    "photosynthesis converts light into chemical energy", "turn left at the second light",
    "the meeting is moved to friday", "a cup of water", "hello world", "test test test",
    "carbon fibre bicycle frame", "the capital of france is paris", "a list of prime numbers",
    "blendshape weights for frame ten", "sort the array in place", "wheat, barley and oats",
    "the cat sat on the mat", "open the window please", "a square with four sides",
]  # fmt: skip
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
POSSESSIVES = ["her", "his", "their", "my"]


@dataclass(frozen=True)
class Example:
    text: str
    state: tuple[float, ...]  # 7 intensities in EMOTIONS order
    relevant: float  # 1: about a feeling (neutral included), 0: unrelated


def _state(mapping: dict[str, float]) -> tuple[float, ...]:
    vec = np.zeros(len(EMOTIONS))
    for name, value in mapping.items():
        vec[AXIS[name]] += value
    return tuple(float(v) for v in np.clip(vec, 0.0, MAX_INTENSITY))


def _adjectives() -> list[tuple[str, str, float]]:
    return [(cat, word, base) for cat, words in ADJECTIVES.items() for word, base in words]


def _nouns() -> list[tuple[str, str, float]]:
    return [(cat, word, base) for cat, words in NOUNS.items() for word, base in words]


def _graded(rng: random.Random, n: int) -> list[tuple[str, dict[str, float]]]:
    """Adjectives, alone or with a degree word or manner phrase."""
    out = []
    adjectives = _adjectives()
    for cat, word, base in adjectives:  # every word plain at least once
        out.append((word, {cat: base}))
    for _ in range(n):
        cat, word, base = rng.choice(adjectives)
        roll = rng.random()
        if roll < 0.6:
            degree, scale = rng.choice(DEGREES)
            out.append((f"{degree} {word}", {cat: base * scale}))
        elif roll < 0.8:
            manner, scale = rng.choice(ADJ_MANNER)
            out.append((manner.format(a=word), {cat: base * scale}))
        else:
            out.append((word, {cat: base}))
    return out


def _noun_phrases(rng: random.Random, n: int) -> list[tuple[str, dict[str, float]]]:
    out = []
    nouns = _nouns()
    for _ in range(n):
        cat, noun, base = rng.choice(nouns)
        template, scale = rng.choice(SUPPRESSED)
        text = template.format(pos=rng.choice(POSSESSIVES), n=noun)
        out.append((text, {cat: base * scale}))
    return out


def _negated(rng: random.Random, n: int) -> list[tuple[str, dict[str, float]]]:
    out = []
    adjectives, nouns = _adjectives(), _nouns()
    for _ in range(n):
        if rng.random() < 0.75:
            cat, word, _base = rng.choice(adjectives)
            text = rng.choice(NEGATIONS).format(a=word)
        else:
            cat, word, _base = rng.choice(nouns)
            text = rng.choice(NOUN_NEGATIONS).format(n=word)
        out.append((text, dict(NEGATION_REMAINDER.get(cat, {}))))
    return out


def _mixtures(rng: random.Random, n: int) -> list[tuple[str, dict[str, float]]]:
    out = [(word, dict(mix)) for word, mix in MIXED_WORDS]
    adjectives = _adjectives()
    for _ in range(n):
        (ca, wa, ba), (cb, wb, bb) = rng.sample(adjectives, 2)
        if ca == cb:
            continue
        if rng.random() < 0.75:
            template, sa, sb = rng.choice(MIXTURES)
            target = {ca: ba * sa}
            target[cb] = target.get(cb, 0.0) + bb * sb
            out.append((template.format(a=wa, b=wb), target))
        else:
            out.append((rng.choice(CONTRASTS).format(a=wa, b=wb), {cb: bb}))
    return out


def _unrelated(rng: random.Random, n: int) -> list[str]:
    out = list(_UNRELATED_FIXED)
    for _ in range(n):
        roll = rng.random()
        if roll < 0.7:
            out.append(f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}")
        elif roll < 0.85:
            words = ["".join(rng.choices(_LETTERS, k=rng.randint(3, 8))) for _ in range(3)]
            out.append(" ".join(words[: rng.randint(1, 3)]))
        else:
            out.append(" ".join(str(rng.randint(0, 999)) for _ in range(rng.randint(1, 4))))
    return out


def build_examples(seed: int = 0, scale: float = 1.0) -> list[Example]:
    """The full training set (about 9000 prompts at scale 1), deterministic for a seed."""
    rng = random.Random(seed)

    def count(n: int) -> int:
        return max(1, int(n * scale))

    examples: list[Example] = []
    descriptors = (
        _graded(rng, count(2600)) + _negated(rng, count(1200)) + _mixtures(rng, count(1700))
    )
    for text, target in descriptors:
        examples.append(Example(rng.choice(CONTEXTS).format(text), _state(target), 1.0))
    for text, target in _noun_phrases(rng, count(1200)):
        examples.append(Example(rng.choice(NOUN_CONTEXTS).format(text), _state(target), 1.0))
    for word in NEUTRAL_WORDS * max(1, int(12 * scale)):
        examples.append(Example(rng.choice(CONTEXTS).format(word), _state({}), 1.0))
    for text in _unrelated(rng, count(1400)):
        examples.append(Example(text, _state({}), 0.0))
    # One exact copy of every plain word too, so the bare word is never out of distribution.
    for cat, word, base in _adjectives():
        examples.append(Example(word, _state({cat: base}), 1.0))
    rng.shuffle(examples)
    return examples


def vocabulary() -> set[str]:
    """Every emotion word and phrase the training prompts are built from (lower case)."""
    words = {w for _c, w, _b in _adjectives()} | {w for _c, w, _b in _nouns()}
    words |= {w for w, _m in MIXED_WORDS} | set(NEUTRAL_WORDS) | {d for d, _s in DEGREES}
    return words


def to_arrays(examples: list[Example]) -> tuple[list[str], np.ndarray, np.ndarray]:
    texts = [e.text for e in examples]
    states = np.array([e.state for e in examples], dtype=np.float32)
    relevant = np.array([e.relevant for e in examples], dtype=np.float32)
    return texts, states, relevant

"""Training prompts for the text emotion model, every word written for EmoSync.

A prompt is built from a descriptor (an emotion word of vocabulary.py, optionally with a degree
word, a negation, a suppression phrase or a second emotion) placed in a context template
("she looks {}", "a {} expression"). Its target is a 7-vector in rigs.emotions.EMOTIONS order
plus `relevant`: 1 when the prompt talks about a feeling (neutral ones included), 0 for
unrelated text.

Nothing here may appear in heldout.py: `heldout.overlap()`, `heldout.leaks()` and the tests
enforce that. `validation_words()` are the words `train.py --validate` holds out instead.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import numpy as np

from emosync.rigs.emotions import EMOTIONS, MAX_INTENSITY
from emosync.training.emotion_text.vocabulary import (
    ADJECTIVES,
    DEGREES,
    DESCRIPTIONS,
    MIXED_WORDS,
    NEUTRAL_WORDS,
    NOUNS,
)

AXIS = {name: i for i, name in enumerate(EMOTIONS)}

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

NEGATIONS = ["not {a}", "not at all {a}", "never {a}", "no longer {a}", "anything but {a}",
             "far from {a}", "not even a bit {a}", "definitely not {a}",
             "not {a} in the slightest", "hardly {a} at all", "not remotely {a}",
             "not feeling {a}", "not really {a}", "stopped being {a}", "the opposite of {a}",
             "not {a}, not even close", "in no way {a}", "doesn't look {a}", "isn't {a} now",
             "wasn't {a}", "not a little bit {a}", "not {a} whatsoever"]  # fmt: skip
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
# Texts about no feeling that training never sees: `train.py --validate` counts how many read
# as unrelated (confidence under 0.5). Written for validation, apart from heldout.py.
VALIDATION_UNRELATED = [
    "the spare tyre is under the boot floor", "git commit -m 'fix typo'", "a bag of frozen peas",
    "preheat the oven to two hundred degrees", "x = np.zeros((3, 4))", "the ferry leaves hourly",
    "an aluminium ladder", "the warranty covers two years", "median of 4, 8 and 15",
    "press ctrl and s to save", "granite countertop, polished", "kettle", "plug the charger in",
    "the library closes at six", "a bar chart of monthly rainfall", "zxqv plimb tork",
    "the roof needs new gutters", "volume two, chapter seven", "it is twelve degrees outside",
    "replace the air filter every month", "a box of paper clips", "for i in range(10): print(i)",
    "the parcel was left at reception", "tomatoes, onions and garlic", "set the camera to f/8",
    "the train stops at every station", "screwdriver", "an empty parking space",
    "the ceiling is three metres high", "download the invoice as csv", "404 not found",
    "the printer uses black toner", "salt and pepper to taste", "route 66 runs west",
    "the lecture starts in room b12", "a pair of wool socks",
]  # fmt: skip
# Announcements and instructions: everyday sentences that state facts, not feelings.
_THINGS = ["the line", "your account", "the office", "this number", "the system", "your order",
           "the meeting room", "the service", "your password", "the connection", "the mailbox",
           "this extension", "the parking lot", "the next train", "the file", "your request",
           "the recording", "the conference", "the print queue", "the lift", "the guest list",
           "your session", "the shop", "all lines"]  # fmt: skip
_STATUSES = ["is busy", "is closed", "is now open", "is not available", "has been updated",
             "was saved", "is being recorded", "has expired", "is full", "is on the second floor",
             "is out of service", "has been cancelled", "is ready", "is invalid",
             "has been transferred", "is currently offline", "will restart shortly",
             "is running late", "cannot be completed", "is now muted", "is now unmuted",
             "has been logged in", "was activated", "is empty"]  # fmt: skip
_INSTRUCTIONS = ["please {}", "{} and then press pound", "to {}, press two", "you may now {}",
                 "remember to {}", "{}", "now {}"]  # fmt: skip
_ACTIONS = ["enter your number", "hold the line", "leave a message after the tone",
            "try again later", "hang up", "check the settings", "restart the device",
            "select an option", "say your name", "close the door", "call back tomorrow",
            "update the software", "sign the form", "wait for the signal", "record your greeting",
            "enter the conference number", "dial the extension", "stay on the line"]  # fmt: skip
# Everyday sentences (`build_examples(everyday_n=n)`): chores and errands, plain facts about
# things and places, objects with their make, and settings of tools. Written without the words
# of heldout.UNRELATED, VALIDATION_UNRELATED or the emotion vocabulary (the tests check), so the
# first two still measure text that training never saw.
_CHORES = ["wash", "fold", "water", "feed", "sweep", "tighten", "measure", "label", "iron",
           "vacuum", "stack", "trim", "refill", "sharpen", "collect", "return", "book",
           "pack", "unpack", "defrost", "dust", "polish", "rinse", "weigh", "count", "sort",
           "assemble", "dismantle", "inspect", "oil", "sand", "varnish", "hang", "tidy",
           "recycle", "order", "renew", "cancel", "schedule", "photocopy"]  # fmt: skip
_THINGS_AT_HOME = ["the dishes", "the towels", "the houseplants", "the hedge", "the bicycle chain",
                   "the bookshelf", "the curtains", "the fridge", "the cutlery drawer",
                   "the recycling", "the windowsill", "the car wheels", "the fence posts",
                   "the spice rack", "the bedsheets", "the front step", "the shed door",
                   "the pantry", "the fish tank", "the hallway rug", "the bathroom tiles",
                   "the borrowed books", "the passport", "the dentist appointment",
                   "the gas meter", "the drill bits", "the flower beds",
                   "the wardrobe"]  # fmt: skip
_WHEN = ["", "", "on monday", "on thursday morning", "after lunch", "ahead of the weekend",
         "each fortnight", "by noon", "this evening", "at half past four", "in march",
         "once a year", "when guests arrive", "tomorrow", "once the rain has passed",
         "in the garage", "at the hardware shop", "downstairs"]  # fmt: skip
_FACT_SUBJECTS = ["copper", "the museum", "the bridge", "this bakery", "the harbour",
                  "the motorway", "the swimming pool", "a litre of milk", "the post office",
                  "the orchard", "the cathedral", "this laptop battery", "the tram",
                  "the town hall", "the bakery van", "the village", "our apartment block",
                  "the glacier", "the canal", "an adult giraffe", "the observatory",
                  "the stadium", "the pharmacy", "a hectare"]  # fmt: skip
_FACT_PREDICATES = ["opens at ten", "was built in 1887", "is forty yards long",
                    "conducts electricity", "is closed on holidays", "lies east of the river",
                    "holds about eight thousand people", "is billed in kilowatt hours",
                    "comes each quarter hour", "has four entrances",
                    "is about a kilometre away", "sells bread and pastries",
                    "was renovated last spring", "borders the national park",
                    "is powered by solar panels", "has a car park behind it",
                    "was designed by a local architect", "is cheaper on weekdays",
                    "stands on limestone", "weighs about a tonne",
                    "is lit at night", "takes card payments"]  # fmt: skip
_MAKES = ["a red", "a green", "a striped", "a folding", "a stainless steel", "a plastic",
          "a ceramic", "a cotton", "a brass", "a round", "a rectangular", "a second-hand",
          "a waterproof", "a cordless", "a ten-inch", "a heavy", "a narrow",
          "a wicker"]  # fmt: skip
_OBJECTS_MADE = ["umbrella", "mug", "stool", "lamp", "rucksack", "extension lead", "doormat",
                 "teapot", "coat hanger", "clipboard", "measuring tape", "bread bin",
                 "watering can", "suitcase", "mirror", "toolbox", "drying rack", "bucket",
                 "wall clock", "pencil case"]  # fmt: skip
_SETTINGS = ["set the {} to {}", "change the {} to {}", "the {} is set to {}",
             "keep the {} at {}"]  # fmt: skip
_DIALS = ["thermostat", "shutter speed", "sample rate", "font size", "screen brightness",
          "timer", "washing machine", "boiler pressure", "resolution", "page margin",
          "playback speed", "water heater", "doorbell"]  # fmt: skip
_VALUES = ["twenty one", "forty percent", "48 kHz", "eleven point", "one hundredth",
           "2.2 bar", "1920 by 1080", "half speed", "thirty minutes", "six thirty",
           "eco mode", "medium", "the lowest setting"]  # fmt: skip
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


def _uses(text: str, skip: frozenset[str]) -> bool:
    """Whether `text` contains one of the skipped words or phrases as whole words."""
    return any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text) for w in skip)


def _entries(
    table: dict[str, list[tuple[str, float]]], skip: frozenset[str]
) -> list[tuple[str, str, float]]:
    """(category, word, base intensity) of a vocabulary table, skipped words left out."""
    return [
        (cat, word, base)
        for cat, words in table.items()
        for word, base in words
        if not _uses(word, skip)
    ]


def _adjectives(skip: frozenset[str] = frozenset()) -> list[tuple[str, str, float]]:
    return _entries(ADJECTIVES, skip)


def vocabulary_adjectives() -> list[tuple[str, str, float]]:
    """Every adjective of the vocabulary as (category, word, base intensity)."""
    return _adjectives()


def _nouns(skip: frozenset[str] = frozenset()) -> list[tuple[str, str, float]]:
    return _entries(NOUNS, skip)


def validation_words(every: int = 6) -> frozenset[str]:
    """Every sixth adjective and noun of each category (by position). `train.py --validate`
    keeps them out of training and scores them, so model choices never look at heldout.py."""
    chosen = set()
    for table in (ADJECTIVES, NOUNS):
        for words in table.values():
            chosen |= {word for i, (word, _b) in enumerate(words) if i % every == every // 2}
    return frozenset(chosen)


def reference_words() -> dict[str, tuple[str, float]]:
    """The first adjective of each category ("angry", "afraid"): never a validation word, it is
    what `train.py --validate` compares the strength of stronger and milder words against."""
    return {cat: words[0] for cat, words in ADJECTIVES.items()}


def validation_examples(words: frozenset[str]) -> list[tuple[str, str, float]]:
    """(prompt, category, intensity) for validation words, bare and in a context."""
    out = []
    for cat, word, base in _adjectives() + _nouns():
        if word in words:
            out.append((word, cat, base))
            out.append((CONTEXTS[4 + len(word) % (len(CONTEXTS) - 4)].format(word), cat, base))
    return out


def _graded(rng: random.Random, n: int, skip: frozenset[str]) -> list[tuple[str, dict[str, float]]]:
    """Adjectives, alone or with a degree word or manner phrase."""
    out = []
    adjectives = _adjectives(skip)
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


def _noun_phrases(
    rng: random.Random, n: int, skip: frozenset[str]
) -> list[tuple[str, dict[str, float]]]:
    out = []
    nouns = _nouns(skip)
    for _ in range(n):
        cat, noun, base = rng.choice(nouns)
        template, scale = rng.choice(SUPPRESSED)
        text = template.format(pos=rng.choice(POSSESSIVES), n=noun)
        out.append((text, {cat: base * scale}))
    return out


def _negated(
    rng: random.Random, n: int, skip: frozenset[str]
) -> list[tuple[str, dict[str, float]]]:
    out = []
    adjectives, nouns = _adjectives(skip), _nouns(skip)
    for _ in range(n):
        if rng.random() < 0.75:
            cat, word, _base = rng.choice(adjectives)
            text = rng.choice(NEGATIONS).format(a=word)
        else:
            cat, word, _base = rng.choice(nouns)
            text = rng.choice(NOUN_NEGATIONS).format(n=word)
        out.append((text, dict(NEGATION_REMAINDER.get(cat, {}))))
    return out


def _mixtures(
    rng: random.Random, n: int, skip: frozenset[str]
) -> list[tuple[str, dict[str, float]]]:
    out = [(word, dict(mix)) for word, mix in MIXED_WORDS if not _uses(word, skip)]
    adjectives = _adjectives(skip)
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
        if roll < 0.45:
            out.append(f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}")
        elif roll < 0.6:
            out.append(f"{rng.choice(_THINGS)} {rng.choice(_STATUSES)}")
        elif roll < 0.75:
            out.append(rng.choice(_INSTRUCTIONS).format(rng.choice(_ACTIONS)))
        elif roll < 0.87:
            words = ["".join(rng.choices(_LETTERS, k=rng.randint(3, 8))) for _ in range(3)]
            out.append(" ".join(words[: rng.randint(1, 3)]))
        else:
            out.append(" ".join(str(rng.randint(0, 999)) for _ in range(rng.randint(1, 4))))
    return out


def everyday(rng: random.Random, n: int) -> list[str]:
    """`n` everyday sentences about no feeling: errands, facts, objects and settings."""
    out = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.4:
            when = rng.choice(_WHEN)
            out.append(f"{rng.choice(_CHORES)} {rng.choice(_THINGS_AT_HOME)} {when}".strip())
        elif roll < 0.7:
            out.append(f"{rng.choice(_FACT_SUBJECTS)} {rng.choice(_FACT_PREDICATES)}")
        elif roll < 0.85:
            out.append(f"{rng.choice(_MAKES)} {rng.choice(_OBJECTS_MADE)}")
        else:
            dial, value = rng.choice(_DIALS), rng.choice(_VALUES)
            out.append(rng.choice(_SETTINGS).format(dial, value))
    return out


def build_examples(
    seed: int = 0, scale: float = 1.0, skip: frozenset[str] = frozenset(), everyday_n: int = 0
) -> list[Example]:
    """The training set (about 21,000 prompts at scale 1), deterministic for a seed; words in
    `skip` (validation words) never appear. `everyday_n`: that many everyday sentences (at
    scale 1) join the unrelated texts."""
    rng = random.Random(seed)

    def count(n: int) -> int:
        return max(1, int(n * scale))

    examples: list[Example] = []
    descriptors = (
        _graded(rng, count(6000), skip)
        + _negated(rng, count(2800), skip)
        + _mixtures(rng, count(3000), skip)
    )
    for text, target in descriptors:
        examples.append(Example(rng.choice(CONTEXTS).format(text), _state(target), 1.0))
    for text, target in _noun_phrases(rng, count(2000), skip):
        examples.append(Example(rng.choice(NOUN_CONTEXTS).format(text), _state(target), 1.0))
    for word in NEUTRAL_WORDS * max(1, int(15 * scale)):
        examples.append(Example(rng.choice(CONTEXTS).format(word), _state({}), 1.0))
    for text in _unrelated(rng, count(3000)):
        examples.append(Example(text, _state({}), 0.0))
    if everyday_n:  # from their own generator: the other prompts are drawn as before
        for text in everyday(random.Random(seed + 1), count(everyday_n)):
            examples.append(Example(text, _state({}), 0.0))
    for cat, text, base in _entries(DESCRIPTIONS, skip):
        for context in ("{}", "someone {}", "a character {}")[: 1 + int(2 * scale)]:
            examples.append(Example(context.format(text), _state({cat: base}), 1.0))
    # One exact copy of every plain word too, so the bare word is never out of distribution.
    for cat, word, base in _adjectives(skip):
        examples.append(Example(word, _state({cat: base}), 1.0))
    if skip:  # a template may hold a validation word too ("simmering {n}")
        examples = [e for e in examples if not _uses(e.text, skip)]
    rng.shuffle(examples)
    return examples


def vocabulary() -> set[str]:
    """Every emotion word and phrase the training prompts are built from (lower case)."""
    words = {w for _c, w, _b in _adjectives()} | {w for _c, w, _b in _nouns()}
    words |= {w for w, _m in MIXED_WORDS} | set(NEUTRAL_WORDS) | {d for d, _s in DEGREES}
    words |= {text for entries in DESCRIPTIONS.values() for text, _b in entries}
    return words


def to_arrays(examples: list[Example]) -> tuple[list[str], np.ndarray, np.ndarray]:
    texts = [e.text for e in examples]
    states = np.array([e.state for e in examples], dtype=np.float32)
    relevant = np.array([e.relevant for e in examples], dtype=np.float32)
    return texts, states, relevant

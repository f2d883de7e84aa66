"""Held-out prompts for the text emotion head, written apart from prompts.py's vocabulary.

None of the emotion words or degree words below are in prompts.vocabulary() (checked by
`overlap()` and by the tests). They measure whether the head generalises beyond its training
words: category accuracy, intensity order, negation, mixtures and unrelated text.
"""

from __future__ import annotations

import re

# (prompt, expected dominant category)
WORDS: list[tuple[str, str]] = [
    # angry
    ("irate", "angry"), ("incensed", "angry"), ("fuming", "angry"), ("seething", "angry"),
    ("wrathful", "angry"), ("infuriated", "angry"), ("exasperated", "angry"),
    ("ticked off", "angry"), ("vexed", "angry"), ("up in arms", "angry"),
    ("boiling with rage", "angry"), ("enraged", "angry"),
    # contempt
    ("disdainful", "contempt"), ("supercilious", "contempt"), ("snooty", "contempt"),
    ("snobbish", "contempt"), ("belittling", "contempt"), ("looking down on everyone", "contempt"),
    ("self-satisfied and superior", "contempt"), ("holier-than-thou", "contempt"),
    ("sneers at him", "contempt"), ("rolling her eyes with scorn", "contempt"),
    # disgusted
    ("nauseous", "disgusted"), ("revulsion", "disgusted"), ("skeeved out", "disgusted"),
    ("sick to the stomach", "disgusted"), ("loathing", "disgusted"), ("yucky feeling", "disgusted"),
    ("that smell makes me gag", "disgusted"), ("finds it gross", "disgusted"),
    ("wrinkling her nose in disgust", "disgusted"), ("utterly repugnant", "disgusted"),
    # fear
    ("spooked", "fear"), ("jittery", "fear"), ("dreading", "fear"), ("panic-stricken", "fear"),
    ("horror-struck", "fear"), ("apprehensive", "fear"), ("jumpy", "fear"), ("daunted", "fear"),
    ("trembling with dread", "fear"), ("scared stiff", "fear"), ("frozen in terror", "fear"),
    # happy
    ("jubilant", "happy"), ("euphoric", "happy"), ("giddy", "happy"), ("chipper", "happy"),
    ("beaming", "happy"), ("blissful", "happy"), ("merry", "happy"), ("over the moon", "happy"),
    ("upbeat", "happy"), ("on cloud nine", "happy"), ("grinning from ear to ear", "happy"),
    ("tickled pink", "happy"),
    # sad
    ("despondent", "sad"), ("forlorn", "sad"), ("crestfallen", "sad"), ("dejected", "sad"),
    ("mournful", "sad"), ("glum", "sad"), ("down in the dumps", "sad"), ("weepy", "sad"),
    ("disconsolate", "sad"), ("morose", "sad"), ("devastated", "sad"), ("in tears", "sad"),
    # surprised
    ("flabbergasted", "surprised"), ("gobsmacked", "surprised"), ("thunderstruck", "surprised"),
    ("staggered", "surprised"), ("caught off guard", "surprised"), ("wide-eyed", "surprised"),
    ("blindsided", "surprised"), ("floored", "surprised"), ("jaw on the floor", "surprised"),
    ("could not believe her eyes", "surprised"), ("awestruck", "surprised"),
]  # fmt: skip

# (weaker, middle, stronger) prompts of one category: its intensity must rise strictly.
INTENSITY_TRIPLES: list[tuple[str, str, str, str]] = [
    ("slightly angry", "angry", "enraged", "angry"),
    ("a tad annoyed", "fuming", "incandescent with rage", "angry"),
    ("a touch sad", "sad", "devastated", "sad"),
    ("marginally glum", "glum", "inconsolable", "sad"),
    ("a tad scared", "scared", "terrified out of her mind", "fear"),
    ("a little jittery", "spooked", "paralysed with terror", "fear"),
    ("somewhat pleased", "happy", "euphoric", "happy"),
    ("a tad chipper", "jubilant", "exceedingly euphoric", "happy"),
    ("slightly surprised", "surprised", "utterly flabbergasted", "surprised"),
    ("mildly startled", "gobsmacked", "thunderstruck beyond words", "surprised"),
    ("a bit grossed out", "disgusted", "violently repulsed", "disgusted"),
    ("slightly nauseous", "nauseous", "exceedingly nauseous", "disgusted"),
    ("a tad smug", "disdainful", "utterly contemptuous", "contempt"),
    ("a touch irked", "irate", "exceedingly irate", "angry"),
]  # fmt: skip

# (prompt, emotion that must NOT be the reading's dominant one nor above 0.3)
NEGATIONS: list[tuple[str, str]] = [
    ("not happy at all", "happy"), ("not angry in the least", "angry"),
    ("by no means scared", "fear"), ("not even slightly disgusted", "disgusted"),
    ("not sad anymore", "sad"), ("nowhere near furious", "angry"),
    ("not surprised one bit", "surprised"), ("isn't afraid", "fear"),
    ("not jubilant at all", "happy"), ("not the least bit seething", "angry"),
]  # fmt: skip

# (prompt, two categories that must be the reading's top two, any order)
MIXTURES: list[tuple[str, tuple[str, str]]] = [
    ("angry and disgusted", ("angry", "disgusted")),
    ("wistful", ("happy", "sad")),
    ("nervous but hopeful", ("fear", "happy")),
    ("fuming and nauseous", ("angry", "disgusted")),
    ("gobsmacked and giddy", ("surprised", "happy")),
    ("glum yet spooked", ("sad", "fear")),
    ("happy tears", ("happy", "sad")),
    ("mournful and irate", ("sad", "angry")),
    ("disdainful and amused", ("contempt", "happy")),
    ("jumpy and bewildered", ("fear", "surprised")),
]  # fmt: skip

# Text that describes no feeling: must come back neutral with a warning.
UNRELATED: list[str] = [
    "the invoice is attached as a pdf", "calibrate the tripod before shooting",
    "seven hundred and twelve", "a glass jar of screws", "xqzv plorb", "quantum chromodynamics",
    "the ferry departs from pier six", "import numpy as np", "mow the lawn on sunday",
    "a map of the underground", "", "   ", "the walls are painted beige",
    "compile with optimisation level two", "tomatoes grow well in full sun",
]  # fmt: skip

# Neutral descriptions: they are about a face but carry no emotion.
NEUTRAL: list[str] = ["stoic", "impassive", "straight-faced", "unemotional", "unmoved"]


# Basic words that held-out phrases are built around and the training vocabulary also holds,
# on purpose: "slightly angry" tests the unseen combination, not an unseen word. Anything else
# a training entry shares with a held-out prompt is a leak.
SHARED_BASE: frozenset[str] = frozenset({
    "a bit", "a little", "afraid", "amused", "angry", "annoyed", "contemptuous", "disgust",
    "disgusted", "furious", "grossed out", "happy", "mildly", "nervous", "pleased", "rage",
    "repulsed", "sad", "scared", "scorn", "slightly", "smug", "somewhat", "startled",
    "surprised", "terrified", "terror", "utterly",
})  # fmt: skip


def prompts() -> list[str]:
    """Every held-out prompt that names a feeling."""
    triples = [p for t in INTENSITY_TRIPLES for p in t[:3]]
    return (
        [p for p, _c in WORDS]
        + triples
        + [p for p, _c in NEGATIONS]
        + [p for p, _c in MIXTURES]
        + NEUTRAL
    )


def overlap(vocabulary: set[str]) -> list[str]:
    """Held-out single-word emotion prompts that the training vocabulary also holds."""
    singles = [p for p, _c in WORDS if " " not in p] + NEUTRAL
    return sorted(p for p in singles if p in vocabulary)


def leaks(vocabulary: set[str]) -> list[str]:
    """Training entries equal to a word or run of words of a held-out prompt, SHARED_BASE aside."""
    found: set[str] = set()
    for prompt in prompts():
        words = re.findall(r"[a-z'-]+", prompt.lower())
        runs = {
            " ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)
        }
        found |= (runs & vocabulary) - SHARED_BASE
    return sorted(found)

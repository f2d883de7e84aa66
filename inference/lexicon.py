"""Transcript words and their pronunciations: text normalisation, dictionary look-ups and a small
letter-to-sound fallback for words the dictionary (CMUdict, as pocketsphinx ships it) lacks."""

from __future__ import annotations

import re
from collections.abc import Callable

Lookup = Callable[[str], str | None]  # word -> "P H O N E S" (ARPAbet, stress digits allowed)

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_SYMBOL_WORDS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "#": " number "}


def number_words(n: int) -> list[str]:
    """Cardinal words for 0 <= n < 10**12: 42 -> ["forty", "two"]."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        tens, ones = divmod(n, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    for scale, name in _SCALES:
        if n >= scale:
            head, rest = divmod(n, scale)
            return number_words(head) + [name] + (number_words(rest) if rest else [])
    raise AssertionError("unreachable")


def ordinal_words(n: int) -> list[str]:
    """42 -> ["forty", "second"]; 20 -> ["twentieth"]."""
    words = number_words(n)
    last = words[-1]
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return [*words[:-1], last]


def _spell_number(match: re.Match[str]) -> str:
    digits, decimals, suffix = match.group(1), match.group(2), match.group(3)
    digits = digits.replace(",", "")
    if len(digits) > 12:  # read very long digit strings digit by digit
        return " " + " ".join(_ONES[int(d)] for d in digits) + " "
    value = int(digits)
    words = ordinal_words(value) if suffix else number_words(value)
    if decimals:
        words += ["point"] + [_ONES[int(d)] for d in decimals]
    return " " + " ".join(words) + " "


_NUMBER = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th)?\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


def transcript_words(text: str) -> list[str]:
    """Lower-case dictionary tokens of a transcript: numbers spelled out, punctuation and hyphens
    dropped, inner apostrophes kept ("Don't call-forward 21 times!" -> don't call forward
    twenty one times)."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    for symbol, words in _SYMBOL_WORDS.items():
        text = text.replace(symbol, words)
    text = _NUMBER.sub(_spell_number, text)
    return _WORD.findall(text)


# Letter-to-sound rules, longest grapheme first. Rough, but it gets the visible articulations
# (lips closed for p/b/m, teeth on lip for f/v, rounding for oo/w) right, which is what
# lip-sync needs from a word the dictionary does not know.
_GRAPHEMES: dict[str, str] = {
    "tion": "SH AH N",
    "sion": "ZH AH N",
    "ough": "AO",
    "augh": "AO",
    "eigh": "EY",
    "tch": "CH",
    "sch": "S K",
    "igh": "AY",
    "dge": "JH",
    "ph": "F",
    "sh": "SH",
    "ch": "CH",
    "th": "TH",
    "ck": "K",
    "ng": "NG",
    "qu": "K W",
    "wh": "W",
    "gh": "G",
    "ee": "IY",
    "ea": "IY",
    "oo": "UW",
    "ou": "AW",
    "ow": "OW",
    "oi": "OY",
    "oy": "OY",
    "ai": "EY",
    "ay": "EY",
    "au": "AO",
    "aw": "AO",
    "ie": "IY",
    "ei": "EY",
    "ey": "IY",
    "ue": "UW",
    "ew": "UW",
    "oa": "OW",
    "ar": "AA R",
    "er": "ER",
    "ir": "ER",
    "ur": "ER",
    "or": "AO R",
    "a": "AE",
    "b": "B",
    "c": "K",
    "d": "D",
    "e": "EH",
    "f": "F",
    "g": "G",
    "h": "HH",
    "i": "IH",
    "j": "JH",
    "k": "K",
    "l": "L",
    "m": "M",
    "n": "N",
    "o": "AA",
    "p": "P",
    "q": "K",
    "r": "R",
    "s": "S",
    "t": "T",
    "u": "AH",
    "v": "V",
    "w": "W",
    "x": "K S",
    "y": "IY",
    "z": "Z",
}
_LONGEST = max(len(g) for g in _GRAPHEMES)
_VOWEL_LETTERS = set("aeiouy")


def letter_to_sound(word: str) -> list[str]:
    """A rough ARPAbet pronunciation of a spelled word ("zorblax" -> Z AO R B L AE K S)."""
    letters = "".join(c for c in word.lower() if "a" <= c <= "z")
    if len(letters) > 3 and letters.endswith("e") and letters[-2] not in _VOWEL_LETTERS:
        letters = letters[:-1]  # silent final e
    for silent, kept in (("kn", "n"), ("wr", "r"), ("ps", "s")):
        if letters.startswith(silent):
            letters = kept + letters[2:]
    phones: list[str] = []
    i = 0
    while i < len(letters):
        if i > 0 and letters[i] == letters[i - 1] and letters[i] not in _VOWEL_LETTERS:
            i += 1  # doubled consonant sounds once
            continue
        if letters[i] == "c" and letters[i + 1 : i + 2] in ("e", "i", "y"):
            phones.append("S")
            i += 1
            continue
        if letters[i] == "y" and i == 0:
            phones.append("Y")
            i += 1
            continue
        for size in range(min(_LONGEST, len(letters) - i), 0, -1):
            sound = _GRAPHEMES.get(letters[i : i + size])
            if sound is not None:
                phones.extend(sound.split())
                i += size
                break
    return phones


def _possessive(word: str, lookup: Lookup) -> list[str] | None:
    if not word.endswith("'s"):
        return None
    base = lookup(word[:-2])
    if base is None:
        return None
    phones = base.split()
    last = phones[-1].rstrip("012")
    if last in ("S", "Z", "SH", "ZH", "CH", "JH"):
        return [*phones, "IH", "Z"]
    return [*phones, "S" if last in ("P", "T", "K", "F", "TH") else "Z"]


def _compound(word: str, lookup: Lookup) -> list[str] | None:
    for cut in range(3, len(word) - 2):
        head, tail = lookup(word[:cut]), lookup(word[cut:])
        if head is not None and tail is not None:
            return head.split() + tail.split()
    return None


def pronounce(word: str, lookup: Lookup) -> tuple[list[str], bool]:
    """Phones of one transcript word and whether the dictionary lacked it (so they are guessed)."""
    known = lookup(word)
    if known is not None:
        return known.split(), False
    for guess in (_possessive, _compound):
        phones = guess(word, lookup)
        if phones:
            return phones, True
    return letter_to_sound(word) or ["AH"], True


def oov_warning(words: list[str]) -> str:
    """The warning an Alignment carries for words pronounced without the dictionary."""
    unique = list(dict.fromkeys(words))
    shown = ", ".join(unique[:10]) + (", …" if len(unique) > 10 else "")
    noun = "word" if len(unique) == 1 else "words"
    return f"{len(unique)} {noun} not in the dictionary: {shown}; used spelled-out pronunciations"

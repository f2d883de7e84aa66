"""Phones of non-English text: espeak-ng's IPA for the language, mapped onto our ARPAbet set.

Each IPA segment goes to the English phone whose lip and jaw shape is closest (the articulator
only needs visemes right: a Czech ř as R, a French nasal vowel as its oral vowel, a front rounded
vowel as a rounded one). Stress, length, tie bars and palatalisation marks are dropped. The words
of the result go to `inference.alignment.align_pronounced` (pocketsphinx's en-us acoustic model
aligning the mapped phones: a cross-lingual forced alignment).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata

# longest match first: affricates and diphthongs before their parts
_IPA: dict[str, tuple[str, ...]] = {
    "t͡ʃ": ("CH",), "tʃ": ("CH",), "d͡ʒ": ("JH",), "dʒ": ("JH",), "t͡s": ("T", "S"),
    "ts": ("T", "S"), "d͡z": ("D", "Z"), "dz": ("D", "Z"), "t͡ɕ": ("CH",), "tɕ": ("CH",),
    "d͡ʑ": ("JH",), "dʑ": ("JH",), "tʂ": ("CH",), "dʐ": ("JH",),
    "aɪ": ("AY",), "aʊ": ("AW",), "eɪ": ("EY",), "ɛɪ": ("EY",), "ɔɪ": ("OY",), "oʊ": ("OW",),
    "əʊ": ("OW",), "ɔʏ": ("OY",), "œy": ("OY",), "ʌʊ": ("OW",),
    "i": ("IY",), "ɪ": ("IH",), "ɨ": ("IH",), "y": ("UW",), "ʏ": ("UH",), "e": ("EY",),
    "ɛ": ("EH",), "æ": ("AE",), "a": ("AA",), "ɑ": ("AA",), "ɐ": ("AH",), "ə": ("AH",),
    "ʌ": ("AH",), "ɜ": ("ER",), "ɚ": ("ER",), "ɝ": ("ER",), "ø": ("UH",), "œ": ("AO",),
    "o": ("OW",), "ɔ": ("AO",), "ɒ": ("AA",), "u": ("UW",), "ʊ": ("UH",), "ɯ": ("UW",),
    "ɤ": ("AH",), "ɘ": ("AH",), "ɵ": ("UH",), "ɞ": ("AH",),
    "p": ("P",), "b": ("B",), "m": ("M",), "ɱ": ("M",), "f": ("F",), "v": ("V",), "ʋ": ("V",),
    "β": ("V",), "ɸ": ("F",), "θ": ("TH",), "ð": ("DH",), "t": ("T",), "d": ("D",),
    "n": ("N",), "ɲ": ("N",), "ɳ": ("N",), "ŋ": ("NG",), "k": ("K",), "g": ("G",), "ɡ": ("G",),
    "c": ("T",), "ɟ": ("D",), "q": ("K",), "s": ("S",), "z": ("Z",), "ʃ": ("SH",),
    "ʒ": ("ZH",), "ɕ": ("SH",), "ʑ": ("ZH",), "ʂ": ("SH",), "ʐ": ("ZH",), "ç": ("HH",),
    "x": ("HH",), "χ": ("HH",), "h": ("HH",), "ɦ": ("HH",), "ɣ": ("G",), "ʝ": ("Y",),
    "j": ("Y",), "w": ("W",), "ɥ": ("W",), "l": ("L",), "ɫ": ("L",), "ʎ": ("L",), "ɭ": ("L",),
    "r": ("R",), "ɾ": ("R",), "ɹ": ("R",), "ʁ": ("R",), "ʀ": ("R",), "ɽ": ("R",), "ɻ": ("R",),
}  # fmt: skip
_KEYS = sorted(_IPA, key=len, reverse=True)
# marks that carry no lip or jaw shape of their own
_DROP = re.compile("[ˈˌːˑ‿‍ʲʰʷˠˤ̥̩̯̃̊͜͡ʔ'\\-.|,]")
# espeak-ng voice per language code of our sources
ESPEAK_VOICES = {
    code: code for code in "cs nl fr it ru es ca ro bg be el da lt de pt sv pl ml".split()
}


def ipa_to_arpabet(word: str) -> list[str]:
    """One IPA word (espeak-ng --ipa) as ARPAbet phones; unknown symbols are skipped."""
    w = unicodedata.normalize("NFD", word)
    w = _DROP.sub("", w.replace("t͡", "t͡").replace("d͡", "d͡"))
    w = unicodedata.normalize("NFC", w)
    out: list[str] = []
    i = 0
    while i < len(w):
        for key in _KEYS:
            if w.startswith(key, i):
                out.extend(_IPA[key])
                i += len(key)
                break
        else:
            i += 1
    return out


def espeak_ipa(text: str, language: str) -> list[str]:
    """espeak-ng's IPA words for `text` spoken in `language` (one entry per phonetic word)."""
    voice = ESPEAK_VOICES.get(language.split("-", maxsplit=1)[0].split("_", maxsplit=1)[0].lower())
    if voice is None:
        raise ValueError(f"no espeak-ng voice for language {language!r}")
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    proc = subprocess.run(
        ["espeak-ng", "-q", "--ipa=3", "-v", voice, "--", text],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"espeak-ng failed: {proc.stderr.strip()[:200]}")
    return proc.stdout.split()


def text_phones(text: str, language: str) -> list[list[str]]:
    """The ARPAbet words of `text` in `language` (empty words dropped)."""
    words = [ipa_to_arpabet(w) for w in espeak_ipa(text, language)]
    return [w for w in words if w]

"""The ARPAbet phone inventory (CMUdict, as pocketsphinx uses it) and its articulatory classes."""

from __future__ import annotations

VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
CONSONANTS = frozenset("B CH D DH F G HH JH K L M N NG P R S SH T TH V W Y Z ZH".split())
SILENCE = "SIL"
PHONES = VOWELS | CONSONANTS

BILABIAL = frozenset({"P", "B", "M"})
LABIODENTAL = frozenset({"F", "V"})
DENTAL = frozenset({"TH", "DH"})
LATERAL = frozenset({"L"})
ROUNDED = frozenset({"UW", "UH", "OW", "OY", "AO", "W", "ER", "R", "SH", "ZH", "CH", "JH"})
OPEN_VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY"})


def normalise_phone(label: str) -> str:
    """`AH0` -> `AH`, `sil`/`+NSN+`/`<sil>` -> `SIL`; unknown labels become `SIL`."""
    p = label.strip().upper().rstrip("012")
    return p if p in PHONES else SILENCE


# The phone classes every EmoSync model predicts ("SIL" first: 40 labels). Model files carry
# this list in their metadata; training code and the runtime take it from here.
PHONE_LABELS: tuple[str, ...] = (SILENCE, *sorted(PHONES))

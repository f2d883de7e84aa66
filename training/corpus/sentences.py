"""Project-written sentences for the speech corpus: small grammars over our own word lists.

English sentences come from a handful of templates (statements, questions, requests, two-clause
sentences) filled from hand-written vocabularies chosen so that every ARPAbet phone, including
the rare ones (ZH, OY, UH, NG, DH, TH, JH), occurs many times. Other languages get shorter
subject-verb-object sentences from small per-language word lists, enough for the convertor to
hear non-English speech. Everything is deterministic from the seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

_NAMES = (
    "Maya Ben Judy George Paul Beth Tom Vivian Joshua Rosa Martin Owen Zoe Hugo Nora Mike "
    "Sophie Jason Theo Molly Victor Ruth Charles Amber Percy Will Hannah Bridget"
).split()
_PEOPLE = (
    "teacher doctor neighbour brother mother father baby boy pilot farmer butcher cook "
    "singer judge lawyer soldier nurse plumber builder painter"
).split()
_THINGS = (
    "book bottle garage treasure measure vision coin toy voice choice bridge jacket bench "
    "window mirror pillow lamp sandwich umbrella engine picture puzzle mountain river bush "
    "cushion envelope fish ship village kitchen thumb map moth path bath cloth shoe hook "
    "wolf chair bicycle orange yellow letter beige television leisure noise oyster kettle "
    "doorway engine birthday cowboy thousand fountain journey pleasure usual mouse hedge"
).split()
_ADJECTIVES = (
    "big small old young bright quiet noisy yellow purple smooth rough heavy cheap huge "
    "lovely muddy thick thin brave gentle joyful boyish shiny foggy cosy sharp warm cool "
    "pleasant strange ugly orange golden wooden broken empty loyal royal"
).split()
_VERBS_PAST = (
    "bought found pushed pulled moved watched fixed washed took brought painted judged "
    "measured enjoyed chose packed shared thought caught threw touched kept borrowed hid "
    "joined opened closed carried dropped polished"
).split()
_VERBS_BASE = (
    "buy find push pull move watch fix wash take bring paint judge measure enjoy choose pack "
    "share catch throw touch keep borrow hide join open close carry drop"
).split()
_PLACES = (
    "in the garage|by the river|under the bridge|near the fountain|behind the village|"
    "at the beach|on the mountain|through the woods|in the kitchen|beside the pool|"
    "outside the theatre|over the hedge|along the path|inside the mouth of the cave"
).split("|")
_TIMES = (
    "this morning|last Thursday|every evening|yesterday|at noon|on Monday|after lunch|"
    "before the storm|in June|all through the night|in the autumn|at the weekend"
).split("|")
_MODALS = "should could would might must will can".split()
_PRONOUNS = "I you we they he she".split()
_FEELINGS = (
    "happy|worried|surprised|annoyed|thrilled|puzzled|pleased|upset|ashamed|amused|"
    "bored|jealous|calm|proud"
).split("|")
_CONNECTIVES = "and then|but|because|so|although|while|until".split("|")
_QUESTION_WORDS = "Why|How|When|Where".split("|")


def _noun_phrase(r: random.Random) -> str:
    det = r.choice(("the", "a", "my", "your", "our", "this", "that", "her", "his"))
    noun = r.choice(_THINGS)
    if det == "a" and noun[0] in "aeiou":
        det = "an"
    if r.random() < 0.6:
        adj = r.choice(_ADJECTIVES)
        if det == "an" and adj[0] not in "aeiou":
            det = "a"
        elif det == "a" and adj[0] in "aeiou":
            det = "an"
        return f"{det} {adj} {noun}"
    return f"{det} {noun}"


def _subject(r: random.Random) -> str:
    roll = r.random()
    if roll < 0.4:
        return r.choice(_NAMES)
    if roll < 0.7:
        return "the " + r.choice(_PEOPLE)
    return r.choice(_PRONOUNS)


def _clause(r: random.Random) -> str:
    text = f"{_subject(r)} {r.choice(_VERBS_PAST)} {_noun_phrase(r)}"
    if r.random() < 0.5:
        text += " " + r.choice(_PLACES)
    if r.random() < 0.35:
        text += " " + r.choice(_TIMES)
    return text


def _statement(r: random.Random) -> str:
    return _clause(r) + "."


def _compound(r: random.Random) -> str:
    return f"{_clause(r)} {r.choice(_CONNECTIVES)} {_clause(r)}."


def _question(r: random.Random) -> str:
    if r.random() < 0.5:
        return f"Did {_subject(r)} {r.choice(_VERBS_BASE)} {_noun_phrase(r)} {r.choice(_TIMES)}?"
    return f"{r.choice(_QUESTION_WORDS)} {r.choice(('did', 'would', 'should'))} {_subject(r)} " + (
        f"{r.choice(_VERBS_BASE)} {_noun_phrase(r)} {r.choice(_PLACES)}?"
    )


def _request(r: random.Random) -> str:
    return (
        f"Please {r.choice(_VERBS_BASE)} {_noun_phrase(r)} {r.choice(_PLACES)}, {r.choice(_NAMES)}."
    )


def _feeling(r: random.Random) -> str:
    return (
        f"{_subject(r)} {r.choice(('was', 'felt', 'seemed'))} {r.choice(_FEELINGS)} when "
        f"{_clause(r)}."
    )


def _modal(r: random.Random) -> str:
    return (
        f"{r.choice(_PRONOUNS)} {r.choice(_MODALS)} {r.choice(_VERBS_BASE)} {_noun_phrase(r)} "
        f"{r.choice(_TIMES)}."
    )


_TEMPLATES: tuple[tuple[Callable[[random.Random], str], float], ...] = (
    (_statement, 3.0),
    (_compound, 2.0),
    (_question, 1.5),
    (_request, 1.0),
    (_feeling, 1.5),
    (_modal, 1.0),
)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def english_sentences(n: int, seed: int = 0) -> list[str]:
    """`n` distinct English sentences, deterministic from `seed`."""
    r = random.Random(f"en:{seed}")
    makers = [t for t, _ in _TEMPLATES]
    weights = [w for _, w in _TEMPLATES]
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        text = _capitalise(r.choices(makers, weights)[0](r))
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


# --- other languages: subject + verb phrase + object (+ time), from small lists per language ---
# Each entry: (subjects, verbs, objects, times). Verbs are already conjugated for the subjects
# used (third person singular), so any combination is grammatical.
_FOREIGN: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    "de": (
        "Der Vater|Die Mutter|Mein Bruder|Unsere Lehrerin|Das kleine Kind|Der alte Bäcker".split(
            "|"
        ),
        "kauft|sucht|findet|bringt|öffnet|malt|trägt|sieht".split("|"),
        "einen Apfel|die grüne Tasche|das Fenster|ein Buch|den schweren Koffer|frische Milch|"
        "die Zeitung|ein warmes Brot".split("|"),
        "heute|am Morgen|jeden Abend|im Sommer|nach der Schule|schon wieder".split("|"),
    ),
    "fr": (
        "Le garçon|Ma soeur|Le vieux pêcheur|Notre voisine|Le boulanger|La petite fille".split("|"),
        "achète|cherche|trouve|porte|ouvre|regarde|prépare|dessine".split("|"),
        "une pomme rouge|le journal|la fenêtre|un beau livre|du pain chaud|la boîte bleue|"
        "un bouquet de fleurs|le vélo".split("|"),
        "ce matin|chaque soir|en été|demain|après le déjeuner|tout de suite".split("|"),
    ),
    "es": (
        "El niño|Mi madre|El viejo pescador|Nuestra vecina|El panadero|La profesora".split("|"),
        "compra|busca|encuentra|lleva|abre|mira|prepara|pinta".split("|"),
        "una manzana|el periódico|la ventana|un libro nuevo|pan caliente|la caja azul|"
        "muchas flores|la bicicleta".split("|"),
        "hoy|por la mañana|cada noche|en verano|mañana|después de comer".split("|"),
    ),
    "it": (
        "Il bambino|Mia madre|Il vecchio pescatore|La nostra vicina|Il fornaio|La maestra".split(
            "|"
        ),
        "compra|cerca|trova|porta|apre|guarda|prepara|dipinge".split("|"),
        "una mela|il giornale|la finestra|un libro nuovo|il pane caldo|la scatola blu|"
        "molti fiori|la bicicletta".split("|"),
        "oggi|la mattina|ogni sera|in estate|domani|dopo pranzo".split("|"),
    ),
    "pt": (
        "O menino|A minha mãe|O velho pescador|A nossa vizinha|O padeiro|A professora".split("|"),
        "compra|procura|encontra|leva|abre|olha para|prepara|pinta".split("|"),
        "uma maçã|o jornal|a janela|um livro novo|pão quente|a caixa azul|muitas flores|"
        "a bicicleta".split("|"),
        "hoje|de manhã|todas as noites|no verão|amanhã|depois do almoço".split("|"),
    ),
    "nl": (
        "De jongen|Mijn moeder|De oude visser|Onze buurvrouw|De bakker|De juffrouw".split("|"),
        "koopt|zoekt|vindt|brengt|opent|bekijkt|maakt|schildert".split("|"),
        "een appel|de krant|het raam|een nieuw boek|warm brood|de blauwe doos|veel bloemen|"
        "de fiets".split("|"),
        "vandaag|'s ochtends|elke avond|in de zomer|morgen|na het eten".split("|"),
    ),
    "pl": (
        "Mały chłopiec|Moja matka|Stary rybak|Nasza sąsiadka|Piekarz|Nauczycielka".split("|"),
        "kupuje|szuka|znajduje|niesie|otwiera|ogląda|przygotowuje|maluje".split("|"),
        "jabłko|gazetę|okno|nową książkę|ciepły chleb|niebieskie pudełko|piękne kwiaty|rower".split(
            "|"
        ),
        "dzisiaj|rano|każdego wieczoru|latem|jutro|po obiedzie".split("|"),
    ),
}
LANGUAGES: tuple[str, ...] = tuple(_FOREIGN)


def foreign_sentences(language: str, n: int, seed: int = 0) -> list[str]:
    """`n` sentences in `language` (one of LANGUAGES), distinct while the grammar allows."""
    subjects, verbs, objects, times = _FOREIGN[language]
    r = random.Random(f"{language}:{seed}")
    out: list[str] = []
    seen: set[str] = set()
    tries = 0
    while len(out) < n:
        text = f"{r.choice(subjects)} {r.choice(verbs)} {r.choice(objects)}"
        if r.random() < 0.6:
            text += " " + r.choice(times)
        text += "."
        tries += 1
        if text not in seen or tries > 50 * n:
            seen.add(text)
            out.append(text)
    return out


# --- phone coverage (for tests and the README's numbers) -----------------------------------------
def cmudict(path: str | Path | None = None) -> dict[str, list[str]]:
    """Word -> phones (stress removed) from pocketsphinx's CMUdict; first pronunciation wins."""
    if path is None:
        from pocketsphinx import get_model_path

        path = get_model_path("en-us/cmudict-en-us.dict")
    out: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if parts and "(" not in parts[0]:
                out[parts[0]] = [p.rstrip("012") for p in parts[1:]]
    return out


def words_of(text: str) -> list[str]:
    cleaned = "".join(c if c.isalpha() or c == "'" else " " for c in text.lower())
    return cleaned.split()


def phone_counts(sentences: list[str], lexicon: dict[str, list[str]]) -> dict[str, int]:
    """How often each ARPAbet phone occurs in the sentences (dictionary words only)."""
    counts: dict[str, int] = {}
    for text in sentences:
        for word in words_of(text):
            for phone in lexicon.get(word, []):
                counts[phone] = counts.get(phone, 0) + 1
    return counts


def oov_words(sentences: list[str], lexicon: dict[str, list[str]]) -> set[str]:
    return {w for text in sentences for w in words_of(text) if w not in lexicon}

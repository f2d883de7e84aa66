"""Readers of real speech installed by Debian packages: clip <-> text pairs with their speaker.

Each reader lists `RealClip`s (nothing is decoded here); `load_samples` decodes one to 16 kHz
mono. Sources (apt-get install the package to use one; a source that is not installed lists no
clips):

- `tuxpaint`: tuxpaint-stamps-default, spoken stamp descriptions (`<stamp>_desc[_LANG].ogg`,
  English without a language suffix) and spoken names (`<stamp>_LANG.ogg`); the text is the
  matching line of `<stamp>.txt` (first line English, then `LANG.utf8=...`). Speakers are the
  people the package changelog credits per language ("Descriptive sounds by ...").
- `asterisk-fr`, `asterisk-it`, `asterisk-ru`: asterisk-core-sounds-XX(-g722), one professional
  voice each, transcripts in core-sounds-XX.txt.gz. Reserved `vm-*` prompts are never listed.
- `fillets-cs`, `fillets-nl`: fillets-ng-data-cs/-nl with fillets-ng-data; each level's
  `dialogs_XX.lua` gives the line (`dialogStr`) for each clip id with the speaking character's
  font tag (`font_small`, `font_big`, ...), which names the speaker.
- `queen`: flight-of-the-amazon-queen's `queen.1c` (English, many voices). Its resource table
  and the dialogue (.DOG) files are read by `queen.py`; the speakers are Joe and the person of
  each dialogue file. The package depends on scummvm, so `fetch_games` unpacks the .deb
  (`apt-get download` + `dpkg-deb -x`) into data/games instead of installing it.
- `sky`: beneath-a-steel-sky's `sky.dsk`/`sky.dnr` (English, a British cast), read by `sky.py`:
  each speech file's line text and the character the game's scripts have say it. Lines whose
  speaker the scripts do not pin to one character are not listed (they could be a held-out
  character's voice). Unpacked from its .deb like Flight of the Amazon Queen.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emosync.evaluation.asterisk import decode_g722, is_reserved, read_transcripts
from emosync.training.corpus.sky import (
    SPEECH_RATE,
    SkyDisk,
    clean_text,
    speech_lines,
    speech_samples,
)

TUXPAINT_DIR = Path("/usr/share/tuxpaint/stamps")
FILLETS_DIR = Path("/usr/share/games/fillets-ng")
ASTERISK_DIR = Path("/usr/share/asterisk/sounds")
DOC_DIR = Path("/usr/share/doc")
GAMES_DIR = Path(os.environ.get("EMOSYNC_GAMES_DIR", "data/games"))  # fetch_games unpacks here
QUEEN_FILE = "usr/share/scummvm/flight-of-the-amazon-queen/queen.1c"
QUEEN_PACKAGE = "flight-of-the-amazon-queen"
SKY_DIR = "usr/share/scummvm/beneath-a-steel-sky"
SKY_PACKAGE = "beneath-a-steel-sky"
# the sex of a Queen character where its name says it (the hero Joe King, Faye Russell, ...)
QUEEN_SEX = {"JOE": "m", "FAYE": "f", "BUD": "m", "NAOMI": "f", "HENRY": "m", "FRANK": "m",
             "LOLA": "f", "PRIN": "f", "IAN": "m", "JOHN": "m"}  # fmt: skip

# Asterisk voices (the folder names carry the speaker's sex)
ASTERISK_VOICES = {
    "fr": ("fr_CA_f_June", "June Wallack", "f"),
    "it": ("it_IT_m_Carlo", "Carlo", "m"),
    "ru": ("ru_RU_f_IvrvoiceRU", "IvrvoiceRU", "f"),
}
# Tux Paint: who recorded the descriptions of each language, per the package changelog
# (sex read from the credited first name; None where the changelog names nobody)
TUXPAINT_SPEAKERS: dict[str, tuple[str, str | None]] = {
    "en": ("unnamed English narrator", None),
    "en_GB": ("John Arundel", "m"),
    "bg": ("Krasimir Petkov", "m"),
    "be": ("Kseniya Buraya", "f"),
    "da": ("Joe Dalton", "m"),
    "el": ("Kiriaki Serafeim", "f"),
    "es": ("Estefania Ortiz", "f"),
    "fr": ("Jacques Chion", "m"),
}
FILLETS_CHARACTERS = {"font_small": "small fish", "font_big": "big fish"}

_TUX_DESC = re.compile(r"^(?P<stamp>.+?)_desc(?:_(?P<lang>[a-z]{2}(?:_[A-Z]{2})?))?\.ogg$")
_TUX_NAME = re.compile(r"^(?P<stamp>.+?)_(?P<lang>[a-z]{2}(?:_[A-Z]{2})?)\.ogg$")
_LUA_STR = r'"((?:[^"\\]|\\.)*)"'
_DIALOG_ID = re.compile(rf"dialogId\(\s*{_LUA_STR}\s*,\s*{_LUA_STR}\s*,\s*{_LUA_STR}\s*\)")
_DIALOG_STR = re.compile(rf"dialogStr\(\s*{_LUA_STR}\s*\)")


@dataclass(frozen=True)
class RealClip:
    source: str  # tuxpaint, asterisk-fr, fillets-cs, ...
    key: str  # unique within the source, file-name safe
    audio: Path
    text: str
    language: str  # en, fr, cs, ...
    speaker: str  # "<source family>:<speaker>", the unit of the speaker-disjoint split
    sex: str | None  # "f", "m" or None when not known
    package: str  # the Debian package that installed the audio
    licence_path: str  # path matched against the copyright file's Files: patterns
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def id(self) -> str:
        return f"{self.source}__{self.key}".replace("-", "_")


# --- licences -----------------------------------------------------------------------------------
def copyright_licence(package: str, path: str, doc_dir: Path = DOC_DIR) -> dict[str, str]:
    """The licence of `path` per the package's machine-readable copyright file: the last
    `Files:` stanza whose pattern matches (DEP-5), else the first stanza's."""
    copyright_file = doc_dir / package / "copyright"
    if not copyright_file.is_file():
        return {"package": package, "licence": "unknown", "copyright_file": str(copyright_file)}
    text = copyright_file.read_text(encoding="utf-8", errors="replace")
    chosen: dict[str, str] | None = None
    first: dict[str, str] | None = None
    for stanza in re.split(r"\n\s*\n", text):
        fields = _stanza_fields(stanza)
        if "files" not in fields or "license" not in fields:
            continue
        entry = {
            "licence": fields["license"].split("\n")[0].strip(),
            "copyright": fields.get("copyright", "").split("\n")[0].strip(),
        }
        first = first or entry
        if any(fnmatch.fnmatch(path, pat) for pat in fields["files"].split()):
            chosen = entry
    if chosen is None and first is None:  # not machine-readable: the licence it points to
        named = re.findall(r"/usr/share/common-licenses/([\w+-]+(?:\.\d+)?)", text)
        first = {"licence": named[-1] if named else "unknown", "copyright": ""}
    return {"package": package, **(chosen or first), "copyright_file": str(copyright_file)}


def _stanza_fields(stanza: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    name = None
    for line in stanza.splitlines():
        if line[:1] in (" ", "\t") and name:
            fields[name] += "\n" + line.strip()
        elif ":" in line:
            name, value = line.split(":", 1)
            name = name.strip().lower()
            fields[name] = value.strip()
    return fields


# --- Tux Paint ----------------------------------------------------------------------------------
def tuxpaint_text(txt: Path, lang: str | None) -> str | None:
    """The line of a stamp's .txt in `lang` (None: the English first line)."""
    if not txt.is_file():
        return None
    lines = txt.read_text(encoding="utf-8", errors="replace").splitlines()
    if lang is None:
        return lines[0].strip() if lines and "=" not in lines[0] else None
    for line in lines:
        if line.startswith(f"{lang}.utf8="):
            return line.split("=", 1)[1].strip()
    return None


def tuxpaint_clips(root: Path = TUXPAINT_DIR) -> Iterator[RealClip]:
    """Spoken descriptions and names whose text is in the stamp's .txt."""
    if not root.is_dir():
        return
    for ogg in sorted(root.rglob("*.ogg")):
        m = _TUX_DESC.match(ogg.name)
        kind = "desc"
        if m is None:
            m, kind = _TUX_NAME.match(ogg.name), "name"
        if m is None:
            continue  # a stamp's sound effect
        lang = m.group("lang")
        if kind == "name" and lang != "en_GB":
            continue  # short spoken names of many speakers: no speaker to hold out
        text = tuxpaint_text(ogg.parent / f"{m.group('stamp')}.txt", lang)
        if not text:
            continue
        code = lang or "en"
        who, sex = TUXPAINT_SPEAKERS.get(code, (f"unnamed {code} narrator", None))
        rel = ogg.relative_to(root)
        yield RealClip(
            "tuxpaint",
            rel.with_suffix("").as_posix().replace("/", "__"),
            ogg,
            text,
            code.split("_")[0],
            f"tuxpaint:{code}",
            sex,
            "tuxpaint-stamps-default",
            rel.as_posix(),
            {"speaker_name": who, "kind": kind},
        )


# --- Asterisk -----------------------------------------------------------------------------------
def asterisk_clips(
    lang: str, sounds: Path = ASTERISK_DIR, doc: Path = DOC_DIR
) -> Iterator[RealClip]:
    """One language's prompts (g722) with their transcript lines; vm-* never listed."""
    folder, who, sex = ASTERISK_VOICES[lang]
    voice_dir = sounds / folder
    transcript = doc / f"asterisk-core-sounds-{lang}" / f"core-sounds-{lang}.txt.gz"
    if not voice_dir.is_dir() or not transcript.is_file():
        return
    texts = read_transcripts(transcript)
    for audio in sorted(voice_dir.rglob("*.g722")):
        name = audio.relative_to(voice_dir).with_suffix("").as_posix()
        if is_reserved(name):
            continue
        text = _asterisk_words(texts.get(name, ""))
        if text:
            yield RealClip(
                f"asterisk-{lang}", name.replace("/", "__"), audio, text, lang,
                f"asterisk:{folder}", sex, f"asterisk-core-sounds-{lang}-g722",
                f"{lang}-{name}", {"speaker_name": who},
            )  # fmt: skip


def _asterisk_words(text: str) -> str:
    """A transcript line without notes in [] or () and without a leading 'name:' echo."""
    t = re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", text)
    t = re.sub(r"^[\w/-]+:\s*", "", t.strip())
    return " ".join(t.split())


# --- Fish Fillets -------------------------------------------------------------------------------
def fillets_dialogs(lua: Path) -> dict[str, tuple[str, str]]:
    """clip id -> (font tag, line) of one level's dialogs_XX.lua (`dialogId` then `dialogStr`)."""
    text = lua.read_text(encoding="utf-8", errors="replace")
    out: dict[str, tuple[str, str]] = {}
    for m in _DIALOG_ID.finditer(text):
        nxt = _DIALOG_STR.match(text, _skip_space(text, m.end()))
        if nxt is not None:
            out[m.group(1)] = (m.group(2), _lua_unescape(nxt.group(1)))
    return out


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _lua_unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def fillets_clips(lang: str, root: Path = FILLETS_DIR) -> Iterator[RealClip]:
    """The spoken lines of one language's voice pack."""
    if not (root / "script").is_dir():
        return
    for lua in sorted((root / "script").glob(f"*/dialogs_{lang}.lua")):
        level = lua.parent.name
        sound_dir = root / "sound" / level / lang
        if not sound_dir.is_dir():
            continue
        for clip_id, (font, line) in sorted(fillets_dialogs(lua).items()):
            audio = sound_dir / f"{clip_id}.ogg"
            if not line.strip() or not font or not audio.is_file():
                continue
            character = FILLETS_CHARACTERS.get(font, font.removeprefix("font_"))
            yield RealClip(
                f"fillets-{lang}", f"{level}__{clip_id}", audio, line.strip(), lang,
                f"fillets-{lang}:{character}", None, f"fillets-ng-data-{lang}",
                f"sound/{level}/{lang}/{clip_id}.ogg", {"font": font, "level": level},
            )  # fmt: skip


# --- Flight of the Amazon Queen -----------------------------------------------------------------
def fetch_games(
    dest: Path = GAMES_DIR, packages: tuple[str, ...] = (QUEEN_PACKAGE, SKY_PACKAGE)
) -> None:
    """Unpack the game packages' .debs into `dest` (apt-get download + dpkg-deb -x), without
    installing them or their scummvm dependency."""
    dest.mkdir(parents=True, exist_ok=True)
    debs = dest / "debs"
    debs.mkdir(exist_ok=True)
    for package in packages:
        if not list(debs.glob(f"{package}_*.deb")):
            subprocess.run(["apt-get", "download", package], cwd=debs, check=True)
        deb = sorted(debs.glob(f"{package}_*.deb"))[-1]
        subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)


def queen_path(games: Path = GAMES_DIR) -> Path | None:
    """queen.1c from the installed package, else from the unpacked .deb under `games`."""
    for root in (Path("/"), games):
        if (root / QUEEN_FILE).is_file():
            return root / QUEEN_FILE
    return None


def queen_clips(games: Path = GAMES_DIR) -> Iterator[RealClip]:
    """The dialogue lines of Flight of the Amazon Queen (see queen.py)."""
    from emosync.training.corpus.queen import dialogue_lines

    path = queen_path(games)
    if path is None:
        return
    doc = path.parents[2] / "doc"  # .../usr/share/doc beside .../usr/share/scummvm
    for line in dialogue_lines(path):
        yield RealClip(
            "queen", line.voice_file.removesuffix(".SB"), path, line.text, "en",
            f"queen:{line.speaker}", QUEEN_SEX.get(line.speaker), QUEEN_PACKAGE,
            line.voice_file, {"offset": line.offset, "size": line.size, "dialog": line.dialog,
                              "doc_dir": str(doc)},
        )  # fmt: skip


# --- Beneath a Steel Sky ------------------------------------------------------------------------
def sky_path(games: Path = GAMES_DIR) -> Path | None:
    """The folder with sky.dsk, sky.dnr and sky.cpt: installed, else unpacked under `games`."""
    for root in (Path("/"), games):
        folder = root / SKY_DIR
        if all((folder / f).is_file() for f in ("sky.dsk", "sky.dnr", "sky.cpt")):
            return folder
    return None


def sky_clips(games: Path = GAMES_DIR) -> Iterator[RealClip]:
    """The speech files of Beneath a Steel Sky whose speaker the scripts name (see sky.py)."""
    folder = sky_path(games)
    if folder is None:
        return
    doc = folder.parents[1] / "doc"  # .../usr/share/doc beside .../usr/share/scummvm
    for line in speech_lines(folder):
        text = clean_text(line.text)
        if line.candidates != 1 or not text:
            continue
        yield RealClip(
            "sky", str(line.file), folder / "sky.dsk", text, "en", f"sky:{line.speaker}",
            line.sex, SKY_PACKAGE, f"sky.dsk/{line.file}",
            {"file": line.file, "text_number": line.text_number, "samples": line.samples,
             "doc_dir": str(doc)},
        )  # fmt: skip


@functools.cache
def _sky_disk(folder: Path) -> SkyDisk:
    return SkyDisk(folder)


# --- all sources --------------------------------------------------------------------------------
SOURCES = (
    "tuxpaint", "asterisk-fr", "asterisk-it", "asterisk-ru", "fillets-cs", "fillets-nl", "queen",
    "sky",
)  # fmt: skip


def source_clips(source: str) -> Iterator[RealClip]:
    """The clips of one source (none when its package is not installed)."""
    if source == "tuxpaint":
        return tuxpaint_clips()
    if source.startswith("asterisk-"):
        return asterisk_clips(source.split("-", 1)[1])
    if source.startswith("fillets-"):
        return fillets_clips(source.split("-", 1)[1])
    if source == "queen":
        return queen_clips()
    if source == "sky":
        return sky_clips()
    raise ValueError(f"unknown source {source!r} (choose {', '.join(SOURCES)})")


def load_samples(clip: RealClip) -> np.ndarray:
    """16 kHz mono float32 samples of a clip's audio."""
    if clip.audio.suffix == ".g722":
        return decode_g722(clip.audio)
    if clip.source == "queen":
        from emosync.training.corpus.queen import decode_mp3, read_resource

        return decode_mp3(read_resource(clip.audio, clip.extra["offset"], clip.extra["size"]))
    from emosync.training.corpus.voices import to_16k

    if clip.source == "sky":
        data = _sky_disk(clip.audio.parent).load(int(clip.extra["file"]))
        return to_16k(speech_samples(data), SPEECH_RATE)
    import soundfile as sf

    samples, rate = sf.read(str(clip.audio), dtype="float32", always_2d=True)
    return to_16k(samples.mean(axis=1), int(rate))

"""Corpus v2 (real speech): the readers on bytes built to each documented layout, the espeak-ng
phone mapping, the speaker-disjoint split, a real clip through the teacher and its confidence
filter (Asterisk Allison, installed by scripts/setup.sh), and per-speaker rows from
`emosync eval --engines` on a two-speaker corpus."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from emosync.evaluation import asterisk
from emosync.evaluation.asterisk import decode_g722, list_prompts
from emosync.training.corpus import queen
from emosync.training.corpus.crosslingual import ipa_to_arpabet, text_phones
from emosync.training.corpus.real_build import build_clip, load_split, plan, split_of
from emosync.training.corpus.real_sources import (
    RealClip,
    copyright_licence,
    fillets_dialogs,
    tuxpaint_text,
)

needs_allison = pytest.mark.skipif(
    not (asterisk.SOUNDS_DIR.is_dir() and asterisk.TRANSCRIPTS.is_file()),
    reason="Debian asterisk-core-sounds-en(-g722) not installed",
)


# --- Flight of the Amazon Queen: a queen.1c built in the test to the documented layout ----------
def _pstring(ident: int, text: str) -> bytes:
    raw = text.encode("latin-1")
    out = struct.pack(">hh", 0, ident) + bytes([len(raw)]) + raw
    return out + b"\0" * (-len(out) % 4)


def _dog(talk_key: int, person: list[tuple[int, str]], joe: list[tuple[int, str]]) -> bytes:
    level_max = 1
    joe_off = 32 + level_max * 96
    joe_part = b"".join(_pstring(i, t) for i, t in joe)
    person_off = joe_off + len(joe_part)
    head = struct.pack(">5h", level_max, 7, talk_key, len(joe), len(person))
    head += b"\0" * 12 + struct.pack(">3H", person_off, 0, 0)
    body = head.ljust(joe_off, b"\0") + joe_part + b"".join(_pstring(i, t) for i, t in person)
    return b"AmBk".ljust(queen.DOG_HEADER, b"\0") + body


def _queen_file(resources: dict[str, bytes]) -> bytes:
    table_size = 15 + queen.ENTRY * len(resources)
    head = b"QTBL" + b"CEM10" + struct.pack(">IH", 1, len(resources))
    entries, blobs, offset = b"", b"", table_size
    for name, blob in resources.items():
        entries += (
            name.encode().ljust(12, b"\0") + bytes([1]) + struct.pack(">II", offset, len(blob))
        )
        blobs += blob
        offset += len(blob)
    return head + entries + blobs


def test_queen_reader_pairs_voice_files_with_line_segments(tmp_path: Path) -> None:
    dog = _dog(
        8,
        person=[(1, "Hello Joe...*02*01I'm Bud,*FRand this is Skip."), (0, "Hello again.")],
        joe=[(0, "Hi, I'm Joe King."), (0x23, "Why an Amazon tribe?*15")],
    )
    path = tmp_path / "queen.1c"
    speech = {"080001P1.SB": b"\xff\xe3a", "080001P3.SB": b"\xff\xe3b", "080023J1.SB": b"\xff\xe3c"}
    path.write_bytes(_queen_file({"BUD1.DOG": dog, **speech}))

    lines = {line.voice_file: line for line in queen.dialogue_lines(path)}
    assert set(lines) == {"080001P1.SB", "080001P3.SB", "080023J1.SB"}  # P4 has no file
    assert lines["080001P1.SB"].text == "Hello Joe..."
    assert lines["080001P3.SB"].text == "I'm Bud,"
    assert lines["080001P1.SB"].speaker == "BUD" and lines["080023J1.SB"].speaker == "JOE"
    third = lines["080023J1.SB"]
    assert queen.read_resource(path, third.offset, third.size) == b"\xff\xe3c"
    assert queen.segments("*XY00(237,112)Go!*02") == ["", "Go!", ""]


def test_queen_reader_refuses_other_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="QTBL"):
        queen.read_table(b"RIFF" + b"\0" * 40)


# --- Fish Fillets, Tux Paint, licences ----------------------------------------------------------
def test_fillets_dialogs_give_the_translated_line_and_speaker(tmp_path: Path) -> None:
    lua = tmp_path / "dialogs_cs.lua"
    lua.write_text(
        'dialogId("vit-m-a", "font_small", "Why so \\"many\\" swords?")\n'
        'dialogStr("Proč tolik \\"mečů\\"?")\n\n'
        'dialogId("vit-x-beg", "", "")\n',
        encoding="utf-8",
    )
    assert fillets_dialogs(lua) == {"vit-m-a": ("font_small", 'Proč tolik "mečů"?')}


def test_tuxpaint_text_reads_the_line_of_a_language(tmp_path: Path) -> None:
    txt = tmp_path / "frog.txt"
    txt.write_text("A frog.\nfr.utf8=Une grenouille.\nen_GB.utf8=A frog.\n", encoding="utf-8")
    assert tuxpaint_text(txt, None) == "A frog."
    assert tuxpaint_text(txt, "fr") == "Une grenouille."
    assert tuxpaint_text(txt, "de") is None


def test_copyright_licence_picks_the_matching_stanza(tmp_path: Path) -> None:
    pkg = tmp_path / "sounds"
    pkg.mkdir()
    (pkg / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: *\nCopyright: 2003 A\nLicense: CC-BY-SA-3.0\n\n"
        "Files: fr-*\nCopyright: 2006 June\nLicense: CC-BY-3.0\n"
    )
    assert copyright_licence("sounds", "fr-hello", tmp_path)["licence"] == "CC-BY-3.0"
    assert copyright_licence("sounds", "en-hello", tmp_path)["licence"] == "CC-BY-SA-3.0"
    (pkg / "copyright").write_text("found in `/usr/share/common-licenses/GPL-2'.\n")
    assert copyright_licence("sounds", "x", tmp_path)["licence"] == "GPL-2"


# --- phones of other languages ------------------------------------------------------------------
def test_ipa_maps_onto_our_phones() -> None:
    assert ipa_to_arpabet("pˈotslunt‍sem") == [
        "P",
        "OW",
        "T",
        "S",
        "L",
        "UW",
        "N",
        "T",
        "S",
        "EY",
        "M",
    ]
    assert ipa_to_arpabet("kɔ̃pozˈe") == ["K", "AO", "P", "OW", "Z", "EY"]
    assert ipa_to_arpabet("t͡ʃaʊ") == ["CH", "AW"]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_espeak_phones_of_a_czech_line_keep_its_bilabials() -> None:
    phones = [p for word in text_phones("Máma ví, proč.", "cs") for p in word]
    assert phones.count("M") == 2 and "P" in phones and "V" in phones


# --- the split ----------------------------------------------------------------------------------
def test_split_is_speaker_disjoint_and_holds_out_several_sources() -> None:
    table = load_split()
    val = {s for s, split in table.items() if split == "val"}
    test = {s for s, split in table.items() if split == "test"}
    assert val and test and not (val & test)
    for held in (val, test):
        assert len({s.split(":")[0] for s in held}) >= 3  # several source families
        assert any(s.startswith(("queen:", "tuxpaint:en")) for s in held)  # English
    assert split_of("queen:JOE", table) == "train"


def test_plan_keeps_every_clip_of_held_out_speakers(monkeypatch: pytest.MonkeyPatch) -> None:
    from emosync.training.corpus import real_build

    def fake_clips(source: str):
        for i in range(5):
            for speaker in ("queen:JOE", "queen:FAYE"):
                yield RealClip(
                    "queen", f"{speaker}{i}", Path("x"), "hi", "en", speaker, None, "p", "x"
                )

    monkeypatch.setattr(real_build, "source_clips", fake_clips)
    chosen = plan(["queen"], per_speaker=2)
    assert sum(c.speaker == "queen:JOE" for c in chosen) == 2
    assert sum(c.speaker == "queen:FAYE" for c in chosen) == 5


# --- a real clip through the teacher, the filter and `emosync eval` -----------------------------
def _allison_clip(prompt, text: str, speaker: str) -> RealClip:
    return RealClip(
        "asterisk-en", prompt.file_stem, prompt.audio_path, text, "en", speaker, "f",
        "asterisk-core-sounds-en-g722", f"en-{prompt.name}",
    )  # fmt: skip


@pytest.fixture(scope="module")
def two_prompts() -> list:
    chosen = [p for p in list_prompts("dev") if 4 <= len(p.text.split()) <= 8 and "m" in p.text]
    return chosen[:2]


@needs_allison
def test_build_clip_keeps_a_matching_text_and_drops_a_wrong_one(
    tmp_path: Path, two_prompts: list
) -> None:
    good, other = two_prompts
    kept = build_clip(_allison_clip(good, good.text, "a:one"), tmp_path, "test")
    assert kept["kept"] and kept["split"] == "test"
    assert kept["provenance"]["licence"]["licence"] == "CC-BY-SA-3.0"
    base = tmp_path / "asterisk-en" / kept["id"]
    assert base.with_suffix(".wav").is_file() and base.with_suffix(".npz").is_file()

    wrong = build_clip(_allison_clip(other, good.text, "a:two"), tmp_path, "test")
    assert not wrong["kept"] and wrong["rejected"]
    assert not (tmp_path / "asterisk-en" / f"{wrong['id']}.npz").exists()
    # a resumed build reads the record instead of redoing the clip
    assert build_clip(_allison_clip(good, "changed text", "a:one"), tmp_path, "test") == kept


@needs_allison
def test_eval_prints_per_speaker_rows(tmp_path: Path, two_prompts: list, capsys) -> None:
    from emosync.cli.main import main

    for prompt, speaker in zip(two_prompts, ("a:one", "a:two"), strict=True):
        build_clip(_allison_clip(prompt, prompt.text, speaker), tmp_path, "test")
    decode_g722(two_prompts[0].audio_path)  # the folder holds corpus clips only
    args = ["eval", str(tmp_path), "--engines", "phonetic,neural,neural-phones", "--split", "test"]
    assert main([*args, "--language", "en", "--no-transcript", "--per-speaker", "1"]) == 0
    out = capsys.readouterr().out
    assert "per speaker:" in out and "per source:" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("a:one", "a:two"))]
    assert {(r[0], r[1]) for r in rows} == {
        (s, e) for s in ("a:one", "a:two") for e in ("phonetic", "neural", "neural-phones")
    }
    assert main([*args, "--language", "fr"]) == 2  # no clip of that language
    assert "no X.wav" in capsys.readouterr().err
    meta = json.loads(next((tmp_path / "asterisk-en").glob("*.json")).read_text())
    assert meta["speaker"] in ("a:one", "a:two")


@needs_allison
def test_neural_phone_alignment_options(two_prompts: list) -> None:
    from emosync.evaluation.compare import neural_phone_alignment
    from emosync.inference.convertor import NeuralConvertor

    conv = NeuralConvertor()
    x = decode_g722(two_prompts[0].audio_path)
    duration = len(x) / 16000
    plain = neural_phone_alignment(conv, x, duration)
    assert {p.label for p in plain.phones} & {"P", "B", "M"}  # the prompt has an m
    closed = neural_phone_alignment(conv, x, duration, bilabial_mass=0.0)
    assert {p.label for p in closed.phones} <= {"P", "B", "M"}
    merged = neural_phone_alignment(conv, x, duration, min_frames=4)
    assert len(merged.phones) < len(plain.phones)
    assert all(p.end - p.start >= 4 / 50 - 1e-9 for p in merged.phones[1:-1])

"""evaluation.asterisk: listing, splits, the reserved vm-* prompts, decoding and preparation."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
import soundfile as sf

from emosync.errors import InputError
from emosync.evaluation import asterisk
from emosync.evaluation.asterisk import (
    decode_g722,
    is_reserved,
    list_prompts,
    prepare_asterisk,
    split_of,
    spoken_text,
)

needs_package = pytest.mark.skipif(
    not (asterisk.SOUNDS_DIR.is_dir() and asterisk.TRANSCRIPTS.is_file()),
    reason="Debian asterisk-core-sounds-en(-g722) not installed",
)


def test_spoken_text_keeps_words_only() -> None:
    assert (
        spoken_text("Press 1 to mute, 2 for * or #.") == "press one to mute two for star or pound"
    )
    assert spoken_text("[this is a simple beep tone]") == ""
    assert spoken_text("(10 seconds of silence)") == ""
    assert spoken_text('IAX (note: does not say "2")') == "iax"
    assert spoken_text("Call-Forward on Busy... 42") == "call forward on busy forty two"
    assert spoken_text("party's extension") == "party's extension"


def test_is_reserved_matches_any_folder_and_prepared_stems() -> None:
    assert is_reserved("vm-intro")
    assert is_reserved("followme/vm-x")
    assert is_reserved("followme__vm-x")
    assert is_reserved("VM-Cust1")
    assert not is_reserved("digits/7")
    assert not is_reserved("conf-vm-like")


@needs_package
def test_listing_excludes_reserved_prompts_that_exist_on_disk() -> None:
    on_disk = [p for p in asterisk.SOUNDS_DIR.rglob("vm-*.g722")]
    assert len(on_disk) > 50  # the exclusion below is not vacuous
    names = [p.name for p in list_prompts("all")]
    assert names and not any(is_reserved(n) for n in names)
    assert not any(Path(n).name.startswith("vm-") for n in names)


@needs_package
def test_splits_are_deterministic_disjoint_and_cover_all() -> None:
    dev, test = list_prompts("dev"), list_prompts("test")
    assert [p.name for p in test] == [p.name for p in list_prompts("test")]
    dev_names, test_names = {p.name for p in dev}, {p.name for p in test}
    assert not dev_names & test_names
    assert dev_names | test_names == {p.name for p in list_prompts("all")}
    assert all(split_of(n) == "dev" for n in dev_names)
    assert 0.35 < len(dev) / (len(dev) + len(test)) < 0.65
    assert all(p.text and p.audio_path.is_file() for p in test)


@needs_package
def test_reserved_files_are_excluded_structurally(tmp_path: Path) -> None:
    """A voice folder of our own: vm-* files never come out, whatever their transcript says."""
    real = next(p for p in list_prompts("all") if p.name == "activated").audio_path
    (tmp_path / "sub").mkdir()
    for name in ("hello", "vm-hello", "sub/world", "sub/vm-world"):
        shutil.copy(real, tmp_path / f"{name}.g722")
    lines = ["; test", "hello: Hello.", "vm-hello: Hello.", "sub/world: World.", "sub/vm-world: W."]
    transcripts = tmp_path / "t.txt.gz"
    with gzip.open(transcripts, "wt") as f:
        f.write("\n".join(lines))
    listed = {p.name for p in list_prompts("all", tmp_path, transcripts)}
    assert listed == {"hello", "sub/world"}
    with pytest.raises(InputError, match="reserved"):
        decode_g722(tmp_path / "vm-hello.g722")


def test_missing_package_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="apt-get install asterisk-core-sounds-en-g722"):
        list_prompts("test", tmp_path / "nowhere", tmp_path / "t.gz")
    tmp_path.joinpath("v").mkdir()
    with pytest.raises(InputError, match=r"\(apt-get install asterisk-core-sounds-en\)"):
        list_prompts("test", tmp_path / "v", tmp_path / "t.gz")
    with pytest.raises(InputError, match="unknown split"):
        list_prompts("train")


@needs_package
def test_prepare_writes_16k_mono_wav_and_text(tmp_path: Path) -> None:
    out = tmp_path / "eval"
    assert prepare_asterisk(out, "test", limit=3) == 3
    wavs = sorted(out.glob("*.wav"))
    assert len(wavs) == 3 and len(list(out.glob("*.txt"))) == 3
    expected = list_prompts("test")[:3]
    for wav, prompt in zip(wavs, sorted(expected, key=lambda p: p.file_stem), strict=True):
        samples, rate = sf.read(wav)
        assert rate == 16000 and samples.ndim == 1
        assert 0.2 < len(samples) / rate < 30 and abs(samples).max() > 0.05
        assert wav.with_suffix(".txt").read_text().strip() == prompt.text
        assert split_of(prompt.name) == "test"
    with pytest.raises(InputError, match="exists"):
        prepare_asterisk(out, "test", limit=1)
    assert prepare_asterisk(out, "test", limit=1, force=True) == 1

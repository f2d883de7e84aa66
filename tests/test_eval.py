"""evaluation.run end to end on real Asterisk prompts, with the real aligner and pipeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import soundfile as sf

from emosync.errors import InputError
from emosync.evaluation import asterisk
from emosync.evaluation.asterisk import decode_g722, list_prompts, wav_bytes
from emosync.evaluation.metrics import aggregate
from emosync.evaluation.run import emotion_list, evaluate_dir, find_clips, format_report

needs_package = pytest.mark.skipif(
    not (asterisk.SOUNDS_DIR.is_dir() and asterisk.TRANSCRIPTS.is_file()),
    reason="Debian asterisk-core-sounds-en(-g722) not installed",
)


def _bilabial_words(text: str) -> int:
    return len(re.findall(r"\b[pbm]", text))


@pytest.fixture(scope="module")
def three_prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three short test-split prompts with bilabials, and a reserved clip that must not be read."""
    folder = tmp_path_factory.mktemp("eval")
    chosen = [
        p for p in list_prompts("test") if _bilabial_words(p.text) >= 2 and len(p.text.split()) <= 8
    ][:3]
    assert len(chosen) == 3
    for p in chosen:
        (folder / f"{p.file_stem}.wav").write_bytes(wav_bytes(decode_g722(p.audio_path)))
        (folder / f"{p.file_stem}.txt").write_text(p.text)
    (folder / "vm-trap.wav").write_bytes(b"not audio: reading this would fail")
    (folder / "vm-trap.txt").write_text("press one")
    (folder / "no-transcript.wav").write_bytes((folder / f"{chosen[0].file_stem}.wav").read_bytes())
    return folder


def test_emotion_list() -> None:
    assert emotion_list("all")[0] == "neutral" and len(emotion_list("all")) == 8
    assert emotion_list(("happy", "neutral", "happy")) == ["neutral", "happy"]
    assert emotion_list("sad, angry") == ["neutral", "sad", "angry"]


def test_bad_folders_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        evaluate_dir(tmp_path / "missing")
    (tmp_path / "a.wav").write_bytes(b"")
    with pytest.raises(InputError, match=r"no audio files with a \.txt"):
        evaluate_dir(tmp_path)


@needs_package
def test_find_clips_skips_reserved_and_untranscribed(three_prompts: Path) -> None:
    clips, skipped = find_clips(three_prompts)
    assert len(clips) == 3 and skipped == ["vm-trap.wav"]
    assert all(not a.name.startswith(("vm-", "no-transcript")) for a, _ in clips)


@needs_package
def test_evaluate_with_transcript_and_two_emotions(three_prompts: Path) -> None:
    report = evaluate_dir(three_prompts, emotions=("happy",), fps=30)
    assert report["n_clips"] == 3 and report["failed"] == []
    assert report["skipped_reserved"] == ["vm-trap.wav"]
    seconds = sum(sf.info(w).duration for w in three_prompts.glob("[!vm]*.wav"))
    assert report["audio_seconds"] == pytest.approx(
        seconds - sf.info(three_prompts / "no-transcript.wav").duration, abs=0.01
    )
    neutral = report["scores"]["neutral"]
    texts = [t.read_text() for t in three_prompts.glob("*.txt") if not t.name.startswith("vm-")]
    assert neutral["n_bilabial"] >= sum(_bilabial_words(t) for t in texts)
    for key in ("seal_rate", "open_vowel_rate", "vowel_seal_share"):
        assert 0.0 <= neutral[key] <= 1.0
    assert neutral["rest_rate"] is None or 0.0 <= neutral["rest_rate"] <= 1.0
    assert neutral["jaw_jitter"] > 0
    # pooled scores are the clip scores pooled, and the drop is neutral minus happy
    assert aggregate([c["neutral"] for c in report["clips"]]) == neutral
    drop = report["seal_drop"]["happy"]
    assert drop == pytest.approx(neutral["seal_rate"] - report["scores"]["happy"]["seal_rate"])
    text = format_report(report)
    assert "neutral" in text and "happy" in text and "seal-rate target ≥ 0.95" in text
    assert "skipped 1 reserved" in text


@needs_package
def test_evaluate_without_transcript(three_prompts: Path) -> None:
    report = evaluate_dir(three_prompts, use_transcript=False)
    assert report["mode"] == "recognition" and report["n_clips"] == 3
    assert report["scores"]["neutral"]["n_bilabial"] > 0
    assert "≥ 0.80" in format_report(report)


ENGINE_NAMES = ("phonetic", "neural")


@needs_package
def test_eval_command_compares_engines(three_prompts: Path, capsys) -> None:
    from emosync.cli.main import main

    args = ["eval", str(three_prompts), "--engines", "phonetic,neural", "--no-transcript"]
    assert main(args) == 0
    out = capsys.readouterr().out
    rows = [line.split()[:2] for line in out.splitlines() if line.startswith(ENGINE_NAMES)]
    assert ["phonetic", "neutral"] in rows and ["neural", "neutral"] in rows
    assert "3 clips" in out


def test_eval_command_rejects_unknown_engines(tmp_path: Path, capsys) -> None:
    from emosync.cli.main import main

    assert main(["eval", str(tmp_path), "--engines", "phonetic,magic"]) == 2
    assert "--engines takes" in capsys.readouterr().err


@needs_package
def test_eval_reads_a_candidate_convertor(three_prompts: Path, tmp_path: Path, capsys) -> None:
    """--convertor points the neural engine at another model file (a training candidate): the
    shipped file copied elsewhere scores the same; a missing or broken file is one error line."""
    import json
    import shutil

    from emosync.cli.main import main
    from emosync.inference.onnx_model import asset_path

    candidate = tmp_path / "cand"
    candidate.mkdir()
    for name in ("convertor.onnx", "MANIFEST.json"):
        shutil.copy(asset_path(name), candidate / name)
    base = ["eval", str(three_prompts), "--engines", "neural", "--no-transcript"]
    assert main([*base, "--json", str(tmp_path / "a.json")]) == 0
    model = str(candidate / "convertor.onnx")
    assert main([*base, "--convertor", model, "--json", str(tmp_path / "b.json")]) == 0
    shipped, other = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    assert other["convertor"] == model and "convertor" not in shipped
    assert other["engines"]["neural"]["scores"] == shipped["engines"]["neural"]["scores"]
    capsys.readouterr()
    assert main([*base, "--convertor", str(tmp_path / "none.onnx")]) == 2
    assert "no such model file" in capsys.readouterr().err
    (candidate / "convertor.onnx").write_bytes(b"not a model")
    assert main([*base, "--convertor", model]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("emosync: error:")

"""Phone timing with real pocketsphinx on real (espeak-ng) speech."""

from __future__ import annotations

import shutil
import subprocess
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from emosync.inference.alignment import align, align_stream
from emosync.inference.audio import load_audio
from emosync.inference.lexicon import letter_to_sound, number_words, transcript_words
from emosync.inference.segmenter import FRAME, cut_at_pauses, frame_energy_db
from emosync.inference.timed_phones import Alignment
from emosync.rigs.phonemes import BILABIAL, PHONES, SILENCE

SR = 16000
BOB = "Bob made a map of the moon"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hello.wav"

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")


def speak(folder: Path, text: str, name: str) -> np.ndarray:
    path = folder / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True)
    return load_audio(path).samples


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    folder = tmp_path_factory.mktemp("speech")
    texts = {
        "bob": BOB,
        "oov": "Zorblax quibbled",
        "please": "Please press the button when you hear the tone",
    }
    return {name: speak(folder, text, name) for name, text in texts.items()}


def assert_contiguous(al: Alignment) -> None:
    assert al.phones, "no phones"
    assert al.phones[0].start == 0.0
    assert al.phones[-1].end == pytest.approx(al.duration)
    for a, b in zip(al.phones, al.phones[1:], strict=False):
        assert a.end == pytest.approx(b.start)
        assert b.end > b.start
    assert all(p.label in PHONES or p.label == SILENCE for p in al.phones)


# --- transcripts ---------------------------------------------------------------------------


def test_transcript_normalisation() -> None:
    words = transcript_words("Don't CALL-forward 21 times, it's 100% on the 3rd!")
    assert words == [
        "don't", "call", "forward", "twenty", "one", "times", "it's",
        "one", "hundred", "percent", "on", "the", "third",
    ]  # fmt: skip
    spelled = {n: " ".join(number_words(n)) for n in (0, 7, 13, 40, 58, 99, 100)}
    assert spelled == {
        0: "zero", 7: "seven", 13: "thirteen", 40: "forty", 58: "fifty eight",
        99: "ninety nine", 100: "one hundred",
    }  # fmt: skip
    assert all(transcript_words(str(n)) for n in range(101))


def test_letter_to_sound_keeps_visible_articulations() -> None:
    assert letter_to_sound("zorblax")[3] == "B"
    assert "F" in letter_to_sound("phlogiston")
    assert set(letter_to_sound("mumble")) & BILABIAL == {"M", "B"}


# --- forced alignment ----------------------------------------------------------------------


def test_forced_alignment_times_bilabials(clips: dict[str, np.ndarray]) -> None:
    x = clips["bob"]
    al = align(x, BOB)
    assert al.method == "forced"
    assert al.warnings == []
    assert al.duration == pytest.approx(x.size / SR)
    assert_contiguous(al)
    assert [w.label for w in al.words] == ["bob", "made", "a", "map", "of", "the", "moon"]
    labial = [p for p in al.phones if p.label in BILABIAL]
    assert [p.label for p in labial] == ["B", "B", "M", "M", "P", "M"]
    starts = [p.start for p in labial]
    assert starts == sorted(starts)
    # each bilabial sits inside the word that spells it
    owners = ["bob", "bob", "made", "map", "map", "moon"]
    for phone, owner in zip(labial, owners, strict=True):
        word = next(w for w in al.words if w.label == owner and w.start <= phone.start < w.end)
        assert phone.end <= word.end + 1e-6
    # the words spread over the speech: "moon" starts in the last half, "bob" in the first 0.3 s
    speech = np.flatnonzero(np.abs(x) > 0.05)
    speech_end = speech[-1] / SR
    assert al.words[0].start < 0.3
    assert al.words[-1].start > 0.5 * speech_end
    assert abs(al.words[-1].end - speech_end) < 0.25


def test_forced_alignment_matches_words_to_audio(clips: dict[str, np.ndarray]) -> None:
    """The same sentence after a second of silence moves by a second."""
    x = clips["bob"]
    shifted = np.concatenate([np.zeros(SR, np.float32), x])
    a, b = align(x, BOB), align(shifted, BOB)
    for wa, wb in zip(a.words, b.words, strict=True):
        assert wb.start - wa.start == pytest.approx(1.0, abs=0.05)


def test_oov_words_warn_and_still_align(clips: dict[str, np.ndarray]) -> None:
    al = align(clips["oov"], "Zorblax quibbled")
    assert any("zorblax" in w and "not in the dictionary" in w for w in al.warnings)
    assert al.method == "forced"
    assert [w.label for w in al.words] == ["zorblax", "quibbled"]
    assert_contiguous(al)


def test_mismatched_transcript_falls_back_to_recognition(clips: dict[str, np.ndarray]) -> None:
    wrong = "Seventeen elephants were sleeping under the yellow bridge all night long"
    al = align(clips["bob"], wrong)
    assert al.method == "recognition"
    assert any("does not match" in w for w in al.warnings)
    assert_contiguous(al)


@pytest.mark.parametrize("transcript", [None, "", "   \n"])
def test_no_transcript_means_recognition(
    clips: dict[str, np.ndarray], transcript: str | None
) -> None:
    # The bundled example (festival's HTS voice) rather than espeak-ng, which pocketsphinx
    # recognises poorly: "Hello! My name is Emma. Maybe we can meet by the beach, and bring the map"
    x = load_audio(EXAMPLE).samples[: 5 * 16000]
    al = align(x, transcript)
    assert al.method == "recognition"
    assert al.warnings == []
    assert_contiguous(al)
    words = {w.label for w in al.words}
    assert {"hello", "my", "name", "beach", "map"} <= words
    bilabials = [p for p in al.phones if p.label in BILABIAL]
    assert len(bilabials) >= 8


def test_phone_loop_recognizer_returns_phones(clips: dict[str, np.ndarray]) -> None:
    al = align(clips["please"], recognizer="phones")
    assert al.method == "recognition"
    assert_contiguous(al)
    assert sum(p.label != SILENCE for p in al.phones) >= 10


def test_bad_audio_is_an_input_error() -> None:
    from emosync.errors import InputError

    with pytest.raises(InputError):
        align(np.zeros((2, 100), np.float32))
    with pytest.raises(InputError):
        align(np.array([0.0, np.nan], np.float32))


# --- long recordings -----------------------------------------------------------------------


def speech_with_pauses(
    clip: np.ndarray, seconds: float, seed: int = 0
) -> Iterator[tuple[int, np.ndarray]]:
    """(start sample, samples) of clips separated by 0.3-1.5 s of quiet noise, made lazily."""
    rng = np.random.default_rng(seed)
    at = 0
    while at < seconds * SR:
        gap = rng.normal(0, 1e-3, int(rng.uniform(0.3, 1.5) * SR)).astype(np.float32)
        yield at + gap.size, np.concatenate([gap, clip])
        at += gap.size + clip.size


def blocks_of(parts: Iterator[tuple[int, np.ndarray]], size: int) -> Iterator[np.ndarray]:
    """Re-block a stream into odd-sized blocks, as a decoder would hand them out."""
    pending = np.zeros(0, np.float32)
    for _, part in parts:
        pending = np.concatenate([pending, part])
        while pending.size >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending.size:
        yield pending


def test_segmenter_cuts_in_pauses(clips: dict[str, np.ndarray]) -> None:
    clip = clips["please"]
    starts = [s for s, _ in speech_with_pauses(clip, 150)]
    stream = np.concatenate([p for _, p in speech_with_pauses(clip, 150)])
    pieces = list(cut_at_pauses(blocks_of(speech_with_pauses(clip, 150), 12345)))
    assert np.array_equal(np.concatenate([p.samples for p in pieces]), stream)
    assert [p.start for p in pieces] == list(np.cumsum([0] + [p.samples.size for p in pieces[:-1]]))
    speech = [(s, s + clip.size) for s in starts]
    for piece in pieces[:-1]:
        assert 20.0 <= piece.duration <= 30.5
        cut = piece.start + piece.samples.size
        assert not any(a - FRAME < cut < b + FRAME for a, b in speech), "cut inside speech"


def test_segmenter_hard_cuts_without_pauses() -> None:
    rng = np.random.default_rng(1)
    loud = (0.3 * rng.standard_normal(150 * SR)).astype(np.float32)
    pieces = list(cut_at_pauses(np.array_split(loud, 37)))
    # no pause anywhere: cut at the quietest moment of the last 10 s before the 60 s limit
    assert len(pieces) == 3
    assert all(50.0 <= p.duration <= 60.0 for p in pieces[:-1])
    assert sum(p.samples.size for p in pieces) == loud.size


def test_segmenter_prefers_the_longest_pause_near_the_target() -> None:
    rng = np.random.default_rng(2)
    noise = (0.2 * rng.standard_normal(40 * SR)).astype(np.float32)
    for at, length in ((21.0, 0.3), (26.0, 1.0), (29.0, 0.4)):
        noise[int(at * SR) : int((at + length) * SR)] *= 1e-3
    first = next(iter(cut_at_pauses([noise])))
    assert first.duration == pytest.approx(26.5, abs=0.02)
    assert frame_energy_db(noise[first.samples.size - 800 : first.samples.size + 800]).max() < -40


def check_stream(al: Alignment, clip_starts: list[int], clip: np.ndarray, total: int) -> None:
    assert al.duration == pytest.approx(total / SR)
    assert_contiguous(al)
    # every clip's speech lands in its own place in global time
    speech = [(s / SR, (s + clip.size) / SR) for s in clip_starts]
    voiced = [p for p in al.phones if p.label != SILENCE]
    covered = sum(any(a - 0.1 <= p.start and p.end <= b + 0.1 for a, b in speech) for p in voiced)
    assert covered / len(voiced) > 0.95


@pytest.mark.parametrize("with_transcript", [True, False])
def test_align_stream_places_pieces_in_global_time(
    clips: dict[str, np.ndarray], with_transcript: bool
) -> None:
    clip = clips["bob"]
    # recognition is slower than forced alignment: a shorter stream (still several pieces)
    parts = list(speech_with_pauses(clip, 70 if with_transcript else 45, seed=3))
    total = sum(p.size for _, p in parts)
    transcript = " ".join([BOB] * len(parts)) if with_transcript else None
    done: list[float] = []
    al = align_stream(blocks_of(iter(parts), 8000), transcript, progress=done.append)
    check_stream(al, [s for s, _ in parts], clip, total)
    assert done == sorted(done) and done[-1] == pytest.approx(total / SR)
    if with_transcript:
        assert al.method == "forced"
        assert al.warnings == []
        moon = [w for w in al.words if w.label == "moon"]
        assert len(moon) == len(parts)
        for (start, _), word in zip(parts, moon, strict=True):
            # "moon" starts about 0.94 s into the clip (see the forced alignment test)
            assert word.start - start / SR == pytest.approx(0.94, abs=0.15)


def stream_peak(clip: np.ndarray, seconds: float) -> tuple[Alignment, list[int], int, int]:
    """Align a lazily made stream under tracemalloc: (alignment, clip starts, samples, peak)."""
    starts: list[int] = []
    total = 0

    def parts() -> Iterator[tuple[int, np.ndarray]]:
        nonlocal total
        for start, part in speech_with_pauses(clip, seconds, seed=4):
            starts.append(start)
            total += part.size
            yield start, part

    n_clips = sum(1 for _ in speech_with_pauses(clip, seconds, seed=4))
    transcript = " ".join(["Please press the button when you hear the tone"] * n_clips)
    tracemalloc.start()
    try:
        al = align_stream(blocks_of(parts(), SR * 5), transcript)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return al, starts, total, peak


@pytest.mark.slow
def test_align_stream_ten_minutes_in_bounded_memory(clips: dict[str, np.ndarray]) -> None:
    clip = clips["please"]
    _, _, _, short_peak = stream_peak(clip, 150)
    al, starts, total, peak = stream_peak(clip, 600)
    assert total / SR >= 600
    check_stream(al, starts, clip, total)
    assert al.method == "forced"
    assert al.warnings == []
    # the stream is 38 MB of float32; a piece or two of audio is a few MB, and four times the
    # audio adds only the result's segments (~1 MB), not audio
    assert peak < 14e6, f"peak {peak / 1e6:.1f} MB"
    assert peak - short_peak < 3e6, f"peak grew {(peak - short_peak) / 1e6:.1f} MB"


def test_long_clip_without_transcript_is_recognised_in_parallel_pieces(
    clips: dict[str, np.ndarray],
) -> None:
    """A clip past PARALLEL_ABOVE_SECONDS is cut at pauses and decoded by worker processes;
    the pieces' phones land in global time and every spoken clip gets its phones. (Which words
    pocketsphinx hears in espeak-ng speech depends on the decoder's running cepstral mean, so
    the phones themselves are not checked here; bench/bench_alignment.py scores them on real
    speech.)"""
    from emosync.inference import alignment

    clip = clips["please"]
    parts = list(speech_with_pauses(clip, alignment.PARALLEL_ABOVE_SECONDS + 4, seed=5))
    x = np.concatenate([p for _, p in parts])
    assert x.size > alignment.PARALLEL_ABOVE_SECONDS * SR
    al = align(x)
    assert al.method == "recognition"
    check_stream(al, [s for s, _ in parts], clip, x.size)
    for start, _ in parts:
        t0 = start / SR
        inside = [p for p in al.phones if t0 <= p.start < t0 + clip.size / SR]
        assert sum(p.label != SILENCE for p in inside) >= 5


def test_recognition_does_not_depend_on_earlier_clips(tmp_path):
    """The same clip is heard the same way whatever was decoded before it (a fresh front end
    per utterance), so Blender, batch runs and the CLI agree."""
    clips = {}
    for name, args in {
        "a": ["hello world, nice to meet you"],
        "b": ["-p", "80", "-s", "220", "Nobody expected the weather to be warm"],
    }.items():
        path = tmp_path / f"{name}.wav"
        subprocess.run(["espeak-ng", "-w", str(path), *args], check=True)
        clips[name] = load_audio(path).samples
    first = align(clips["a"])
    align(clips["b"])
    again = align(clips["a"])
    assert [p.label for p in again.phones] == [p.label for p in first.phones]
    assert [w.label for w in again.words] == [w.label for w in first.words]

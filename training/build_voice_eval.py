"""Synthetic emotional speech for the voice branch, and its evaluation.

`build` writes data/voice_eval/ (git-ignored): each emotion's sentences (and two neutral
sentences) spoken by three of the corpus's voices (espeak-ng, festival, flite) with the corpus's
prosody for that emotion at intensity 1 (training/corpus/voices.py: anger, fear, joy and
surprise faster, higher and wider; sadness, disgust and contempt slower, lower and narrower).
`measure` reads every clip with voice_emotion and prints arousal per emotion, the separation of
high- from low-arousal clips and the category accuracy, then the same for Asterisk TEST-split
prompts (real neutral speech; reserved vm-* files are never read).

    .venv/bin/python training/build_voice_eval.py build
    .venv/bin/python training/build_voice_eval.py measure --asterisk 40
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from emosync.atomic import atomic_write_bytes
from emosync.evaluation.asterisk import wav_bytes
from emosync.inference.emotion_voice import voice_emotion
from emosync.rigs.emotions import dominant
from emosync.training.corpus.voices import SAMPLE_RATE, Voice, prosody_for, synthesize

ROOT = Path(__file__).resolve().parent.parent / "data" / "voice_eval"
HIGH = ("angry", "fear", "happy", "surprised")
LOW = ("sad", "disgusted", "contempt")
EMOTIONS = ("neutral", *HIGH, *LOW)
SENTENCES = {
    "neutral": ("The meeting is on the third floor", "Please send me the report by Friday"),
    "angry": ("I am furious with you", "This makes me so angry"),
    "fear": ("I am really scared of the dark", "I am afraid something terrible will happen"),
    "happy": ("I am so happy to see you", "This is wonderful news"),
    "surprised": ("I am so surprised", "Wow I did not expect that at all"),
    "sad": ("I feel so sad and alone", "I miss her every day"),
    "disgusted": ("That is disgusting", "The smell makes me sick"),
    "contempt": ("You are beneath me", "How pathetic you are"),
}
# The corpus's synthesisers and per-emotion prosody (training/corpus/voices.py), three engines.
VOICES = (
    Voice("espeak-ng", "en-us", "en-us"),
    Voice("festival", "cmu_us_slt_arctic_hts", "en-us"),
    Voice("flite", "rms", "en-us"),
)


def build(root: Path = ROOT, seed: int = 0) -> int:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = 0
    for emotion, sentences in SENTENCES.items():
        for k, text in enumerate(sentences):
            for voice in VOICES:
                samples = synthesize(voice, text, prosody_for(emotion, 1.0, rng))
                path = root / f"{emotion}_{k}_{voice.engine}-{voice.name}.wav"
                atomic_write_bytes(path, wav_bytes(samples, SAMPLE_RATE), force=True)
                n += 1
    return n


def _read(path: Path) -> tuple[str, float, float]:
    start = time.perf_counter()
    reading = voice_emotion(path)
    return dominant(reading.state), reading.arousal, time.perf_counter() - start


def measure_synthetic(root: Path = ROOT) -> None:
    rows = []
    for path in sorted(root.glob("*.wav")):
        got, arousal, secs = _read(path)
        rows.append((path.stem.split("_")[0], got, arousal, secs))
    for emotion in EMOTIONS:
        a = [r[2] for r in rows if r[0] == emotion]
        print(f"{emotion:10s} arousal mean {np.mean(a):+.2f} (n={len(a)})")
    high = [r[2] for r in rows if r[0] in HIGH]
    low = [r[2] for r in rows if r[0] in LOW]
    auc = np.mean([h > lo for h in high for lo in low])
    print(f"high vs low arousal: {np.mean(high):+.2f} vs {np.mean(low):+.2f}, AUC {auc:.2f}")
    correct = sum(r[0] == r[1] for r in rows)
    print(f"category accuracy {correct / len(rows):.2f} ({correct}/{len(rows)})")
    print(f"seconds per clip: median {np.median([r[3] for r in rows]):.2f}")


def measure_asterisk(count: int) -> None:
    from emosync.evaluation.asterisk import decode_g722, list_prompts

    prompts = list_prompts("test")[:count]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for prompt in prompts:
            path = Path(tmp) / f"{prompt.file_stem}.wav"
            path.write_bytes(wav_bytes(decode_g722(prompt.audio_path)))
            try:
                rows.append(_read(path))
            except Exception as exc:
                print(f"{prompt.name}: {exc}")
    arousal = [r[1] for r in rows]
    neutral = sum(r[0] == "neutral" for r in rows)
    print(
        f"asterisk test: {len(rows)} prompts, arousal mean {np.mean(arousal):+.2f} "
        f"sd {np.std(arousal):.2f}, |arousal| > 1: {np.mean(np.abs(arousal) > 1):.2f}, "
        f"read neutral {neutral}/{len(rows)}, median {np.median([r[2] for r in rows]):.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("build", "measure"))
    parser.add_argument("--asterisk", type=int, default=0, help="also read this many prompts")
    args = parser.parse_args()
    if args.step == "build":
        print(f"wrote {build()} clips to {ROOT}")
        return
    measure_synthetic()
    if args.asterisk:
        measure_asterisk(args.asterisk)


if __name__ == "__main__":
    main()

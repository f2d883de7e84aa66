"""Build the speech corpus the neural convertor learns from: one command, deterministic plan.

    nice -n 10 .venv/bin/python -m emosync.training.corpus.build --size tiny --out data/corpus/tiny

The plan (which text, voice, emotion, intensity and prosody every clip gets) is a pure function
of --size and --seed; clips are then synthesised, aligned and labelled in worker processes.
Each clip is `<set>/<id>.wav` (16 kHz mono PCM16), `<id>.json` (text, voice, engine, language,
emotion, intensity, rate, pitch, seed, split, provenance) and `<id>.npz` (curves float32 [N, 55],
phones int16 [N], emotion float32 [7], text_id), and `index.jsonl` lists every clip.
Existing clips are kept (a build can be resumed); --force rebuilds them.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emosync.atomic import atomic_write_bytes, atomic_write_text
from emosync.errors import InputError
from emosync.evaluation.asterisk import decode_g722, is_reserved, list_prompts, wav_bytes
from emosync.rigs.emotions import EMOTIONS
from emosync.training.corpus.labels import CURVE_NAMES, FPS, PHONE_LABELS, Labels, make_labels
from emosync.training.corpus.sentences import LANGUAGES, english_sentences, foreign_sentences
from emosync.training.corpus.voices import (
    ASTERISK_VOICE,
    ENGLISH_VOICES,
    FOREIGN_VOICES,
    SAMPLE_RATE,
    Prosody,
    Voice,
    engine_versions,
    prosody_for,
    synthesize,
)

HELDOUT_VOICES = frozenset({"flite:kal16", "espeak-ng:en-gb-scotland"})
HELDOUT_LANGUAGE = "it"
VAL_EVERY = 20  # about 5 % of the remaining texts go to "val"
INTENSITY_RANGE = (0.5, 1.5)
FOREIGN_TEXT_ID_BASE = 1_000_000
ASTERISK_TEXT_ID_BASE = 2_000_000


@dataclass(frozen=True)
class SizeConfig:
    english_texts: int
    english_renditions: int  # voices per English sentence (the first one neutral)
    foreign_texts: int  # per language
    foreign_renditions: int
    asterisk: int | None  # dev prompts to use (None = all)


SIZES: dict[str, SizeConfig] = {
    "tiny": SizeConfig(20, 2, 2, 1, 6),
    "small": SizeConfig(700, 3, 40, 2, None),
    "full": SizeConfig(4000, 4, 200, 3, None),
}


@dataclass(frozen=True)
class ClipSpec:
    id: str
    clip_set: str  # folder: synthetic_en, synthetic_foreign or asterisk
    text: str
    text_id: int
    voice: Voice
    emotion: str
    intensity: float
    prosody: Prosody
    seed: int
    split: str
    source: str | None = None  # asterisk prompt file


# --- the plan -----------------------------------------------------------------------------------
def _split(voice: Voice, text_id: int) -> str:
    if voice.key in HELDOUT_VOICES:
        return "heldout_voice"
    if voice.language == HELDOUT_LANGUAGE:
        return "heldout_lang"
    digest = hashlib.sha1(f"text:{text_id}".encode()).digest()
    return "val" if int.from_bytes(digest[:4], "big") % VAL_EVERY == 0 else "train"


def _emotion(rng: np.random.Generator, neutral: bool) -> tuple[str, float]:
    if neutral:
        return "neutral", 0.0
    name = EMOTIONS[int(rng.integers(len(EMOTIONS)))]
    return name, round(float(rng.uniform(*INTENSITY_RANGE)), 3)


def _clip(
    index: int, clip_set: str, text: str, text_id: int, voice: Voice, neutral: bool, seed: int
) -> ClipSpec:
    clip_seed = (seed * 1_000_003 + index) % 2**31
    rng = np.random.default_rng([seed, index, 0xC0])
    emotion, intensity = _emotion(rng, neutral)
    prosody = prosody_for(emotion, intensity, rng)
    clip_id = f"{index:06d}_{voice.engine}_{voice.name}".replace("-", "_")
    return ClipSpec(
        clip_id, clip_set, text, text_id, voice, emotion, intensity, prosody, clip_seed,
        _split(voice, text_id),
    )  # fmt: skip


def plan(size: str, seed: int = 0, asterisk_prompts: list | None = None) -> list[ClipSpec]:
    """Every clip of a corpus, in a fixed order; a pure function of its arguments."""
    if size not in SIZES:
        raise InputError(f"unknown size {size!r} (choose {', '.join(SIZES)})")
    cfg = SIZES[size]
    rng = np.random.default_rng([seed, 0x5EED])
    specs: list[ClipSpec] = []
    for text_id, text in enumerate(english_sentences(cfg.english_texts, seed)):
        order = rng.permutation(len(ENGLISH_VOICES))[: cfg.english_renditions]
        for r, v in enumerate(order):
            specs.append(
                _clip(len(specs), "synthetic_en", text, text_id, ENGLISH_VOICES[v], r == 0, seed)
            )
    for li, lang in enumerate(LANGUAGES):
        for k, text in enumerate(foreign_sentences(lang, cfg.foreign_texts, seed)):
            text_id = FOREIGN_TEXT_ID_BASE + li * 100_000 + k
            for r in range(cfg.foreign_renditions):
                voice = FOREIGN_VOICES[lang]
                specs.append(
                    _clip(len(specs), "synthetic_foreign", text, text_id, voice, r == 0, seed)
                )
    if asterisk_prompts is None:
        asterisk_prompts = _asterisk_dev()
    for k, prompt in enumerate(asterisk_prompts[: cfg.asterisk]):
        if is_reserved(prompt.name):  # list_prompts drops them already; never let one through
            continue
        spec = _clip(
            len(specs), "asterisk", prompt.text, ASTERISK_TEXT_ID_BASE + k, ASTERISK_VOICE,
            k % 2 == 0, seed,
        )  # fmt: skip
        specs.append(_with_source(spec, prompt))
    return specs


def _asterisk_dev() -> list:
    try:
        return list_prompts("dev")
    except InputError as err:
        print(f"corpus: skipping Asterisk prompts: {err}", file=sys.stderr)
        return []


def _with_source(spec: ClipSpec, prompt) -> ClipSpec:
    d = asdict(spec)
    d["voice"], d["prosody"] = spec.voice, Prosody()
    d["id"] = f"{int(spec.id[:6]):06d}_asterisk_{prompt.file_stem}"
    d["source"] = str(prompt.audio_path)
    return ClipSpec(**d)


# --- building one clip --------------------------------------------------------------------------
def _audio(spec: ClipSpec) -> np.ndarray:
    if spec.voice.engine == "asterisk":
        if spec.source is None or is_reserved(Path(spec.source).stem):
            raise InputError(f"clip {spec.id} has no usable Asterisk source")
        return decode_g722(Path(spec.source))
    return synthesize(spec.voice, spec.text, spec.prosody)


def _record(spec: ClipSpec, n_frames: int, duration: float, method: str, warnings: list) -> dict:
    provenance = {
        "generator": "emosync.training.corpus.build",
        "voice_key": spec.voice.key,
        "prosody": spec.prosody.to_dict(),
        "alignment": method,
        "alignment_warnings": warnings,
        "frames": n_frames,
        "fps": FPS,
        "duration": round(duration, 4),
    }
    if spec.source:
        provenance["source"] = spec.source
        provenance["transcript"] = "Debian asterisk-core-sounds-en core-sounds-en.txt"
    return {
        "id": spec.id,
        "text": spec.text,
        "voice": spec.voice.name,
        "engine": spec.voice.engine,
        "language": spec.voice.language,
        "emotion": spec.emotion,
        "intensity": spec.intensity,
        "rate": round(spec.prosody.rate, 4),
        "pitch": round(spec.prosody.pitch, 4),
        "seed": spec.seed,
        "split": spec.split,
        "text_id": spec.text_id,
        "provenance": provenance,
    }


def build_clip(spec: ClipSpec, out: Path, force: bool = False) -> dict:
    """Synthesise (or decode), label and write one clip; returns its index record."""
    folder = out / spec.clip_set
    meta_path = folder / f"{spec.id}.json"
    if meta_path.is_file() and not force:
        return json.loads(meta_path.read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    samples = _audio(spec)
    labels = make_labels(samples, spec.text, spec.emotion, spec.intensity, spec.seed)
    record = _record(
        spec,
        len(labels.curves),
        len(samples) / SAMPLE_RATE,
        labels.alignment.method,
        list(labels.alignment.warnings),
    )
    return write_clip(folder, spec.id, samples, labels, spec.text_id, record)


def write_clip(
    folder: Path, clip_id: str, samples: np.ndarray, labels: Labels, text_id: int, record: dict
) -> dict:
    """A clip's files: its WAV, its labels (NPZ) and, last, its record (JSON), each atomic."""
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        curves=labels.curves,
        phones=labels.phones,
        emotion=labels.emotion,
        text_id=np.int64(text_id),
    )
    atomic_write_bytes(folder / f"{clip_id}.wav", wav_bytes(samples, SAMPLE_RATE), True)
    atomic_write_bytes(folder / f"{clip_id}.npz", buf.getvalue(), True)
    meta = json.dumps(record, ensure_ascii=False, indent=1) + "\n"
    atomic_write_text(folder / f"{clip_id}.json", meta, True)
    return record


def _work(args: tuple[ClipSpec, str, bool]) -> tuple[str, dict | None, str | None]:
    spec, out, force = args
    try:
        return spec.id, build_clip(spec, Path(out), force), None
    except Exception as err:
        return spec.id, None, f"{type(err).__name__}: {err}"[:300]


# --- the whole corpus ---------------------------------------------------------------------------
def build(
    out: str | Path,
    size: str = "tiny",
    seed: int = 0,
    workers: int = 2,
    force: bool = False,
    limit: int | None = None,
    progress: bool = True,
) -> dict:
    """Build a corpus into `out`; returns the summary also written to `out/summary.json`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    specs = plan(size, seed)[:limit]
    start = time.time()
    jobs = [(s, str(out), force) for s in specs]
    records, failures = run_jobs(_work, jobs, workers, "corpus", every=25, progress=progress)
    ordered = [records[s.id] for s in specs if s.id in records]
    sets = {s.id: s.clip_set for s in specs}
    index = "".join(
        json.dumps({**r, "path": f"{sets[r['id']]}/{r['id']}"}, ensure_ascii=False) + "\n"
        for r in ordered
    )
    atomic_write_text(out / "index.jsonl", index, True)
    summary = summarise(ordered, size, seed, time.time() - start, failures)
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n", True)
    return summary


def run_jobs(
    work: Callable[[Any], tuple[str, dict | None, str | None]],
    jobs: list,
    workers: int,
    label: str,
    every: int = 25,
    progress: bool = True,
) -> tuple[dict[str, dict], dict[str, str]]:
    """Each job through `work` (-> clip id, record or None, error) on a forked pool: the records
    and the failures by clip id, a progress line every `every` clips."""
    start = time.time()
    records: dict[str, dict] = {}
    failures: dict[str, str] = {}
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(max(1, workers), initializer=_quiet_threads) as pool:
        chunks = pool.imap_unordered(work, jobs, chunksize=2)
        for done, (clip_id, record, error) in enumerate(chunks, 1):
            if record is not None:
                records[clip_id] = record
            else:
                failures[clip_id] = error or "unknown error"
            if progress and (done % every == 0 or done == len(jobs)):
                print(f"{label}: {done}/{len(jobs)} clips, {time.time() - start:.0f} s", flush=True)
    return records, failures


def _quiet_threads() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def summarise(records: list[dict], size: str, seed: int, seconds: float, failures: dict) -> dict:
    """Corpus size per voice, language, split and emotion, for docs/corpus.md."""
    hours: Counter = Counter()
    clips: Counter = Counter()
    for r in records:
        key = f"{r['engine']}:{r['voice']}"
        clips[key] += 1
        hours[key] += r["provenance"]["duration"] / 3600.0
    return {
        "size": size,
        "seed": seed,
        "command": "python -m emosync.training.corpus.build " + " ".join(sys.argv[1:]),
        "build_seconds": round(seconds, 1),
        "clips": len(records),
        "hours": round(sum(hours.values()), 3),
        "failed": len(failures),
        "failures": dict(list(failures.items())[:50]),
        "per_voice": {k: {"clips": clips[k], "hours": round(hours[k], 3)} for k in sorted(clips)},
        "per_language": dict(sorted(Counter(r["language"] for r in records).items())),
        "per_split": dict(sorted(Counter(r["split"] for r in records).items())),
        "per_emotion": dict(sorted(Counter(r["emotion"] for r in records).items())),
        "alignment": dict(Counter(r["provenance"]["alignment"] for r in records)),
        "phones": list(PHONE_LABELS),
        "curve_channels": list(CURVE_NAMES),
        "fps": FPS,
        "engines": engine_versions(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emosync.training.corpus.build")
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--out", default=None, help="output folder (default data/corpus/SIZE)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="build only the first N clips")
    parser.add_argument("--force", action="store_true", help="rebuild clips that exist")
    args = parser.parse_args(argv)
    out = args.out or f"data/corpus/{args.size}"
    try:
        summary = build(out, args.size, args.seed, args.workers, args.force, args.limit)
    except InputError as err:
        print(f"emosync: error: {err}", file=sys.stderr)
        return 2
    print(
        f"corpus: {summary['clips']} clips, {summary['hours']:.2f} h of audio, "
        f"{summary['failed']} failed, {summary['build_seconds']:.0f} s -> {out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

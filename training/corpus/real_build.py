"""Corpus v2: real speech from Debian packages, labelled by forced alignment, split by speaker.

    nice -n 10 .venv/bin/python -m emosync.training.corpus.real_build --out data/corpus/real
    options: --sources tuxpaint,asterisk-fr,... --per-speaker N --workers N --force --survey

Needs the packages of the sources it reads (a source that is not installed lists no clips):
    apt-get install tuxpaint-stamps-default asterisk-core-sounds-fr asterisk-core-sounds-fr-g722 \
        asterisk-core-sounds-it asterisk-core-sounds-it-g722 asterisk-core-sounds-ru \
        asterisk-core-sounds-ru-g722 fillets-ng-data fillets-ng-data-cs fillets-ng-data-nl

Each kept clip is written like a synthetic corpus clip (`<source>/<id>.wav`, `.json`, `.npz`,
see README.md), so the trainer and `emosync eval --engines` read both. The teacher:
- English: pocketsphinx forced alignment of the text (`inference.alignment.align`);
- other languages: espeak-ng's phones of the text mapped onto ours (`crosslingual.py`), aligned
  with the en-us acoustic model (`inference.alignment.align_pronounced`).
A confidence filter then drops a clip whose text does not explain its audio (`confidence`): the
alignment must take the whole text, the aligned speech must cover most of the voiced audio and
sit mostly on voiced audio, and no phone may be stretched implausibly long. A dropped clip keeps
only its `.json` (with `kept: false` and the reason), so a resumed build does not redo it.
The split comes from real_split.json (whole speakers held out).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosync.atomic import atomic_write_text
from emosync.errors import InputError
from emosync.inference.segmenter import frame_energy_db, quiet_frames
from emosync.inference.timed_phones import Alignment
from emosync.rigs.phonemes import SILENCE
from emosync.training.corpus.build import run_jobs, write_clip
from emosync.training.corpus.labels import FPS, SAMPLE_RATE, make_labels
from emosync.training.corpus.real_sources import (
    DOC_DIR,
    SOURCES,
    RealClip,
    copyright_licence,
    fetch_games,
    load_samples,
    source_clips,
)
from emosync.training.corpus.sky import SPEECH_RATE

SPLIT_FILE = Path(__file__).with_name("real_split.json")
MIN_SECONDS, MAX_SECONDS = 0.3, 30.0
# confidence filter (see `confidence`)
MIN_RECALL = 0.80  # voiced 10 ms frames inside aligned speech phones
MIN_PRECISION = 0.55  # aligned speech frames that are voiced (closures and unvoiced stops are not)
MAX_PHONE_SECONDS = 0.6  # no speech phone longer than this
# inference.alignment.text_fit (free phone loop over forced path, nats per 10 ms frame). Measured
# on 8 clips with their own text and 8 with another clip's text per source (seed 0, 2026-12-07):
# own text: Queen 1.8-2.7, Fish Fillets cs 1.8-3.1, Asterisk fr 2.0-3.6; another's text: Queen
# 3.5-5.5 (one pair 0.8) or not alignable, Fillets cs 4.0 or not alignable, Asterisk fr 1.6-5.5.
# The cross-lingual mapping itself widens the gap, so its limit is higher.
MAX_FIT_GAP = {"en": 3.0, "other": 3.6}
FILTER_VERSION = 2  # records of another version are rebuilt
REAL_TEXT_ID_BASE = 3_000_000
SPLITS = ("train", "val", "test")


# --- the split ----------------------------------------------------------------------------------
def load_split(path: Path = SPLIT_FILE) -> dict[str, str]:
    """speaker key -> 'val' or 'test' (every other speaker is 'train')."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for split in ("val", "test"):
        for speaker in data[split]:
            if speaker in out:
                raise ValueError(f"speaker {speaker!r} is in both {out[speaker]} and {split}")
            out[speaker] = split
    return out


def split_of(speaker: str, table: dict[str, str] | None = None) -> str:
    return (load_split() if table is None else table).get(speaker, "train")


# --- the teacher and its filter -----------------------------------------------------------------
@dataclass
class Confidence:
    recall: float
    precision: float
    longest_phone: float
    ok: bool
    reason: str
    fit_gap: float | None = None

    def to_dict(self) -> dict:
        return {
            "recall": round(self.recall, 3),
            "precision": round(self.precision, 3),
            "longest_phone": round(self.longest_phone, 3),
            "fit_gap": None if self.fit_gap is None else round(self.fit_gap, 3),
        }


def confidence(
    alignment: Alignment | None,
    samples: np.ndarray,
    fit_gap: float | None = None,
    max_fit_gap: float = MAX_FIT_GAP["en"],
) -> Confidence:
    """Whether a forced alignment explains the audio: recall (voiced frames under speech
    phones) ≥ MIN_RECALL, precision (speech-phone frames that are voiced) ≥ MIN_PRECISION, no
    speech phone over MAX_PHONE_SECONDS, and (when given) the text's fit gap
    (`inference.alignment.text_fit`) at most `max_fit_gap`."""
    if alignment is None or alignment.method != "forced":
        return Confidence(0.0, 0.0, 0.0, False, "the text could not be force-aligned", fit_gap)
    voiced = ~quiet_frames(frame_energy_db(np.asarray(samples, np.float32)))
    n = voiced.size
    speech = np.zeros(n, bool)
    longest = 0.0
    for p in alignment.phones:
        if p.label == SILENCE:
            continue
        longest = max(longest, p.duration)
        speech[int(round(p.start * 100)) : int(round(p.end * 100))] = True
    both = np.count_nonzero(voiced & speech)
    recall = both / max(1, np.count_nonzero(voiced))
    precision = both / max(1, np.count_nonzero(speech))
    reasons = []
    if recall < MIN_RECALL:
        reasons.append(f"voiced audio outside the aligned text ({recall:.2f} < {MIN_RECALL})")
    if precision < MIN_PRECISION:
        reasons.append(f"aligned text over silence ({precision:.2f} < {MIN_PRECISION})")
    if longest > MAX_PHONE_SECONDS:
        reasons.append(f"a phone lasts {longest:.2f} s")
    if fit_gap is not None and fit_gap > max_fit_gap:
        reasons.append(f"the text fits the sounds badly (gap {fit_gap:.2f} > {max_fit_gap})")
    return Confidence(recall, precision, longest, not reasons, "; ".join(reasons), fit_gap)


def teacher_alignment(
    samples: np.ndarray, text: str, language: str
) -> tuple[Alignment | None, str, Confidence]:
    """The teacher's alignment of one clip, the name of the method, and its confidence."""
    from emosync.inference.alignment import align, align_pronounced, text_fit

    if language == "en":
        alignment = align(samples, text)
        method = "pocketsphinx en-us forced alignment of the text"
        fit, limit = text_fit(samples, text), MAX_FIT_GAP["en"]
    else:
        from emosync.training.corpus.crosslingual import text_phones

        words = text_phones(text, language)
        method = f"espeak-ng {language} phones mapped to ARPAbet, en-us forced alignment"
        alignment = align_pronounced(samples, words)
        fit, limit = text_fit(samples, pronounced=words), MAX_FIT_GAP["other"]
    return alignment, method, confidence(alignment, samples, fit, limit)


# --- one clip -----------------------------------------------------------------------------------
def _text_id(clip: RealClip) -> int:
    digest = hashlib.sha1(f"{clip.language}:{clip.text}".encode()).digest()
    return REAL_TEXT_ID_BASE + int.from_bytes(digest[:4], "big") % 1_000_000_000


def _record(clip: RealClip, split: str, seed: int) -> dict:
    return {
        "id": clip.id,
        "text": clip.text,
        "voice": clip.speaker,
        "engine": "real",
        "language": clip.language,
        "emotion": "neutral",
        "intensity": 0.0,
        "rate": 1.0,
        "pitch": 1.0,
        "seed": seed,
        "split": split,
        "text_id": _text_id(clip),
        "source": clip.source,
        "speaker": clip.speaker,
        "sex": clip.sex,
        "provenance": {
            "generator": "emosync.training.corpus.real_build",
            "audio": str(clip.audio),
            "licence": copyright_licence(
                clip.package, clip.licence_path, Path(clip.extra.get("doc_dir", DOC_DIR))
            ),
            **{k: v for k, v in clip.extra.items() if k != "doc_dir"},
        },
    }


def build_clip(clip: RealClip, out: Path, split: str, force: bool = False) -> dict:
    """Decode, align, filter, label and write one clip; returns its record (`kept` says
    whether it passed the filter)."""
    folder = out / clip.source
    meta_path = folder / f"{clip.id}.json"
    if meta_path.is_file() and not force:
        record = json.loads(meta_path.read_text(encoding="utf-8"))
        if record.get("filter_version") == FILTER_VERSION and record.get("split") == split:
            return record
    folder.mkdir(parents=True, exist_ok=True)
    seed = int.from_bytes(hashlib.sha1(clip.id.encode()).digest()[:4], "big") % 2**31
    record = _record(clip, split, seed)
    record["filter_version"] = FILTER_VERSION
    samples = load_samples(clip)
    duration = len(samples) / SAMPLE_RATE
    record["provenance"].update({"duration": round(duration, 4), "fps": FPS})
    if not MIN_SECONDS <= duration <= MAX_SECONDS:
        return _reject(meta_path, record, f"duration {duration:.2f} s out of range")
    alignment, method, conf = teacher_alignment(samples, clip.text, clip.language)
    record["provenance"].update({"alignment": method, "confidence": conf.to_dict()})
    if not conf.ok or alignment is None:
        return _reject(meta_path, record, conf.reason)
    labels = make_labels(samples, clip.text, "neutral", 0.0, seed, alignment=alignment)
    record["provenance"]["frames"] = len(labels.curves)
    record["provenance"]["alignment_warnings"] = list(alignment.warnings)
    record["kept"] = True
    return write_clip(folder, clip.id, samples, labels, record["text_id"], record)


def _reject(meta_path: Path, record: dict, reason: str) -> dict:
    record["kept"] = False
    record["rejected"] = reason
    for suffix in (".wav", ".npz"):
        meta_path.with_suffix(suffix).unlink(missing_ok=True)
    atomic_write_text(meta_path, json.dumps(record, ensure_ascii=False, indent=1) + "\n", True)
    return record


def _work(args: tuple[RealClip, str, str, bool]) -> tuple[str, dict | None, str | None]:
    clip, out, split, force = args
    try:
        return clip.id, build_clip(clip, Path(out), split, force), None
    except Exception as err:
        return clip.id, None, f"{type(err).__name__}: {err}"[:300]


# --- the plan and the whole corpus --------------------------------------------------------------
def plan(
    sources: list[str],
    per_speaker: int | None = None,
    splits: tuple[str, ...] = SPLITS,
    languages: tuple[str, ...] = (),
) -> list[RealClip]:
    """The clips to build: every listed clip of each source, or, for train speakers, the first
    `per_speaker` of each in a fixed order spread over the source (a hash of the clip id)."""
    clips: list[RealClip] = []
    table = load_split()
    for source in sources:
        listed = [
            c
            for c in source_clips(source)
            if split_of(c.speaker, table) in splits and (not languages or c.language in languages)
        ]
        if per_speaker is not None:  # held-out speakers are always whole
            heldout = [c for c in listed if split_of(c.speaker, table) != "train"]
            listed = [c for c in listed if split_of(c.speaker, table) == "train"]
            listed.sort(key=lambda c: hashlib.sha1(c.id.encode()).digest())
            taken: Counter = Counter()
            kept = []
            for c in listed:
                if taken[c.speaker] < per_speaker:
                    taken[c.speaker] += 1
                    kept.append(c)
            listed = sorted(kept + heldout, key=lambda c: c.id)
        clips.extend(listed)
    return clips


def survey(sources: list[str]) -> dict:
    """Clips and hours available per source and speaker (audio headers only, nothing built)."""
    out: dict = {}
    for source in sources:
        per: dict = defaultdict(lambda: {"clips": 0, "hours": 0.0})
        for clip in source_clips(source):
            per[clip.speaker]["clips"] += 1
            per[clip.speaker]["hours"] += _seconds(clip) / 3600.0
        out[source] = {
            k: {"clips": v["clips"], "hours": round(v["hours"], 3)} for k, v in per.items()
        }
    return out


def _seconds(clip: RealClip) -> float:
    if clip.audio.suffix == ".g722":
        return clip.audio.stat().st_size * 8 / 64000.0  # G.722 at 64 kbit/s
    if clip.source == "queen":  # every speech file is MPEG-2.5 layer III at 16 kbit/s
        return clip.extra["size"] * 8 / 16000.0
    if clip.source == "sky":  # 8-bit PCM at 11025 Hz, size from the file headers
        return clip.extra["samples"] / SPEECH_RATE
    import soundfile as sf

    return float(sf.info(str(clip.audio)).duration)


def build(
    out: str | Path,
    sources: list[str] | None = None,
    per_speaker: int | None = None,
    workers: int = 2,
    force: bool = False,
    progress: bool = True,
    splits: tuple[str, ...] = SPLITS,
    languages: tuple[str, ...] = (),
) -> dict:
    """Build (or resume) the real-speech corpus into `out`; returns the summary also written to
    `out/summary.json`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = load_split()
    clips = plan(list(SOURCES) if sources is None else sources, per_speaker, splits, languages)
    start = time.time()
    jobs = [(c, str(out), split_of(c.speaker, table), force) for c in clips]
    _, failures = run_jobs(_work, jobs, workers, "real corpus", every=50, progress=progress)
    # the index and summary cover every clip on disk, also those of earlier (partial) builds
    ordered = on_disk(out, load_split())
    index = "".join(
        json.dumps({**r, "path": f"{r['source']}/{r['id']}"}, ensure_ascii=False) + "\n"
        for r in ordered
        if r.get("kept")
    )
    atomic_write_text(out / "index.jsonl", index, True)
    summary = summarise(ordered, time.time() - start, failures)
    atomic_write_text(
        out / "summary.json", json.dumps(summary, indent=1, ensure_ascii=False) + "\n", True
    )
    return summary


def on_disk(out: Path, table: dict[str, str]) -> list[dict]:
    """The records of the current filter version under `out` whose split is still the split
    file's (sorted by source and id)."""
    records = []
    for meta_path in sorted(out.glob("*/*.json")):
        try:
            r = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if r.get("filter_version") == FILTER_VERSION and r.get("split") == split_of(
            r.get("speaker", ""), table
        ):
            records.append(r)
    return records


def summarise(records: list[dict], seconds: float, failures: dict) -> dict:
    """Kept clips, hours and speakers per source, speaker and split; the rejection counts."""
    per_source: dict = defaultdict(
        lambda: {"clips": 0, "hours": 0.0, "rejected": 0, "speakers": set()}
    )
    per_speaker: dict = defaultdict(lambda: {"clips": 0, "hours": 0.0, "rejected": 0})
    splits: Counter = Counter()
    licences: dict[str, str] = {}
    for r in records:
        src, spk = per_source[r["source"]], per_speaker[r["speaker"]]
        licences[r["source"]] = r["provenance"]["licence"].get("licence", "unknown")
        if not r.get("kept"):
            src["rejected"] += 1
            spk["rejected"] += 1
            continue
        hours = r["provenance"]["duration"] / 3600.0
        for d in (src, spk):
            d["clips"] += 1
            d["hours"] += hours
        src["speakers"].add(r["speaker"])
        spk.update(split=r["split"], sex=r["sex"], source=r["source"], language=r["language"])
        splits[r["split"]] += 1
    return {
        "command": "python -m emosync.training.corpus.real_build " + " ".join(sys.argv[1:]),
        "build_seconds": round(seconds, 1),
        "clips": sum(splits.values()),
        "hours": round(sum(d["hours"] for d in per_source.values()), 3),
        "rejected": sum(d["rejected"] for d in per_source.values()),
        "failed": len(failures),
        "failures": dict(list(failures.items())[:50]),
        "per_source": {
            k: {
                **v,
                "hours": round(v["hours"], 3),
                "speakers": len(v["speakers"]),
                "licence": licences.get(k),
            }
            for k, v in sorted(per_source.items())
        },
        "per_speaker": {
            k: {**v, "hours": round(v["hours"], 3)} for k, v in sorted(per_speaker.items())
        },
        "per_split": dict(sorted(splits.items())),
        "filter": {
            "min_recall": MIN_RECALL,
            "min_precision": MIN_PRECISION,
            "max_phone_seconds": MAX_PHONE_SECONDS,
            "max_fit_gap": MAX_FIT_GAP,
            "version": FILTER_VERSION,
        },
        "fps": FPS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emosync.training.corpus.real_build")
    parser.add_argument("--out", default="data/corpus/real")
    parser.add_argument("--sources", default=",".join(SOURCES), help="comma list of sources")
    parser.add_argument(
        "--per-speaker", type=int, default=None, help="at most N clips per train speaker"
    )
    parser.add_argument(
        "--fetch-games", action="store_true", help="unpack the game .debs into data/games first"
    )
    parser.add_argument(
        "--splits", default=",".join(SPLITS), help="build only these splits (e.g. test first)"
    )
    parser.add_argument("--languages", default="", help="build only these languages (en,cs,...)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--force", action="store_true", help="rebuild clips that exist")
    parser.add_argument("--survey", action="store_true", help="only print what is available")
    args = parser.parse_args(argv)
    sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    try:
        unknown = [s for s in sources if s not in SOURCES]
        if unknown or not sources:
            raise InputError(f"unknown source(s) {unknown}; choose among {', '.join(SOURCES)}")
        if args.fetch_games:
            fetch_games()
        if args.survey:
            print(json.dumps(survey(sources), indent=1, ensure_ascii=False))
            return 0
        splits = tuple(s.strip() for s in args.splits.split(",") if s.strip())
        if not splits or set(splits) - set(SPLITS):
            raise InputError(f"--splits takes a comma list of {', '.join(SPLITS)}")
        languages = tuple(s.strip() for s in args.languages.split(",") if s.strip())
        summary = build(
            args.out, sources, args.per_speaker, args.workers, args.force, True, splits, languages
        )
    except InputError as err:
        print(f"emosync: error: {err}", file=sys.stderr)
        return 2
    print(
        f"real corpus: {summary['clips']} clips kept, {summary['hours']:.2f} h, "
        f"{summary['rejected']} rejected by the filter, {summary['failed']} failed -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

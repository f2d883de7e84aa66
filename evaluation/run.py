"""`emosync eval DIR`: animate every clip that has a transcript beside it and score the lip-sync
against a forced alignment of that transcript."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from emosync.errors import InputError
from emosync.evaluation.asterisk import is_reserved
from emosync.evaluation.metrics import aggregate, score
from emosync.rigs.emotions import EMOTIONS

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a", ".aif", ".aiff")
NEUTRAL = "neutral"
TARGETS = {"transcript": 0.95, "recognition": 0.80}  # seal rate the project aims for
EvalProgress = Callable[[float, float], None]  # (clips done, clips total)


def find_clips(path: str | Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """(audio file, transcript) pairs under `path`, sorted, and the reserved names skipped."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder")
    clips, skipped = [], []
    for audio in sorted(p for p in root.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
        text_file = audio.with_suffix(".txt")
        if not text_file.is_file():
            continue
        if is_reserved(audio.stem):
            skipped.append(audio.name)
            continue
        clips.append((audio, text_file.read_text(encoding="utf-8").strip()))
    return clips, skipped


def emotion_list(emotions: str | Sequence[str]) -> list[str]:
    """'all' → neutral and the seven emotions; otherwise the names given, neutral first."""
    if isinstance(emotions, str):
        names = list(EMOTIONS) if emotions == "all" else emotions.split(",")
    else:
        names = list(emotions)
    names = [n.strip() for n in names if n.strip() and n.strip() != NEUTRAL]
    return [NEUTRAL, *dict.fromkeys(names)]


def evaluate_dir(
    path: str | Path,
    use_transcript: bool = True,
    emotions: str | Sequence[str] = (NEUTRAL,),
    intensity: float = 1.0,
    fps: float = 60,
    progress: EvalProgress | None = None,
) -> dict[str, Any]:
    """Score every `X.<audio>` with `X.txt` beside it; `vm-*` clips are skipped unread.

    The reference is the forced alignment of the true transcript; the animation gets the
    transcript (`use_transcript`) or must recognise the speech itself. Returns a JSON-ready
    report: pooled scores per emotion, the seal-rate drop of each emotion against neutral,
    per-clip scores, failures and timings.
    """
    clips, skipped = find_clips(path)
    if not clips:
        raise InputError(f"no audio files with a .txt transcript beside them in {path}")
    from emosync.inference.alignment import align
    from emosync.inference.audio import load_audio
    from emosync.inference.pipeline import AnimateOptions, animate

    names = emotion_list(emotions)
    per_emotion: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    clip_rows, failed = [], []
    audio_seconds = align_seconds = animate_seconds = 0.0
    started = time.perf_counter()
    for i, (audio_path, transcript) in enumerate(clips):
        if progress:
            progress(i, len(clips))
        try:
            audio = load_audio(audio_path)
            t0 = time.perf_counter()
            reference = align(audio.samples, transcript)
            t1 = time.perf_counter()
            row: dict[str, Any] = {"name": audio_path.stem, "duration": round(audio.duration, 3)}
            for emotion in names:
                options = AnimateOptions(
                    transcript=transcript if use_transcript else None,
                    emotion=None if emotion == NEUTRAL else emotion,
                    intensity=intensity,
                    fps=float(fps),
                )
                row[emotion] = score(animate(audio, options), reference)
            animate_seconds += time.perf_counter() - t1
        except InputError as exc:
            failed.append({"name": audio_path.stem, "error": str(exc)})
            continue
        align_seconds += t1 - t0
        audio_seconds += audio.duration
        for emotion in names:
            per_emotion[emotion].append(row[emotion])
        clip_rows.append(row)
    if progress:
        progress(len(clips), len(clips))
    if not clip_rows:
        raise InputError(f"no clip in {path} could be evaluated: {failed[0]['error']}")

    pooled = {n: aggregate(per_emotion[n]) for n in names}
    report: dict[str, Any] = {
        "dir": str(path),
        "mode": "transcript" if use_transcript else "recognition",
        "fps": float(fps),
        "intensity": intensity,
        "n_clips": len(clip_rows),
        "audio_seconds": round(audio_seconds, 3),
        "scores": pooled,
        "seal_target": TARGETS["transcript" if use_transcript else "recognition"],
        "skipped_reserved": skipped,
        "failed": failed,
        "seconds": {
            "total": round(time.perf_counter() - started, 3),
            "reference_alignment": round(align_seconds, 3),
            "animate_and_score": round(animate_seconds, 3),
        },
        "clips": clip_rows,
    }
    if len(names) > 1:
        report["seal_drop"] = seal_drops(pooled)
    return report


def seal_drops(pooled: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """Neutral seal rate minus each emotion's, and the largest of them as 'max'."""
    base = pooled[NEUTRAL]["seal_rate"]
    drops: dict[str, float | None] = {}
    for name, scores in pooled.items():
        if name != NEUTRAL:
            rate = scores["seal_rate"]
            drops[name] = None if base is None or rate is None else base - rate
    known = [d for d in drops.values() if d is not None]
    drops["max"] = max(known) if known else None
    return drops


_COLUMNS = (
    ("seal", "seal_rate", "{:.3f}"),
    ("open", "open_vowel_rate", "{:.3f}"),
    ("rest", "rest_rate", "{:.3f}"),
    ("vow.seal", "vowel_seal_share", "{:.3f}"),
    ("jitter", "jaw_jitter", "{:.4f}"),
    ("rev/s", "jaw_reversals_per_s", "{:.2f}"),
    ("lag ms", "sync_lag_ms", "{:+.0f}"),
    ("n_bilab", "n_bilabial", "{:d}"),
    ("n_open", "n_open_vowels", "{:d}"),
)


def _cell(fmt: str, value: Any) -> str:
    if value is None:
        return "-"
    return fmt.format(int(value) if fmt == "{:d}" else value)


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of the pooled scores, one row per emotion."""
    lines = [
        f"{report['n_clips']} clips, {report['audio_seconds']:.1f} s of audio, "
        f"mode {report['mode']}, {report['fps']:g} fps, intensity {report['intensity']:g}",
        "",
        f"{'emotion':<10}" + "".join(f"{h:>10}" for h, _, _ in _COLUMNS),
    ]
    for name, scores in report["scores"].items():
        cells = "".join(f"{_cell(fmt, scores[key]):>10}" for _, key, fmt in _COLUMNS)
        lines.append(f"{name:<10}{cells}")
    seal = report["scores"][NEUTRAL]["seal_rate"]
    verdict = "-" if seal is None else ("met" if seal >= report["seal_target"] else "NOT met")
    lines += ["", f"seal-rate target ≥ {report['seal_target']:.2f} (neutral): {verdict}"]
    if "seal_drop" in report:
        drop = report["seal_drop"]["max"]
        lines.append(f"largest seal-rate drop across emotions: {_cell('{:.3f}', drop)}")
    if report["skipped_reserved"]:
        lines.append(f"skipped {len(report['skipped_reserved'])} reserved vm-* clips")
    for f in report["failed"]:
        lines.append(f"failed: {f['name']}: {f['error']}")
    s = report["seconds"]
    lines.append(
        f"time: {s['total']:.1f} s total ({s['reference_alignment']:.1f} s reference alignment)"
    )
    return "\n".join(lines)

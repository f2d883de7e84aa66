"""Engines side by side: the phonetic and neural engines scored on the same clips.

For every clip the reference is its phone timing: a pocketsphinx forced alignment of the true
transcript (a folder of `X.wav` + `X.txt`, e.g. prepared Asterisk prompts) or the per-frame
phone labels a corpus clip carries (`<id>.npz` beside `<id>.json`, any language). The engines
do not get the transcript unless asked (`use_transcript`). Per engine and emotion the report
pools evaluation.metrics' scores (seal, open vowel, rest, jaw jitter, ...) and adds

- lip-reader accuracy: the share of frames where the lip reader (assets/lipreader.onnx), reading
  the engine's 52 weights at 50 fps, names the reference phone;
- L1 to the teacher: the mean absolute difference of the 52 weights from the phonetic engine run
  on the reference phones with the same emotion (the label the neural engine was trained on:
  articulation + emotion pose without breathing, no blinks or gaze);
- the seal-rate drop of each emotion against neutral, and its maximum.

Life (blinks, gaze, head) is off for both engines: it is not lip-sync and only adds noise. The
phonetic engine is recognised once per clip and re-articulated per emotion, which is what
inference.pipeline.animate does for each emotion with life off.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emosync.errors import InputError
from emosync.evaluation.asterisk import is_reserved
from emosync.evaluation.metrics import aggregate, score
from emosync.evaluation.run import NEUTRAL, emotion_list, find_clips, seal_drops
from emosync.inference.facecurves import resample_rows
from emosync.inference.timed_phones import Alignment, Segment
from emosync.rigs.channels import N_BLENDSHAPES
from emosync.rigs.emotions import N_EMOTIONS, emotion_state
from emosync.rigs.phonemes import PHONES, SILENCE, normalise_phone

# "phonetic+transcript": the phonetic engine given the text; "neural-phones": a candidate, not an
# engine of `animate`: the neural model's most likely phone per frame, articulated by the phonetic
# engine (its timing from the network, its seals guaranteed by the articulator)
ENGINES = ("phonetic", "neural", "phonetic+transcript", "neural-phones")
LIPREADER_FPS = 50.0
CORPUS_SPLITS = ("heldout_voice", "heldout_lang")
TARGETS = {"seal_rate": 0.9, "open_vowel_rate": 0.9, "seal_drop": 0.02}
EXTRA_COUNTS = ("lip_correct", "lip_frames", "l1_sum", "l1_count")
Progress = Callable[[float, float], None]
CORPUS_PHONES = (SILENCE, *sorted(PHONES))  # the corpus's phone index order (the contract)


@dataclass
class Clip:
    name: str
    audio: Path
    transcript: str | None  # the true text (English: forced alignment gives the reference)
    phones: np.ndarray | None = None  # per-frame phone labels at `phones_fps` (corpus clips)
    phones_fps: float = 50.0
    source: str | None = None  # where the clip comes from (corpus clips: the source or engine)
    speaker: str | None = None  # who speaks it (corpus clips: the speaker or voice key)


# --- clips ----------------------------------------------------------------------------------


def transcript_clips(path: str | Path) -> list[Clip]:
    """`X.wav` + `X.txt` pairs (evaluation.run.find_clips; reserved vm-* clips never read)."""
    pairs, _skipped = find_clips(path)
    return [Clip(a.stem, a, text) for a, text in pairs]


def corpus_clips(
    path: str | Path,
    splits: Sequence[str] = CORPUS_SPLITS,
    languages: Sequence[str] = (),
    per_speaker: int | None = None,
) -> list[Clip]:
    """Corpus clips of the given splits (and languages, by prefix: "en" takes "en-us") under
    `path` (searched recursively): `<id>.json` with `<id>.wav` and `<id>.npz` beside it; the
    reference phones are the npz's frame labels. `per_speaker`: only the first N clips of each
    speaker (in file-name order)."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder")
    labels = np.array(CORPUS_PHONES)
    clips = []
    for meta_path in sorted(root.rglob("*.json")):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(meta, dict) or meta.get("split") not in splits:
            continue
        language = str(meta.get("language", ""))
        if languages and not any(language.split("-", maxsplit=1)[0] == lang for lang in languages):
            continue
        wav, npz = meta_path.with_suffix(".wav"), meta_path.with_suffix(".npz")
        if not (wav.is_file() and npz.is_file()) or is_reserved(wav.stem):
            continue
        with np.load(npz) as arrays:
            index = np.asarray(arrays["phones"], dtype=np.int64)
        phones = labels[np.clip(index, 0, len(labels) - 1)]
        source = meta.get("source") or meta.get("engine")
        speaker = meta.get("speaker") or f"{meta.get('engine')}:{meta.get('voice')}"
        clips.append(Clip(meta_path.stem, wav, meta.get("text"), phones, 50.0, source, speaker))
    if per_speaker is not None:
        taken: dict[str | None, int] = {}
        kept = []
        for clip in clips:
            taken[clip.speaker] = taken.get(clip.speaker, 0) + 1
            if taken[clip.speaker] <= per_speaker:
                kept.append(clip)
        clips = kept
    return clips


def frames_to_alignment(labels: np.ndarray, fps: float, duration: float) -> Alignment:
    """Runs of equal per-frame labels as phone segments (frame i covers [i, i+1) / fps)."""
    phones: list[Segment] = []
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            phones.append(Segment(str(labels[start]), start / fps, min(i / fps, duration)))
            start = i
    return Alignment(phones, method="labels", duration=duration)


def reference_labels(reference: Alignment, n_frames: int, fps: float) -> np.ndarray:
    """The reference phone at each frame time i / fps ("SIL" outside every phone)."""
    labels = np.full(n_frames, SILENCE, dtype=object)
    t = np.arange(n_frames) / fps
    for p in reference.phones:
        labels[(t >= p.start) & (t < p.end)] = normalise_phone(p.label)
    return labels


# --- engines --------------------------------------------------------------------------------


def teacher_weights(reference: Alignment, state: np.ndarray, n: int, fps: float) -> np.ndarray:
    """The training label: inference.phonetic.teacher_face on the reference phones."""
    from emosync.inference.phonetic import held, teacher_face

    return teacher_face(reference, held(state, n), fps)[0]


def phonetic_weights(
    alignment: Alignment, state: np.ndarray, n: int, fps: float, seed: int = 0
) -> np.ndarray:
    """inference.pipeline.animate's face with life off, for an alignment made once."""
    from emosync.inference.phonetic import held, phonetic_face

    return phonetic_face(alignment, held(state, n), fps, seed)[0]


class LipReader:
    """assets/lipreader.onnx: 52 weights at 50 fps -> phone logits per frame."""

    def __init__(self, path: str | Path | None = None) -> None:
        from emosync.inference.onnx_model import asset_path, load_model

        self.model = load_model(path or asset_path("lipreader.onnx"), "lipreader")
        self.phones = np.array(self.model.meta_json("phones"), dtype=object)

    def read(self, weights: np.ndarray, fps: float) -> np.ndarray:
        """The phone read at each 50 fps frame (time i / 50) of `weights` [F × 52] at `fps`."""
        n = max(1, round(len(weights) / fps * LIPREADER_FPS))
        w = resample_rows(weights, fps, n, LIPREADER_FPS)
        logits = self.model.run({"curves": w[None]})[0][0]
        return self.phones[np.argmax(logits, axis=-1)]


def neural_phone_alignment(
    convertor: Any,
    samples: np.ndarray,
    duration: float,
    bilabial_mass: float | None = None,
    min_frames: int = 1,
) -> Alignment:
    """The neural model's most likely phone at each of its frames (neutral emotion), as runs.
    `bilabial_mass`: a frame whose P+B+M probability reaches it is labelled with the likeliest of
    the three; `min_frames`: shorter runs take the label of the run before them."""
    from emosync.inference.convertor import MODEL_FPS

    n = convertor.n_frames(len(samples))
    probs = convertor.convert(samples, np.zeros((n, N_EMOTIONS), np.float32)).phones
    names = np.array(convertor.phones, dtype=object)
    index = np.argmax(probs, axis=1)
    if bilabial_mass is not None and len(convertor.bilabial):
        bil = convertor.bilabial
        closed = probs[:, bil].sum(axis=1) >= bilabial_mass
        index[closed] = bil[np.argmax(probs[closed][:, bil], axis=1)]
    labels = names[index]
    if min_frames > 1:
        labels = _merge_short_runs(labels, min_frames)
    return frames_to_alignment(labels, MODEL_FPS, duration)


def _merge_short_runs(labels: np.ndarray, min_frames: int) -> np.ndarray:
    out = labels.copy()
    start = 0
    for i in range(1, len(out) + 1):
        if i == len(out) or out[i] != out[start]:
            if i - start < min_frames and start > 0:
                out[start:i] = out[start - 1]
            start = i
    return out


# --- scoring --------------------------------------------------------------------------------


def _extra_scores(
    weights: np.ndarray,
    teacher: np.ndarray,
    truth50: np.ndarray,
    fps: float,
    lipreader: LipReader | None,
) -> dict[str, float]:
    out = dict.fromkeys(EXTRA_COUNTS, 0.0)
    n = min(len(weights), len(teacher))
    out["l1_sum"] = float(np.abs(weights[:n] - teacher[:n]).sum())
    out["l1_count"] = float(n * N_BLENDSHAPES)
    if lipreader is not None:
        read = lipreader.read(weights, fps)
        m = min(len(read), len(truth50))
        out["lip_correct"] = float(np.count_nonzero(read[:m] == truth50[:m]))
        out["lip_frames"] = float(m)
    return out


def _pool(rows: list[dict[str, Any]]) -> dict[str, Any]:
    pooled = aggregate(rows)
    pooled["n_clips"] = len(rows)
    for key in EXTRA_COUNTS:
        pooled[key] = sum(r[key] for r in rows)
    pooled["lip_accuracy"] = (
        pooled["lip_correct"] / pooled["lip_frames"] if pooled["lip_frames"] else None
    )
    pooled["l1_teacher"] = pooled["l1_sum"] / pooled["l1_count"] if pooled["l1_count"] else None
    return pooled


def compare_clips(
    clips: Sequence[Clip],
    engines: Sequence[str] = ENGINES,
    emotions: str | Sequence[str] = "all",
    intensity: float = 1.0,
    fps: float = 50.0,
    use_transcript: bool = False,
    lipreader: LipReader | None = None,
    convertor: Any = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score each engine on each clip and emotion; a JSON-ready report (see the module doc)."""
    from emosync.inference.facecurves import FaceCurves

    engines = [e for e in ENGINES if e in engines]
    if not engines:
        raise InputError(f"choose engines among {', '.join(ENGINES)}")
    if not clips:
        raise InputError("no clips to evaluate")
    if {"neural", "neural-phones"} & set(engines) and convertor is None:
        from emosync.inference.convertor import NeuralConvertor

        convertor = NeuralConvertor()
    names = emotion_list(emotions)
    rows: dict[str, dict[str, list]] = {e: {n: [] for n in names} for e in engines}
    seconds = dict.fromkeys(["reference", *engines], 0.0)
    failed, audio_seconds, started = [], 0.0, time.perf_counter()
    for i, clip in enumerate(clips):
        if progress:
            progress(i, len(clips))
        try:
            audio, reference, took = _load_clip(clip)
            seconds["reference"] += took
        except InputError as exc:
            failed.append({"name": clip.name, "error": str(exc)})
            continue
        audio_seconds += audio.duration
        n = max(1, round(audio.duration * fps))
        n50 = max(1, round(audio.duration * LIPREADER_FPS))
        truth50 = reference_labels(reference, n50, LIPREADER_FPS)
        heard = None
        for engine in engines:
            t0 = time.perf_counter()
            heard = _heard(engine, clip, audio, use_transcript, convertor, heard)
            for name in names:
                state = emotion_state(name, intensity)
                weights = _engine_weights(engine, heard, state, n, fps, audio, convertor)
                teacher = teacher_weights(reference, state, n, fps)
                curves = FaceCurves(fps, np.pad(weights, ((0, 0), (0, 9))))
                row = score(curves, reference)
                row.update(_extra_scores(weights, teacher, truth50, fps, lipreader))
                row["_groups"] = {"source": clip.source, "speaker": clip.speaker}
                rows[engine][name].append(row)
            seconds[engine] += time.perf_counter() - t0
    if progress:
        progress(len(clips), len(clips))
    n_ok = len(clips) - len(failed)
    if not n_ok:
        raise InputError(f"no clip could be evaluated: {failed[0]['error']}")
    report: dict[str, Any] = {
        "mode": "transcript" if use_transcript else "no transcript",
        "fps": float(fps),
        "intensity": intensity,
        "n_clips": n_ok,
        "audio_seconds": round(audio_seconds, 3),
        "lipreader": lipreader is not None,
        "targets": TARGETS,
        "engines": {},
        "failed": failed,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }
    report["seconds"]["total"] = round(time.perf_counter() - started, 3)
    report["engines"] = _engine_scores(rows, engines, names)
    report["groups"] = _group_scores(rows, engines, names)
    return report


def _load_clip(clip: Clip) -> tuple[Any, Any, float]:
    """The clip's audio, its reference alignment (the corpus phones, else a forced alignment
    to the transcript) and the seconds the reference took."""
    from emosync.inference.alignment import align
    from emosync.inference.audio import load_audio

    audio = load_audio(clip.audio)
    t0 = time.perf_counter()
    if clip.phones is not None:
        reference = frames_to_alignment(clip.phones, clip.phones_fps, audio.duration)
    else:
        reference = align(audio.samples, clip.transcript)
    return audio, reference, time.perf_counter() - t0


def _engine_scores(
    rows: dict[str, dict[str, list]], engines: Sequence[str], names: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per engine: the pooled scores per emotion, and the seal drops when several emotions ran."""
    out: dict[str, dict[str, Any]] = {}
    for engine in engines:
        pooled = {name: _pool(rows[engine][name]) for name in names}
        entry: dict[str, Any] = {"scores": pooled}
        if len(names) > 1:
            entry["seal_drop"] = seal_drops(pooled)
        out[engine] = entry
    return out


def _heard(
    engine: str, clip: Clip, audio: Any, use_transcript: bool, convertor: Any, heard: Any
) -> Any:
    """The phone alignment `engine` animates from (the neural engine keeps the last one)."""
    from emosync.inference.alignment import align

    if engine == "phonetic":
        return align(audio.samples, clip.transcript if use_transcript else None)
    if engine == "phonetic+transcript":
        return align(audio.samples, clip.transcript)
    if engine == "neural-phones":
        return neural_phone_alignment(convertor, audio.samples, audio.duration)
    return heard


def _engine_weights(
    engine: str, heard: Any, state: np.ndarray, n: int, fps: float, audio: Any, convertor: Any
) -> np.ndarray:
    """The engine's blendshape weights: the neural model's, or the phonetic face of `heard`."""
    if engine != "neural":
        return phonetic_weights(heard, state, n, fps)
    from emosync.inference.convertor import neural_face
    from emosync.inference.life import LifeSettings

    face = neural_face(audio, state, LifeSettings(0, 0, 0), 0, fps, convertor)
    return face.values[:, :N_BLENDSHAPES]


def _group_scores(
    rows: dict[str, dict[str, list]], engines: Sequence[str], names: Sequence[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Pooled scores per source and per speaker: {kind: {group: {engine: {emotion: scores}}}}
    (only for clips that name their source and speaker, i.e. corpus clips)."""
    out: dict[str, dict[str, dict[str, Any]]] = {"source": {}, "speaker": {}}
    for kind, by_group in out.items():
        groups = sorted({r["_groups"][kind] for r in rows[engines[0]][names[0]]} - {None})
        for group in groups:
            by_group[group] = {
                engine: {
                    name: _pool([r for r in rows[engine][name] if r["_groups"][kind] == group])
                    for name in names
                }
                for engine in engines
            }
    for engine in engines:  # the rows keep only their scores once pooled
        for name in names:
            for r in rows[engine][name]:
                r.pop("_groups", None)
    return out


def compare_dir(
    path: str | Path,
    engines: Sequence[str] = ENGINES,
    emotions: str | Sequence[str] = "all",
    intensity: float = 1.0,
    fps: float = 50.0,
    use_transcript: bool = False,
    lipreader: str | Path | bool | None = None,
    progress: Progress | None = None,
    splits: Sequence[str] = CORPUS_SPLITS,
    languages: Sequence[str] = (),
    per_speaker: int | None = None,
    convertor: str | Path | None = None,
) -> dict[str, Any]:
    """`emosync eval DIR --engine ...`: the clips of DIR (`X.wav` + `X.txt`; or, when there are
    none, corpus clips of `splits` and `languages`) scored per engine. `lipreader`: a path, None
    for the shipped one when present, False for none. `convertor`: the neural engines' model file
    (None: the shipped one)."""
    root = Path(path)
    if _has_transcripts(root):
        clips = transcript_clips(root)
    else:
        clips = corpus_clips(root, splits, languages, per_speaker)
    if not clips:
        raise InputError(f"no X.wav + X.txt pairs and no held-out corpus clips in {root}")
    neural = None
    if convertor is not None and {"neural", "neural-phones"} & set(engines):
        from emosync.inference.convertor import NeuralConvertor

        neural = NeuralConvertor(convertor)
    report = compare_clips(
        clips, engines, emotions, intensity, fps, use_transcript, _lipreader(lipreader),
        convertor=neural, progress=progress,
    )  # fmt: skip
    report["dir"] = str(root)
    if convertor is not None:
        report["convertor"] = str(convertor)
    return report


def _has_transcripts(root: Path) -> bool:
    if not root.is_dir():
        raise InputError(f"{root} is not a folder")
    return any(p.with_suffix(".wav").is_file() for p in root.glob("*.txt"))


def _lipreader(choice: str | Path | bool | None) -> LipReader | None:
    if choice is False:
        return None
    if choice is None or choice is True:
        from emosync.inference.onnx_model import asset_path

        if not asset_path("lipreader.onnx").is_file():
            return None
        return LipReader()
    return LipReader(choice)


# --- the table ------------------------------------------------------------------------------

_COLUMNS = (
    ("seal", "seal_rate", "{:.3f}"),
    ("open", "open_vowel_rate", "{:.3f}"),
    ("rest", "rest_rate", "{:.3f}"),
    ("vow.seal", "vowel_seal_share", "{:.3f}"),
    ("lipread", "lip_accuracy", "{:.3f}"),
    ("L1", "l1_teacher", "{:.4f}"),
    ("jitter", "jaw_jitter", "{:.4f}"),
    ("lag ms", "sync_lag_ms", "{:+.0f}"),
)


def _cell(fmt: str, value: Any) -> str:
    return "-" if value is None else fmt.format(value)


def format_comparison(report: dict[str, Any]) -> str:
    """Plain text: one table row per engine and emotion, then the targets and verdicts."""
    lines = [
        f"{report['n_clips']} clips, {report['audio_seconds']:.1f} s of audio, "
        f"{report['mode']}, {report['fps']:g} fps, intensity {report['intensity']:g}",
        "",
        f"{'engine':<21}{'emotion':<10}" + "".join(f"{h:>9}" for h, _, _ in _COLUMNS),
    ]
    for engine, entry in report["engines"].items():
        for name, s in entry["scores"].items():
            cells = "".join(f"{_cell(fmt, s[key]):>9}" for _, key, fmt in _COLUMNS)
            lines.append(f"{engine:<21}{name:<10}{cells}")
    lines += format_groups(report)
    lines.append("")
    for engine, entry in report["engines"].items():
        neutral = entry["scores"][NEUTRAL]
        verdicts = [
            _verdict("seal", neutral["seal_rate"], TARGETS["seal_rate"], at_least=True),
            _verdict("open", neutral["open_vowel_rate"], TARGETS["open_vowel_rate"], True),
        ]
        if "seal_drop" in entry:
            verdicts.append(
                _verdict("seal drop", entry["seal_drop"]["max"], TARGETS["seal_drop"], False)
            )
        lines.append(f"{engine}: " + "; ".join(verdicts))
    for f in report["failed"]:
        lines.append(f"failed: {f['name']}: {f['error']}")
    s = report["seconds"]
    lines.append("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in s.items()))
    return "\n".join(lines)


_GROUP_COLUMNS = (
    ("seal", "seal_rate", "{:.3f}"),
    ("open", "open_vowel_rate", "{:.3f}"),
    ("rest", "rest_rate", "{:.3f}"),
    ("vow.seal", "vowel_seal_share", "{:.3f}"),
    ("jitter", "jaw_jitter", "{:.4f}"),
)


def format_groups(report: dict[str, Any]) -> list[str]:
    """Per source and per speaker rows (neutral, or the first emotion), one per engine, with
    the P/B/M count and the sealed count beside the rates."""
    lines: list[str] = []
    for kind, groups in report.get("groups", {}).items():
        if not groups:
            continue
        width = max(12, *(len(g) + 2 for g in groups))
        lines += ["", f"per {kind}:"]
        lines.append(
            f"{kind:<{width}}{'engine':<21}{'clips':>6}{'P/B/M':>10}"
            + "".join(f"{h:>9}" for h, _, _ in _GROUP_COLUMNS)
        )
        for group, per_engine in groups.items():
            for engine, per_emotion in per_engine.items():
                s = per_emotion.get(NEUTRAL) or next(iter(per_emotion.values()))
                pbm = f"{int(s['n_bilabial_sealed'])}/{int(s['n_bilabial'])}"
                cells = "".join(f"{_cell(fmt, s[key]):>9}" for _, key, fmt in _GROUP_COLUMNS)
                lines.append(f"{group:<{width}}{engine:<21}{s['n_clips']:>6}{pbm:>10}{cells}")
    return lines


def _verdict(what: str, value: float | None, target: float, at_least: bool) -> str:
    if value is None:
        return f"{what} -"
    met = value >= target if at_least else value <= target
    sign = "≥" if at_least else "≤"
    return f"{what} {value:.3f} ({sign} {target:g}: {'met' if met else 'NOT met'})"

"""Batch manifests: a JSONL or CSV file with one voice line per row, or a folder of clips.

Keys (JSONL object keys or CSV columns): `audio` (required), `transcript` (text or a .txt
file), `emotion`, `emotion_image`, `emotion_audio`, `intensity`, `timeline`, `fps`, `rig`,
`engine`, `out` (a file name or a list of them relative to the output folder; a name without a
format suffix gets one file per default format; default `<audio stem>.glb`). Relative paths are
relative to the manifest. In CSV an empty cell is a missing key and `out` lists names with `;`.
A folder is every audio file in it, with `name.txt` beside `name.wav` as its transcript.

A manifest that cannot be read at all is an InputError; a bad row becomes a Line with an
`error`, so it fails alone while the others run.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from emosync.errors import InputError
from emosync.exporters.dispatch import SUFFIXES
from emosync.exporters.flame import FLAME_SUFFIXES
from emosync.exporters.rig_presets import RIGS
from emosync.inference.pipeline import ENGINES
from emosync.studio.options import check_rig_outputs

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".opus", ".aif", ".aiff")
KEYS = (
    "audio",
    "transcript",
    "emotion",
    "emotion_image",
    "emotion_audio",
    "intensity",
    "timeline",
    "fps",
    "rig",
    "engine",
    "out",
)
FILE_KEYS = ("emotion_image", "emotion_audio", "timeline")  # paths relative to the manifest
TEXT_KEYS = ("audio", "transcript", "emotion", "rig", "engine", *FILE_KEYS)
NUMBER_KEYS = ("intensity", "fps")
EMOTION_KEYS = ("emotion", "emotion_image", "emotion_audio")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
OUT_SEPARATOR = ";"
# Batch-wide defaults that name the user's FLAME model for rows with rig "flame".
FLAME_KEYS = ("flame_model", "flame_landmarks", "flame_expressions")


@dataclass
class Row:
    """One row as read: its values (absent keys left out) or why it could not be read."""

    where: str  # "line 3" in a JSONL file, "row 3" in a CSV, the file name in a folder
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Line:
    """One voice line ready to run: plain, picklable values with absolute paths."""

    index: int
    label: str
    audio: str | None
    settings: dict[str, Any]  # keyword arguments for studio.options.animate_options
    rig: str = "arkit"
    outputs: tuple[str, ...] = ()  # relative to the output folder, POSIX separators
    error: str | None = None
    flame: tuple[str, str | None, int | None] | None = None  # model, landmarks, expressions


def read_manifest(path: str | Path) -> tuple[list[Row], Path]:
    """The rows of a manifest and the folder its relative paths start from."""
    p = Path(path)
    if p.is_dir():
        return _folder_rows(p), p.resolve()
    if not p.exists():
        raise InputError(f"manifest {p} not found")
    suffix = p.suffix.lower()
    if suffix not in (*JSONL_SUFFIXES, ".csv"):
        raise InputError(
            f"cannot read manifest {p.name}: use a .jsonl or .csv file, or a folder of clips"
        )
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise InputError(f"cannot read manifest {p}: {reason}") from None
    rows = _csv_rows(text, p) if suffix == ".csv" else _jsonl_rows(text)
    if not rows:
        raise InputError(f"manifest {p} has no lines")
    return rows, p.resolve().parent


def _jsonl_rows(text: str) -> list[Row]:
    rows = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        where = f"line {number}"
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            rows.append(Row(where, error=f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(value, dict):
            rows.append(Row(where, error="not a JSON object"))
            continue
        rows.append(Row(where, {k: v for k, v in value.items() if v is not None}))
    return rows


def _csv_rows(text: str, path: Path) -> list[Row]:
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    if "audio" not in [h.strip() for h in header]:
        raise InputError(f"manifest {path.name}: the CSV header has no 'audio' column")
    rows = []
    for record in reader:
        where = f"row {reader.line_num}"
        if None in record:
            rows.append(Row(where, error=f"more cells than the header's {len(header)} columns"))
            continue
        values = {k.strip(): v.strip() for k, v in record.items() if v is not None and v.strip()}
        if values:
            rows.append(Row(where, values))
    return rows


def _folder_rows(folder: Path) -> list[Row]:
    clips = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    if not clips:
        raise InputError(f"no audio files in {folder}")
    rows = []
    for clip in clips:
        values: dict[str, Any] = {"audio": clip.name}
        if clip.with_suffix(".txt").is_file():
            values["transcript"] = clip.with_suffix(".txt").name
        rows.append(Row(clip.name, values))
    return rows


def plan_lines(
    rows: list[Row],
    base: Path,
    defaults: dict[str, Any] | None = None,
    formats: tuple[str, ...] = (".glb",),
    mesh: str | None = None,
) -> list[Line]:
    """Lines from rows: `defaults` (option values named as in animate_options, plus `rig`) fill
    what a row leaves out; each row's problems stay on its own line. Two lines that name the same
    output: the later one fails."""
    lines: list[Line] = []
    claimed: dict[str, str] = {}
    for index, row in enumerate(rows):
        label = row.where
        try:
            if row.error:
                raise InputError(row.error)
            label = _label(row)
            line = _plan_row(index, label, row.values, base, defaults or {}, formats, mesh)
            for out in line.outputs:
                if out in claimed:
                    raise InputError(f"output {out} is also written by {claimed[out]}")
            claimed.update(dict.fromkeys(line.outputs, label))
        except InputError as exc:
            audio = row.values.get("audio")
            path = str(_resolve(base, audio)) if isinstance(audio, str) and audio else None
            line = Line(index, label, path, {}, error=str(exc))
        lines.append(line)
    return lines


def _label(row: Row) -> str:
    audio = row.values.get("audio")
    if isinstance(audio, str) and audio and audio != row.where:
        return f"{row.where} ({PurePosixPath(audio.replace(chr(92), '/')).name})"
    return row.where


def _plan_row(
    index: int,
    label: str,
    values: dict[str, Any],
    base: Path,
    defaults: dict[str, Any],
    formats: tuple[str, ...],
    mesh: str | None,
) -> Line:
    _check_types(values)
    if not values.get("audio"):
        raise InputError("no 'audio'")
    audio = _resolve(base, values["audio"])
    if not audio.is_file():
        raise InputError(f"audio not found: {audio}")
    settings = _settings(values, base, defaults)
    rig = values.get("rig", defaults.get("rig", "arkit"))
    if rig not in (*RIGS, "flame"):
        raise InputError(f"unknown rig '{rig}'; choose one of: {', '.join((*RIGS, 'flame'))}")
    outputs = _outputs(values.get("out"), audio, formats)
    if rig != "flame":
        check_rig_outputs(rig, [Path(o) for o in outputs], mesh)
        return Line(index, label, str(audio), settings, rig, outputs)
    return Line(index, label, str(audio), settings, rig, outputs, flame=_flame(defaults, outputs))


def _check_types(values: dict[str, Any]) -> None:
    """Known keys only; text keys hold text, number keys a number (or a number as text)."""
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise InputError(f"unknown key {', '.join(map(repr, unknown))}; keys: {', '.join(KEYS)}")
    for key in TEXT_KEYS:
        if key in values and not isinstance(values[key], str):
            raise InputError(f"'{key}' must be text, got {json.dumps(values[key])}")
    for key in NUMBER_KEYS:
        value = values.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float | str)
        ):
            raise InputError(f"'{key}' must be a number, got {json.dumps(value)}")


def _settings(values: dict[str, Any], base: Path, defaults: dict[str, Any]) -> dict[str, Any]:
    """The row's animate_options values: the batch defaults, overridden by the row's own."""
    settings = {k: v for k, v in defaults.items() if k not in ("rig", *FLAME_KEYS)}
    if any(k in values for k in EMOTION_KEYS):  # a row's own emotion replaces any default one
        settings = {
            k: v for k, v in settings.items() if k not in (*EMOTION_KEYS, "copy_expression")
        }
    for key in ("intensity", "fps", "engine", "emotion"):
        if key in values:
            settings[key] = values[key]
    for key in FILE_KEYS:
        if key in values:
            settings[key] = str(_resolve(base, values[key]))
    if "transcript" in values:
        settings.update(_transcript(base, values["transcript"]))
    engine = settings.get("engine", "auto")
    if engine not in ENGINES:
        raise InputError(f"unknown engine '{engine}'; choose one of: {', '.join(ENGINES)}")
    return settings


def _flame(
    defaults: dict[str, Any], outputs: tuple[str, ...]
) -> tuple[str, str | None, int | None]:
    if not defaults.get("flame_model"):
        raise InputError("rig 'flame' needs the batch's --flame-model FILE")
    for out in outputs:
        if PurePosixPath(out).suffix.lower() not in FLAME_SUFFIXES:
            raise InputError(f"rig 'flame' writes {', '.join(FLAME_SUFFIXES)}, not {out}")
    return (
        defaults["flame_model"],
        defaults.get("flame_landmarks"),
        defaults.get("flame_expressions"),
    )


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _transcript(base: Path, value: str) -> dict[str, str]:
    """A transcript that names a file (relative to the manifest) is read from it; any other
    value is the text itself, even with a slash in it ("24/7")."""
    candidate = _resolve(base, value)
    if "\n" not in value and (value.lower().endswith(".txt") or candidate.is_file()):
        return {"transcript": str(candidate)}
    return {"transcript_text": value}


def _outputs(value: Any, audio: Path, formats: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return tuple(f"{audio.stem}{suffix}" for suffix in formats)
    if isinstance(value, str):
        names = [v.strip() for v in value.split(OUT_SEPARATOR) if v.strip()]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        names = [v.strip() for v in value if v.strip()]
    else:
        raise InputError(f"'out' must be a file name or a list of them, got {json.dumps(value)}")
    if not names:
        raise InputError("'out' is empty")
    outputs: list[str] = []
    for name in names:
        path = PurePosixPath(name.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or name.startswith("~"):
            raise InputError(f"output {name} must be a name inside the output folder")
        if path.suffix.lower() in SUFFIXES:
            outputs.append(str(path))
        else:  # a name without a known format's suffix gets one file per default format
            outputs.extend(f"{path}{suffix}" for suffix in formats)
    if len(set(outputs)) != len(outputs):
        raise InputError("the same output is named twice")
    return tuple(outputs)

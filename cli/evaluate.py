"""`emosync eval DIR`: score lip-sync on clips with transcripts (see evaluation/)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from emosync.atomic import atomic_write_text, check_writable
from emosync.cli.progress import ProgressBar
from emosync.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score the animation of clips that have transcripts")
    p.add_argument("directory", help="folder of audio clips, each with a .txt transcript beside it")
    p.add_argument(
        "--no-transcript",
        action="store_true",
        help="animate without the transcripts (they still give the reference)",
    )
    p.add_argument(
        "--emotions",
        default="neutral",
        help="'neutral', 'all' (the seven at intensity 1), or a comma list",
    )
    p.add_argument(
        "--engines",
        metavar="LIST",
        help="compare engines on the same clips ('phonetic,neural'); the folder may also be a "
        "corpus (its held-out splits are read). Default: the phonetic-engine report",
    )
    p.add_argument(
        "--split",
        metavar="LIST",
        help="with --engines on a corpus: the splits to read (comma list; default "
        "heldout_voice,heldout_lang; the real-speech corpus has train, val, test)",
    )
    p.add_argument(
        "--language",
        metavar="LIST",
        help="with --engines on a corpus: only clips of these languages (comma list, 'en' "
        "takes en-us and en-gb)",
    )
    p.add_argument(
        "--per-speaker",
        type=int,
        metavar="N",
        help="with --engines on a corpus: the first N clips of each speaker (by file name)",
    )
    p.add_argument(
        "--convertor",
        metavar="ONNX",
        help="with --engines: the neural engines read this convertor model instead of the "
        "shipped one (a training candidate)",
    )
    p.add_argument("--fps", type=float, default=60.0)
    p.add_argument("--json", metavar="OUT", help="also write the report as JSON")
    p.add_argument("--force", action="store_true", help="overwrite the JSON report")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from emosync.evaluation.run import evaluate_dir, format_report

    folder = Path(args.directory)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    if args.json:
        check_writable(args.json, force=args.force)
    emotions = (
        "all"
        if args.emotions == "all"
        else tuple(e.strip() for e in args.emotions.split(",") if e.strip())
    )
    if args.engines:
        report = _compare(folder, args, emotions)
    else:
        report = evaluate_dir(
            folder,
            use_transcript=not args.no_transcript,
            emotions=emotions,
            fps=args.fps,
            progress=ProgressBar("evaluating"),
        )
        print(format_report(report))
    if args.json:
        atomic_write_text(args.json, json.dumps(report, indent=2), force=args.force)
    return 0


def _compare(folder: Path, args: argparse.Namespace, emotions) -> dict:
    from emosync.evaluation.compare import (
        CORPUS_SPLITS,
        ENGINES,
        compare_dir,
        format_comparison,
    )

    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    if args.convertor and not Path(args.convertor).is_file():
        raise InputError(f"--convertor {args.convertor}: no such model file")
    unknown = [e for e in engines if e not in ENGINES]
    if not engines or unknown:
        raise InputError(f"--engines takes a comma list of {', '.join(ENGINES)}")
    report = compare_dir(
        folder,
        engines=engines,
        emotions=emotions,
        fps=args.fps,
        use_transcript=not args.no_transcript,
        progress=ProgressBar("comparing"),
        splits=_names(args.split) or CORPUS_SPLITS,
        languages=_names(args.language),
        per_speaker=args.per_speaker,
        convertor=args.convertor,
    )
    print(format_comparison(report))
    return report


def _names(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())

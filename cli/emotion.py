"""`emosync emotion TEXT | --image IMG | --audio WAV`: print the emotion state as JSON."""

from __future__ import annotations

import argparse
import json

from emosync.cli.clip_option import add_clip_option
from emosync.errors import InputError
from emosync.inference.emotion_condition import read_emotion


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("emotion", help="print the emotion state of a prompt, photo or voice")
    p.add_argument("prompt", nargs="?", help="e.g. 'furious', '0.6 happy + 0.3 surprised'")
    p.add_argument("--image", metavar="IMG", help="a reference photo")
    p.add_argument("--audio", metavar="WAV", help="a reference voice clip")
    p.add_argument("--intensity", default="1.0", help="scale, 0 to 1.5")
    add_clip_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.prompt is None and not args.image and not args.audio:
        raise InputError("give a prompt, --image IMG or --audio WAV")
    reading = read_emotion(args.prompt, args.image, args.audio, args.intensity, clip=args.clip)
    out = reading.to_dict()
    if args.prompt is not None:
        out = {"prompt": args.prompt, **out}
    print(json.dumps(out, indent=2))
    return 0

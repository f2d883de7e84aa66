"""`emosync emotion TEXT`: print the emotion state of a prompt as JSON."""

from __future__ import annotations

import argparse
import json

from emosync.errors import InputError
from emosync.rigs.emotions import emotion_to_dict, parse_emotion, parse_intensity


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("emotion", help="print the emotion state of a prompt as JSON")
    p.add_argument("prompt", nargs="?", help="e.g. 'furious', '0.6 happy + 0.3 surprised'")
    p.add_argument("--image", metavar="IMG", help="a reference photo")
    p.add_argument("--audio", metavar="WAV", help="a reference voice clip")
    p.add_argument("--intensity", default="1.0", help="scale, 0 to 1.5")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.image or args.audio:
        raise InputError(
            "emotion from an image or a voice needs the multi-modal emotion "
            "encoder, which this version does not have yet; give a text prompt"
        )
    if args.prompt is None:
        raise InputError("give a prompt, e.g. emosync emotion 'slightly sad'")
    state = parse_emotion(args.prompt, parse_intensity(args.intensity))
    print(json.dumps({"prompt": args.prompt, "emotion": emotion_to_dict(state)}, indent=2))
    return 0

"""`emosync live`: a voice in (microphone, file or PCM pipe), face frames out as it speaks, to
Unreal Live Link, VMC apps, plain OSC and/or a recording, with an emotion that can change while
it runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from emosync import __version__
from emosync.atomic import atomic_set
from emosync.cli.flame_option import add_flame_options, check_flame_args, flame_rig
from emosync.cli.life_option import add_life_options
from emosync.cli.live_control import Control, control_socket
from emosync.cli.live_sources import file_blocks, mic_blocks, paced, pcm_blocks
from emosync.errors import InputError
from emosync.exporters.dispatch import SUFFIXES, check_outputs, export
from emosync.exporters.flame import FlameRig, write_flame_outputs
from emosync.exporters.live_livelink import LiveLinkSender
from emosync.exporters.live_osc import VMC_RIGS, OscSender, VmcSender
from emosync.exporters.live_udp import LiveSender, parse_endpoint
from emosync.inference.audio import SAMPLE_RATE
from emosync.inference.convertor import MODEL_FPS, model_available, shipped_convertor
from emosync.inference.facecurves import FaceCurves
from emosync.inference.live_emotion import LiveEmotion
from emosync.inference.live_face import LiveFace
from emosync.inference.pipeline import emotion_condition
from emosync.studio.options import animate_options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("live", help="stream a face live from a voice (Live Link, VMC, OSC)")
    src = p.add_argument_group("input (one of)")
    src.add_argument("--mic", action="store_true", help="the default microphone (PortAudio)")
    src.add_argument("--device", help="with --mic: an input device name or number")
    src.add_argument("--input", metavar="FILE|-", help="a voice file, or - for raw PCM on stdin")
    src.add_argument(
        "--rate", type=int, default=16000, help="with --input -: sample rate of the s16le mono PCM"
    )
    src.add_argument(
        "--realtime", action="store_true", help="pace a file or pipe at real time (else flat out)"
    )
    out = p.add_argument_group("outputs (any number)")
    out.add_argument(
        "--livelink",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="Unreal Live Link Face UDP packets (the app's port is 11111)",
    )
    out.add_argument("--subject", default="EmoSync", help="Live Link subject name")
    out.add_argument(
        "--vmc",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="VMC protocol over OSC (VSeeFace, Warudo, VNyan; usually :39539)",
    )
    out.add_argument(
        "--rig",
        default="arkit",
        choices=VMC_RIGS,
        help="VMC names: ARKit (eyeBlinkLeft; arkit-pascal: EyeBlinkLeft), VRM 1.0 or VRM 0",
    )
    out.add_argument(
        "--osc",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="plain OSC, one address per channel",
    )
    out.add_argument("--osc-prefix", default="/emosync/", help="OSC address prefix")
    out.add_argument(
        "-o",
        "--output",
        action="append",
        default=[],
        metavar="OUT",
        help=f"record the sent frames ({' '.join(SUFFIXES)}), written at the end",
    )
    out.add_argument(
        "--record-rig",
        default="arkit",
        choices=("arkit", "flame"),
        help="what -o records: the ARKit curves (default) or FLAME parameters/mesh "
        "(with --flame-model, as in animate --rig flame)",
    )
    add_flame_options(out)
    out.add_argument("--force", action="store_true", help="overwrite existing recordings")
    p.add_argument("--fps", default="50", help="frames per second (default 50, the model's rate)")
    p.add_argument("--emotion", metavar="TEXT", help="emotion at the start (preset or words)")
    p.add_argument("--intensity", default="1.0", help="emotion intensity, 0 to 1.5 (default 1)")
    p.add_argument("--timeline", metavar="FILE.json", help="emotion segments from the start")
    p.add_argument(
        "--control",
        metavar="[HOST:]PORT",
        help="UDP port for lines like 'emotion quietly furious 0.8'",
    )
    add_life_options(p)
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    _check_input(args)
    recordings = _checked_recordings(args)
    if not model_available():
        raise InputError("the neural engine's model file is not installed; live needs it")
    options = animate_options(
        emotion=args.emotion,
        intensity=args.intensity,
        timeline=args.timeline,
        fps=args.fps,
        engine="neural",
        blink=args.blink,
        gaze=args.gaze,
        head=args.head,
        seed=args.seed,
    )
    fps = options.fps
    start, _, warnings = emotion_condition(options)
    for warning in warnings:
        print(f"emosync: warning: {warning}", file=sys.stderr)
    if args.input and args.input != "-" and not Path(args.input).is_file():
        raise InputError(f"audio file not found: {args.input}")

    flame = flame_rig(args, "--record-rig")  # loaded and fitted before the stream starts
    senders = make_senders(args, fps)
    control_sock = None
    if args.control:
        control_sock = control_socket(*parse_endpoint(args.control, "--control"))
    emotion = LiveEmotion(start, options.intensity)
    face = LiveFace(shipped_convertor(), emotion, options.life, args.seed, fps)
    control = Control(emotion, lambda: face.next_model_time, options.intensity)
    if control_sock is not None:
        control.serve_udp(control_sock)
    if args.input != "-":
        report = (lambda line: None) if args.quiet else _report
        control.serve_lines(sys.stdin, report)
    session = Session(face, senders)
    try:
        session.run(_blocks(args))
    finally:
        for sender in senders:
            sender.close()
        if control_sock is not None:
            control_sock.close()
    recorded = FaceCurves(fps, session.recorded(), metadata=_metadata(args, session, control))
    _record(args, recordings, recorded, flame)
    if not args.quiet:
        print(session.summary(fps))
    return 0


def _check_input(args: argparse.Namespace) -> None:
    """One audio source, and a sane --rate for PCM on stdin."""
    if args.mic == bool(args.input):
        raise InputError("give one input: --mic, --input FILE, or --input - (PCM on stdin)")
    if args.realtime and args.mic:
        raise InputError("--realtime is for --input; the microphone is real time already")
    if not 8000 <= args.rate <= 192000:
        raise InputError(f"--rate must be between 8000 and 192000 Hz, got {args.rate}")


def _checked_recordings(args: argparse.Namespace) -> list[Path]:
    """The -o recordings (known formats, writable, each once); at least one output of any kind."""
    recordings = [Path(o) for o in args.output]
    check_outputs(recordings, force=args.force)
    check_flame_args(args, recordings, "--record-rig")
    if not (args.livelink or args.vmc or args.osc or recordings):
        raise InputError("give at least one output: --livelink, --vmc, --osc or -o FILE")
    return recordings


class Session:
    """The loop: each block of audio through the face, each new frame to every sender."""

    def __init__(self, face: LiveFace, senders: list[LiveSender]) -> None:
        self.face, self.senders = face, senders
        self.frames: list[np.ndarray] = []
        self.n_frames = 0
        self.compute: list[float] = []  # seconds per block, audio in to last packet out
        self.interrupted = False

    def run(self, blocks: Iterator[np.ndarray]) -> None:
        try:
            for block in blocks:
                began = time.perf_counter()
                self._send(self.face.push(block))
                self.compute.append(time.perf_counter() - began)
        except KeyboardInterrupt:  # the way a microphone session ends: keep what was made
            self.interrupted = True
        self._send(self.face.finish())

    def _send(self, frames: np.ndarray) -> None:
        if not len(frames):
            return
        for sender in self.senders:
            sender.send(self.n_frames, frames)
        self.frames.append(frames)
        self.n_frames += len(frames)

    def recorded(self) -> np.ndarray:
        return np.concatenate(self.frames) if self.frames else np.zeros((0, 61), np.float32)

    def summary(self, fps: float) -> str:
        seconds = self.face.n_samples / SAMPLE_RATE
        ms = 1e3 * float(np.median(self.compute)) if self.compute else 0.0
        return (
            f"live: {seconds:.2f} s of audio, {self.n_frames} frames at {fps:g} fps; "
            f"compute per block median {ms:.2f} ms"
        )


def make_senders(args: argparse.Namespace, fps: float) -> list[LiveSender]:
    senders: list[LiveSender] = []
    for target in args.livelink:
        host, port = parse_endpoint(target, "--livelink")
        senders.append(LiveLinkSender(host, port, args.subject, fps))
    for target in args.vmc:
        host, port = parse_endpoint(target, "--vmc")
        senders.append(VmcSender(host, port, args.rig, fps))
    for target in args.osc:
        host, port = parse_endpoint(target, "--osc")
        senders.append(OscSender(host, port, args.osc_prefix))
    return senders


def _blocks(args: argparse.Namespace) -> Iterator[np.ndarray]:
    if args.mic:
        device = int(args.device) if args.device and args.device.isdigit() else args.device
        return mic_blocks(device)
    if args.input == "-":
        blocks = pcm_blocks(sys.stdin.buffer, args.rate)
    else:
        blocks = file_blocks(args.input)
    return paced(blocks) if args.realtime else blocks


def _record(
    args: argparse.Namespace, paths: list[Path], curves: FaceCurves, flame: FlameRig | None
) -> None:
    """The recordings, all or none (as animate writes its outputs)."""
    with atomic_set():
        if flame is not None:
            written = write_flame_outputs(curves, paths, flame, force=args.force)
        else:
            written = [export(curves, path, force=args.force) for path in paths]
    if not args.quiet:
        for path in written:
            print(f"wrote {path} ({curves.n_frames} frames at {curves.fps:g} fps)")


def _report(line: str) -> None:
    print(f"emosync: control: {line}", file=sys.stderr)


def _metadata(args: argparse.Namespace, session: Session, control: Control) -> dict:
    source = "microphone" if args.mic else ("stdin" if args.input == "-" else args.input)
    return {
        "name": "live",
        "source_audio": source,
        "duration": round(session.face.n_samples / SAMPLE_RATE, 6),
        "engine": "neural",
        "live": True,
        "model_fps": MODEL_FPS,
        "emotion_changes": control.applied,
        "seed": args.seed,
        "emosync_version": __version__,
    }

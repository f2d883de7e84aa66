"""Headless batch: one action (and NLA strip) per clip, optionally one GLB per clip.

    blender -b scene.blend --python-exit-code 1 --python batch.py -- \\
        --audio DIR_FILE_OR_MANIFEST --object NAME [--emotion TEXT] [--timeline FILE.json] \\
        [--out DIR] [--gltf]

`--audio` is a clip, a folder of clips (a transcript beside each as .txt) or a manifest in the
format of `emosync batch` (JSONL or CSV: audio, transcript, emotion, intensity, timeline, out,
…; read by emosync.studio.manifest), whose rows override --emotion/--intensity/--timeline. The
keys come at the scene's frame rate. Under the `bpy` module: `python batch.py --blend
scene.blend --audio … --object …`. A clip that fails is reported and skipped; the exit status
is 1 if any clip failed, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class ClipResult:
    clip: Path
    ok: bool
    message: str
    glb: Path | None = None


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="emosync-blender-batch", description=__doc__)
    parser.add_argument("--audio", required=True, help="an audio file or a folder of clips")
    parser.add_argument("--object", required=True, help="the mesh with the shape keys")
    parser.add_argument("--blend", help="open this .blend first (when run under the bpy module)")
    parser.add_argument("--emotion", help="preset or prompt, e.g. 'slightly happy'")
    parser.add_argument("--intensity", default="1.0")
    parser.add_argument("--timeline", help="a timeline JSON file applied to every clip")
    parser.add_argument("--mapping", default="AUTO", choices=("AUTO", "ARKIT", "VRM", "VISEMES"))
    parser.add_argument("--armature", help="armature object for the jaw/head bones")
    parser.add_argument("--jaw-bone", default="")
    parser.add_argument("--jaw-axis", default="X")
    parser.add_argument("--jaw-angle", type=float, default=20.0, help="degrees at jawOpen = 1")
    parser.add_argument("--head", default="NONE", choices=("NONE", "BONE", "OBJECT"))
    parser.add_argument("--head-bone", default="")
    parser.add_argument("--start-frame", type=int, default=1)
    parser.add_argument("--out", help="folder for the GLB files (default: beside the clips)")
    parser.add_argument("--gltf", action="store_true", help="export one GLB per clip")
    parser.add_argument("--save", nargs="?", const="", help="save the .blend (optionally as PATH)")
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs")
    return parser.parse_args(argv)


def script_args(argv: list[str]) -> list[str]:
    """The arguments after Blender's `--`, or all of them under the bpy module."""
    return argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]


def read_lines(args: argparse.Namespace) -> list:
    """The clips to animate as emosync.studio Lines: one clip, a folder or a manifest."""
    from emosync.errors import InputError
    from emosync.studio.manifest import AUDIO_SUFFIXES, Row, plan_lines, read_manifest

    path = Path(args.audio)
    if path.is_file() and path.suffix.lower() in AUDIO_SUFFIXES:
        values = {"audio": path.name}
        if path.with_suffix(".txt").is_file():
            values["transcript"] = path.with_suffix(".txt").name
        rows, base = [Row(path.name, values)], path.resolve().parent
    elif not path.exists():
        raise InputError(f"audio not found: {path}")
    else:
        rows, base = read_manifest(path)
    defaults = {"emotion": args.emotion, "intensity": args.intensity, "timeline": args.timeline}
    defaults = {k: v for k, v in defaults.items() if v is not None}
    return plan_lines(rows, base, defaults, (".glb",))


def export_glb(out: Path, objects: list, force: bool) -> Path:
    """Blender's glTF exporter on `objects` only, written atomically to `out`."""
    import bpy

    from emosync.atomic import atomic_write_bytes, check_writable

    check_writable(out, force=force)
    bpy.ops.object.select_all(action="DESELECT")
    for obj in objects:
        obj.select_set(True)
    bpy.context.view_layer.objects.active = objects[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_glb = Path(tmp) / out.name
        quiet_gltf_export(
            filepath=str(tmp_glb),
            export_format="GLB",
            use_selection=True,
            export_animations=True,
            export_animation_mode="ACTIVE_ACTIONS",
            export_morph=True,
            export_apply=False,
        )
        atomic_write_bytes(out, tmp_glb.read_bytes(), force=force)
    return out


def quiet_gltf_export(**options) -> None:
    """Blender's glTF exporter without its INFO lines (a dozen per file, which buried the
    batch's own summary); its warnings and errors come through once each as emosync lines.
    The exporter's log level follows bpy.app.debug_value (1: warnings and up) and it logs to
    stdout; `export_loglevel` cannot be used (Blender 4.5 then fails with KeyError 'loglevel')."""
    import bpy

    captured = io.StringIO()
    debug = bpy.app.debug_value
    try:
        bpy.app.debug_value = 1
        with contextlib.redirect_stdout(captured):
            bpy.ops.export_scene.gltf(**options)
    finally:
        bpy.app.debug_value = debug
    lines = (line.strip() for line in captured.getvalue().splitlines())
    for line in dict.fromkeys(x for x in lines if "WARNING" in x or "ERROR" in x):
        print(f"emosync: warning: Blender's glTF exporter: {line.split(': ', 1)[-1]}")


def keep_as_strips(action_names: list[str], owners: list) -> None:
    """Each clip's action also goes on a muted NLA track, so every clip stays in the file and
    can be laid out in the NLA editor; the active action is the one that plays."""
    for owner in owners:
        anim = getattr(owner, "animation_data", None)
        if anim is None or anim.action is None or anim.action.name not in action_names:
            continue
        track = anim.nla_tracks.new()
        track.name = f"EmoSync {anim.action.name}"
        strip = track.strips.new(anim.action.name, int(anim.action.frame_range[0]), anim.action)
        if getattr(anim, "action_slot", None) is not None:
            strip.action_slot = anim.action_slot
        track.mute = True


def run(args: argparse.Namespace, package) -> int:
    from emosync.errors import InputError

    try:
        lines, target, out_dir = _prepare(args, package)
    except InputError as exc:
        print(f"emosync: error: {exc}", file=sys.stderr)
        return 2
    results = [_animate_line(line, args, package, target, out_dir) for line in lines]
    _save(args, results)
    return summarize(results)


def _prepare(args: argparse.Namespace, package) -> tuple[list, Any, Path | None]:
    """Open the .blend, read the lines, check the target and the defaults before any clip."""
    import bpy

    from emosync.errors import InputError
    from emosync.inference.timeline import EmotionTimeline
    from emosync.rigs.emotions import parse_intensity

    apply = package.apply
    if args.blend:
        if not Path(args.blend).is_file():
            raise InputError(f"blend file not found: {args.blend}")
        bpy.ops.wm.open_mainfile(filepath=str(Path(args.blend).resolve()))
    lines = read_lines(args)
    mesh = bpy.data.objects.get(args.object)
    if mesh is None:
        raise InputError(f"no object named '{args.object}' in the scene")
    armature = bpy.data.objects.get(args.armature) if args.armature else None
    if args.armature and armature is None:
        raise InputError(f"no armature named '{args.armature}'")
    target = apply.Target(
        mesh=mesh,
        scheme=args.mapping,
        custom=package.request.custom_map(mesh) if hasattr(mesh, "emosync") else {},
        armature=armature,
        jaw_bone=args.jaw_bone,
        jaw_axis=args.jaw_axis,
        jaw_max_angle=math.radians(args.jaw_angle),
        head=args.head,
        head_bone=args.head_bone,
    )
    apply.check_target(target)
    parse_intensity(args.intensity)  # bad defaults stop the batch before any clip
    if args.timeline:
        EmotionTimeline.from_json(args.timeline)
    out_dir = Path(args.out) if args.out else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    return lines, target, out_dir


def _animate_line(
    line, args: argparse.Namespace, package, target: Any, out_dir: Path | None
) -> ClipResult:
    """One clip onto the target (and its GLB with --gltf); a failure is this clip's result."""
    import bpy

    from emosync.errors import InputError
    from emosync.inference.pipeline import animate
    from emosync.studio.options import animate_options

    apply = package.apply
    scene = bpy.context.scene
    mesh, armature = target.mesh, target.armature
    clip = Path(line.audio or line.label)
    started = time.perf_counter()
    try:
        if line.error:
            raise InputError(line.error)
        audio = package.audio_source.decode(str(clip))
        options = animate_options(**{**line.settings, "fps": apply.scene_fps(scene)})
        curves = animate(audio, options)
        result = apply.apply_curves(curves, target, scene, args.start_frame, clip.stem)
        keep_as_strips(result.action_names, [mesh.data.shape_keys, armature, mesh])
        apply.set_frame_range(scene, result.frame_start, result.frame_end)
        glb = None
        if args.gltf:
            folder = out_dir or clip.parent
            name = next((o for o in line.outputs if o.endswith(".glb")), f"{clip.stem}.glb")
            objects = [o for o in (mesh, armature) if o is not None]
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            glb = export_glb(folder / name, objects, args.force)
        message = (
            f"{result.n_keys} keys, frames {result.frame_start}–{result.frame_end}, "
            f"{time.perf_counter() - started:.1f} s"
        )
        return ClipResult(clip, True, message, glb)
    except InputError as exc:
        return ClipResult(clip, False, str(exc))
    except Exception as exc:  # keep going: one broken clip must not stop a batch
        return ClipResult(clip, False, f"internal error: {type(exc).__name__}: {exc}")


def _save(args: argparse.Namespace, results: list[ClipResult]) -> None:
    """--save [PATH]: save the .blend (a new file needs the path); a failure is one more result."""
    import bpy

    if args.save is None:
        return
    path = args.save or bpy.data.filepath
    if not path:
        results.append(ClipResult(Path("(save)"), False, "--save needs a path for a new file"))
    else:
        bpy.ops.wm.save_as_mainfile(filepath=str(Path(path).resolve()))


def summarize(results: list[ClipResult]) -> int:
    failed = [r for r in results if not r.ok]
    for r in results:
        status = "ok  " if r.ok else "FAIL"
        extra = f" -> {r.glb}" if r.glb else ""
        print(f"emosync: {status} {r.clip.name}: {r.message}{extra}")
    print(f"emosync: {len(results) - len(failed)} of {len(results)} clips animated")
    return 1 if failed else 0


def _package():
    """This folder as a package: the installed extension, or the source tree."""
    if __package__:
        return sys.modules[__package__]
    import importlib.util

    here = Path(__file__).resolve().parent
    name = "emosync_blender"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, here / "__init__.py", submodule_search_locations=[str(here)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(script_args(sys.argv) if argv is None else argv)
    package = _package()
    import importlib

    for module in ("apply", "audio_source", "request"):
        importlib.import_module(f"{package.__name__}.{module}")
    return run(args, package)


if __name__ == "__main__":
    sys.exit(main())

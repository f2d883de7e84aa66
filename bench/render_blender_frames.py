"""The pictures of docs/blender.md, made with the real add-on in the `bpy` module:

* docs/img/blender_frames.png: the demo head ("Add › Mesh › EmoSync Demo Head") animated by the
  Generate operator on examples/hello.wav + hello.txt, once "happy" and once "sad", rendered
  with Cycles on the CPU at the moments the alignment names: the widest jaw, a lip closure, a
  rounded vowel and a lip-teeth contact.
* docs/img/blender_panel.png: the sidebar panel drawn from the panel classes' own draw()
  methods, walked with a recording layout (the bpy module has no window to take a screenshot
  of).

    .venv/bin/python bench/render_blender_frames.py --force   # --samples 24, --size 384

Deterministic: fixed samples and seed, the same clip and settings every run.
"""

from __future__ import annotations

import argparse
import importlib
import io
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import bpy
import numpy as np

from emosync.atomic import atomic_write_bytes, check_writable
from emosync.inference.alignment import align
from emosync.inference.timed_phones import Alignment, Segment
from emosync.rigs.channels import ARKIT_NAMES
from emosync.rigs.mouth import lip_gap
from emosync.rigs.phonemes import BILABIAL, LABIODENTAL, ROUNDED

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "examples" / "hello.wav"
TRANSCRIPT = ROOT / "examples" / "hello.txt"
EMOTIONS = ("happy", "sad")
FPS = 24


@dataclass
class Moment:
    frame: int
    what: str  # "widest jaw", "lips closed", ...
    phone: str
    word: str


# --- the add-on ------------------------------------------------------------------------------


def load_addon():
    """blender_addon/ as the package `emosync.blender_addon` (the source tree), registered."""
    addon = importlib.import_module("emosync.blender_addon")
    if not getattr(addon, "_bench_registered", False):
        addon.register()
        addon._bench_registered = True
    return addon


def build_scene() -> bpy.types.Object:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = FPS, 1.0
    assert bpy.ops.emosync.add_demo_head() == {"FINISHED"}
    return bpy.context.active_object


def generate(emotion: str) -> None:
    """The panel's settings, then the Generate operator (the add-on's own code path)."""
    settings = bpy.context.scene.emosync
    settings.audio_path = str(CLIP)
    settings.transcript_path = str(TRANSCRIPT)
    settings.preset = emotion.upper()
    settings.intensity = 1.0
    settings.head = "OBJECT"
    settings.replace = True
    assert bpy.ops.emosync.generate() == {"FINISHED"}, settings.status


def keyed_weights(head: bpy.types.Object) -> np.ndarray:
    """[frames × 52] shape key values as Blender evaluates them, from frame_start."""
    scene = bpy.context.scene
    blocks = head.data.shape_keys.key_blocks
    out = np.zeros((scene.frame_end - scene.frame_start + 1, len(ARKIT_NAMES)), np.float32)
    for i, frame in enumerate(range(scene.frame_start, scene.frame_end + 1)):
        scene.frame_set(frame)
        out[i] = [blocks[name].value for name in ARKIT_NAMES]
    return out


# --- picking the moments ---------------------------------------------------------------------


def word_at(alignment: Alignment, t: float) -> str:
    return next((w.label for w in alignment.words if w.start <= t < w.end), "")


def _best_in(segments: list[Segment], score: np.ndarray) -> int | None:
    """The frame (0-based) inside any of `segments` where `score` is highest."""
    best, best_score = None, -np.inf
    for seg in segments:
        lo, hi = int(math.ceil(seg.start * FPS)), int(seg.end * FPS)
        for f in range(max(lo, 0), min(hi, len(score) - 1) + 1):
            if score[f] > best_score:
                best, best_score = f, score[f]
    return best


def pick_moments(weights: np.ndarray, alignment: Alignment, start: int) -> list[Moment]:
    """The widest jaw, the tightest lip closure on a bilabial, the roundest vowel and a
    lip-teeth contact, each as a frame of the keyed animation."""
    names = {n: i for i, n in enumerate(ARKIT_NAMES)}
    rounding = weights[:, names["mouthPucker"]] + weights[:, names["mouthFunnel"]]
    jaw = weights[:, names["jawOpen"]]
    roll = weights[:, names["mouthRollLower"]] - jaw
    phones = alignment.phones
    picks = [
        ("widest jaw", int(np.argmax(jaw))),
        ("lips closed", _best_in([p for p in phones if p.label in BILABIAL], -lip_gap(weights))),
        ("rounded vowel", _best_in([p for p in phones if p.label in ROUNDED], rounding)),
        ("lip on teeth", _best_in([p for p in phones if p.label in LABIODENTAL], roll)),
    ]
    moments = []
    for what, f in picks:
        if f is None:
            continue
        t = (f + 0.5) / FPS
        phone = next((p.label for p in phones if p.start <= t < p.end), "")
        moments.append(Moment(start + f, what, phone, word_at(alignment, t)))
    return sorted(moments, key=lambda m: m.frame)


def clip_alignment() -> Alignment:
    addon = load_addon()
    audio = addon.audio_source.decode(str(CLIP))
    return align(audio.samples, TRANSCRIPT.read_text(encoding="utf-8"))


# --- lights, camera, render ------------------------------------------------------------------


def _look_at(obj: bpy.types.Object, target) -> None:
    from mathutils import Vector

    direction = Vector(target) - obj.location
    obj.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()


def _area_light(name: str, location, target, power: float, size: float, color=(1, 1, 1)):
    light = bpy.data.lights.new(name, "AREA")
    light.energy, light.size, light.color = power, size, color
    obj = bpy.data.objects.new(name, light)
    bpy.context.scene.collection.objects.link(obj)
    obj.location = location
    _look_at(obj, target)
    return obj


def stage(head: bpy.types.Object, size: int, samples: int) -> None:
    """A three-point light, an 85 mm camera on the face, Cycles on the CPU."""
    from mathutils import Vector

    scene = bpy.context.scene
    corners = np.array([head.matrix_world @ Vector(c) for c in head.bound_box])
    face_centre = tuple((corners.min(0) + corners.max(0)) / 2)
    cam_data = bpy.data.cameras.new("Camera")
    cam_data.lens = 85.0
    camera = bpy.data.objects.new("Camera", cam_data)
    scene.collection.objects.link(camera)
    camera.location = (0.0, face_centre[1] - 0.52, face_centre[2] + 0.02)
    _look_at(camera, face_centre)
    scene.camera = camera
    cx, cy, cz = face_centre
    _area_light("Key", (cx - 0.35, cy - 0.45, cz + 0.3), face_centre, 4.0, 0.35, (1, 0.96, 0.9))
    _area_light("Fill", (cx + 0.45, cy - 0.35, cz + 0.05), face_centre, 1.2, 0.5, (0.9, 0.95, 1))
    _area_light("Rim", (cx + 0.15, cy + 0.45, cz + 0.35), face_centre, 5.0, 0.25)
    world = bpy.data.worlds.new("World")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.035, 0.04, 0.05, 1)
    scene.world = world
    render = scene.render
    render.engine = "CYCLES"
    render.resolution_x = render.resolution_y = size
    render.resolution_percentage = 100
    render.image_settings.file_format = "PNG"
    scene.view_settings.view_transform = "Standard"  # AgX washes the vertex-colour skin out
    cycles = scene.cycles
    cycles.device = "CPU"
    cycles.samples = samples
    cycles.seed = 0
    cycles.use_adaptive_sampling = False
    cycles.max_bounces = 4
    cycles.use_denoising = _has_oidn(cycles)
    if cycles.use_denoising:
        cycles.denoiser = "OPENIMAGEDENOISE"


def _has_oidn(cycles) -> bool:
    return "OPENIMAGEDENOISE" in cycles.bl_rna.properties["denoiser"].enum_items


def render_frame(frame: int, path: Path) -> np.ndarray:
    scene = bpy.context.scene
    scene.frame_set(frame)
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    import matplotlib.image

    return matplotlib.image.imread(str(path))


# --- the panel, drawn from its own draw() ------------------------------------------------------


@dataclass
class Widget:
    kind: str  # "check", "enum_row", "menu", "field", "number", "slider", "button", "label", ...
    label: str = ""
    value: str = ""
    icon: str = ""
    fraction: float = 0.0  # how full a slider is
    options: tuple[str, ...] = ()  # an expanded enum's item names
    selected: int = -1


class RecordingLayout:
    """Stands in for `UILayout`: records what draw() asks for, with the real property names,
    values and enum items read from the RNA of the data it is given."""

    def __init__(self, kind: str = "column") -> None:
        self.kind = kind  # "column", "row" or "box"
        self.children: list[Widget | RecordingLayout] = []

    def _sub(self, kind: str) -> RecordingLayout:
        child = RecordingLayout(kind)
        self.children.append(child)
        return child

    def row(self, align: bool = False) -> RecordingLayout:
        return self._sub("row")

    def column(self, align: bool = False) -> RecordingLayout:
        return self._sub("column")

    def box(self) -> RecordingLayout:
        return self._sub("box")

    def separator(self, factor: float = 1.0) -> None:
        self.children.append(Widget("separator"))

    def label(self, text: str = "", icon: str = "NONE") -> None:
        self.children.append(Widget("label", text, icon=icon))

    def operator(self, idname: str, text: str | None = None, icon: str = "NONE") -> None:
        group, name = idname.split(".")
        rna = getattr(getattr(bpy.ops, group), name).get_rna_type()
        self.children.append(Widget("button", rna.name if text is None else text, icon=icon))

    def prop_search(self, data, prop: str, search_data, search_prop: str, **_) -> None:
        rna = data.bl_rna.properties[prop]
        self.children.append(Widget("search", rna.name, str(getattr(data, prop))))

    def template_list(self, _list_type, _list_id, data, prop, _active_data, _active, rows=5):
        items = [_list_row(item) for item in getattr(data, prop)]
        self.children.append(Widget("list", options=tuple(items), selected=rows))

    def prop(self, data, prop: str, text: str | None = None, expand=False, slider=False, **_):
        rna = data.bl_rna.properties[prop]
        label = rna.name if text is None else text
        value = getattr(data, prop)
        if rna.type == "BOOLEAN":
            self.children.append(Widget("check", label, "1" if value else ""))
        elif rna.type == "ENUM":
            names = [item.name for item in rna.enum_items]
            chosen = [item.identifier for item in rna.enum_items].index(value)
            kind = "enum_row" if expand else "menu"
            self.children.append(Widget(kind, label, names[chosen], options=tuple(names),
                                        selected=chosen))  # fmt: skip
        elif rna.type in ("INT", "FLOAT"):
            self.children.append(_number(rna, label, value, slider))
        elif rna.type == "POINTER":
            self.children.append(Widget("search", label, value.name if value else ""))
        else:
            icon = "FILE_FOLDER" if rna.subtype == "FILE_PATH" else ""
            self.children.append(Widget("field", label, str(value), icon=icon))


def _number(rna, label: str, value, slider: bool) -> Widget:
    if rna.subtype == "ANGLE":
        text = f"{math.degrees(value):g}°"
    else:
        text = f"{value:.3f}" if rna.type == "FLOAT" else str(value)
    low, high = rna.soft_min, rna.soft_max
    fraction = (value - low) / (high - low) if high > low else 0.0
    return Widget("slider" if slider else "number", label, text, fraction=fraction)


def _list_row(item) -> str:
    """What the add-on's UIList draw_item shows for one item."""
    if hasattr(item, "emotion"):
        return f"{item.start:.3f}   {item.end:.3f}   {item.emotion}"
    return f"{item.name}   {item.source}"


def record_panels(context) -> list[tuple[str, bool, RecordingLayout]]:
    """(label, is a sub-panel, recorded layout) for each registered EmoSync panel, in order."""
    addon = load_addon()
    out = []
    for cls in addon.panel.CLASSES:
        if not issubclass(cls, bpy.types.Panel):
            continue
        layout = RecordingLayout()
        cls.draw(SimpleNamespace(layout=layout), context)
        out.append((cls.bl_label, hasattr(cls, "bl_parent_id"), layout))
    return out


def panel_scene():
    """The demo head after a "happy" Generate, with two emotion segments listed."""
    load_addon()
    head = build_scene()
    generate("happy")
    settings = bpy.context.scene.emosync
    settings.timeline_source = "LIST"
    for emotion in ("happy", "slightly sad"):
        bpy.ops.emosync.segment_add()
        settings.segments[-1].emotion = emotion
    settings.preset = "HAPPY"
    settings.replace = False
    return SimpleNamespace(scene=bpy.context.scene, active_object=head)


# --- the contact sheet -----------------------------------------------------------------------


def contact_sheet(images: dict[str, list[np.ndarray]], moments: list[Moment]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = len(images), len(moments)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.85 * rows + 0.4), squeeze=False)
    fig.patch.set_facecolor("#17181c")
    for r, (emotion, row) in enumerate(images.items()):
        for c, (image, moment) in enumerate(zip(row, moments, strict=True)):
            ax = axes[r][c]
            ax.imshow(image)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            title = f"frame {moment.frame} · {moment.what}\n/{moment.phone}/ in “{moment.word}”"
            if r == 0:
                ax.set_title(title, color="#e6e6e6", fontsize=9)
            if c == 0:
                ax.set_ylabel(emotion, color="#e6e6e6", fontsize=11)
    fig.suptitle(
        "EmoSync demo head in Blender (Cycles): examples/hello.wav + hello.txt, "
        f"{FPS} fps, keyed by the Generate operator",
        color="#e6e6e6",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=140, facecolor=fig.get_facecolor())
    plt.close(fig)
    return buffer.getvalue()


def make_frames(out: Path, size: int, samples: int, force: bool) -> None:
    check_writable(out, force=force)
    load_addon()
    alignment = clip_alignment()
    images: dict[str, list[np.ndarray]] = {}
    moments: list[Moment] = []
    with tempfile.TemporaryDirectory() as tmp:
        for emotion in EMOTIONS:
            head = build_scene()
            generate(emotion)
            if not moments:
                weights = keyed_weights(head)
                moments = pick_moments(weights, alignment, bpy.context.scene.frame_start)
            stage(head, size, samples)
            started = time.perf_counter()
            images[emotion] = [
                render_frame(m.frame, Path(tmp) / f"{emotion}_{m.frame:04d}.png") for m in moments
            ]
            seconds = time.perf_counter() - started
            print(f"{emotion}: {len(moments)} frames rendered in {seconds:.1f} s")
    for m in moments:
        print(f"frame {m.frame}: {m.what} /{m.phone}/ '{m.word}'")
    atomic_write_bytes(out, contact_sheet(images, moments), force=force)
    print(f"wrote {out}")


# Blender 4's default dark theme, roughly (sidebar, panels, widgets).
THEME = {
    "region": (48, 48, 48), "panel": (61, 61, 61), "header": (56, 56, 56), "text": (230, 230, 230),
    "dim": (160, 160, 160), "field": (29, 29, 29), "button": (84, 84, 84), "menu": (40, 40, 40),
    "accent": (71, 114, 179), "box": (50, 50, 50), "outline": (24, 24, 24),
}  # fmt: skip
# Blender's icons are not in the bpy module; a glyph stands in for each one the panel uses.
GLYPHS = {"PLAY_SOUND": "♪", "ADD": "+", "REMOVE": "−", "ERROR": "⚠", "INFO": "ⓘ",
          "CHECKMARK": "✓", "MESH_DATA": "△", "MARKER": "◆", "FILE_FOLDER": "▤"}  # fmt: skip
S = 2  # pixels per Blender UI pixel
UNIT = 20 * S  # Blender's widget height


class PanelPainter:
    def __init__(self, width: int) -> None:
        from matplotlib import font_manager
        from PIL import Image, ImageDraw, ImageFont

        self.width = width
        self.image = Image.new("RGB", (width, 4000), THEME["region"])
        self.draw = ImageDraw.Draw(self.image)
        self.font = ImageFont.truetype(font_manager.findfont("DejaVu Sans"), 11 * S)
        self.bold = ImageFont.truetype(font_manager.findfont("DejaVu Sans:bold"), 11 * S)
        self.y = 6 * S

    def text(self, x, y, text, fill="text", font=None, anchor="lm", right=None):
        font = font or self.font
        if right is not None:
            while text and self.draw.textlength(text, font=font) > right - x:
                text = text[:-2] + "…" if len(text) > 2 else ""
        self.draw.text((x, y), text, fill=THEME[fill], font=font, anchor=anchor)

    def rect(self, box, fill, radius=4 * S):
        self.draw.rounded_rectangle(box, radius=radius, fill=THEME[fill], outline=THEME["outline"])

    def panel(self, label: str, sub: bool, layout: RecordingLayout) -> None:
        x0, x1 = (6 if not sub else 10) * S, self.width - 6 * S
        top = self.y
        self.draw.rectangle((x0, top, x1, top + UNIT + 4 * S), fill=THEME["header"])
        self.text(x0 + 8 * S, top + UNIT // 2 + 2 * S, "▾", "dim")
        self.text(x0 + 22 * S, top + UNIT // 2 + 2 * S, label, font=self.bold)
        self.y = top + UNIT + 8 * S
        body_top = self.y - 4 * S
        self.draw.rectangle((x0, body_top, x1, body_top), fill=THEME["panel"])
        end = self.measure(layout, x0 + 8 * S, x1 - 8 * S, self.y, paint=False)
        self.draw.rectangle((x0, body_top, x1, end + 4 * S), fill=THEME["panel"])
        self.y = self.measure(layout, x0 + 8 * S, x1 - 8 * S, self.y, paint=True) + 10 * S

    def measure(self, layout: RecordingLayout, x0: int, x1: int, y: int, paint: bool) -> int:
        """Lay out `layout` in [x0, x1] from y; paint it if asked; return the bottom."""
        if layout.kind == "row":
            n = max(len(layout.children), 1)
            widths = [1.0] * n
            # a column of small buttons beside a list takes one unit, the list the rest
            if any(isinstance(c, Widget) and c.kind == "list" for c in layout.children):
                widths = [(x1 - x0 - UNIT) / (x1 - x0) if _is_list(c) else UNIT / (x1 - x0)
                          for c in layout.children]  # fmt: skip
            total, x, bottom = sum(widths), x0, y
            for child, w in zip(layout.children, widths, strict=True):
                right = x + (x1 - x0) * w / total
                bottom = max(bottom, self._child(child, int(x), int(right) - S, y, paint))
                x = right
            return bottom
        if layout.kind == "box":
            end = y + 4 * S
            for child in layout.children:
                end = self._child(child, x0 + 6 * S, x1 - 6 * S, end, False)
            if paint:
                self.rect((x0, y, x1, end + 2 * S), "box", radius=3 * S)
            inner = x0 + 6 * S, x1 - 6 * S
        else:
            inner = x0, x1
        end = y + (4 * S if layout.kind == "box" else 0)
        for child in layout.children:
            end = self._child(child, *inner, end, paint)
        return end + (6 * S if layout.kind == "box" else 0)

    def _child(self, child, x0, x1, y, paint) -> int:
        if isinstance(child, RecordingLayout):
            return self.measure(child, x0, x1, y, paint)
        height = self.widget_height(child)
        if paint:
            self.widget(child, x0, x1, y, y + height - 2 * S)
        return y + height

    def widget_height(self, w: Widget) -> int:
        if w.kind == "separator":
            return 8 * S
        if w.kind == "list":
            return max(w.selected, len(w.options)) * UNIT + 8 * S
        return UNIT + 2 * S

    def widget(self, w: Widget, x0: int, x1: int, y0: int, y1: int) -> None:
        painters = {
            "label": self._label,
            "check": self._check,
            "enum_row": self._enum_row,
            "menu": self._field,
            "field": self._field,
            "search": self._field,
            "number": self._number,
            "slider": self._number,
            "button": self._button,
            "list": self._list,
        }
        if w.kind in painters:
            painters[w.kind](w, x0, x1, y0, y1)

    def _label(self, w: Widget, x0: int, x1: int, y0: int, y1: int) -> None:
        mid = (y0 + y1) // 2
        x = x0 + 4 * S
        if w.icon in GLYPHS:
            self.text(x, mid, GLYPHS[w.icon])
            x += 16 * S
        self.text(x, mid, w.label, right=x1)

    def _check(self, w: Widget, x0: int, x1: int, y0: int, y1: int) -> None:
        mid = (y0 + y1) // 2
        box = (x0 + 4 * S, mid - 7 * S, x0 + 18 * S, mid + 7 * S)
        self.rect(box, "accent" if w.value else "button", radius=3 * S)
        if w.value:
            self.text((box[0] + box[2]) // 2, mid, "✓", anchor="mm")
        self.text(x0 + 24 * S, mid, w.label)

    def _enum_row(self, w: Widget, x0: int, x1: int, y0: int, y1: int) -> None:
        mid = (y0 + y1) // 2
        step = (x1 - x0) / len(w.options)
        for i, name in enumerate(w.options):
            box = (int(x0 + i * step), y0, int(x0 + (i + 1) * step), y1)
            self.rect(box, "accent" if i == w.selected else "button", radius=3 * S)
            self.text((box[0] + box[2]) // 2, mid, name, anchor="mm")

    def _field(self, w: Widget, x0: int, x1: int, y0: int, y1: int) -> None:
        """A menu, text field or search field, with its label on the left."""
        mid = (y0 + y1) // 2
        split = x0 + int((x1 - x0) * 0.4)
        if w.label:
            self.text(x0 + 4 * S, mid, w.label, right=split - 4 * S)
        left = split if w.label else x0
        fill = {"menu": "menu", "field": "field", "search": "field"}[w.kind]
        right = x1 - (UNIT + 2 * S if w.icon else 0)
        self.rect((left, y0, right, y1), fill)
        self.text(left + 8 * S, mid, w.value, right=right - 20 * S)
        if w.kind == "menu":
            self.text(right - 10 * S, mid, "⌄", "dim", anchor="mm")
        if w.icon:
            self.rect((right + 2 * S, y0, x1, y1), "button")
            self.text((right + x1) // 2 + S, mid, GLYPHS[w.icon], anchor="mm")

    def _number(self, w: Widget, x0: int, x1: int, y0: int, y1: int) -> None:
        """A number field (with arrows) or a slider (filled to its fraction)."""
        mid = (y0 + y1) // 2
        self.rect((x0, y0, x1, y1), "button")
        if w.kind == "slider":
            fill_to = x0 + int((x1 - x0) * min(max(w.fraction, 0.0), 1.0))
            if fill_to > x0 + 8 * S:
                self.rect((x0, y0, fill_to, y1), "accent")
        else:
            self.text(x0 + 8 * S, mid, "‹", "dim")
            self.text(x1 - 8 * S, mid, "›", "dim", anchor="rm")
        self.text((x0 + x1) // 2, mid, f"{w.label}: {w.value}" if w.label else w.value,
                  anchor="mm")  # fmt: skip

    def _button(self, w: Widget, x0: int, x1: int, y0: int, y1: int) -> None:
        mid = (y0 + y1) // 2
        self.rect((x0, y0, x1, y1), "button")
        text = (GLYPHS.get(w.icon, "") + "  " + w.label).strip()
        self.text((x0 + x1) // 2, mid, text, anchor="mm")

    def _list(self, w: Widget, x0: int, x1: int, y0: int, y1: int) -> None:
        self.rect((x0, y0, x1, y1), "field", radius=3 * S)
        for i, row in enumerate(w.options):
            top = y0 + 4 * S + i * UNIT
            if i == len(w.options) - 1:
                self.draw.rectangle((x0 + 2 * S, top, x1 - 2 * S, top + UNIT - 2 * S),
                                    fill=THEME["button"])  # fmt: skip
            self.text(x0 + 8 * S, top + UNIT // 2, row, right=x1 - 4 * S)

    def result(self):
        note = "drawn from blender_addon/panel.py draw(), not a screenshot"
        self.text(self.width // 2, self.y + 2 * S, note, "dim", anchor="mm")
        return self.image.crop((0, 0, self.width, self.y + 10 * S))


def _is_list(child) -> bool:
    return isinstance(child, Widget) and child.kind == "list"


def make_panel(out: Path, force: bool) -> None:
    check_writable(out, force=force)
    context = panel_scene()
    painter = PanelPainter(width=300 * S)
    for label, sub, layout in record_panels(context):
        painter.panel(label, sub, layout)
    buffer = io.BytesIO()
    painter.result().save(buffer, format="PNG")
    atomic_write_bytes(out, buffer.getvalue(), force=force)
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=Path, default=ROOT / "docs/img/blender_frames.png")
    parser.add_argument("--panel", type=Path, default=ROOT / "docs/img/blender_panel.png")
    parser.add_argument("--only", choices=("frames", "panel"))
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--samples", type=int, default=24)
    parser.add_argument("--force", action="store_true", help="overwrite the pictures")
    args = parser.parse_args(argv)
    try:
        if args.only in (None, "frames"):
            make_frames(args.frames, args.size, args.samples, args.force)
        if args.only in (None, "panel"):
            make_panel(args.panel, args.force)
    finally:
        # Left registered with a sound strip in the scene, the bpy module (4.5) hangs in its
        # teardown after the script ends; an empty scene and an unregistered add-on exit at once.
        bpy.ops.wm.read_factory_settings(use_empty=True)
        load_addon().unregister()
    return 0


if __name__ == "__main__":
    sys.exit(main())

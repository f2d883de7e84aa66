"""EmoSync's demo face as a Blender character: a mesh with the 52 ARKit shape keys, a vertex
colour material and the two eyes as child objects; the "Add › Mesh › EmoSync Demo Head" entry.

The face's expression wrinkles (rigs.demo_face) are images on a "Wrinkles" UV map, each scaled
by a driver that reads its shape key's value, so keying the shape keys shows the furrows too.

The demo face is stored in glTF axes (+Y up, +Z toward the viewer); Blender's are +Z up with the
front view looking along +Y, so a glTF point (x, y, z) is Blender's (x, -z, y). The head object's
origin is the neck pivot, so head rotation keyed on the object turns the head about the neck.
"""

from __future__ import annotations

import bpy
import numpy as np

from emosync.rigs.demo_face import MAX_DARKENING, DemoFace, EyeMesh, load_demo_face

COLOR_ATTRIBUTE = "Col"
WRINKLE_UV = "Wrinkles"


def to_blender(points: np.ndarray) -> np.ndarray:
    """glTF axes → Blender axes for [n × 3] points or directions."""
    p = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    return np.stack([p[:, 0], -p[:, 2], p[:, 1]], axis=1)


def _mesh_data(name: str, vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray):
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(vertices.tolist(), [], np.asarray(faces, dtype=np.int64).tolist())
    mesh.polygons.foreach_set("use_smooth", np.ones(len(mesh.polygons), dtype=bool))
    attribute = mesh.color_attributes.new(COLOR_ATTRIBUTE, "FLOAT_COLOR", "POINT")
    rgba = np.ones((len(vertices), 4), dtype=np.float32)
    rgba[:, :3] = colors
    attribute.data.foreach_set("color", rgba.ravel())
    mesh.update()
    return mesh


def vertex_color_material(
    name: str = "EmoSync Skin", roughness: float = 0.55
) -> bpy.types.Material:
    """A Principled BSDF whose base colour is the mesh's colour attribute (the demo face's
    colours are per vertex; without this node Blender renders it grey)."""
    material = bpy.data.materials.get(name)
    if material is not None:
        return material
    material = bpy.data.materials.new(name)
    material.use_nodes = True
    nodes, links = material.node_tree.nodes, material.node_tree.links
    bsdf = next(n for n in nodes if n.type == "BSDF_PRINCIPLED")
    color = nodes.new("ShaderNodeVertexColor")
    color.layer_name = COLOR_ATTRIBUTE
    color.location = (bsdf.location.x - 300, bsdf.location.y)
    links.new(color.outputs["Color"], bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = roughness
    return material


def _wrinkle_image(face: DemoFace, k: int) -> bpy.types.Image:
    """Map k as a packed, non-colour grey image (Blender stores rows bottom first)."""
    name = f"EmoSync wrinkles {face.target_names[face.wrinkle_targets[k]]}"
    res = face.wrinkle_maps.shape[1]
    image = bpy.data.images.get(name) or bpy.data.images.new(name, res, res, alpha=False)
    image.colorspace_settings.name = "Non-Color"  # before the pixels: it reloads the buffer
    rgba = np.ones((res, res, 4), dtype=np.float32)
    rgba[..., :3] = face.wrinkle_maps[k][::-1, :, None]
    image.pixels.foreach_set(rgba.ravel())
    image.pack()
    return image


def _add_wrinkle_uv(mesh: bpy.types.Mesh, face: DemoFace) -> None:
    """The wrinkle-map coordinates as a UV map (v flipped: Blender's origin is bottom left)."""
    corner_vertex = np.empty(len(mesh.loops), dtype=np.int64)
    mesh.loops.foreach_get("vertex_index", corner_vertex)
    uv = np.asarray(face.uv, dtype=np.float32)[corner_vertex] * [1.0, -1.0] + [0.0, 1.0]
    mesh.uv_layers.new(name=WRINKLE_UV).data.foreach_set("uv", uv.astype(np.float32).ravel())


def wrinkle_material(head: bpy.types.Object, face: DemoFace) -> bpy.types.Material:
    """The head's own skin material: vertex colour × (1 − Σ weight × wrinkle map), each weight
    a driver on the head's shape key of that name."""
    material = vertex_color_material().copy()
    material.name = f"{head.name} Skin"
    nodes, links = material.node_tree.nodes, material.node_tree.links
    bsdf = next(n for n in nodes if n.type == "BSDF_PRINCIPLED")
    color = next(n for n in nodes if n.type == "VERTEX_COLOR")
    uv = nodes.new("ShaderNodeUVMap")
    uv.uv_map = WRINKLE_UV
    total = None
    for k, target in enumerate(face.wrinkle_targets):
        texture = nodes.new("ShaderNodeTexImage")
        texture.image, texture.extension = _wrinkle_image(face, k), "CLIP"
        links.new(uv.outputs["UV"], texture.inputs["Vector"])
        scaled = nodes.new("ShaderNodeMath")
        scaled.operation = "MULTIPLY"
        links.new(texture.outputs["Color"], scaled.inputs[0])
        scaled.inputs[1].default_value = 0.0  # the shape keys' rest value, until a driver runs
        driver = scaled.inputs[1].driver_add("default_value").driver
        driver.type = "AVERAGE"
        variable = driver.variables.new()
        variable.targets[0].id_type = "KEY"
        variable.targets[0].id = head.data.shape_keys
        variable.targets[0].data_path = f'key_blocks["{face.target_names[target]}"].value'
        if total is not None:
            added = nodes.new("ShaderNodeMath")
            links.new(total.outputs[0], added.inputs[0])
            links.new(scaled.outputs[0], added.inputs[1])
            scaled = added
        total = scaled
    if total is None:
        return material
    limit = nodes.new("ShaderNodeMath")
    limit.operation = "MINIMUM"
    limit.inputs[1].default_value = MAX_DARKENING
    links.new(total.outputs[0], limit.inputs[0])
    keep = nodes.new("ShaderNodeMath")
    keep.operation = "SUBTRACT"
    keep.inputs[0].default_value = 1.0
    links.new(limit.outputs[0], keep.inputs[1])
    darkened = nodes.new("ShaderNodeVectorMath")
    darkened.operation = "SCALE"
    links.new(color.outputs["Color"], darkened.inputs["Vector"])
    links.new(keep.outputs[0], darkened.inputs["Scale"])
    links.new(darkened.outputs["Vector"], bsdf.inputs["Base Color"])
    return material


def _link(obj: bpy.types.Object, collection: bpy.types.Collection) -> bpy.types.Object:
    collection.objects.link(obj)
    return obj


def _add_eye(eye: EyeMesh, parent: bpy.types.Object, pivot: np.ndarray, material, collection):
    mesh = _mesh_data(eye.name, to_blender(eye.vertices), eye.faces, eye.colors)
    mesh.materials.append(material)
    obj = _link(bpy.data.objects.new(eye.name, mesh), collection)
    obj.parent = parent
    obj.location = to_blender(np.asarray(eye.center) - pivot)[0].tolist()
    return obj


def add_demo_head(
    collection: bpy.types.Collection | None = None,
    name: str = "EmoSyncHead",
    face: DemoFace | None = None,
) -> bpy.types.Object:
    """Build the demo face in `collection` (the scene's by default): the head mesh with a Basis
    and the 52 ARKit shape keys named in lowerCamelCase, and EyeLeft/EyeRight as children.
    Returns the head object (at the origin, facing -Y)."""
    face = face or load_demo_face()
    collection = collection or bpy.context.scene.collection
    pivot = np.asarray(face.head_pivot, dtype=np.float32)
    neutral = to_blender(face.vertices - pivot)
    material = vertex_color_material()
    mesh = _mesh_data(name, neutral, face.faces, face.colors)
    head = _link(bpy.data.objects.new(name, mesh), collection)
    head.location = to_blender(pivot)[0].tolist()
    head.shape_key_add(name="Basis", from_mix=False)
    for target_name, delta in zip(face.target_names, face.targets, strict=True):
        key = head.shape_key_add(name=target_name, from_mix=False)
        key.data.foreach_set("co", (neutral + to_blender(delta)).ravel())
        key.value = 0.0  # Blender 5 adds a shape key at 1.0; the head rests neutral
    if face.uv is not None and face.wrinkle_targets:
        _add_wrinkle_uv(mesh, face)
        mesh.materials.append(wrinkle_material(head, face))
    else:
        mesh.materials.append(material)
    for eye in face.eyes:
        _add_eye(eye, head, pivot, material, collection)
    return head


class EMOSYNC_OT_add_demo_head(bpy.types.Operator):
    """Add EmoSync's demo face: 52 ARKit shape keys, vertex colours and eyes, ready to animate"""

    bl_idname = "emosync.add_demo_head"
    bl_label = "EmoSync Demo Head"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 (Blender reads a set)

    def execute(self, context):
        head = add_demo_head(context.collection or context.scene.collection)
        head.location = context.scene.cursor.location + head.location
        for obj in context.view_layer.objects:
            obj.select_set(False)
        head.select_set(True)
        context.view_layer.objects.active = head
        return {"FINISHED"}


def menu_entry(self, context) -> None:
    self.layout.operator(EMOSYNC_OT_add_demo_head.bl_idname, icon="MONKEY")


CLASSES = (EMOSYNC_OT_add_demo_head,)

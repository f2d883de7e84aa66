// Build a small mesh with ARKit-named morph targets and an idle clip of its own in three.js,
// then write it with three's own GLTFExporter as a GLB: node threejs_glb.mjs OUT.glb [plain|rpm]
// GLTFExporter reads its Blob output with the browser's FileReader; Node has Blob but no
// FileReader, so the few lines below stand in for it.
import fs from "node:fs";
import * as THREE from "three";
import { GLTFExporter } from "three/examples/jsm/exporters/GLTFExporter.js";

globalThis.FileReader = class {
  readAsArrayBuffer(blob) {
    blob.arrayBuffer().then((buffer) => {
      this.result = buffer;
      this.onloadend?.();
    });
  }
  readAsDataURL(blob) {
    blob.arrayBuffer().then((buffer) => {
      const base64 = Buffer.from(buffer).toString("base64");
      this.result = `data:${blob.type || "application/octet-stream"};base64,${base64}`;
      this.onloadend?.();
    });
  }
};

const [out, style = "plain"] = process.argv.slice(2);
const ARKIT = ["jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "mouthSmileLeft", "mouthSmileRight"];
const VISEMES = ["viseme_sil", "viseme_PP", "viseme_aa", "viseme_O"];

// A sphere whose morph target i lifts vertex i; `groups` splits it into that many primitives.
function morphMesh(name, targets, groups = 1) {
  const geometry = new THREE.SphereGeometry(1, 12, 8);
  const base = geometry.attributes.position;
  geometry.morphAttributes.position = targets.map((_, t) => {
    const moved = base.clone();
    moved.setZ(t % moved.count, moved.getZ(t % moved.count) + 0.2);
    return moved;
  });
  let material = new THREE.MeshStandardMaterial({ color: 0xffccaa });
  if (groups > 1) {
    const count = geometry.index.count;
    const step = Math.floor(count / groups / 3) * 3;
    for (let g = 0; g < groups; g++) {
      geometry.addGroup(g * step, g === groups - 1 ? count - g * step : step, g);
    }
    material = Array.from({ length: groups }, () => material.clone());
  }
  const mesh = new THREE.Mesh(geometry, material);
  mesh.name = name;
  mesh.updateMorphTargets();
  mesh.morphTargetDictionary = Object.fromEntries(targets.map((n, i) => [n, i]));
  return mesh;
}

const scene = new THREE.Scene();
const head = new THREE.Group();
head.name = "Head";
scene.add(head);
let face;
if (style === "rpm") {
  // Ready Player Me's layout: Wolf3D_* meshes with ARKit and Oculus viseme morphs, eye nodes.
  face = morphMesh("Wolf3D_Head", [...ARKIT, ...VISEMES], 2);
  head.add(face, morphMesh("Wolf3D_Teeth", ["jawOpen", ...VISEMES]));
  for (const side of ["LeftEye", "RightEye"]) {
    const eye = new THREE.Group();
    eye.name = side;
    head.add(eye);
  }
} else {
  face = morphMesh("Face", ARKIT);
  head.add(face);
}
const idle = new THREE.AnimationClip("Idle", 1, [
  new THREE.NumberKeyframeTrack(`${face.name}.morphTargetInfluences[jawOpen]`, [0, 1], [0, 1]),
]);
new GLTFExporter().parse(
  scene,
  (glb) => fs.writeFileSync(out, Buffer.from(glb)),
  (error) => {
    console.error(String(error));
    process.exit(1);
  },
  { binary: true, animations: [idle] },
);

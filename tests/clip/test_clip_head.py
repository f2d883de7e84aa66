"""training/clip_head.py on a small randomly initialised open_clip model. Runs in .venv-clip
(open_clip needs torchvision); tests/test_emotion_text.py starts it from the main suite."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

open_clip = pytest.importorskip("open_clip")
torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))

import clip_head  # noqa: E402

from emosync.inference.onnx_model import ModelFileError, load_model  # noqa: E402
from emosync.rigs.emotions import EMOTIONS  # noqa: E402

TINY = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 16,
                   "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2,
                 "layers": 1},
}  # fmt: skip
COLOURS = {"happy": (250, 210, 40), "sad": (30, 60, 160), "angry": (200, 20, 20)}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from PIL import Image

    tmp = tmp_path_factory.mktemp("clip")
    config = tmp / "EmoTinyCLIP.json"
    config.write_text(json.dumps(TINY))
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model = open_clip.create_model("EmoTinyCLIP")
    checkpoint = tmp / "tiny.pt"
    torch.save(model.state_dict(), checkpoint)
    refs = tmp / "refs"
    rng = np.random.default_rng(0)
    for name, colour in COLOURS.items():
        (refs / name).mkdir(parents=True)
        for i in range(4):
            pixels = np.clip(np.array(colour) + rng.normal(0, 12, (40, 40, 3)), 0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(refs / name / f"{i}.png")
    out = tmp / "out"
    rc = clip_head.main(["--model", "EmoTinyCLIP", "--checkpoint", str(checkpoint),
                         "--images", str(refs), "--out", str(out), "--steps", "400",
                         "--scale", "0.05"])  # fmt: skip
    assert rc == 0
    return out, refs, model


def test_exports_verified_models(trained):
    out, _refs, _model = trained
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert set(manifest) == {clip_head.TEXT_FILE, clip_head.IMAGE_FILE, clip_head.TOKENIZER_FILE}
    text = load_model(out / clip_head.TEXT_FILE, "emotion_clip_text")
    assert json.loads(text.metadata["emotions"]) == list(EMOTIONS)
    assert text.metadata["clip_model"] == "EmoTinyCLIP"
    with pytest.raises(ModelFileError, match="expected 'emotion_clip_image'"):
        load_model(out / clip_head.TEXT_FILE, "emotion_clip_image")


def test_text_graph_matches_torch_tower(trained):
    out, _refs, _model = trained
    text = load_model(out / clip_head.TEXT_FILE, "emotion_clip_text")
    tokens = open_clip.get_tokenizer("EmoTinyCLIP")(["furious", "a red bicycle"]).numpy()
    emotion, confidence = text.run({"tokens": tokens.astype(np.int64)})
    assert emotion.shape == (2, 7) and confidence.shape == (2,)
    assert (emotion >= 0).all() and (emotion <= 1.5).all()
    assert ((confidence >= 0) & (confidence <= 1)).all()
    assert not np.allclose(emotion[0], emotion[1])  # the tower sees the words


def test_image_graph_reads_its_reference_images(trained):
    from PIL import Image

    out, refs, _model = trained
    image = load_model(out / clip_head.IMAGE_FILE, "emotion_clip_image")
    size = int(image.metadata["image_size"])
    mean = np.array(json.loads(image.metadata["mean"]), dtype=np.float32)
    std = np.array(json.loads(image.metadata["std"]), dtype=np.float32)
    hits, total = 0, 0
    for name in COLOURS:
        for path in sorted((refs / name).glob("*.png")):
            rgb = np.asarray(Image.open(path).convert("RGB").resize((size, size)), np.float32)
            pixels = ((rgb / 255.0 - mean) / std).transpose(2, 0, 1)[None]
            emotion, _conf = image.run({"pixels": pixels.astype(np.float32)})
            hits += int(EMOTIONS[int(np.argmax(emotion[0]))] == name)
            total += 1
    assert hits / total >= 0.75, f"{hits}/{total} reference images read back"


TRICKY_TEXTS = [
    "furious", "Quietly FURIOUS!!", "nervous but hopeful", "not happy at all",
    "it's 2024, I'm  ok", "café naïve — “quotes” and ‘single’", "fish &amp; chips",
    "don't you'd we'll", "😀 emoji smile", "tab\tnew\nline", "a" * 300, "x " * 100,
]  # fmt: skip


def test_runtime_tokenizer_equals_open_clip(trained):
    from emosync.inference.emotion_clip import ClipTextEncoder

    out, _refs, _model = trained
    reference = open_clip.get_tokenizer("EmoTinyCLIP")(TRICKY_TEXTS).numpy()
    ours = ClipTextEncoder(out).tokens(TRICKY_TEXTS)
    assert ours.shape == reference.shape == (len(TRICKY_TEXTS), 77)
    np.testing.assert_array_equal(ours, reference)


def test_runtime_text_encoder_equals_graph_on_open_clip_tokens(trained):
    from emosync.inference.emotion_clip import ClipTextEncoder

    out, _refs, _model = trained
    encoder = ClipTextEncoder(out)
    texts = ["furious", "a red bicycle", "quietly terrified"]
    tokens = open_clip.get_tokenizer("EmoTinyCLIP")(texts).numpy().astype(np.int64)
    emotion, confidence = encoder.model.run({"tokens": tokens})
    states, conf = encoder.run(texts)
    np.testing.assert_allclose(states, np.clip(emotion, 0, 1.5), atol=1e-6)
    np.testing.assert_allclose(conf, confidence, atol=1e-6)


def test_runtime_image_preprocessing_equals_open_clip(trained, tmp_path):
    from PIL import Image

    from emosync.inference.emotion_clip import ClipImageEncoder

    out, _refs, _model = trained
    rng = np.random.default_rng(3)
    path = tmp_path / "tall.png"
    Image.fromarray(rng.integers(0, 255, (57, 41, 3), dtype=np.uint8)).save(path)
    _m, _t, preprocess = open_clip.create_model_and_transforms("EmoTinyCLIP")
    reference = preprocess(Image.open(path).convert("RGB")).numpy()[None]
    np.testing.assert_allclose(ClipImageEncoder(out).pixels(path), reference, atol=1e-5)


def test_cli_reads_words_and_photos_with_clip(trained, capsys):
    from emosync.cli.main import main
    from emosync.inference.emotion_clip import ClipImageEncoder, ClipTextEncoder

    out, refs, _model = trained
    assert main(["emotion", "--clip", str(out), "boiling over with anger"]) == 0
    text = json.loads(capsys.readouterr().out)
    states, conf = ClipTextEncoder(out).run(["boiling over with anger"])
    expected = states[0] if conf[0] >= 0.5 else np.zeros(7)  # not a feeling: neutral
    got = [text["emotion"][name] for name in EMOTIONS]
    np.testing.assert_allclose(got, expected, atol=1e-4)
    photo = refs / "happy" / "0.png"
    assert main(["emotion", "--clip", str(out), "--image", str(photo)]) == 0
    image = json.loads(capsys.readouterr().out)
    assert image["modality"] == "image" and image["details"]["encoder"].startswith("clip")
    state, confidence = ClipImageEncoder(out).read(photo)
    assert image["details"]["confidence"] == pytest.approx(confidence, abs=1e-4)
    expected = state if confidence >= 0.5 else np.zeros(7)
    got = [image["emotion"][name] for name in EMOTIONS]
    np.testing.assert_allclose(got, expected, atol=1e-4)
    # presets stay exact whatever the encoder
    assert main(["emotion", "--clip", str(out), "happy"]) == 0
    assert json.loads(capsys.readouterr().out)["emotion"]["happy"] == 1.0


def test_cli_clip_errors_are_one_line(trained, tmp_path, capsys):
    from emosync.cli.main import main

    out, _refs, _model = trained
    not_image = tmp_path / "notes.png"
    not_image.write_text("not a picture")
    assert main(["emotion", "--clip", str(out), "--image", str(not_image)]) == 2
    err = capsys.readouterr().err.strip()
    assert "not an image" in err and len(err.splitlines()) == 1
    assert main(["emotion", "--clip", str(tmp_path / "nowhere"), "furious"]) == 2
    assert "CLIP model folder not found" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["emotion", "--clip", str(empty), "quietly furious"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_clip_folder_reaches_the_timeline(trained, tmp_path):
    """--clip travels with the options: a timeline's prompts are read by CLIP too."""
    from emosync.inference.emotion_clip import ClipTextEncoder
    from emosync.studio.options import animate_options

    out, _refs, _model = trained
    timeline = tmp_path / "t.json"
    timeline.write_text(json.dumps([{"start": 0, "end": 1, "emotion": "boiling over with anger"}]))
    states, conf = ClipTextEncoder(out).run(["boiling over with anger"])
    if conf[0] < 0.5:
        pytest.skip("the tiny CLIP head does not read this prompt as a feeling")
    options = animate_options(timeline=str(timeline), clip=str(out))
    assert options.clip == str(out)
    np.testing.assert_allclose(options.timeline.segments[0].emotion, states[0], atol=1e-4)


def test_clip_runtime_needs_neither_torch_nor_open_clip(trained):
    import subprocess

    out, refs, _model = trained
    code = (
        "import sys; from emosync.inference.emotion_condition import read_emotion;"
        f"read_emotion('quietly furious', clip={str(out)!r});"
        f"read_emotion(image={str(refs / 'sad' / '1.png')!r}, clip={str(out)!r});"
        "bad = [m for m in ('torch', 'open_clip', 'torchvision') if m in sys.modules];"
        "assert not bad, bad"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]

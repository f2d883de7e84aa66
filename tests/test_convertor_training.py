"""Training smoke run and ONNX export of the convertor (training/convertor/train.py, export.py).

The corpus is three espeak-ng clips built by the corpus builder (real synthesis, real
pocketsphinx alignment, real teacher labels); the models are checked through the project's
loader and real onnxruntime sessions.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from emosync.checksum import file_sha256  # noqa: E402
from emosync.errors import InputError  # noqa: E402
from emosync.inference.features import log_mel  # noqa: E402
from emosync.inference.onnx_model import load_model  # noqa: E402
from emosync.rigs.emotions import EMOTIONS  # noqa: E402
from emosync.training.convertor import train  # noqa: E402
from emosync.training.convertor.dataset import (  # noqa: E402
    WindowSampler,
    load_augment,
    load_corpus,
)
from emosync.training.convertor.export import export_models  # noqa: E402
from emosync.training.convertor.model import (  # noqa: E402
    OUTPUT_NAMES,
    PHONE_LABELS,
    Convertor,
    ConvertorConfig,
    LipReader,
)
from emosync.training.corpus.build import ClipSpec, build_clip, plan  # noqa: E402
from emosync.training.corpus.voices import ENGLISH_VOICES, Prosody  # noqa: E402

ESPEAK = [v for v in ENGLISH_VOICES if v.key in ("espeak-ng:en-us", "espeak-ng:en-gb-x-rp")]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _specs() -> list[ClipSpec]:
    """Two voices and emotions for one sentence (a contrastive pair) plus another sentence."""
    base = next(s for s in plan("tiny") if s.voice.engine == "espeak-ng")
    other = next(
        s for s in plan("tiny") if s.text_id != base.text_id and s.clip_set == base.clip_set
    )
    neutral = Prosody()
    return [
        replace(base, id="a_happy", voice=ESPEAK[0], emotion="happy", intensity=1.0,
                prosody=neutral, split="train"),
        replace(base, id="a_sad", voice=ESPEAK[1], emotion="sad", intensity=0.8,
                prosody=neutral, split="train"),
        replace(other, id="b_neutral", voice=ESPEAK[0], emotion="neutral", intensity=0.0,
                prosody=neutral, split="train"),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    records = [build_clip(spec, out) for spec in _specs()]
    sets = {s.id: s.clip_set for s in _specs()}
    index = "".join(json.dumps({**r, "path": f"{sets[r['id']]}/{r['id']}"}) + "\n" for r in records)
    (out / "index.jsonl").write_text(index, encoding="utf-8")
    return out


def test_dataset_reads_the_corpus_and_pairs_texts(corpus):
    clips = load_corpus(corpus)
    assert len(clips) == 3
    for clip in clips:
        assert clip.mel.shape == (2 * clip.n_frames, 80)
        assert clip.curves.shape == (clip.n_frames, 55)
        assert (corpus / clip.meta["path"]).with_suffix(".mel.npy").exists()  # cached
    assert {c.text_id for c in clips[:2]} == {clips[0].text_id}
    batch = WindowSampler(clips, 40, np.random.default_rng(0)).batch(4)
    assert batch.mel.shape == (4, 80, 80) and batch.curves.shape == (4, 40, 55)
    # every clip drawn comes with a partner of the same text when one exists
    ids = batch.text_id.tolist()
    assert any(ids.count(i) > 1 for i in ids)


def test_tiny_training_run_end_to_end(corpus, tmp_path):
    out, log = tmp_path / "assets", tmp_path / "training_log.md"
    args = ["--corpus", str(corpus), "--config", "tiny", "--out", str(out), "--log", str(log)]
    args += ["--checkpoint", str(tmp_path / "tiny.pt")]
    summary = train.main(args)
    assert np.isfinite(summary["train_curve"]) and summary["steps"] == train.CONFIGS["tiny"].steps
    manifest = json.loads((out / "MANIFEST.json").read_text())
    for name in ("convertor.onnx", "lipreader.onnx"):
        assert manifest[name] == file_sha256(out / name)
        assert (out / name).stat().st_size <= 20 * 1024 * 1024
    model = load_model(out / "convertor.onnx", "convertor")
    assert model.meta_json("channels") == list(OUTPUT_NAMES)
    assert model.meta_json("phones")[0] == "SIL" and len(model.meta_json("phones")) == 40
    assert model.meta_json("emotions") == list(EMOTIONS)
    assert int(model.metadata["lookahead_frames"]) <= 12
    assert model.metadata["fps"] == "50" and model.metadata["hop_length"] == "160"
    assert model.meta_json("training_data")["clips"] == 3
    assert "--config tiny" in model.metadata["trained_with"]
    knots = model.meta_json("calibration")["maps"]["jawOpen"]
    assert len(knots["model"]) == len(knots["teacher"]) == 21
    assert np.all(np.diff(knots["model"]) > 0)
    wav = next(corpus.rglob("a_happy.wav"))
    import soundfile as sf

    mel = log_mel(sf.read(wav, dtype="float32")[0])
    mel = mel[: len(mel) // 2 * 2][None]
    emotion = np.zeros((1, mel.shape[1] // 2, 7), dtype=np.float32)
    curves, phones = model.run({"mel": mel, "emotion": emotion})
    assert curves.shape == (1, mel.shape[1] // 2, 55) and phones.shape[-1] == 40
    assert load_model(out / "lipreader.onnx", "lipreader").metadata["kind"] == "lipreader"
    assert "tiny" in log.read_text()
    assert set(torch.load(tmp_path / "tiny.pt")) >= {"config", "convertor", "lipreader"}


def test_export_parity_with_onnxruntime(tmp_path):
    torch.manual_seed(3)
    model = Convertor(ConvertorConfig(channels=64, film_hidden=16)).eval()
    reader = LipReader().eval()
    paths = export_models(model, reader, tmp_path, {"clips": 0}, "test", force=False)
    assert [p.name for p in paths] == ["convertor.onnx", "lipreader.onnx"]
    onnx_model = load_model(tmp_path / "convertor.onnx", "convertor")
    mel = (np.random.default_rng(0).normal(-40, 20, (1, 300, 80))).astype(np.float32)
    emotion = np.zeros((1, 150, 7), dtype=np.float32)
    emotion[..., 2] = np.linspace(0, 1.5, 150)
    curves, phones = onnx_model.run({"mel": mel, "emotion": emotion})
    with torch.no_grad():
        ref_curves, ref_phones = model(torch.from_numpy(mel), torch.from_numpy(emotion))
    np.testing.assert_allclose(curves, ref_curves.numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(phones, ref_phones.numpy(), atol=1e-4, rtol=0)
    lip = load_model(tmp_path / "lipreader.onnx", "lipreader")
    c = np.random.default_rng(1).random((1, 77, 52)).astype(np.float32)
    (lip_out,) = lip.run({"curves": c})
    with torch.no_grad():
        ref = reader(torch.from_numpy(c)).numpy()
    np.testing.assert_allclose(lip_out, ref, atol=1e-4, rtol=0)
    assert lip.meta_json("phones") == list(PHONE_LABELS)
    with pytest.raises(InputError):
        export_models(model, reader, tmp_path, {"clips": 0}, "test", force=False)


def test_augmented_windows_line_up_with_the_cached_features(corpus):
    augment = load_augment()
    if augment is None:
        pytest.skip("training/corpus/augment.py is not there yet")
    clip = load_corpus(corpus)[0]
    identity = WindowSampler([clip], 50, np.random.default_rng(0), augment, augment_strength=0.0)
    identity.augment_share = 1.0
    start = 10
    mel = identity._augmented_mel(clip, start, 50)
    cached = clip.mel[2 * start : 2 * start + 100]
    assert mel.shape == cached.shape == (100, 80)
    # away from the window edges (zero padding there) the frames are the same frames
    np.testing.assert_allclose(mel[3:-3], cached[3:-3], atol=1e-3)
    noisy = WindowSampler([clip], 50, np.random.default_rng(1), augment, augment_strength=1.0)
    assert noisy._augmented_mel(clip, start, 50).shape == (100, 80)


def test_warm_start_reads_an_exported_convertor_back(tmp_path):
    """The shipped model has no torch checkpoint: its ONNX weights (some renamed by the
    exporter) are read back into a Convertor that computes the same curves."""
    from emosync.training.convertor.warm_start import load_weights

    torch.manual_seed(5)
    model = Convertor(ConvertorConfig(channels=32, film_hidden=8)).eval()
    with torch.no_grad():
        for block in model.encoder.blocks:  # non-trivial norms, so a swap would show
            block.norm.weight.uniform_(0.5, 1.5)
            block.norm.bias.uniform_(-0.2, 0.2)
    model.set_mel_stats(torch.full((80,), -45.0), torch.full((80,), 21.0))
    export_models(model, LipReader().eval(), tmp_path, {"clips": 0}, "test")
    cfg, state = load_weights(tmp_path / "convertor.onnx")
    assert cfg == model.cfg
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(state[key].numpy(), value.numpy(), atol=1e-6, err_msg=key)


def test_fine_tuning_from_an_onnx_model_with_corpus_shares(corpus, tmp_path):
    start = tmp_path / "start"
    torch.manual_seed(6)
    export_models(Convertor(ConvertorConfig(channels=32, film_hidden=8)), LipReader(), start,
                  {"clips": 0}, "test")  # fmt: skip
    out = tmp_path / "tuned"
    args = ["--corpus", str(corpus), "--config", "tiny", "--out", str(out), "--shares", "1"]
    args += ["--init", str(start / "convertor.onnx"), "--lr", "1e-4", "--val", str(corpus)]
    args += ["--log", str(tmp_path / "log.md")]
    summary = train.main(args)
    assert np.isfinite(summary["train_curve"])
    model = load_model(out / "convertor.onnx", "convertor")
    assert model.meta_json("architecture")["channels"] == 32  # the start file's, not tiny's 48
    assert model.meta_json("training_data")["init"] == str(start / "convertor.onnx")


def test_corpus_shares_decide_which_corpus_windows_come_from(corpus):
    clips = load_corpus(corpus)
    only = WindowSampler(clips, 20, np.random.default_rng(0), shares={str(corpus): 1.0})
    assert np.allclose(only.probability, 1.0 / len(clips))
    clips[0].meta["corpus"] = "elsewhere"
    skewed = WindowSampler(clips, 20, np.random.default_rng(0), shares={"elsewhere": 1.0})
    assert {clips[int(i)].id for i in np.nonzero(skewed.probability)[0]} == {clips[0].id}
    assert set(skewed.batch(6).text_id.tolist()) <= {clips[0].text_id, *[c.text_id for c in clips]}
    with pytest.raises(ValueError):
        WindowSampler(clips, 20, np.random.default_rng(0), shares={"nowhere": 1.0})

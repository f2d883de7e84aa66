"""Phone timing with pocketsphinx: forced alignment of a transcript, or recognition without one.

Input is 16 kHz mono audio as a numpy array. Output is an `Alignment` whose phones cover
[0, duration] contiguously (gaps are SIL), labels without stress digits.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from emosync.errors import InputError
from emosync.inference.audio import SAMPLE_RATE
from emosync.inference.lexicon import oov_warning, pronounce, transcript_words
from emosync.inference.segmenter import Piece, cut_at_pauses, voiced_seconds
from emosync.inference.timed_phones import Alignment, Segment
from emosync.rigs.phonemes import SILENCE, normalise_phone

FRAME_SECONDS = 0.01  # pocketsphinx's frame rate is 100 per second
# pocketsphinx's feature front end breaks on digital silence (log of zero energy spoils the
# cepstral mean): synthetic speech and zero padding made forced alignment fail on 12 of 20
# espeak-ng clips. A deterministic noise floor at about -70 dBFS and a short padded lead-in and
# tail fixed all 20, and do not audibly change real recordings.
_DITHER = 10.0 / 32768.0
_PAD_SECONDS = 0.2
_RETRY_DITHER = 30.0 / 32768.0

# Recognition without a transcript. Measured on the DEV half of the Asterisk Allison prompts
# (205 spoken clips, 9.3 min, 306 bilabials placed by forced alignment with the true text): a
# recognised P/B/M within +-60 ms of a reference one was found for 93% of them by word
# recognition (en-us LM) + forced alignment of its hypothesis (precision 90%), against 52% by
# the phone loop (allphone + en-us-phone LM, precision 54%). The dictionary forces whole,
# plausible words where the phone loop drops or swaps short closures (the P of "please").
RECOGNIZER = "words"  # "words" or "phones"
MISMATCH = "the transcript does not match the audio (forced alignment failed)"

# pocketsphinx Config of the word recogniser (its own decoder, see _Recogniser). Bilabial
# recall / precision / CPU s per min of audio for recognition alone, first 70 dev prompts (full
# table and commands: docs/alignment.md, bench/bench_alignment.py; re-aligning the hypothesis
# adds ~2.3 s/min in every row):
#   fwdflat+bestpath on (pocketsphinx default)  0.912 / 0.897 / ~2x the row below (all of dev)
#   fwdflat, bestpath off (chosen)              0.933 / 0.848 / 12.1
#   + maxhmmpf=3000                             0.933 / 0.848 / 10.9
#   + beams 1e-40 (w/lponly 1e-25)              0.838 / 0.778 /  7.6
#   + beams 1e-30 (w/lponly 1e-20)              0.592 / 0.587 /  3.5
#   + dict of the LM's 10k likeliest words      0.916 / 0.859 /  6.6  (needs a shipped file)
RECOGNITION_OPTIONS: dict[str, object] = {"fwdflat": False, "bestpath": False}

# Clips longer than this are cut at pauses and their pieces recognised in parallel processes
# (pocketsphinx holds the GIL while it decodes: two threads ran slower than one).
PARALLEL_ABOVE_SECONDS = 16.0
_PARALLEL_PIECES = {"target": (6.0, 12.0), "max_seconds": 20.0}

# Streaming with a transcript (see align_stream).
_PRIOR_WORDS_PER_VOICED_S = 3.5
_MAX_SKIP = 3
_SPEECH_SECONDS = 1.0  # a piece with more voiced time than this should hold words

_FILLERS = ("<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]")

Progress = Callable[[float], None]


class TranscriptMismatch(InputError):
    """Forced alignment could not fit the transcript to the audio, and recognition was not
    wanted (align's `recognise_mismatch` off)."""


@dataclass
class _Pass:
    """What one decoding pass produced, in seconds from the start of the clip."""

    phones: list[Segment]
    words: list[Segment]
    word_timed: bool = False  # phones spread evenly over each forced-aligned word


def _fresh_utterance(decoder: Any) -> None:
    """Start an utterance with a fresh front end. pocketsphinx otherwise carries its cepstral
    normalisation over from earlier clips, so the same clip could be heard differently
    depending on what was decoded before it (measured: "let" vs "learn")."""
    decoder.reinit_feat()
    decoder.start_utt()


class _Engine:
    """One pocketsphinx decoder with its searches, loaded once per process and used under a lock
    (a decoder is not re-entrant)."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder, get_model_path

        self._model_path = get_model_path
        self.decoder = Decoder(lm=None, loglevel="FATAL")
        self.lock = threading.Lock()
        self._searches: set[str] = set()

    def use_search(self, name: str) -> None:
        d = self.decoder
        if name not in self._searches:
            if name == "phones":
                d.add_allphone_file(name, self._model_path("en-us/en-us-phone.lm.bin"))
            self._searches.add(name)
        d.activate_search(name)

    def use_grammar(self, name: str, transitions: list[tuple], final: int) -> None:
        """Replace and activate a finite-state grammar search starting at state 0."""
        d = self.decoder
        fsg = d.create_fsg(name, 0, final, transitions)
        if name in self._searches:
            d.remove_search(name)
        d.add_fsg(name, fsg)
        self._searches.add(name)
        d.activate_search(name)

    def decode(self, pcm: bytes) -> None:
        d = self.decoder
        _fresh_utterance(d)
        d.process_raw(pcm, full_utt=True)
        d.end_utt()


class _Recogniser:
    """A decoder with the en-us LM loaded at start-up and the RECOGNITION_OPTIONS applied."""

    def __init__(self, options: dict[str, object]) -> None:
        from pocketsphinx import Decoder

        self.options = dict(options)
        self.decoder = Decoder(loglevel="FATAL", **self.options)
        self.lock = threading.Lock()

    def words(self, pcm: bytes) -> list[str]:
        d = self.decoder
        _fresh_utterance(d)
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        return [_base_word(s.word) for s in d.seg() if s.word not in _FILLERS]


_engine: _Engine | None = None
_recogniser: _Recogniser | None = None
_pool: Executor | None = None
_engine_lock = threading.Lock()
_MAX_WORKERS = 4


def _get_engine() -> _Engine:
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Engine()
        return _engine


def _get_recogniser() -> _Recogniser:
    global _recogniser
    with _engine_lock:
        if _recogniser is None or _recogniser.options != RECOGNITION_OPTIONS:
            _recogniser = _Recogniser(RECOGNITION_OPTIONS)
        return _recogniser


def set_recognition_options(options: dict[str, object]) -> None:
    """Replace RECOGNITION_OPTIONS (pocketsphinx Config names and values) in this process; the
    benchmark uses it to compare settings. Worker processes started later inherit them."""
    global RECOGNITION_OPTIONS
    RECOGNITION_OPTIONS = dict(options)
    shutdown_workers()


def shutdown_workers() -> None:
    """Stop the recognition worker processes and wait for them; they start again when needed."""
    global _pool
    with _engine_lock:
        if _pool is not None:
            _pool.shutdown(cancel_futures=True)
            _pool = None


def _as_samples(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim != 1:
        raise InputError(f"audio must be mono (one channel), got an array of shape {x.shape}")
    if x.dtype == np.int16:
        return x.astype(np.float32) / 32768.0
    if not np.issubdtype(x.dtype, np.floating):
        raise InputError(f"audio samples must be float or int16, got {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise InputError("audio contains NaN or infinite samples")
    return x


def _to_pcm(x: np.ndarray, dither: float) -> bytes:
    """int16 bytes with a padded lead-in/tail and a deterministic noise floor (see _DITHER)."""
    pad = np.zeros(int(_PAD_SECONDS * SAMPLE_RATE), np.float32)
    y = np.concatenate([pad, x, pad])
    y += dither * np.random.default_rng(0).standard_normal(y.size, dtype=np.float32)
    return (np.clip(y, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def _base_word(label: str) -> str:
    return label.split("(", 1)[0]  # "your(2)" is the second pronunciation of "your"


def _seconds(frame: int) -> float:
    return frame * FRAME_SECONDS - _PAD_SECONDS


def _ensure_words(engine: _Engine, words: list[str]) -> list[str]:
    """Add guessed pronunciations for words the dictionary lacks; return those words."""
    missing = []
    for word in dict.fromkeys(words):
        phones, guessed = pronounce(word, engine.decoder.lookup_word)
        if guessed:
            missing.append(word)
            engine.decoder.add_word(word, " ".join(phones), True)
    return [w for w in words if w in missing]


def _forced_pass(
    engine: _Engine, pcm: bytes, words: list[str], word_timed: bool = False
) -> _Pass | None:
    """Phone and word segments for `words` over `pcm`, or None if they cannot be aligned.
    `word_timed`: when the phone pass fails, spread each word's phones over its time."""
    d = engine.decoder
    try:
        d.set_align_text(" ".join(words))
        engine.decode(pcm)
        hyp = d.hyp()
        if hyp is None:
            return None
        # A pass that runs out of beam can end on a partial path: accept only the full text.
        segs = [(s.word, s.start_frame, s.end_frame) for s in d.seg() if s.word not in _FILLERS]
        if [_base_word(word) for word, _, _ in segs] != words:
            return None
    except RuntimeError:
        return None
    result = _second_pass(engine, pcm)
    return result if result is not None or not word_timed else _word_timed(engine, segs)


def _word_timed(engine: _Engine, segs: list[tuple[str, int, int]]) -> _Pass:
    """Phones from the word pass alone: each word's pronunciation spread evenly over its frames.
    Band-limited speech (an 8 kHz phone line) often fits the word pass and then fails
    pocketsphinx's phone-level pass; the words and their times are still right
    (bench/bench_band_limited.py, docs/reliability.md)."""
    phones, word_segs = [], []
    for word, first, last in segs:
        start, end = _seconds(first), _seconds(last + 1)
        word_segs.append(Segment(_base_word(word), start, end))
        names = (engine.decoder.lookup_word(word) or "").split()
        step = (end - start) / max(len(names), 1)
        for i, name in enumerate(names):
            phones.append(Segment(normalise_phone(name), start + i * step, start + (i + 1) * step))
    return _Pass(phones, word_segs, word_timed=True)


def _second_pass(engine: _Engine, pcm: bytes) -> _Pass | None:
    """Phone-level alignment of the hypothesis the decoder just found for `pcm`."""
    d = engine.decoder
    try:
        d.set_alignment()
        engine.decode(pcm)
        alignment = d.get_alignment()
    except RuntimeError:
        return None
    if alignment is None:
        return None
    phones, word_segs = [], []
    for entry in alignment:
        label = _base_word(entry.name)
        start, end = _seconds(entry.start), _seconds(entry.start + entry.duration)
        if label not in _FILLERS:
            word_segs.append(Segment(label, start, end))
        for phone in entry:
            p_end = _seconds(phone.start + phone.duration)
            phones.append(Segment(normalise_phone(phone.name), _seconds(phone.start), p_end))
    return _Pass(phones, word_segs)


def _forced(engine: _Engine, x: np.ndarray, words: list[str]) -> _Pass | None:
    for dither in (_DITHER, _RETRY_DITHER):
        result = _forced_pass(engine, _to_pcm(x, dither), words)
        if result is not None:
            return result
    # Retrying this word pass over a stronger noise floor (300 or 1000 in 16-bit steps) kept every
    # 8/11 kHz transcript but accepted a wrong one at 11 kHz (bench/bench_band_limited.py): no.
    return _forced_pass(engine, _to_pcm(x, _DITHER), words, word_timed=True)


def _recognise_phones(engine: _Engine, x: np.ndarray) -> _Pass:
    engine.use_search("phones")
    engine.decode(_to_pcm(x, _DITHER))
    phones = [
        Segment(normalise_phone(s.word), _seconds(s.start_frame), _seconds(s.end_frame + 1))
        for s in engine.decoder.seg()
    ]
    return _Pass(phones, [])


def _recognise_words(engine: _Engine, x: np.ndarray) -> _Pass:
    recogniser = _get_recogniser()
    with recogniser.lock:
        words = recogniser.words(_to_pcm(x, _DITHER))
    if not words:
        return _Pass([], [])
    aligned = _forced(engine, x, words)
    if aligned is None:  # the hypothesis came from this audio, so this is rare
        return _recognise_phones(engine, x)
    return aligned


def _recognise(engine: _Engine, x: np.ndarray, recognizer: str) -> _Pass:
    if recognizer == "phones":
        return _recognise_phones(engine, x)
    return _recognise_words(engine, x)


def _recognise_locked(x: np.ndarray, recognizer: str) -> _Pass:
    engine = _get_engine()
    with engine.lock:
        return _recognise(engine, x, recognizer)


def _workers() -> int:
    """Processes for parallel recognition: the cores this process may use, at most
    _MAX_WORKERS; EMOSYNC_ALIGN_WORKERS overrides (1 turns parallel decoding off, e.g. inside
    Blender, whose executable cannot be forked into a worker)."""
    setting = os.environ.get("EMOSYNC_ALIGN_WORKERS", "").strip()
    if setting.isdigit():
        return max(1, int(setting))
    return max(1, min(_MAX_WORKERS, len(os.sched_getaffinity(0))))


def _init_worker(options: dict[str, object]) -> None:
    global RECOGNITION_OPTIONS
    RECOGNITION_OPTIONS = dict(options)


def _get_pool() -> Executor:
    global _pool
    with _engine_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                _workers(), initializer=_init_worker, initargs=(RECOGNITION_OPTIONS,)
            )
        return _pool


def _in_clip_time(result: _Pass, piece: Piece) -> _Pass:
    """A piece's phones (contiguous over the piece) and words, shifted to the clip's time."""
    offset = piece.start_seconds
    return _Pass(
        [Segment(s.label, s.start + offset, s.end + offset)
         for s in _contiguous(result.phones, piece.duration)],
        [Segment(w.label, w.start + offset, w.end + offset)
         for w in _clip_words(result.words, piece.duration)],
    )  # fmt: skip


def _recognise_clip(x: np.ndarray, recognizer: str) -> _Pass:
    """Recognise a whole clip; a long one piece by piece (cut at pauses) on all workers."""
    if x.size <= PARALLEL_ABOVE_SECONDS * SAMPLE_RATE or _workers() < 2:
        return _recognise_locked(x, recognizer)
    pieces = list(cut_at_pauses([x], **_PARALLEL_PIECES))  # type: ignore[arg-type]
    if len(pieces) < 2:
        return _recognise_locked(x, recognizer)
    try:
        results = list(
            _get_pool().map(
                _recognise_locked, [p.samples for p in pieces], [recognizer] * len(pieces)
            )
        )
    except (OSError, RuntimeError):  # no processes here (a sandbox, a broken pool): one by one
        shutdown_workers()
        results = [_recognise_locked(p.samples, recognizer) for p in pieces]
    phones: list[Segment] = []
    words: list[Segment] = []
    for piece, result in zip(pieces, results, strict=True):
        placed = _in_clip_time(result, piece)
        phones.extend(placed.phones)
        words.extend(placed.words)
    return _Pass(phones, words)


def _contiguous(segments: list[Segment], duration: float) -> list[Segment]:
    """Clip to [0, duration], fill gaps with SIL, merge neighbouring SILs, drop empty phones."""
    out: list[Segment] = []
    t = 0.0

    def put(label: str, start: float, end: float) -> None:
        if end <= start:
            return
        if out and out[-1].label == label == SILENCE:
            out[-1] = Segment(SILENCE, out[-1].start, end)
        else:
            out.append(Segment(label, start, end))

    for seg in sorted(segments, key=lambda s: s.start):
        start, end = max(seg.start, t), min(seg.end, duration)
        if end <= start:
            continue
        put(SILENCE, t, start)
        put(seg.label, start, end)
        t = end
    put(SILENCE, t, duration)
    return out


def _clip_words(words: list[Segment], duration: float) -> list[Segment]:
    clipped = [Segment(w.label, max(w.start, 0.0), min(w.end, duration)) for w in words]
    return [w for w in clipped if w.end > w.start]


def align(
    samples: np.ndarray,
    transcript: str | None = None,
    *,
    recognizer: str = RECOGNIZER,
    recognise_mismatch: bool = True,
) -> Alignment:
    """Time the phones of 16 kHz mono speech. With a transcript: forced alignment (method
    "forced"); without one, or when the transcript does not fit the audio: recognition
    (method "recognition", with a warning in the second case; with `recognise_mismatch` off,
    TranscriptMismatch is raised instead). `recognizer` picks the recognition strategy
    ("words" or "phones"); the default is the measured better one."""
    if recognizer not in ("words", "phones"):
        raise InputError(f"unknown recognizer {recognizer!r}; use 'words' or 'phones'")
    x = _as_samples(samples)
    duration = x.size / SAMPLE_RATE
    words = transcript_words(transcript) if transcript and transcript.strip() else []
    if transcript and transcript.strip() and not words:
        warnings = ["the transcript has no words to align; used recognition"]
    else:
        warnings = []
    if duration == 0.0:
        method = "forced" if words else "recognition"
        return Alignment([], [], method, 0.0, warnings)
    engine = _get_engine()
    with engine.lock:
        result, method = None, "recognition"
        if words:
            oov = _ensure_words(engine, words)
            if oov:
                warnings.append(oov_warning(oov))
            result = _forced(engine, x, words)
            if result is not None:
                method = "forced"
                if result.word_timed:
                    warnings.append(
                        "the transcript's words were aligned but not their sounds (band-limited "
                        "audio?); mouth shapes are spread evenly over each word"
                    )
            elif not recognise_mismatch:
                raise TranscriptMismatch(MISMATCH)
            else:
                warnings.append(f"{MISMATCH}; used recognition instead")
    if result is None:
        result = _recognise_clip(x, recognizer)
    phones = _contiguous(result.phones, duration)
    return Alignment(phones, _clip_words(result.words, duration), method, duration, warnings)


def align_pronounced(samples: np.ndarray, words: list[list[str]]) -> Alignment | None:
    """Forced alignment of words given as ARPAbet phone lists (e.g. another language's phones
    mapped onto ours): each word enters the dictionary under a name made of its phones. None when
    the words cannot be aligned to the audio (no recognition fallback)."""
    prons = [[normalise_phone(p) for p in w] for w in words]
    prons = [[p for p in w if p != SILENCE] for w in prons]
    prons = [w for w in prons if w]
    x = _as_samples(samples)
    if not prons or x.size == 0:
        return None
    names = ["_x_" + "_".join(w).lower() for w in prons]
    engine = _get_engine()
    with engine.lock:
        for name, phones in dict(zip(names, prons, strict=True)).items():
            if engine.decoder.lookup_word(name) is None:
                engine.decoder.add_word(name, " ".join(phones), True)
        result = _forced(engine, x, names)
    if result is None:
        return None
    duration = x.size / SAMPLE_RATE
    return Alignment(_contiguous(result.phones, duration), [], "forced", duration, [])


def text_fit(
    samples: np.ndarray, transcript: str | None = None, pronounced: list[list[str]] | None = None
) -> float | None:
    """How badly a text fits the audio: the acoustic log-likelihood (natural log, per 10 ms
    frame) by which a free phone loop beats the forced path through the text (`transcript`, or
    words as ARPAbet lists in `pronounced`). Near 1 when the text is what is said, larger when it
    is not (see training/corpus/real_build.py for the measured threshold); None when the text
    cannot be aligned at all."""
    import math

    x = _as_samples(samples)
    engine = _get_engine()
    with engine.lock:
        if pronounced is not None:
            prons = [[p for p in map(normalise_phone, w) if p != SILENCE] for w in pronounced]
            words = ["_x_" + "_".join(w).lower() for w in prons if w]
            for name, w in zip(words, [w for w in prons if w], strict=True):
                if engine.decoder.lookup_word(name) is None:
                    engine.decoder.add_word(name, " ".join(w), True)
        else:
            words = transcript_words(transcript or "")
            _ensure_words(engine, words)
        if not words or x.size == 0:
            return None
        pcm = _to_pcm(x, _DITHER)
        frames = max(1, len(pcm) // 2 // int(SAMPLE_RATE * FRAME_SECONDS))
        d = engine.decoder

        def log_score() -> float:
            return sum(math.log(max(s.ascore, 1e-300)) for s in d.seg())

        try:
            d.set_align_text(" ".join(words))
            engine.decode(pcm)
            if d.hyp() is None:
                return None
            forced = log_score()
            engine.use_search("phones")
            engine.decode(pcm)
            free = log_score()
        except RuntimeError:
            return None
    return (free - forced) / frames


def _flexible_pass(
    engine: _Engine, x: np.ndarray, words: list[str]
) -> tuple[list[str], _Pass | None] | None:
    """The longest-fitting run of `words` spoken in `x` (a grammar that reads the words in order
    and may stop after any of them, or skip a few at the start to recover when the previous
    piece took too few) with its phone alignment (None if that failed). None if nothing
    decodes."""
    n = len(words)
    final = n + 1
    transitions: list[tuple] = []
    for i, word in enumerate(words):
        transitions.append((i, i + 1, 0.9, word))
        transitions.append((i, final, 0.1))
    transitions.append((n, final, 1.0))
    for j in range(1, min(_MAX_SKIP, n) + 1):
        transitions.append((0, j, 0.001))
    d = engine.decoder
    engine.use_grammar("piece", transitions, final)
    pcm = _to_pcm(x, _DITHER)
    try:
        engine.decode(pcm)
    except RuntimeError:
        return None
    if d.hyp() is None:
        return None
    found = [_base_word(s.word) for s in d.seg() if s.word not in _FILLERS]
    # aligning the grammar's own hypothesis is more robust on long pieces than a fresh
    # forced alignment of the same words (which ran out of beam on 3 of 17 real pieces)
    return found, (_second_pass(engine, pcm) if found else None)


@dataclass
class _StreamState:
    words: list[str]
    position: int = 0  # next transcript word not yet placed
    voiced: float = 0.0  # voiced seconds of the pieces that took words
    placed: int = 0  # words placed in those pieces
    fallbacks: int = 0

    def window(self, voiced: float) -> list[str]:
        rate = self.placed / self.voiced if self.placed >= 20 else _PRIOR_WORDS_PER_VOICED_S
        size = int(2.0 * rate * voiced) + 10
        return self.words[self.position : self.position + size]


def _align_piece(
    engine: _Engine, x: np.ndarray, state: _StreamState, last: bool
) -> tuple[_Pass, bool]:
    """Place the next transcript words in one piece; (segments, forced?)."""
    remaining = state.words[state.position :]
    if last and remaining:
        result = _forced(engine, x, remaining)
        if result is not None:
            state.position = len(state.words)
            return result, True
    voiced = voiced_seconds(x)
    window = state.window(voiced) if remaining else []
    decoded = _flexible_pass(engine, x, window) if window else ([], None)
    if decoded is None or (not decoded[0] and voiced > _SPEECH_SECONDS):
        state.fallbacks += 1
        return _recognise(engine, x, RECOGNIZER), False
    found, result = decoded
    if not found:
        return _Pass([], []), True
    skipped = next((j for j in range(_MAX_SKIP + 1) if window[j : j + len(found)] == found), 0)
    if result is None:
        result = _forced(engine, x, found)
    state.position += skipped + len(found)
    state.voiced += voiced
    state.placed += len(found)
    if result is None:
        state.fallbacks += 1
        return _recognise(engine, x, RECOGNIZER), False
    return result, True


def _with_lookahead(pieces: Iterable[Piece]) -> Iterable[tuple[Piece, bool]]:
    previous = None
    for piece in pieces:
        if previous is not None:
            yield previous, False
        previous = piece
    if previous is not None:
        yield previous, True


def _stream_passes(
    engine: _Engine, pieces: Iterable[Piece], state: _StreamState
) -> Iterator[tuple[Piece, _Pass, bool]]:
    """(piece, its pass, forced?) in order. With transcript words each piece depends on the
    last, so they are aligned here one by one; without, pieces are recognised on the worker
    pool, a few ahead (every core busy, a bounded number of pieces held)."""
    if state.words:
        for piece, last in _with_lookahead(pieces):
            with engine.lock:
                result, forced = _align_piece(engine, _as_samples(piece.samples), state, last)
            yield piece, result, forced
        return
    ahead = 2 * _workers() if _workers() >= 2 else 0
    pending: deque[tuple[Piece, Future | None]] = deque()
    for piece in pieces:
        job = None
        if ahead:
            try:
                job = _get_pool().submit(_recognise_locked, _as_samples(piece.samples), RECOGNIZER)
            except (OSError, RuntimeError):  # no processes here: one by one from now on
                shutdown_workers()
                ahead = 0
        pending.append((piece, job))
        while len(pending) > ahead:
            yield _recognised(*pending.popleft())
    while pending:
        yield _recognised(*pending.popleft())


def _recognised(piece: Piece, job: Future | None) -> tuple[Piece, _Pass, bool]:
    if job is not None:
        try:
            return piece, job.result(), False
        except (OSError, RuntimeError):  # a broken pool: this piece here
            shutdown_workers()
    return piece, _recognise_locked(_as_samples(piece.samples), RECOGNIZER), False


def align_stream(
    blocks: Iterable[np.ndarray],
    transcript: str | None = None,
    progress: Progress | None = None,
) -> Alignment:
    """Align a long recording given as 16 kHz mono blocks, piece by piece, in bounded memory.

    The stream is cut at pauses (see segmenter). Without a transcript each piece is recognised.
    With one, words are handed out in order: each piece is decoded against a grammar of the
    next words (about twice the expected count, from the speaking rate seen so far) that may
    stop after any word, so the audio itself decides where the piece's words end; the chosen
    words are then force-aligned. Limits: a piece whose speech is not in the transcript shifts
    the words of the next few pieces until the grammar's small start-skip catches up, and words
    the speaker dropped are placed (squeezed) rather than reported.
    """
    engine = _get_engine()
    words = transcript_words(transcript) if transcript and transcript.strip() else []
    warnings: list[str] = []
    state = _StreamState(words)
    phones: list[Segment] = []
    word_segs: list[Segment] = []
    forced_pieces, pieces_seen, end = 0, 0, 0.0
    if words:
        with engine.lock:
            oov = _ensure_words(engine, words)
        if oov:
            warnings.append(oov_warning(oov))
    for piece, result, forced in _stream_passes(engine, cut_at_pauses(blocks), state):
        placed = _in_clip_time(result, piece)
        phones.extend(placed.phones)
        word_segs.extend(placed.words)
        pieces_seen += 1
        forced_pieces += forced
        end = piece.start_seconds + piece.duration
        if progress:
            progress(end)
    if words and state.position < len(words):
        warnings.append(
            f"{len(words) - state.position} transcript words were not found in the audio"
        )
    if words and state.fallbacks:
        warnings.append(
            f"{state.fallbacks} of {pieces_seen} pieces did not match the transcript; "
            "used recognition for them"
        )
    method = "forced" if words and forced_pieces else "recognition"
    return Alignment(_contiguous(phones, end), word_segs, method, end, warnings)

"""Timed phones and words: what an aligner gives the articulation model."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Segment:
    label: str  # an ARPAbet phone without stress (see rigs.phonemes) or SIL; or a word
    start: float  # seconds
    end: float  # seconds

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Alignment:
    """Phones (and words, when known) over a clip, sorted and non-overlapping, in seconds."""

    phones: list[Segment]
    words: list[Segment] = field(default_factory=list)
    method: str = "forced"  # "forced" (transcript given) or "recognition"
    duration: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def shifted(self, offset: float) -> Alignment:
        def sh(segs: list[Segment]) -> list[Segment]:
            return [Segment(s.label, s.start + offset, s.end + offset) for s in segs]

        return Alignment(
            sh(self.phones), sh(self.words), self.method, self.duration, list(self.warnings)
        )

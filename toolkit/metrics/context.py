"""What metrics read: the matched clips, their annotations, and shared analyses computed once and cached.

Several metrics read the same analysis (FAD, FAD-∞, density and coverage one embedding; KL, IS and style
accuracy one classifier's probabilities; BHS and BCS one onset detection), so the context computes each on
first use. A metric whose need is missing gets `Unavailable` with the reason, and the suite skips it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from toolkit.data.audio import read_audio
from toolkit.metrics import key, rhythm
from toolkit.metrics.annotations import Annotations
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.registry import NEEDS


class Unavailable(Exception):
    """A metric's input is missing here; the message says what (and how to provide it)."""


@dataclass
class Pair:
    """A generated clip and the reference clip with the same file stem."""

    id: str
    reference: Path
    generated: Path


class MusicScorer(Protocol):
    """The model that generated the music, for metrics that ask it (`needs: model`)."""

    def video_nll_gain(self, ids: list[str]) -> dict[str, float]:
        """Per clip: teacher-forced cross-entropy of its music without its video minus with it (nats/token)."""
        ...

    def target_predictions(self, ids: list[str]) -> dict[str, TargetPrediction]:
        """Per clip: what the model predicts, from the video alone, of the music target it reads (none when it
        predicts no target)."""
        ...


@dataclass
class TargetPrediction:
    """A predicted music target and the real one, `(T, d)` each over the same valid steps at `rate` Hz from
    `start` seconds into the clip; `key` names the target feature."""

    key: str
    predicted: np.ndarray
    target: np.ndarray
    rate: float
    start: float = 0.0


class EvalContext:
    """The clips of one evaluation, their annotations and options, and the analyses metrics share."""

    def __init__(self, pairs: list[Pair], options: SuiteOptions, notes: Annotations,
                 scorer: MusicScorer | None = None) -> None:
        self.pairs, self.options, self.notes, self.scorer = pairs, options, notes, scorer
        self.ids = [p.id for p in pairs]
        self._audio: dict[Path, np.ndarray] = {}

    # -- what is here ----------------------------------------------------------------------------------------
    def missing(self, need: str) -> str | None:
        """Why `need` is not available here (None when it is)."""
        notes, options = self.notes, self.options
        absent = {
            "cuts": not notes.cuts,
            "truth": not notes.truth,
            "timings": not any(i in notes.timings for i in self.ids),
            "video": not notes.videos,
            "text": not notes.prompts,
            "model": self.scorer is None,
            "classifier": options.classifier == "micro-style-cnn" and self.world is None,
            "clap": options.clap_weights is None,
            "imagebind": options.imagebind_weights is None,
        }
        return f"needs {NEEDS[need]}" if absent.get(need, False) else None

    @property
    def world(self) -> Path | None:
        return Path(self.options.classifier_world) if self.options.classifier_world else self.notes.world

    # -- audio -------------------------------------------------------------------------------------------------
    def audio(self, path: Path, sample_rate: int = rhythm.LORIS_SAMPLE_RATE) -> np.ndarray:
        """A clip at `sample_rate`; at the analysis rate it stays in memory (every rhythm/key metric reads it),
        at other rates (needed once per model) it is decoded on demand, so memory holds one copy per clip."""
        if sample_rate != rhythm.LORIS_SAMPLE_RATE:
            return read_audio(path, sample_rate)
        if path not in self._audio:
            self._audio[path] = read_audio(path, sample_rate)
        return self._audio[path]

    def side(self, which: str, sample_rate: int = rhythm.LORIS_SAMPLE_RATE) -> list[np.ndarray]:
        """Every clip of one side (`reference` or `generated`) at `sample_rate`, in pair order."""
        return [self.audio(getattr(p, which), sample_rate) for p in self.pairs]

    def duration(self, index: int) -> float:
        """Seconds both sides of pair `index` cover."""
        ref, gen = self.audio(self.pairs[index].reference), self.audio(self.pairs[index].generated)
        return min(ref.size, gen.size) / rhythm.LORIS_SAMPLE_RATE

    # -- shared analyses -------------------------------------------------------------------------------------
    @cached_property
    def embedding_model(self) -> Any:
        from toolkit.metrics.embeddings import load_embedding_model

        return load_embedding_model(self.options.embedding, self.options.embedding_weights)

    @cached_property
    def windows(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per pair, the (windows, dims) embeddings of the reference and of the generated clip."""
        model = self.embedding_model
        return ([model.embed(a) for a in self.side("reference", model.sample_rate)],
                [model.embed(a) for a in self.side("generated", model.sample_rate)])

    @cached_property
    def clip_embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """One vector per clip (its windows' mean), reference and generated: what density/coverage compare."""
        ref, gen = self.windows
        return np.stack([w.mean(axis=0) for w in ref]), np.stack([w.mean(axis=0) for w in gen])

    @cached_property
    def classifier(self) -> Any:
        from toolkit.metrics.classifier import load_classifier

        return load_classifier(self.options.classifier, self.options.classifier_weights, self.world)

    @cached_property
    def probabilities(self) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (clips × classes) of the reference and of the generated clips."""
        model = self.classifier
        return (model.predict_proba(self.side("reference", model.sample_rate)),
                model.predict_proba(self.side("generated", model.sample_rate)))

    @cached_property
    def onsets(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """LORIS onsets (s) of each reference and generated clip."""
        sr = rhythm.LORIS_SAMPLE_RATE
        return ([rhythm.loris_onsets(a, sr) for a in self.side("reference")],
                [rhythm.loris_onsets(a, sr) for a in self.side("generated")])

    @cached_property
    def generated_beats(self) -> list[np.ndarray]:
        """librosa beat times (s) of each generated clip."""
        return [rhythm.beat_times(a, rhythm.LORIS_SAMPLE_RATE) for a in self.side("generated")]

    @cached_property
    def tempos(self) -> tuple[np.ndarray, np.ndarray]:
        """(target, generated) tempo per clip: the target from the annotations, else the reference audio's."""
        sr, targets = rhythm.LORIS_SAMPLE_RATE, self.notes.targets
        target = [float(targets[p.id]["tempo"]) if "tempo" in targets.get(p.id, {})
                  else rhythm.estimate_tempo(self.audio(p.reference), sr) for p in self.pairs]
        return np.asarray(target), np.asarray([rhythm.estimate_tempo(a, sr) for a in self.side("generated")])

    @cached_property
    def keys(self) -> tuple[list[key.Key], list[key.Key]]:
        """(target, generated) key per clip, the target as for `tempos`."""
        sr, targets = rhythm.LORIS_SAMPLE_RATE, self.notes.targets
        target = [key.parse_key(targets[p.id]["key"], targets[p.id].get("mode")) if "key" in targets.get(p.id, {})
                  else key.estimate_key(self.audio(p.reference), sr) for p in self.pairs]
        return target, [key.estimate_key(a, sr) for a in self.side("generated")]

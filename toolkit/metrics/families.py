"""The metric families the suite computes, registered by the names its results use, each with one line."""

from __future__ import annotations

from toolkit.metrics import fad, key, kl, prdc, rhythm, speed
from toolkit.metrics.registry import register_metric

_FAMILIES = (
    ("fad", fad.fad, "Fréchet audio distance between reference and generated embedding windows"),
    ("density", prdc.density_coverage, "how densely generated clips fill the reference manifold (k-NN balls)"),
    ("coverage", prdc.density_coverage, "share of reference clips with a generated clip in their k-NN ball"),
    ("kl", kl.pairwise_kl, "KL divergence of classifier probabilities, reference → generated, per pair"),
    ("is", kl.inception_score, "inception score of the generated clips' classifier probabilities"),
    ("bhs", rhythm.beat_hit_scores, "beat hit score: share of reference onsets matched by a generated onset"),
    ("bcs", rhythm.beat_hit_scores, "beat coverage score: share of generated onsets matched by a reference onset"),
    ("tb_iou", rhythm.transition_beat_iou, "IoU of video cuts and generated beats, matched within a tolerance"),
    ("tempo_acc", rhythm.tempo_matches, "share of clips whose generated tempo is within 8% (MIREX) of the target"),
    ("tempo_acc_octave", rhythm.tempo_matches, "tempo accuracy counting ×2, ×3, ×½ and ×⅓ of the target tempo as hits"),
    ("key_acc", key.keys_match, "share of clips whose estimated key equals the target key"),
    ("key_acc_loose", key.keys_match, "MIREX weighted key score: same 1, fifth 0.5, relative 0.3, parallel 0.2"),
    ("rtf", speed.summarise_timings, "real-time factor: seconds of generation per second of audio"),
)

for _name, _fn, _description in _FAMILIES:
    register_metric(_name, _description)(_fn)

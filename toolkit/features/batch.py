"""A batch of features as conditioners read them: values by dotted key, a mask per key, and which rows have
any video at all.

A row that is not `present` has *no video*: every conditioner then leaves it exactly as the frozen backbone
computes it. That is how video-condition dropout and the null rows of classifier-free guidance are expressed.

Inputs (derived from the video or the text) are read at training and generation alike; targets (derived from
the music) exist only in training. A batch built for generation names the targets it *withholds*, so a
conditioner that asks for one fails loudly instead of reading the reference music's answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import torch

from toolkit.errors import UserError
from toolkit.features.kinds import FRAMES, Feature, collate, retime

MASK = "mask"  # the frame mask of a plain nested dict (`as_batch`): one mask for every key


class TargetAtGeneration(RuntimeError):
    """A conditioner asked for a music-derived feature where only the video and text are known."""


class FeatureBatch(Mapping):
    """Batched features: `batch[key]` is `(B, N, ...)` for timed, event and segment kinds, `(B, ...)` per
    clip; `mask(key)` is its `(B, N)` (or `(B,)`) mask with rows without video zeroed; `kind(key)` its
    `Feature`. `training` says whether targets may be read; keys in `withheld` raise `TargetAtGeneration`."""

    def __init__(
        self,
        values: Mapping[str, torch.Tensor],
        masks: Mapping[str, torch.Tensor],
        kinds: Mapping[str, Feature] | None = None,
        present: torch.Tensor | None = None,
        withheld: Iterable[str] = (),
        training: bool = False,
    ) -> None:
        if not values:
            raise ValueError("a feature batch needs at least one feature")
        self._values, self._masks = dict(values), dict(masks)
        self._kinds = {k: (kinds or {}).get(k, FRAMES) for k in self._values}
        rows = next(iter(self._values.values())).shape[0]
        self.present = torch.ones(rows) if present is None else torch.as_tensor(present).float()
        self.withheld, self.training = frozenset(withheld), bool(training)

    # --- reading -----------------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> torch.Tensor:
        if key in self.withheld:
            raise TargetAtGeneration(
                f"{key!r} is derived from the music: it is a training target and does not exist at generation "
                "(a conditioner must not read it outside training)"
            )
        if key not in self._values:
            raise UserError(f"features: missing {key!r} (the batch has {sorted(self._values)}); "
                            "is its extractor enabled and the key declared by the conditioner?")
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values and key not in self.withheld

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def rows(self) -> int:
        return int(self.present.shape[0])

    def kind(self, key: str) -> Feature:
        self[key]  # the same errors as reading it
        return self._kinds[key]

    def mask(self, key: str) -> torch.Tensor:
        """The key's mask with the rows without video zeroed, on the value's device."""
        value, mask = self[key], self._masks[key]
        present = self.present.to(mask.device, mask.dtype)
        out = mask * (present if mask.dim() == 1 else present[:, None])
        return out.to(value.device)

    # --- new batches -------------------------------------------------------------------------------------
    def _replace(self, **changes: Any) -> FeatureBatch:
        fields = {"values": self._values, "masks": self._masks, "kinds": self._kinds, "present": self.present,
                  "withheld": self.withheld, "training": self.training, **changes}
        return FeatureBatch(**fields)

    def select(self, keys: Sequence[str], withheld: Iterable[str] = ()) -> FeatureBatch:
        """Only `keys` (each must be here), withholding `withheld`."""
        for key in keys:
            self[key]
        return self._replace(values={k: self._values[k] for k in keys}, masks={k: self._masks[k] for k in keys},
                             withheld=frozenset(withheld))

    def without_video(self, drop: torch.Tensor) -> FeatureBatch:
        """A copy whose rows where `drop (B,)` is true have no video."""
        keep = (~torch.as_tensor(drop, dtype=torch.bool)).float()
        return self._replace(present=self.present * keep.to(self.present.device))

    def with_null_rows(self) -> FeatureBatch:
        """Rows followed by the same rows without video: the layout guidance uses (cf. `text.stack_with_null`)."""
        return self._replace(
            values={k: torch.cat([v, v]) for k, v in self._values.items()},
            masks={k: torch.cat([m, m]) for k, m in self._masks.items()},
            present=torch.cat([self.present, torch.zeros_like(self.present)]),
        )

    def window(self, start: torch.Tensor | float, seconds: float, fps: float) -> FeatureBatch:
        """Every feature re-timed so that time 0 is `start` seconds (per row or for all), covering `seconds`
        (`kinds.retime`): a training crop or a generation window."""
        values, masks = {}, {}
        for key, value in self._values.items():
            values[key], masks[key] = retime(self._kinds[key], value, self._masks[key], start, seconds, fps)
        return self._replace(values=values, masks=masks)

    def to(self, device: torch.device | str | None) -> FeatureBatch:
        return self._replace(values={k: v.to(device) for k, v in self._values.items()})

    def for_training(self, training: bool = True) -> FeatureBatch:
        return self._replace(training=training)

    @classmethod
    def collate(
        cls, clips: Sequence[Mapping[str, Any]], keys: Sequence[str], kinds: Mapping[str, Feature] | None = None
    ) -> FeatureBatch:
        """Per-clip features (`{dotted key: array}`, or nested dicts) → a padded batch, one mask per key."""
        if not clips or not keys:
            raise ValueError("collating features needs at least one clip and one key")
        kinds = {k: (kinds or {}).get(k, FRAMES) for k in keys}
        values, masks = {}, {}
        for key in keys:
            values[key], masks[key] = collate(kinds[key], [read_feature(clip, key) for clip in clips])
        return cls(values, masks, kinds)


def read_feature(features: Mapping[str, Any], key: str) -> Any:
    """`features[key]`, or `features["clip"]["global"]` for key "clip.global" in a nested dict."""
    if isinstance(features, FeatureBatch) or key in features:
        return features[key]
    node: Any = features
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            have = sorted(k for k in features if k != MASK)
            raise UserError(f"features: missing {key!r} (the batch has {have}); is its extractor enabled?")
        node = node[part]
    return node


def as_batch(features: Mapping[str, Any] | FeatureBatch) -> FeatureBatch:
    """A `FeatureBatch` from a plain nested dict of video-frame tensors `(B, T, ...)` with an optional
    top-level `"mask"` `(B, T)` shared by every key (a row whose mask is all zero has no video)."""
    if isinstance(features, FeatureBatch):
        return features
    flat = dict(_flatten({k: v for k, v in features.items() if k != MASK}))
    if not flat:
        raise ValueError("features: empty batch")
    first = next(iter(flat.values()))
    mask = features.get(MASK)
    mask = torch.ones(first.shape[:2]) if mask is None else torch.as_tensor(mask).float()
    present = (mask.sum(-1) > 0).float()
    return FeatureBatch(flat, {k: mask for k in flat}, present=present)


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, torch.Tensor]]:
    for key, value in tree.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", torch.as_tensor(value)


# --- the row operations training and guidance need, on either form ----------------------------------------
def collate_features(
    clips: Sequence[Mapping[str, Any]], keys: Sequence[str], kinds: Mapping[str, Feature] | None = None
) -> FeatureBatch:
    """Per-clip features → a padded `FeatureBatch` of `keys` (see `FeatureBatch.collate`)."""
    return FeatureBatch.collate(clips, keys, kinds)


def drop_video(features: Mapping[str, Any], drop: torch.Tensor) -> FeatureBatch:
    """A copy of the batch whose rows where `drop` (B,) is true have no video."""
    return as_batch(features).without_video(drop)


def stack_with_null_video(features: Mapping[str, Any]) -> FeatureBatch:
    """Rows followed by the same rows without video (guidance's layout)."""
    return as_batch(features).with_null_rows()

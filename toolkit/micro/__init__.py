"""The micro backbone's pretraining and its card: built from the micro world, once, cached by spec and seed.

It sits above `toolkit.backbone` because building it generates music and measures it (`toolkit.generation`,
`toolkit.metrics`); its architecture (`toolkit.backbone.micro`) and loading (`toolkit.backbone.loader`) stay
below. `load_backbone` is the one entry point that loads any backbone name, `micro` included.
"""

from __future__ import annotations

from typing import Any

from toolkit.backbone import loader
from toolkit.errors import UserError


def load_backbone(name: str = "micro", device: str = "cpu", **micro_options: Any) -> Any:
    """A frozen `Backbone` by name: `micro` builds (first time) or loads the cached micro backbone, with
    `micro_options` for `build_micro_backbone` (e.g. `seed=1`); any other name is loaded by
    `toolkit.backbone.loader.load_backbone`."""
    if name != "micro":
        if micro_options:
            raise UserError(f"backbone {name!r}: options {sorted(micro_options)} apply only to 'micro'")
        return loader.load_backbone(name, device)
    from toolkit.micro.pretrain import build_micro_backbone  # deferred: `import toolkit.micro` stays light

    return loader.open_backbone(build_micro_backbone(**micro_options), device)


__all__ = ["load_backbone"]

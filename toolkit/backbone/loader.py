"""Backbone names → a loaded, frozen `Backbone`: a hub id or a local transformers directory (the micro
backbone is built and cached by `toolkit.micro`, then opened here by its directory).

Hub ids and local directories take the same path (`from_pretrained`), so what tests prove with tiny local
models holds for `facebook/musicgen-small`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from toolkit.errors import UserError

PRESETS = {
    "musicgen-small": "facebook/musicgen-small",
    "musicgen-medium": "facebook/musicgen-medium",
    "musicgen-large": "facebook/musicgen-large",
}


@contextlib.contextmanager
def _quiet_transformers():
    """MusicGen puts pad/start tokens one past the vocabulary on purpose; hide the warnings about it."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def resolve_source(name: str) -> str:
    """A preset alias → hub id; an existing directory → its path; anything else is returned as a hub id."""
    name = PRESETS.get(name, name)
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(f"{path}: not a transformers model directory (no config.json)")
        return str(path)
    if name.startswith((".", "/", "~")) or name.count("/") != 1:
        raise UserError(
            f"backbone.name={name!r}: no such directory, and not a hub id like 'facebook/musicgen-small'"
        )
    return name


def load_pretrained(source: str | Path):
    """`(model, tokenizer)` from a hub id or a directory holding a MusicGen model and its tokenizer."""
    from transformers import AutoTokenizer, MusicgenForConditionalGeneration

    try:
        with _quiet_transformers():
            model = MusicgenForConditionalGeneration.from_pretrained(str(source))
            tokenizer = AutoTokenizer.from_pretrained(str(source))
    except (OSError, ValueError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"backbone {str(source)!r}: could not be loaded ({first_line})") from err
    return model, tokenizer


def load_backbone(name: str, device: str = "cpu"):
    """Load a frozen backbone by hub id, preset or directory. The micro backbone is built above this layer
    (its pretraining generates and measures): load it with `toolkit.micro.load_backbone`."""
    if name == "micro":
        # A caller's mistake, not the user's: every entry point loads backbones through `toolkit.micro`.
        raise ValueError("backbone 'micro' is built by the toolkit: load it with toolkit.micro.load_backbone")
    return open_backbone(resolve_source(name), device)


def open_backbone(source: str | Path, device: str = "cpu"):
    """The frozen `Backbone` saved at `source` (a hub id or a directory), with its own codec when one is saved
    beside it."""
    from toolkit.backbone.frozen import Backbone

    model, tokenizer = load_pretrained(source)
    return Backbone(model, tokenizer, source=source, codec=load_codec(source)).to(device)


def load_codec(source: str | Path):
    """The `SpectralCodec` saved beside a model (the micro backbone), else None (the model's own EnCodec)."""
    from toolkit.backbone.spectral import SpectralCodec

    if not Path(str(source)).is_dir() or not SpectralCodec.saved_in(source):
        return None
    return SpectralCodec.load(source)

"""Reading a user's weights file without pickle: safetensors, or a torch file loaded with `weights_only=True`.

`weights_only` is passed explicitly: torch before 2.6 defaults to False, and this project allows torch 2.4,
where a planted `.pt` file would run code on load.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.errors import UserError


def load_state_dict_file(path: str | Path) -> dict:
    """The tensors of a `.safetensors` file, or of a torch state-dict file (tensors and plain containers only)."""
    import torch

    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a pickle with objects beyond tensors is refused rather than executed
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"{path}: not a plain weights file ({first})") from None

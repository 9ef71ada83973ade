"""VGGish as fadtk and frechet_audio_distance use it: the final ReLU of the embedding head removed.

No weights are downloaded: a tiny module of torchvggish's shape stands in for the package.
"""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.metrics.embeddings import load_embedding_model


def _tiny_vggish_class():
    """torchvggish's VGGish in shape only: `embeddings` is Linear, ReLU, Linear(→128), ReLU, as in
    `torchvggish.vggish.VGG`; 4-sample frames stand in for its log-mel patches."""
    import torch
    from torch import nn

    class TinyVggish(nn.Module):
        def __init__(self, urls=None, pretrained=False, preprocess=True, postprocess=False):
            super().__init__()
            self.features = nn.Identity()
            self.embeddings = nn.Sequential(nn.Linear(4, 16), nn.ReLU(True), nn.Linear(16, 128), nn.ReLU(True))

        def forward(self, x, fs=None):
            frames = torch.from_numpy(np.asarray(x, np.float32)[: x.size // 4 * 4].reshape(-1, 4))
            return self.embeddings(self.features(frames))

    return TinyVggish


def test_vggish_drops_the_final_relu_as_fadtk_does(tmp_path, monkeypatch):
    import torch
    from safetensors.torch import save_file
    from torch import nn

    from toolkit.metrics import embeddings

    tiny = _tiny_vggish_class()
    torch.manual_seed(0)
    save_file(tiny().state_dict(), str(tmp_path / "vggish.safetensors"))
    monkeypatch.setattr(embeddings, "_optional_import", lambda *_: tiny)

    model = load_embedding_model("vggish", tmp_path / "vggish.safetensors")
    layers = list(model.model.embeddings)
    assert [type(m) for m in layers] == [nn.Linear, nn.ReLU, nn.Linear]  # only the last ReLU is gone
    kept = embeddings.VggishEmbedding(tmp_path / "vggish.safetensors", activation=True)
    assert isinstance(list(kept.model.embeddings)[-1], nn.ReLU)

    x = np.random.default_rng(0).normal(0, 1, 64).astype(np.float32)
    stripped, clipped = model.embed(x), kept.embed(x)
    assert stripped.shape == (16, 128) and (stripped < 0).any()  # pre-activation values keep their sign
    assert clipped.min() >= 0
    np.testing.assert_allclose(clipped, np.maximum(stripped, 0), atol=1e-6)


def test_without_final_relu_refuses_a_head_without_one():
    from torch import nn

    from toolkit.metrics.embeddings import without_final_relu

    with pytest.raises(ValueError, match="ending in ReLU"):
        without_final_relu(nn.Sequential(nn.Linear(2, 2)))

"""Shared fixtures: every test runs offline with a private cache directory."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Point the toolkit's user cache at a per-test directory so tests never share or pollute state."""
    cache = tmp_path_factory.mktemp("v2m-cache")
    monkeypatch.setenv("V2M_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(scope="session")
def tiny_model():
    """`(model, tokenizer)`: a tiny random MusicGen with 4 decoder layers; its text encoder (width 24) feeds the
    32-wide decoder through `enc_to_dec_proj`, so the projection is exercised too."""
    from toolkit.backbone.micro import tiny_musicgen

    return tiny_musicgen(text_width=24, layers=4, max_positions=128, random_codebooks=False)


@pytest.fixture
def backbone(tiny_model):
    """A fresh frozen `Backbone` per test (hooks and LoRA from one test never leak into the next)."""
    import copy

    from toolkit.backbone.frozen import Backbone

    model, tokenizer = tiny_model
    return Backbone(copy.deepcopy(model), tokenizer, source="tiny")

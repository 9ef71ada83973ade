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

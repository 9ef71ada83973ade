"""Planning tests run on one torch thread; `tiny_model` and `backbone` come from tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def one_thread(one_torch_thread):
    """Every test in this folder runs on one torch thread (`one_torch_thread`)."""

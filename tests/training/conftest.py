"""Training tests run on one torch thread; `tiny_model` and `backbone` come from tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: the machine is shared, and oversubscribed threads make tiny models crawl."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

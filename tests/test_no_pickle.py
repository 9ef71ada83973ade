"""No code path unpickles: the package's syntax trees hold no `pickle.load(s)`, no `weights_only=False`, no
`torch.load` without an explicit `weights_only=True`, and no `allow_pickle=True`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOTS = [Path(__file__).parents[1] / name for name in ("toolkit", "benchmarks")]


def unpickling_calls(source: str, filename: str = "<source>") -> list[str]:
    """`file:line what` for each call in `source` that can unpickle."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        flag = keywords.get("weights_only")
        where = f"{filename}:{node.lineno}"
        if name.split(".")[-1] in ("load", "loads") and "pickle" in name:
            found.append(f"{where} {name}")
        elif isinstance(keywords.get("allow_pickle"), ast.Constant) and keywords["allow_pickle"].value is True:
            found.append(f"{where} {name}(allow_pickle=True)")
        elif isinstance(flag, ast.Constant) and flag.value is False:
            found.append(f"{where} {name}(weights_only=False)")
        elif name.endswith("torch.load") and not (isinstance(flag, ast.Constant) and flag.value is True):
            found.append(f"{where} {name} without weights_only=True")
    return found


def test_the_package_never_unpickles():
    found = []
    for root in ROOTS:
        for path in sorted(root.rglob("*.py")):
            found += unpickling_calls(path.read_text(), str(path.relative_to(root.parent)))
    assert not found, "unpickling calls:\n" + "\n".join(found)


@pytest.mark.parametrize("code", [
    "import torch\ntorch.load(p)",
    "import torch\ntorch.load(p, map_location='cpu', weights_only=False)",
    "import torch\ntorch.load(p, weights_only=flag)",
    "import pickle\npickle.load(f)",
    "import pickle\npickle.loads(b)",
    "import numpy as np\nnp.load(p, allow_pickle=True)",
    "blob = torch.load(p, weights_only=False)",
])
def test_the_walker_catches_each_form(code):
    assert unpickling_calls(code)


@pytest.mark.parametrize("code", [
    "import torch\ntorch.load(p, map_location='cpu', weights_only=True)",
    "import numpy as np\nnp.load(p, allow_pickle=False)",
    "import json\njson.loads(s)",
])
def test_the_walker_passes_safe_loads(code):
    assert not unpickling_calls(code)

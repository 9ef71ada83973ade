"""`toolkit list`: every registered entry with its hook, inputs, targets, outputs and one line; plugins included.
And the CLI never drops a command whose module fails to import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_list_without_a_kind_prints_all_four(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    headers = [line.split(" (")[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert headers == ["conditioners", "extractors", "heads", "metrics"]
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["rhythm"])  # the conditioner: listed first
    assert lines[at].split()[1:4] == ["Video", "rhythm", "(inter-frame"]  # its docstring's first line
    assert lines[at + 1].split() == ["hook:", "in_attention;", "inputs:", "interframe.distance;", "targets:", "none"]
    assert "reads: video; requires: clip" in out  # interframe
    assert any(line.split()[:2] == ["fad", "Fréchet"] for line in lines)  # a metric with its description


def test_list_one_kind(capsys):
    assert main(["list", "heads"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("heads (") and "tokens" in out and "conditioners" not in out
    with pytest.raises(SystemExit) as exit_:
        main(["list", "widgets"])
    assert exit_.value.code == 2


def test_list_shows_a_plugin_made_visible_from_a_folder(tmp_path):
    """The entry point comes from a `*.dist-info` folder on PYTHONPATH, never from installing anything."""
    (tmp_path / "v2m_test_list_plugin.py").write_text(
        "from toolkit.metrics.registry import Metric, register_metric\n\n"
        "@register_metric('test_plugin_metric')\n"
        "class Score(Metric):\n"
        "    '''A metric from a plugin.'''\n"
    )
    info = tmp_path / "v2m_test_list_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: v2m-test-list-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[v2m_toolkit.metrics]\nscore = v2m_test_list_plugin\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-m", "toolkit.cli", "list", "metrics"], capture_output=True, text=True,
                            cwd=REPO, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "test_plugin_metric" in result.stdout and "A metric from a plugin." in result.stdout


def test_a_command_module_that_fails_to_import_is_not_skipped(monkeypatch):
    import toolkit.cli

    # None in sys.modules makes the import raise ModuleNotFoundError for that very module: once skipped silently.
    monkeypatch.setitem(sys.modules, "toolkit.commands.v2m_test_missing", None)
    monkeypatch.setattr(toolkit.cli, "COMMANDS", (*toolkit.cli.COMMANDS, "v2m_test_missing"))
    with pytest.raises(ModuleNotFoundError, match="toolkit.commands.v2m_test_missing"):
        toolkit.cli.build_parser()

"""The CLI contract: help everywhere, exit 2 with one line (no traceback) on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit.cli", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=300)


def test_every_command_has_help(capsys: pytest.CaptureFixture) -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"world", "prepare", "generate", "evaluate"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        assert exit_.value.code == 0
        assert "usage: toolkit" in capsys.readouterr().out


def test_prepare_missing_root_exits_2_with_one_line() -> None:
    result = _run("prepare", "experiments/micro.yaml", "data.root=/no/such/dir")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: data.root: /no/such/dir does not exist or is not a directory"]
    assert "Traceback" not in result.stderr


def test_prepare_typo_suggests_the_key() -> None:
    result = _run("prepare", "experiments/micro.yaml", "data.rooot=/x")
    assert result.returncode == 2
    assert "did you mean data.root?" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_prepare_missing_experiment_file() -> None:
    result = _run("prepare", "experiments/nope.yaml")
    assert result.returncode == 2 and "no such config file" in result.stderr


@pytest.mark.slow
def test_prepare_skips_bad_files_and_second_run_is_all_hits(tmp_path: Path) -> None:
    import numpy as np

    from toolkit.data.mp4 import write_mp4

    sr = 16000
    for name, hz in (("a", 220), ("b", 330)):  # different content: the cache is keyed by content
        tone = 0.3 * np.sin(2 * np.pi * hz * np.arange(sr) / sr)
        write_mp4(tmp_path / f"{name}.mp4", np.full((8, 48, 64, 3), hz // 3, np.uint8), 8, tone, sr)
    (tmp_path / "corrupt.mp4").write_bytes(b"\x00" * 100)
    args = ("prepare", "experiments/micro.yaml", f"data.root={tmp_path}", "--no-progress")
    first = _run(*args)
    assert first.returncode == 0, first.stderr
    assert "warning: skipped corrupt.mp4:" in first.stderr
    assert "skipped 1 of 3: corrupt.mp4:" in first.stdout
    assert "feature cache: 0 hits" in first.stdout
    second = _run(*args)
    assert second.returncode == 0
    assert "misses" in second.stdout and ", 0 misses" in second.stdout


def test_a_bad_extractor_setting_fails_once_naming_the_key(tmp_path: Path) -> None:
    import numpy as np

    from toolkit.data.mp4 import write_mp4

    sr = 16000
    write_mp4(tmp_path / "a.mp4", np.full((8, 48, 64, 3), 90, np.uint8), 8, 0.3 * np.sin(np.arange(sr) / 9), sr)
    result = _run("prepare", "experiments/micro.yaml", f"data.root={tmp_path}",
                  "features.extractors.clip.model=/no/such/model", "--no-progress")
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: features.extractors.clip.model: /no/such/model: no such")
    assert "skipped" not in result.stderr  # a config problem is not blamed on the clips


def test_generate_checks_the_output_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "out.mp4").mkdir()
    (tmp_path / "file.mp4").write_bytes(b"x")
    missing_video = str(tmp_path / "no-such-video.mp4")  # never opened: the output is checked first
    assert main(["generate", missing_video, "-o", str(tmp_path / "out.mp4")]) == 2
    assert capsys.readouterr().err.strip().endswith("out.mp4: is a directory")
    assert main(["generate", missing_video, "-o", str(tmp_path / "file.mp4" / "x.mp4")]) == 2
    assert "file.mp4 is not a directory" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "value"), [("--window-seconds", "inf"), ("--guidance", "nan"),
                                               ("--guidance", "0")])
def test_generate_wants_finite_positive_numbers(option: str, value: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    argv = ["generate", str(tmp_path / "v.mp4"), "-o", str(tmp_path / "o.mp4"), option, value]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {option} must be a finite positive number, got {float(value)}"


def test_evaluate_checks_out_before_computing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "metrics.json").mkdir()
    argv = ["evaluate", "--generated", str(tmp_path / "nope"), "--reference", str(tmp_path / "nope"),
            "--out", str(tmp_path / "metrics.json")]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().endswith("metrics.json: is a directory")


def test_report_help_shows_a_plain_percent(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    out = capsys.readouterr().out
    assert "95%" in out and "%%" not in out


@pytest.mark.parametrize(
    ("files", "args", "expected"),
    [
        ({"n.yaml": "~: 1\nname: x\n"}, ("prepare", "n.yaml"), "error: n.yaml: key null is not a name"),
        ({"e.yaml": ""}, ("prepare", "e.yaml"), "error: e.yaml: empty experiment file"),
        ({}, ("train", str(REPO / "experiments" / "micro_vidmusician.yaml"), "train.threads=-2"),
         "error: train.threads: must be in [1, inf), got -2"),
        ({"s.yaml": f"name: s\nexperiment: {REPO / 'experiments' / 'micro_vidmusician.yaml'}\n"
                    "objective: {metrics: [fadd], directions: [minimize]}\nparams: {seed: 'choice(0, 1)'}\n"},
         ("sweep", "s.yaml"), "objective.metrics: trial 'train-evaluate' reports no metric 'fadd'"),
    ],
)
def test_bad_config_exits_2_with_one_line_and_writes_nothing(files, args, expected, tmp_path, private_cache,
                                                             monkeypatch) -> None:
    """The real entry point, in an empty folder with an empty user cache: exit 2, one line, nothing written."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = _run(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert expected in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)  # no mlflow.db, runs/, optuna/
    assert list(private_cache.iterdir()) == []  # no worlds/, backbones/, features/

"""Experiment loading: `extends`, overrides, typed values, and one-line errors with suggestions."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.config import load_config, to_dict
from toolkit.errors import UserError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    (tmp_path / "base.yaml").write_text("seed: 3\ndata:\n  world: {clips: 10, seconds: 2.0}\n")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nname: child\ndata:\n  world: {clips: 20}\n")
    return tmp_path / "child.yaml"


def test_extends_merges_child_over_base(chain: Path) -> None:
    cfg = load_config(chain)
    assert cfg.name == "child"
    assert cfg.seed == 3  # from the base
    assert cfg.data.world.clips == 20  # child wins
    assert cfg.data.world.seconds == 2.0  # base kept where the child is silent
    assert cfg.data.root is None  # schema default


def test_overrides_are_typed_and_applied_last(chain: Path) -> None:
    cfg = load_config(chain, ["seed=7", "data.root=/some/where", "data.world.seconds=5"])
    assert cfg.seed == 7 and isinstance(cfg.seed, int)
    assert cfg.data.root == "/some/where"
    assert cfg.data.world.seconds == 5.0 and isinstance(cfg.data.world.seconds, float)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.rooot=/x", "unknown key data.rooot — did you mean data.root?"),
        ("data.world.clipz=3", "unknown key data.world.clipz — did you mean data.world.clips?"),
        ("sed=1", "unknown key sed — did you mean seed?"),
        ("seed=abc", "seed: Value 'abc'"),
        ("justakey", "expected key=value"),
    ],
)
def test_bad_overrides_name_the_key(chain: Path, override: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("?", r"\?")) as err:
        load_config(chain, [override])
    assert "\n" not in str(err.value)


def test_unknown_key_in_file_names_file_and_suggestion(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("data:\n  rooot: /x\n")
    with pytest.raises(UserError, match=r"bad.yaml: unknown key data.rooot — did you mean data.root\?"):
        load_config(bad)


def test_far_off_key_gets_no_wild_guess(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        load_config(REPO / "experiments/micro.yaml", ["zzzzqqq=1"])
    assert "did you mean" not in str(err.value)


def test_missing_file_invalid_yaml_and_cycles(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "broken.yaml").write_text("data: [unclosed\n")
    with pytest.raises(UserError, match="invalid YAML"):
        load_config(tmp_path / "broken.yaml")
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(UserError, match="cycle"):
        load_config(tmp_path / "a.yaml")


def test_every_shipped_experiment_loads() -> None:
    files = sorted((REPO / "experiments").glob("*.yaml"))
    assert files, "no experiments shipped"
    for path in files:
        cfg = to_dict(load_config(path))
        assert cfg["name"], path


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("features.fps=0", r"features.fps: must be in \(0, 120\], got 0"),
        ("features.fps=nan", "features.fps: must be a finite number"),
        ("features.extractors.colour.bins=256", r"features.extractors.colour.bins: must be in \[1, 32\]"),
        ("features.extractors.rhythm.n_melz=8", "features.extractors.rhythm.n_melz: .* did you mean n_mels"),
        ("features.extractors=[clip,interframe]", "features.extractors: expected a mapping, got a list"),
        ("data.sample_rate=0", "data.sample_rate: must be in"),
        ("data.splits.val=0.9", "data.splits: val \\+ test must be below 1"),
        ("backbone.overlap_seconds=9", "backbone.overlap_seconds: must be below backbone.window_seconds"),
        ("data.root=", r"empty value \(write data.root=null to mean none\)"),
        ("features.extractors=[clip", "cannot parse the value"),
    ],
)
def test_out_of_range_and_unparsable_values_fail_at_load(override: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        load_config(REPO / "experiments/micro.yaml", [override])


def test_bad_interpolation_and_encoding_fail_at_load(tmp_path: Path) -> None:
    (tmp_path / "interp.yaml").write_text("data: {root: '${oops}'}\n")
    with pytest.raises(UserError, match="data.root"):
        load_config(tmp_path / "interp.yaml")
    (tmp_path / "latin.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(UserError, match="not UTF-8"):
        load_config(tmp_path / "latin.yaml")
    (tmp_path / "ext.yaml").write_text("extends: 5\n")
    with pytest.raises(UserError, match="extends must be a file path"):
        load_config(tmp_path / "ext.yaml")

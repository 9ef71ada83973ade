"""The registry mechanism: built-ins found by walking their package, plugins by entry points (made visible from a
temporary folder, never installed), loud failures, refused duplicates, and unregistering for tests."""

from __future__ import annotations

import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from toolkit.errors import UserError
from toolkit.utils.registry import Registry


@pytest.fixture
def modules(tmp_path, monkeypatch):
    """`write({"pkg/__init__.py": text, ...})` writes modules under a folder on sys.path (names are made unique
    per test); they leave sys.modules afterwards."""
    root = tmp_path / "src"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)

    def write(files: dict[str, str]) -> None:
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))

    yield write
    for name in set(sys.modules) - before:
        if name.startswith("v2m_test_"):
            del sys.modules[name]


def unique(prefix: str) -> str:
    return f"v2m_test_{prefix}_{uuid.uuid4().hex[:8]}"


def distribution(folder: Path, monkeypatch: pytest.MonkeyPatch, entry_points: dict[str, dict[str, str]]) -> None:
    """A `*.dist-info` folder (what pip would install) declaring `entry_points` {group: {name: value}}, put on
    sys.path, where `importlib.metadata` finds it."""
    name = unique("dist")
    info = folder / "site" / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "".join(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()) for group, entries in
                entry_points.items()))
    monkeypatch.syspath_prepend(str(folder / "site"))


def test_builtins_are_found_by_walking_the_package_and_its_subpackages(modules):
    pkg = unique("pkg")
    modules({
        f"{pkg}/__init__.py": "",
        f"{pkg}/registry.py": f"""
            from toolkit.utils.registry import Registry
            WIDGETS = Registry("widget", "test-widgets", {pkg!r})
            """,
        f"{pkg}/a.py": f"""
            from {pkg}.registry import WIDGETS

            @WIDGETS.register("alpha")
            class Alpha:
                '''The first widget.

                More text that is not the description.'''
            """,
        f"{pkg}/sub/__init__.py": "",
        f"{pkg}/sub/b.py": f"""
            from {pkg}.registry import WIDGETS

            @WIDGETS.register("beta", "described at registration")
            def beta():
                '''Not this line.'''
            """,
        f"{pkg}/_private.py": "raise RuntimeError('a module named _x is never imported by the walk')",
    })
    widgets = __import__(f"{pkg}.registry", fromlist=["WIDGETS"]).WIDGETS
    assert widgets.names() == ["alpha", "beta"]
    assert widgets.get("alpha").name == "alpha"  # a class learns its registered name
    assert widgets.describe("alpha") == "The first widget."
    assert widgets.describe("beta") == "described at registration"
    with pytest.raises(UserError, match="unknown widget 'alfa' — did you mean 'alpha'"):
        widgets.get("alfa")


def test_a_builtin_module_that_fails_to_import_is_an_error_every_time(modules):
    pkg = unique("broken_builtin")
    modules({f"{pkg}/__init__.py": "", f"{pkg}/bad.py": "import v2m_test_no_such_dependency\n"})
    widgets = Registry("widget", "test-widgets", pkg)
    for _ in range(2):  # never marked as loaded with a module missing
        with pytest.raises(ModuleNotFoundError, match="v2m_test_no_such_dependency"):
            widgets.names()


def test_every_registry_finds_its_builtins():
    from toolkit.conditioners.registry import available_conditioners
    from toolkit.features.registry import available_extractors
    from toolkit.heads.registry import available_heads
    from toolkit.metrics.registry import available_metrics
    from toolkit.sweeps.trial import TRIALS

    assert {"clip", "interframe", "rhythm", "colour", "shots"} <= set(available_extractors())
    assert {"semantic", "rhythm", "lora"} <= set(available_conditioners())
    assert {"tokens"} <= set(available_heads())
    assert {"fad", "kl", "bhs", "tb_iou", "rtf"} <= set(available_metrics())
    assert {"demo", "train-evaluate"} <= set(TRIALS.names())


def test_a_plugin_module_registers_through_its_entry_point(tmp_path, monkeypatch, modules):
    from toolkit.features.registry import EXTRACTORS, available_extractors, get_extractor

    plugin = unique("plugin")
    modules({f"{plugin}.py": """
        from toolkit.features.registry import Extractor, register_extractor

        @register_extractor("test-plugin-brightness")
        class Brightness(Extractor):
            '''Mean brightness of each frame.'''

            kind = "video"

            def __init__(self, scale: float = 1.0):
                self.scale = scale

            def config(self):
                return {"scale": self.scale}
        """})
    distribution(tmp_path, monkeypatch, {"v2m_toolkit.extractors": {"brightness": plugin}})
    with EXTRACTORS.scoped():
        assert "test-plugin-brightness" in available_extractors()
        assert get_extractor("test-plugin-brightness", scale=2.0).config() == {"scale": 2.0}
        assert EXTRACTORS.describe("test-plugin-brightness") == "Mean brightness of each frame."
    assert "test-plugin-brightness" not in available_extractors()  # scoped: gone after the block


def test_an_entry_point_naming_an_object_registers_it_under_the_entry_point_s_name(tmp_path, monkeypatch, modules):
    from toolkit.sweeps.trial import TRIALS, get_trial

    plugin = unique("trials")
    modules({f"{plugin}.py": """
        def run(cfg, report, workdir):
            '''A plugin trial.'''
        """})
    distribution(tmp_path, monkeypatch, {"v2m_toolkit.trials": {"plugin-trial": f"{plugin}:run"}})
    with TRIALS.scoped():
        assert get_trial("plugin-trial") is sys.modules[plugin].run
        assert TRIALS.describe("plugin-trial") == "A plugin trial."


def test_a_broken_plugin_fails_loudly_naming_the_entry_point(tmp_path, monkeypatch, modules):
    from toolkit.metrics.registry import METRICS

    plugin = unique("broken")
    modules({f"{plugin}.py": "import v2m_test_missing_dependency\n"})
    distribution(tmp_path, monkeypatch, {"v2m_toolkit.metrics": {"broken": plugin}})
    with METRICS.scoped():
        for _ in range(2):  # not skipped on a second lookup either
            with pytest.raises(UserError) as err:
                METRICS.get("fad")
            message = str(err.value)
            assert message.startswith(f"plugin broken = {plugin} (distribution v2m_test_dist_")
            assert message.endswith("in entry-point group v2m_toolkit.metrics failed to load: ModuleNotFoundError: "
                                    "No module named 'v2m_test_missing_dependency'")
    assert METRICS.get("fad")  # the plugin is off sys.path again


def test_duplicate_names_are_refused(tmp_path, monkeypatch, modules):
    from toolkit.features.registry import EXTRACTORS, Extractor, register_extractor

    with pytest.raises(ValueError, match="feature extractor 'clip' is already registered by toolkit.features.clip"):
        register_extractor("clip")(type("Rival", (Extractor,), {"kind": "video"}))
    plugin = unique("rival")
    modules({f"{plugin}.py": """
        from toolkit.features.registry import Extractor, register_extractor

        @register_extractor("colour")
        class Rival(Extractor):
            kind = "video"
        """})
    distribution(tmp_path, monkeypatch, {"v2m_toolkit.extractors": {"rival": plugin}})
    with EXTRACTORS.scoped(), pytest.raises(UserError, match=r"plugin rival = .* failed to load: ValueError: feature "
                                                             r"extractor 'colour' is already registered"):
        EXTRACTORS.names()
    assert EXTRACTORS.get("colour").__module__ == "toolkit.features.colour"


def test_unregister_and_scoped_leave_no_test_entry_behind():
    widgets = Registry("widget", "test-widgets", ())

    @widgets.register("temporary")
    def temporary():
        pass

    assert widgets.unregister("temporary") is temporary and widgets.names() == []
    with pytest.raises(KeyError):
        widgets.unregister("temporary")
    with widgets.scoped():
        widgets.register("inside")(temporary)
        assert widgets.names() == ["inside"]
    assert widgets.names() == []

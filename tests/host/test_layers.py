"""The firmware's layers: folders a reader can see, imports that run one way, no circle.

Every import counts, inside functions and under ``TYPE_CHECKING`` too, and
so does a module name handed to ``__import__``. A module imports from its
own layer and the layers below it (``paths.FIRMWARE_LAYERS``, lowest first);
``main.py`` is above them all; a board file imports only the domain, the
drivers and its simulated parts.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from micropos import build, paths

BOARD_MAY_IMPORT = {"domain", "drivers", "boards"}


def _modules() -> dict[str, tuple[str, Path]]:
    """name -> (layer, path) for every firmware module and board file."""
    found: dict[str, tuple[str, Path]] = {}
    for src in build.firmware_sources():
        layer = src.parent.name if src.parent != paths.FIRMWARE else "top"
        found[src.stem] = (layer, src)
    for src in sorted(paths.BOARDS.glob("*.py")):
        found[src.stem] = ("boards", src)
    return found


def _imported_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            names.update(_string_arguments(node))
    return names


def _string_arguments(call: ast.Call) -> set[str]:
    return {a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}


def import_graph() -> dict[str, set[str]]:
    """Which firmware modules each firmware module imports (the standard library left out)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, (_, path) in modules.items():
        imported = _imported_names(ast.parse(path.read_text(), str(path)))
        graph[name] = {other for other in imported if other in modules and other != name}
    # The lifetime owner starts flows by name, from its table.
    graph["lifetime"] |= {module for module, _ in _flow_table().values()}
    return graph


def _flow_table() -> dict[str, tuple[str, str]]:
    source = (paths.FIRMWARE / "app" / "lifetime.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "FLOWS" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("app/lifetime.py has no FLOWS table")


def _phase_table() -> dict[str, tuple[str, ...]]:
    source = (paths.FIRMWARE / "app" / "lifetime.py").read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_PHASES" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("app/lifetime.py has no _PHASES table")


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of names (first repeated last), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for other in sorted(graph.get(name, ())):
            if state.get(other) == 1:
                return path[path.index(other):] + [other]
            if other not in state and (circle := visit(other)):
                return circle
        path.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (circle := visit(name)):
            return circle
    return None


def layer_rank(layer: str) -> int:
    return len(paths.FIRMWARE_LAYERS) if layer == "top" else paths.FIRMWARE_LAYERS.index(layer)


def test_the_layers_are_folders_of_the_firmware():
    folders = sorted(p.name for p in paths.FIRMWARE.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(paths.FIRMWARE_LAYERS)
    assert [p.name for p in paths.FIRMWARE.glob("*.py")] == ["main.py"], "only the boot entry sits at the top"


def test_no_import_circle_in_the_firmware():
    assert find_circle(import_graph()) is None


def test_every_import_runs_down_the_layers():
    modules = _modules()
    wrong = []
    for name, imported in import_graph().items():
        layer = modules[name][0]
        for other in imported:
            other_layer = modules[other][0]
            if layer == "boards":
                ok = other_layer in BOARD_MAY_IMPORT
            elif other_layer == "boards":
                ok = layer == "top"
            else:
                ok = layer_rank(other_layer) <= layer_rank(layer)
            if not ok:
                wrong.append(f"{layer}/{name} imports {other_layer}/{other}")
    assert not wrong, "imports against the layer order:\n" + "\n".join(sorted(wrong))


@pytest.mark.parametrize(("source", "circle"), [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": set(), "c": {"c2"}, "c2": {"c"}}, ["c", "c2", "c"]),
    ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, None),
])
def test_the_circle_finder_finds_circles(source, circle):
    assert find_circle(source) == circle


def test_an_import_inside_a_function_counts():
    tree = ast.parse("def f():\n    import journal\n    __import__('sale')\n"
                     "if TYPE_CHECKING:\n    from kinds import Txn\n")
    assert _imported_names(tree) == {"journal", "sale", "kinds"}


def test_the_lifetime_tables_name_modules_of_the_right_layers():
    modules = _modules()
    for name, (module, _) in _flow_table().items():
        assert modules[module][0] == "flows", name
    phases = _phase_table()
    expected = {"screens": {"flows", "domain"}, "keys": {"protocol"}, "link": {"protocol"}, "journal": {"store"},
                "send": {"send", "flows"}, "settings": {"store"}, "clock": {"send"}}
    for phase, names in phases.items():
        for module in names:
            assert module in modules, f"{phase}: no module {module}"
            assert modules[module][0] in expected[phase], f"{phase}: {module} is in {modules[module][0]}"
    # everything protocol/ holds for a send goes with the keys or the link
    protocol = {name for name, (layer, _) in modules.items() if layer == "protocol"}
    assert protocol == set(phases["keys"]) | set(phases["link"])
    # back at idle every module of a flow, a send and the store is dropped; the idle screen stays
    dropped = {name for names in phases.values() for name in names}
    loaded_for_work = {name for name, (layer, _) in modules.items() if layer in ("flows", "send", "store")}
    assert loaded_for_work - dropped == {"home"}


def test_the_firmware_type_check_sees_every_layer():
    import json

    config = json.loads((paths.FIRMWARE / "pyrightconfig.json").read_text())
    assert config["extraPaths"] == [*paths.FIRMWARE_LAYERS, "../boards"]

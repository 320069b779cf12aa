"""The package's layering, checked on the source: the simulation never imports decisions, data never
imports the simulation, and so on. Every ``import``/``from ... import`` inside ``mas_lib``
-- including imports inside functions -- is resolved to its subpackage and checked against the
allowed dependencies below. Also: no module grows past the size limit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "mas_lib"

#: what each layer may import from inside mas_lib (besides itself)
ALLOWED: dict[str, set[str]] = {
    "validation": set(),
    "files": set(),
    "progress": set(),
    "display": set(),
    "sim": {"validation", "files", "progress", "display"},
    "data": {"validation", "files", "progress", "display"},
    "forecast": {"validation", "files", "progress", "display", "data"},
    "decide": {"validation", "files", "progress", "display", "sim", "data", "forecast"},
    "messaging": {"validation", "files", "progress", "display", "sim", "decide"},
    "ops": {"validation", "files", "progress", "display", "sim", "data", "forecast", "decide"},
    "scale": {"validation", "files", "progress", "display", "sim", "data", "forecast", "decide"},
    "teach": {"validation", "files", "progress", "display", "sim", "data", "forecast", "decide", "messaging", "ops", "scale"},
    "__init__": {"validation", "files", "progress", "display", "sim", "data", "forecast", "decide", "teach", "messaging", "ops", "scale"},
}
MAX_LINES = 600


def _layer(module: str) -> str:
    """``mas_lib.sim.core`` -> ``sim``; ``mas_lib`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every mas_lib module imported by ``path`` (absolute names), with its line number."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "mas_lib"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "mas_lib":
                continue
            if node.module is None or target.count(".") == 0:  # from . import x / from mas_lib import x
                found += [(node.lineno, f"{target}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, target))
    return found


SOURCES = sorted(ROOT.rglob("*.py"))


def test_every_layer_is_known():
    layers = {_layer(_module_name(p)) for p in SOURCES}
    assert layers <= set(ALLOWED), f"add the new subpackage(s) {layers - set(ALLOWED)} to ALLOWED"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_imports_respect_the_layers(path):
    layer = _layer(_module_name(path))
    bad = [
        f"line {line}: imports {target}"
        for line, target in _imports(path)
        if _layer(target) != layer and _layer(target) not in ALLOWED[layer]
    ]
    assert not bad, f"{path.name} ({layer}) may only import {sorted(ALLOWED[layer])}: " + "; ".join(bad)


def test_the_checker_catches_a_violation(tmp_path):
    """The checker itself must be able to fail: a sim module importing decide is flagged."""
    fake = ROOT / "sim" / "_layering_probe.py"
    fake.write_text("from ..decide.policies import Policy\n")
    try:
        targets = [t for _, t in _imports(fake)]
    finally:
        fake.unlink()
    assert targets == ["mas_lib.decide.policies"]
    assert _layer(targets[0]) not in ALLOWED["sim"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_modules_hold_one_idea(path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.name} has {n} lines; split it by idea (limit {MAX_LINES})"

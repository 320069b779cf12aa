"""Docstrings that cite notebooks are true, in the spirit of d2l's back-references.

Every docstring in ``mas_lib`` that says "notebook 05" (or "notebooks 01, 02 and 06") must belong
to a symbol that notebook really uses: for a function or class, its name appears in the
notebook's code cells; for a method, its name or its class's name does; for a module, the
notebook imports the module or uses one of its public names.
"""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"[Nn]otebooks?\s+((?:\d\d)(?:\s*(?:,|and|or|-|–|,\s*and)\s*\d\d)*)")


@cache
def notebook_code() -> dict[str, str]:
    """Code of every notebook by its two-digit number."""
    out = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text())
        out[path.name[:2]] = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    return out


def cited(doc: str | None) -> set[str]:
    """The two-digit notebook numbers a docstring cites."""
    nums: set[str] = set()
    for m in CITATION.finditer(doc or ""):
        nums |= set(re.findall(r"\d\d", m.group(1)))
    return nums


def uses(code: str, name: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", code) is not None


def citations() -> list[tuple[str, str, tuple[str, ...], str]]:
    """(where, notebook, names that count as a use) for every citation in the package."""
    rows = []
    for path in sorted((ROOT / "mas_lib").rglob("*.py")):
        tree = ast.parse(path.read_text())
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        public = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")]
        if path.name == "__init__.py":  # a package is used when one of the names it re-exports is
            public += [a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names
                       if a.name != "*" and not (a.asname or a.name).startswith("_")]
        for nb in sorted(cited(ast.get_docstring(tree))):
            rows.append((module, nb, (module.rpartition(".")[2], module, *public), module))
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                continue
            for nb in sorted(cited(ast.get_docstring(node))):
                rows.append((f"{module}.{node.name}", nb, (node.name,), module))
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef):
                        for nb in sorted(cited(ast.get_docstring(sub))):
                            rows.append((f"{module}.{node.name}.{sub.name}", nb, (sub.name, node.name), module))
    return rows


def test_citation_pattern():
    assert cited("Notebooks 01, 02, 05 and 06 use it; notebook 04 too.") == {"01", "02", "04", "05", "06"}
    assert cited("see notebook 03") == {"03"} and cited("no notebook here") == set()


def test_the_check_can_fail():
    code = notebook_code()
    assert code, "no notebooks found"
    assert not uses(code["00"], "a_symbol_no_notebook_uses")


@pytest.mark.parametrize("where,notebook,names,module", citations(), ids=lambda v: v if isinstance(v, str) else None)
def test_cited_notebook_uses_the_symbol(where, notebook, names, module):
    code = notebook_code()
    assert notebook in code, f"{where} cites notebook {notebook}, which does not exist"
    assert any(uses(code[notebook], n) for n in names), (
        f"{where} says notebook {notebook} uses it, but notebook {notebook} mentions none of {list(names)}"
    )

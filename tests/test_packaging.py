"""pyproject.toml and environment.yml declare the same dependencies; the layout is complete."""

from __future__ import annotations

import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, vendored by pip
    import pip._vendor.tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_deps() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    deps = {_name(d) for d in data["project"]["dependencies"]}
    for extra in data["project"]["optional-dependencies"].values():
        deps |= {_name(d) for d in extra}
    return deps


def conda_deps() -> set[str]:
    names = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^\s*-\s+([A-Za-z0-9_.\-]+)", line)
        if m and not line.strip().startswith("#"):
            names.add(_name(m.group(1)))
    return names - {"python", "pip"}


def test_environment_yml_in_step_with_pyproject():
    py, conda = pyproject_deps(), conda_deps()
    assert py - conda == set(), f"in pyproject.toml but not environment.yml: {sorted(py - conda)}"
    assert conda - py == set(), f"in environment.yml but not pyproject.toml: {sorted(conda - py)}"


def test_required_packages_declared():
    assert {"jupyterlab", "numpy", "pandas", "matplotlib", "ipywidgets", "statsmodels", "gymnasium",
            "pettingzoo"} <= pyproject_deps()
    assert {"pytest", "nbval", "hypothesis", "ruff"} <= pyproject_deps()


def test_layout_and_ci_call_make_test():
    for p in ["notebooks", "mas_lib", "data", "tests", "benchmarks", "environment.yml", "pyproject.toml",
              "README.md", "Makefile", ".ci/run"]:
        assert (ROOT / p).exists(), p
    assert "make test" in (ROOT / ".ci/run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()


def test_notebooks_are_numbered_and_stripped():
    import json

    nbs = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert nbs, "no notebooks"
    for nb in nbs:
        assert re.match(r"^\d\d_[a-z0-9_]+\.ipynb$", nb.name), nb.name
        cells = json.loads(nb.read_text())["cells"]
        assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code"), f"{nb.name} has outputs"

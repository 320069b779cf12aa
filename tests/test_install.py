"""mas_lib works as an installed package, away from the repository: it is installed (not editable,
no network, no dependencies: they are the test environment's) into a temporary folder, and
notebook 00 runs from another temporary folder with only that install on the kernel's path. A
module or data file that exists in the checkout but is left out of the package fails here.

pip builds the package with the environment's setuptools (``--no-build-isolation``: offline). If
that setuptools is older than pyproject.toml's ``build-system.requires`` the build cannot run; the
test then says so (a warning with pip's reason) and installs what pyproject.toml declares instead:
every ``.py`` file of the packages ``packages.find`` selects plus the ``package-data`` globs, which is
what setuptools puts in the wheel. Set ``MAS_LIB_REQUIRE_BUILD=1`` to skip rather than fall back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, vendored by pip
    import pip._vendor.tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """``pip install --no-deps --no-build-isolation --target`` of a copy of the sources (so the
    build leaves no build/ or egg-info in the checkout); skipped with pip's reason if it fails."""
    tmp = tmp_path_factory.mktemp("install")
    src, target = tmp / "src", tmp / "site"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "mas_lib", src / "mas_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                           "--no-index", "--quiet", "--target", str(target), str(src)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp)
    if proc.returncode == 0:
        return target
    reason = f"pip cannot build mas_lib offline here: {_why(proc.stderr)}"
    if os.environ.get("MAS_LIB_REQUIRE_BUILD") == "1":
        pytest.skip(reason)
    warnings.warn(f"{reason}; installing what pyproject.toml declares instead", stacklevel=1)
    print(reason, file=sys.stderr)
    _install_declared(src, target)
    return target


def _why(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if "error" in ln.lower() and ln.strip()]
    return " | ".join(lines[:3]) or stderr.strip()[-300:]


def _install_declared(src: Path, target: Path) -> None:
    """Copy what setuptools would package: the ``.py`` files under the ``packages.find`` include
    patterns (namespace packages included, setuptools' default) and the ``package-data`` globs."""
    tool = tomllib.loads((src / "pyproject.toml").read_text())["tool"]["setuptools"]
    roots = [pat.rstrip("*") for pat in tool["packages"]["find"]["include"]]
    files = {p for root in roots for p in src.glob(f"{root}*/**/*.py")}
    for package, globs in tool.get("package-data", {}).items():
        folder = src.joinpath(*package.split("."))
        files |= {p for g in globs for p in folder.glob(g) if p.is_file()}
    for p in files:
        dest = target / p.relative_to(src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, dest)


def test_package_data_is_installed(installed):
    shipped = {p.name for p in (ROOT / "mas_lib" / "teach" / "published_results").iterdir()}
    got = {p.name for p in (installed / "mas_lib" / "teach" / "published_results").iterdir()}
    assert shipped <= got
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "mas_lib").rglob("*.py")}
    assert modules <= {p.relative_to(installed).as_posix() for p in (installed / "mas_lib").rglob("*.py")}


def test_notebook_00_runs_from_the_installed_package_in_another_folder(installed, tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    nb = nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4)
    # appended to the copy in memory: where mas_lib came from, and the package data read through it
    nb.cells.append(nbformat.v4.new_code_cell(
        "import mas_lib\nfrom mas_lib.teach.published import published\n"
        "print('FROM', mas_lib.__file__)\nprint('ROWS', len(published('deep_rl.csv')))"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MAS_LIB_ONLINE_RETAIL")}
    env["PYTHONPATH"] = str(installed)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(work)}})
    client.execute(env=env, cwd=str(work))
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    origin = Path(out.split("FROM ", 1)[1].split()[0])
    assert origin.is_relative_to(installed), origin
    assert int(out.split("ROWS ", 1)[1].split()[0]) > 0

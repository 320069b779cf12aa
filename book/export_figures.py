"""Write every figure of the notebooks as a PNG for slides: build/figures/NN_name/cellCC_K.png, an
index.html per notebook and build/figures/index.html (``make figures``; mas_lib.teach.figures).

    python book/export_figures.py            # every notebook
    python book/export_figures.py 01 06      # two of them

A notebook is taken from the book's executed copy (build/jupyter-book/_build/jupyter_execute/,
written by ``make book``) when that copy is newer than the notebook; otherwise it is executed here
in a fresh kernel. A notebook that fails is reported and the others are still exported.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from mas_lib.teach.course import run_notebook
from mas_lib.teach.figures import export_figures, write_index

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXECUTED = ROOT / "build" / "jupyter-book" / "_build" / "jupyter_execute" / "notebooks"


def executed(path: Path) -> nbformat.NotebookNode:
    """The book's executed copy of ``path`` if it is up to date, else a fresh run."""
    copy = EXECUTED / path.name
    if copy.is_file() and copy.stat().st_mtime >= path.stat().st_mtime:
        return nbformat.read(copy, as_version=4)
    return run_notebook(path)[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("only", nargs="*", help="notebook number prefixes (default: all)")
    ap.add_argument("--notebooks", type=Path, default=NOTEBOOKS)
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "figures")
    args = ap.parse_args(argv)
    paths = sorted(args.notebooks.glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        paths = [p for p in paths if p.name[:2] in args.only]
    done, failed = {}, []
    for p in paths:
        try:
            done[p.stem] = export_figures(executed(p), args.out / p.stem, title=p.stem)
            print(f"{p.stem}: {len(done[p.stem])} figures")
        except Exception as exc:  # noqa: BLE001 - one failure must not lose the other notebooks
            failed.append(p.stem)
            print(f"{p.stem}: failed ({type(exc).__name__}: {str(exc)[:200]})", file=sys.stderr)
    print(f"index: {write_index(args.out, done)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

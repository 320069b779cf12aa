"""Slide-friendly figures: every PNG output of an executed notebook written as a file, with an
index page per notebook and one for all of them (``make figures``, ``book/export_figures.py``;
the course page's "Slides" section).

A figure is named after its place in the notebook, ``cell07_1.png`` for the first image of code
cell 7 (cells counted from 0 over all cells), and captioned with the nearest heading above it, so a
teacher can find it in the notebook again.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from mas_lib.files import atomic_write

__all__ = ["Figure", "figures_of", "export_figures", "write_index"]

_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)


@dataclass(frozen=True)
class Figure:
    """One PNG output of a notebook."""

    cell: int        #: index of the code cell among all cells
    number: int      #: 1 for the cell's first image, 2 for its second, ...
    heading: str     #: nearest markdown heading above the cell ("" if none)
    png: bytes       #: the image

    @property
    def name(self) -> str:
        """File name, e.g. ``cell07_1.png``."""
        return f"cell{self.cell:02d}_{self.number}.png"


def figures_of(nb: nbformat.NotebookNode | str | Path) -> list[Figure]:
    """Every ``image/png`` output of an executed notebook (or the path of one), in order.

    A notebook stored without outputs has no figures: execute it first.
    """
    book = nbformat.read(str(nb), as_version=4) if isinstance(nb, (str, Path)) else nb
    found, heading = [], ""
    for i, cell in enumerate(book.cells):
        if cell.cell_type == "markdown":
            titles = _HEADING.findall(cell.source)
            heading = titles[-1] if titles else heading
            continue
        if cell.cell_type != "code":
            continue
        n = 0
        for out in cell.get("outputs", []):
            data = out.get("data", {}).get("image/png")
            if data:
                n += 1
                found.append(Figure(i, n, heading, base64.b64decode(data)))
    return found


def _page(title: str, items: list[tuple[str, str]]) -> str:
    body = "\n".join(f'<figure><a href="{html.escape(src)}"><img src="{html.escape(src)}" '
                     f'style="max-width:45%"></a><figcaption>{html.escape(cap)}</figcaption></figure>'
                     for src, cap in items) or "<p>No figures.</p>"
    return (f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"</head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def export_figures(nb: nbformat.NotebookNode | str | Path, out_dir: str | Path, title: str) -> list[Path]:
    """Write every figure of ``nb`` as a PNG into ``out_dir`` with an ``index.html`` showing them
    under their headings; return the PNG paths. Files from an earlier export that the notebook no
    longer produces are removed, so the folder always matches the notebook."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figs = figures_of(nb)
    keep = {f.name for f in figs}
    for old in out.glob("cell*_*.png"):
        if old.name not in keep:
            old.unlink()
    paths = []
    for f in figs:
        with atomic_write(out / f.name, "wb") as fh:
            fh.write(f.png)
        paths.append(out / f.name)
    with atomic_write(out / "index.html", "w", encoding="utf-8") as fh:
        fh.write(_page(title, [(f.name, f"{f.heading} (cell {f.cell}, figure {f.number})") for f in figs]))
    return paths


def write_index(root: str | Path, exported: dict[str, list[Path]]) -> Path:
    """``root/index.html`` linking each notebook's folder, with its number of figures."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rows = "\n".join(f'<li><a href="{html.escape(name)}/index.html">{html.escape(name)}</a>: '
                     f"{len(paths)} figure{'s' * (len(paths) != 1)}</li>"
                     for name, paths in sorted(exported.items()))
    with atomic_write(root / "index.html", "w", encoding="utf-8") as fh:
        fh.write("<!doctype html>\n<html><head><meta charset='utf-8'><title>Figures</title></head>"
                 f"<body><h1>Figures of the notebooks</h1>\n<ul>\n{rows}\n</ul></body></html>\n")
    return root / "index.html"

"""``make book``: execute every notebook in a fresh kernel and render the collection to HTML.

``python -m mas_lib.teach.book --notebooks notebooks --out build/book`` writes one HTML page per
notebook (executed top to bottom in a new kernel, in notebook order) and an ``index.html`` that
lists them in order with their titles and run times. Nothing is written back to ``notebooks/``:
the committed notebooks stay without outputs.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BookEntry", "notebook_title", "ordered_notebooks", "index_html", "build_book"]


@dataclass
class BookEntry:
    """One rendered notebook: its file, title, output page and execution time [s]."""

    source: Path
    title: str
    page: str
    seconds: float
    error: str | None = None


def ordered_notebooks(folder: Path) -> list[Path]:
    """Notebooks named ``NN_name.ipynb`` in numeric order (others are ignored); for ``make book``."""
    nbs = [p for p in Path(folder).glob("*.ipynb") if re.match(r"^\d+_", p.name)]
    return sorted(nbs, key=lambda p: (int(p.name.split("_", 1)[0]), p.name))


def notebook_title(path: Path) -> str:
    """The first Markdown heading of the notebook, else its file name; for ``make book``."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = "".join(cell.get("source", ""))
            m = re.search(r"^#\s+(.+)$", src, flags=re.M)
            if m:
                return m.group(1).strip()
    return Path(path).stem


def index_html(entries: list[BookEntry], title: str = "mas_lib: the notebooks") -> str:
    """The index page (HTML text): entries in the given order, with a link, title, run time [s]
    and any error; for ``make book``."""
    items = []
    for e in entries:
        status = f" <em>failed: {html.escape(e.error)}</em>" if e.error else ""
        items.append(
            f'<li><a href="{html.escape(e.page)}">{html.escape(e.title)}</a> '
            f"<small>({e.seconds:.0f} s)</small>{status}</li>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:46rem;margin:2rem auto;line-height:1.5}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>"
        "<p>Executed top to bottom in a fresh kernel by <code>make book</code>.</p>"
        f"<ol>{''.join(items)}</ol></body></html>\n"
    )


def build_book(notebooks: Path, out: Path, timeout: int = 900) -> list[BookEntry]:
    """Execute and render every notebook of ``notebooks`` into ``out``; returns the entries.
    A failing notebook is still rendered (with its error) and reported in the index. ``timeout``
    is per cell [s]. This is ``make book`` (it serves every notebook, not one paper section)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter()
    entries = []
    for path in ordered_notebooks(Path(notebooks)):
        nb = nbformat.read(path, as_version=4)
        t0 = time.perf_counter()
        error = None
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        except CellExecutionError as exc:
            error = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else "cell error"
        seconds = time.perf_counter() - t0
        body, _ = exporter.from_notebook_node(nb)
        page = path.with_suffix(".html").name
        (out / page).write_text(body, encoding="utf-8")
        entries.append(BookEntry(path, notebook_title(path), page, seconds, error))
        print(f"{path.name}: {seconds:.1f} s{' FAILED: ' + error if error else ''}", flush=True)
    (out / "index.html").write_text(index_html(entries), encoding="utf-8")
    return entries


def main(argv: list[str] | None = None) -> int:
    """Command line of ``make book``; returns the exit status (1 if any notebook failed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", default="notebooks")
    parser.add_argument("--out", default="build/book")
    args = parser.parse_args(argv)
    entries = build_book(Path(args.notebooks), Path(args.out))
    print(f"wrote {len(entries)} pages and {Path(args.out) / 'index.html'}")
    return 1 if any(e.error for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main())

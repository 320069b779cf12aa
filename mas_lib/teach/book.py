"""``make book``: execute every notebook in a fresh kernel and render the collection to HTML.

``python -m mas_lib.teach.book --notebooks notebooks --out build/book`` writes one HTML page per
notebook (each executed top to bottom in a new kernel; two at a time by default) and an
``index.html``: one line per notebook (its title, what you learn, run time), the paper's
citation, the commit and the build date. Every page has previous / next links. The book reads
offline: formulas are typeset by a local copy of MathJax 2 taken from the
``jupyter-server-mathjax`` package (a declared dependency) and copied to ``<out>/mathjax``; no
page loads anything from the network for its formulas. A widget output (a live panel needs a
kernel) is replaced by a note saying how to run it live; the Q-learning notebook draws a
representative run of its panel as a static figure in the next cell. A code cell tagged
``hide-cell`` or ``hide-input`` (the exercises' worked solutions) is shown collapsed, as a
``<details>`` block with its code and text output (:func:`collapse_hidden_cells`). Nothing is written back to ``notebooks/``: the
committed notebooks stay without outputs. Pages and the index are written through
:func:`mas_lib.files.atomic_write` (a killed build leaves the previous page, never half of one).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import html
import json
import multiprocessing as mp
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..files import atomic_write

__all__ = ["BookEntry", "notebook_title", "notebook_summary", "ordered_notebooks", "index_html", "build_book",
           "mathjax_source", "nav_html", "replace_widget_outputs", "collapse_hidden_cells", "HIDDEN_TAGS", "PAPER_CITATION", "SUMMARIES", "MATHJAX_URL",
           "MATHJAX_CONFIG"]

#: How the paper is cited on the index page.
PAPER_CITATION = ("Dong S., Zou A., Zhou Y., Peng Y. Cross-border E-commerce Inventory Multi-agent System "
                  "Construction. Business School, Foshan University.")
#: What a reader learns in each notebook (the index's one line), by file name without ``.ipynb``;
#: a notebook not listed gets the first sentence of its introduction (:func:`notebook_summary`).
SUMMARIES = {
    "00_start_here": "The map: what the collection builds, the paper's system part by part, a glossary, a first simulated day.",
    "01_why_traditional_inventory_fails": "The paper's four problems of static inventory rules, each measured in a small controlled experiment.",
    "02_the_paper_scenario": "The paper's state, actions and reward made precise; its two-day example replayed; the errata.",
    "03_data_preparation": "From raw invoice lines of the UCI Online Retail data to clean daily demand per market.",
    "04_demand_forecasting": "Demand forecasts from naive to count regression, scored by a rolling backtest; safety stock.",
    "05_q_learning": "Tabular Q-learning written out, trained vectorised, and measured against the exact optimum.",
    "06_optimal_benchmark": "The exact optimum by dynamic programming, and every policy's gap to it.",
    "07_agents_that_talk": "Warehouses that message each other: protocols, allocation of scarce supply, decentralised learners near the optimum, the value of information.",
    "08_the_system_in_operation": "A year of the retailer's digital twin on real demand: forecasts, decisions, KPIs, alerts, drift and retraining.",
    "09_deep_rl": "Where tables run out: a numpy network, DQN with replay and a target network, the policy gradient and PPO, measured against the exact optimum.",
}
#: Where each page loads MathJax from: the local copy inside the book folder.
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
#: Set before MathJax loads: the bundled MathJax ships only the STIX-Web fonts (as Jupyter's own
#: configuration expects), so the HTML-CSS output must use them and look for no other font.
MATHJAX_CONFIG = ('<script type="text/x-mathjax-config">MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], '
                  'preferredFont: null, webFont: "STIX-Web", imageFont: null}});</script>')
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_REMOTE_SCRIPT = re.compile(r"<script[^>]*\ssrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>\s*")
WIDGET_NOTE = (
    "<div class='widget-note' style='border:1px solid #c9a227;background:#fff8e1;padding:.6em 1em;margin:.5em 0'>"
    "<b>Interactive panel.</b> A static page cannot run a kernel, so the panel is not shown here. "
    "To use it live, open this notebook in JupyterLab (<code>make lab</code>) and run it; the "
    "figure in the next cell is a representative run of the panel.</div>"
)


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


def notebook_summary(path: Path) -> str:
    """What a reader learns in a notebook, in one line: :data:`SUMMARIES` for its file name, else
    the first sentence of the first paragraph after its title; for ``make book``."""
    path = Path(path)
    if path.stem in SUMMARIES:
        return SUMMARIES[path.stem]
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for para in re.split(r"\n\s*\n", "".join(cell.get("source", ""))):
            text = " ".join(para.split())
            if text and not text.startswith(("#", "**Paper", "|", "-", "*")):
                text = re.sub(r"[*_`]", "", text)
                return re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return ""


def _git_commit(folder: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain"], capture_output=True, text=True,
                               timeout=10, check=True).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"


def index_html(entries: list[BookEntry], title: str = "mas_lib: the notebooks", commit: str = "unknown",
               built: str = "", summaries: dict[str, str] | None = None) -> str:
    """The index page (HTML text): one line per notebook in the given order (link, title, what
    you learn from ``summaries[page]``, run time [s], any error), the paper's citation, the
    ``commit`` the book was built from and the build date ``built``; for ``make book``."""
    summaries = summaries or {}
    items = []
    for e in entries:
        status = f" <em>failed: {html.escape(e.error)}</em>" if e.error else ""
        what = summaries.get(e.page, "")
        what = f" &mdash; {html.escape(what)}" if what else ""
        items.append(
            f'<li><a href="{html.escape(e.page)}">{html.escape(e.title)}</a>{what} '
            f"<small>({e.seconds:.0f} s)</small>{status}</li>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:50rem;margin:2rem auto;line-height:1.5}"
        "li{margin:.4em 0}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>"
        "<p>A teaching collection that builds, measures and questions the system proposed in: "
        f"<cite>{html.escape(PAPER_CITATION)}</cite></p>"
        "<p>Each notebook was executed top to bottom in a fresh kernel by <code>make book</code>. "
        "The pages read offline (formulas by a local copy of MathJax).</p>"
        f"<ol>{''.join(items)}</ol>"
        f"<p><small>Built from commit <code>{html.escape(commit)}</code> on {html.escape(built)}.</small></p>"
        "</body></html>\n"
    )


def nav_html(prev: BookEntry | None, nxt: BookEntry | None) -> str:
    """The navigation bar of a page: previous notebook, the index, next notebook; for ``make book``."""
    left = f'&larr; <a href="{html.escape(prev.page)}">{html.escape(prev.title)}</a>' if prev else ""
    right = f'<a href="{html.escape(nxt.page)}">{html.escape(nxt.title)}</a> &rarr;' if nxt else ""
    return (
        "<nav class='book-nav' style='display:flex;justify-content:space-between;gap:1em;font-family:sans-serif;"
        "padding:.5em 1em;border-bottom:1px solid #ddd;background:#fafafa'>"
        f"<span>{left}</span><span><a href='index.html'>contents</a></span><span>{right}</span></nav>"
    )


def replace_widget_outputs(nb) -> int:
    """Replace every widget output of an executed notebook (``nbformat`` node, changed in place)
    by :data:`WIDGET_NOTE`, which says how to run the panel live; returns how many were
    replaced, and drops the saved widget state. For ``make book``: a static page has no kernel
    to drive a widget."""
    count = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_MIME in data:
                out["data"] = {"text/html": WIDGET_NOTE, "text/plain": "[interactive panel: run the notebook live]"}
                count += 1
    nb.metadata.pop("widgets", None)  # no widget state: nothing for a widget manager to load
    return count

#: The cell tags (Jupyter Book's) of a code cell the book shows collapsed: the worked solutions.
HIDDEN_TAGS = frozenset({"hide-cell", "hide-input"})


def _as_text(outputs) -> str:
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
    return "\n".join(p.rstrip("\n") for p in parts if p)


def collapse_hidden_cells(nb) -> int:
    """Replace every code cell tagged with one of :data:`HIDDEN_TAGS` of an executed notebook
    (``nbformat`` node, changed in place) by a markdown cell holding a closed ``<details>`` block
    with the cell's code and its text output; returns how many were replaced. For ``make book``:
    a worked solution stays one click away instead of printing its answer under the questions."""
    import nbformat

    count = 0
    for k, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code" or not HIDDEN_TAGS.intersection(cell.get("metadata", {}).get("tags", [])):
            continue
        source = "".join(cell.get("source", ""))
        first = source.lstrip().splitlines()[0].lstrip("# ").strip() if source.strip() else ""
        summary = html.escape(first or "Solution code")
        text = _as_text(cell.get("outputs", []))
        body = f"```python\n{source}\n```\n" + (f"\nOutput:\n\n```\n{text}\n```\n" if text else "")
        nb.cells[k] = nbformat.v4.new_markdown_cell(f"<details><summary>{summary}</summary>\n\n{body}\n</details>")
        count += 1
    return count


def mathjax_source() -> Path:
    """The folder of MathJax 2 shipped by the ``jupyter-server-mathjax`` package (the book's
    offline formulas); raises ``RuntimeError`` saying what to install if it is missing."""
    try:
        import jupyter_server_mathjax
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise RuntimeError("make book needs the package jupyter-server-mathjax (pip install -e '.[dev]')") from exc
    folder = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (folder / "MathJax.js").exists():  # pragma: no cover
        raise RuntimeError(f"no MathJax.js in {folder}")
    return folder


def _copy_mathjax(out: Path) -> None:
    target = out / "mathjax"
    if (target / "MathJax.js").exists():
        return
    shutil.copytree(mathjax_source(), target, ignore=shutil.ignore_patterns("*.map"))


def _execute(path: Path, timeout: int):
    """Run one notebook in a fresh kernel; returns ``(notebook, seconds, error or None)``. A cell
    error, a cell over ``timeout`` seconds or a dead kernel is recorded, not raised."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    error = None
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        lines = [line for line in str(exc).splitlines() if line.strip("- ")]
        # a cell error ends with the exception; a timeout or a dead kernel says so first
        pick = lines[-1] if isinstance(exc, CellExecutionError) and lines else (lines[0] if lines else "")
        error = pick.strip()[:200] or type(exc).__name__
    return nb, time.perf_counter() - t0, error


def build_book(notebooks: Path, out: Path, timeout: int = 900, workers: int = 2) -> list[BookEntry]:
    """Execute and render every notebook of ``notebooks`` into ``out``; returns the entries.
    A failing notebook is still rendered (with its error) and reported in the index. ``timeout``
    is per cell [s]; ``workers`` notebooks run at once, each in its own process and kernel. Pages get
    previous / next links, widget outputs become a note (:func:`replace_widget_outputs`) and
    formulas use the local MathJax copied to ``out/mathjax``. This is ``make book`` (it serves
    every notebook, not one paper section)."""
    from nbconvert import HTMLExporter

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _copy_mathjax(out)
    paths = ordered_notebooks(Path(notebooks))
    # a fresh process per notebook: a kernel client that had already run other notebooks in the
    # same thread or process hung for the whole cell timeout after notebook 08's widget cell
    # (run first in a fresh process it takes 12 s)
    with ProcessPoolExecutor(max_workers=max(1, int(workers)), mp_context=mp.get_context("spawn"),
                             max_tasks_per_child=1) as pool:
        runs = list(pool.map(_execute, paths, [timeout] * len(paths)))
    entries = [BookEntry(p, notebook_title(p), p.with_suffix(".html").name, sec, err)
               for p, (_, sec, err) in zip(paths, runs, strict=True)]
    exporter = HTMLExporter(mathjax_url=MATHJAX_URL)
    for k, (entry, (nb, _, _)) in enumerate(zip(entries, runs, strict=True)):
        replace_widget_outputs(nb)
        collapse_hidden_cells(nb)  # the worked solutions: collapsed, not printed under the questions
        body, _ = exporter.from_notebook_node(nb)
        nav = nav_html(entries[k - 1] if k > 0 else None, entries[k + 1] if k + 1 < len(entries) else None)
        body = _REMOTE_SCRIPT.sub("", body)  # require.js from a CDN: only widgets need it, and they are gone
        body = body.replace('<script src="mathjax/', MATHJAX_CONFIG + '<script src="mathjax/', 1)
        body = re.sub(r"(<body[^>]*>)", lambda m, nav=nav: m.group(1) + nav, body, count=1)
        body = body.replace("</body>", nav + "</body>", 1)
        with atomic_write(out / entry.page, "w") as fh:  # a killed build never leaves half a page
            fh.write(body)
        print(f"{entry.source.name}: {entry.seconds:.1f} s{' FAILED: ' + entry.error if entry.error else ''}",
              flush=True)
    built = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    summaries = {e.page: notebook_summary(e.source) for e in entries}
    index = index_html(entries, commit=_git_commit(Path(notebooks)), built=built, summaries=summaries)
    with atomic_write(out / "index.html", "w") as fh:
        fh.write(index)
    return entries


def main(argv: list[str] | None = None) -> int:
    """Command line of ``make book``; returns the exit status (1 if any notebook failed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", default="notebooks")
    parser.add_argument("--out", default="build/book")
    parser.add_argument("--workers", type=int, default=2, help="notebooks executed at once")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    entries = build_book(Path(args.notebooks), Path(args.out), workers=args.workers)
    print(f"wrote {len(entries)} pages and {Path(args.out) / 'index.html'} in {time.perf_counter() - t0:.0f} s")
    return 1 if any(e.error for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main())

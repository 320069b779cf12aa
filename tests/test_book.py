"""`make book` (Jupyter Book, book/): the real book's table of contents and config, and a tiny book
built with the same config and extension in a temporary folder: order, titles, failed notebooks,
offline maths, widget outputs, the execution cache."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
NUMBERED = re.compile(r"^\d+_")


def _toc_files(book: Path = BOOK) -> list[str]:
    return [c["file"] for c in yaml.safe_load((book / "_toc.yml").read_text())["chapters"]]


def test_toc_and_index_list_every_notebook_in_order():
    notebooks = sorted((p for p in (ROOT / "notebooks").glob("*.ipynb") if NUMBERED.match(p.name)),
                       key=lambda p: int(p.name.split("_", 1)[0]))
    expected = [f"notebooks/{p.stem}" for p in notebooks]
    # the course page (syllabus) first, the notebooks in order, the teacher notes, the benchmark tables (docs/benchmarks.md)
    assert _toc_files() == ["course", *expected, "teacher_notes", "benchmarks"]
    # the landing page: one line per notebook, in order, each with what the reader learns
    lines = [ln for ln in (BOOK / "index.md").read_text().splitlines() if ln.startswith("- {doc}")]
    assert [re.search(r"`(.+?)`", ln).group(1) for ln in lines] == expected
    assert all(len(ln.split(" — ", 1)[1]) > 20 for ln in lines)
    assert "Foshan University" in (BOOK / "index.md").read_text()
    # the book reaches the notebooks through a link, never through copies
    assert (BOOK / "notebooks").is_symlink() and (BOOK / "notebooks").resolve() == ROOT / "notebooks"


def test_config_executes_in_fresh_kernels_cached_and_offline():
    cfg = yaml.safe_load((BOOK / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "cache" and cfg["execute"]["allow_errors"] is False
    assert 60 <= cfg["execute"]["timeout"] <= 900
    assert "sphinx-mathjax-offline" in cfg["sphinx"]["extra_extensions"]
    assert cfg["sphinx"]["config"]["nb_ipywidgets_js"] == {}
    assert not cfg["launch_buttons"]["thebe"]  # Thebe would load its kernel code from a CDN
    assert "mas_book" in cfg["sphinx"]["local_extensions"]


def _nb(path: Path, title: str, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nThe formula $x^2 + \\sum_i y_i$.")]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _count(counter: Path) -> str:
    """A cell that adds a line to ``counter`` each time the notebook is executed."""
    return f"with open({str(counter)!r}, 'a') as f:\n    f.write('run\\n')"


def _runs(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def _build(book: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTER_BOOK), "build", str(book), "--path-output", str(out)],
                          capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A book of four notebooks (works, raises, a cell over the timeout, the kernel dies) with the real config
    (timeout 4 s), extension and landing page layout, built once."""
    tmp = tmp_path_factory.mktemp("book")
    book, runs = tmp / "book", tmp / "runs"
    (book / "notebooks").mkdir(parents=True)
    runs.mkdir()
    shutil.copytree(BOOK / "_ext", book / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    cfg = yaml.safe_load((BOOK / "_config.yml").read_text())
    cfg["execute"]["timeout"] = 4
    (book / "_config.yml").write_text(yaml.safe_dump(cfg))
    names = ["00_works", "01_breaks", "02_hangs", "03_dies"]
    (book / "_toc.yml").write_text(yaml.safe_dump(
        {"format": "jb-book", "root": "index", "chapters": [{"file": f"notebooks/{n}"} for n in names]}))
    (book / "index.md").write_text("# Tiny book\n\n" + "".join(f"- {{doc}}`notebooks/{n}` — about {n}\n"
                                                           for n in names))
    nbs = book / "notebooks"
    _nb(nbs / "00_works.ipynb", "Works", _count(runs / "00"), "print(6 * 7)",
        "import ipywidgets\nipywidgets.IntSlider()")
    _nb(nbs / "01_breaks.ipynb", "Breaks", _count(runs / "01"), "raise ValueError('on purpose')")
    _nb(nbs / "02_hangs.ipynb", "Hangs", _count(runs / "02"), "import time\ntime.sleep(60)")
    _nb(nbs / "03_dies.ipynb", "Dies", _count(runs / "03"), "import os\nos._exit(1)")
    first = _build(book, tmp / "out")
    return {"book": book, "html": tmp / "out" / "_build" / "html", "runs": runs, "first": first,
            "build": lambda: _build(book, tmp / "out")}


def test_pages_in_order_with_titles(tiny):
    index = (tiny["html"] / "index.html").read_text()
    article = index.split('id="main-content"', 1)[1]
    pos = [article.index(f'href="notebooks/{n}.html"') for n in ["00_works", "01_breaks", "02_hangs"]]
    assert pos == sorted(pos)
    for title in ["Works", "Breaks", "Hangs"]:
        assert re.search(rf">\s*{title}\s*<", article), title
    page = (tiny["html"] / "notebooks" / "00_works.html").read_text()
    assert "42" in page and 'href="01_breaks.html"' in page  # the output; the link to the next page


def test_failed_notebooks_shown_failed_and_the_build_exits_1(tiny):
    first = tiny["first"]
    log = first.stdout + first.stderr
    assert first.returncode == 1, log[-3000:]
    assert re.search(r"3 notebook\(s\) failed", log)
    assert "notebooks/01_breaks: ValueError: on purpose" in log and "notebooks/02_hangs: CellTimeoutError" in log
    assert "notebooks/03_dies: DeadKernelError" in log
    breaks = (tiny["html"] / "notebooks" / "01_breaks.html").read_text()
    assert "mas-book-failed" in breaks and "ValueError: on purpose" in breaks and "raise ValueError" in breaks
    hangs = (tiny["html"] / "notebooks" / "02_hangs.html").read_text()
    assert "mas-book-failed" in hangs and "timed out" in hangs
    assert "mas-book-failed" not in (tiny["html"] / "notebooks" / "00_works.html").read_text()
    assert "ValueError: on purpose" in (tiny["html"] / "reports" / "notebooks" / "01_breaks.err.log").read_text()
    # executed once each (not again by MyST-NB), the others finished; sources keep no outputs
    assert [_runs(tiny["runs"] / n) for n in ["00", "01", "02", "03"]] == [1, 1, 1, 1]
    assert "mas-book-failed" in (tiny["html"] / "notebooks" / "03_dies.html").read_text()
    for nb in (tiny["book"] / "notebooks").glob("*.ipynb"):
        assert not any(c.get("outputs") for c in nbformat.read(nb, as_version=4).cells)


def test_notebook_pages_have_binder_and_colab_buttons(tiny):
    page = (tiny["html"] / "notebooks" / "00_works.html").read_text()
    assert "https://mybinder.org/v2/gh/SET-ME-OWNER/SET-ME-REPO/main?urlpath=lab/tree/" in page
    assert "https://colab.research.google.com/github/SET-ME-OWNER/SET-ME-REPO/blob/main/" in page


def test_maths_and_every_script_are_local(tiny):
    pages = list(tiny["html"].rglob("*.html"))
    scripts = [s for p in pages for s in re.findall(r"<script[^>]*\ssrc=[\"']([^\"']+)", p.read_text())]
    assert scripts and not [s for s in scripts if s.startswith(("http:", "https:", "//"))]
    assert not [p for p in pages if re.search(r"(https?:)?//[^\s\"']+\.js\b", p.read_text())]
    page = (tiny["html"] / "notebooks" / "00_works.html").read_text()
    assert '_static/mathjax/tex-chtml.js' in page and "x^2" in page
    assert (tiny["html"] / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert (tiny["html"] / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_widget_output_becomes_a_note(tiny):
    page = (tiny["html"] / "notebooks" / "00_works.html").read_text()
    assert "Interactive panel" in page and "make lab" in page
    assert "widget-view+json" not in page and "widget-state+json" not in page


def test_second_build_runs_only_the_failed_notebooks_again(tiny):
    again = tiny["build"]()
    assert again.returncode == 1
    assert [_runs(tiny["runs"] / n) for n in ["00", "01", "02", "03"]] == [1, 2, 2, 2]
    assert "mas_book: executing 3 notebook(s)" in again.stdout + again.stderr


def test_the_longest_notebooks_start_first():
    sys.path.insert(0, str(BOOK / "_ext"))
    try:
        from mas_book import _expected_seconds
    finally:
        sys.path.remove(str(BOOK / "_ext"))

    class Record:
        def __init__(self, uri, seconds, created):
            self.uri, self.data, self.created = uri, {"execution_seconds": seconds}, created

    class Cache:
        def list_cache_records(self):  # two runs of a.ipynb (the later one counts), one of b
            return [Record("/a.ipynb", 50.0, 1), Record("/a.ipynb", 5.0, 2), Record("/b.ipynb", 20.0, 1)]

    order = [Path("/a.ipynb"), Path("/b.ipynb"), Path("/c.ipynb"), Path("/d.ipynb")]
    uris = sorted(map(str, order), key=lambda u: _expected_seconds(Cache(), u, order), reverse=True)
    assert uris == ["/d.ipynb", "/c.ipynb", "/b.ipynb", "/a.ipynb"]

"""`make book`: notebook order, titles, index page, and a real execution of a tiny notebook."""

from __future__ import annotations

import nbformat

from mas_lib.teach.book import BookEntry, build_book, index_html, notebook_title, ordered_notebooks


def _nb(path, title, code="x = 1 + 1\nprint(x)"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\ntext"), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_order_and_titles(tmp_path):
    for name in ["10_ten.ipynb", "02_two.ipynb", "00_zero.ipynb", "scratch.ipynb"]:
        _nb(tmp_path / name, name.split(".")[0].title())
    order = [p.name for p in ordered_notebooks(tmp_path)]
    assert order == ["00_zero.ipynb", "02_two.ipynb", "10_ten.ipynb"]
    assert notebook_title(tmp_path / "02_two.ipynb") == "02_Two"


def test_index_lists_entries_in_order_and_errors(tmp_path):
    html = index_html([BookEntry(tmp_path / "a", "First & best", "a.html", 1.0),
                       BookEntry(tmp_path / "b", "Second", "b.html", 2.0, error="boom")])
    assert html.index("a.html") < html.index("b.html")
    assert "First &amp; best" in html and "failed: boom" in html


def test_build_executes_and_renders(tmp_path):
    src = tmp_path / "nbs"
    src.mkdir()
    _nb(src / "00_ok.ipynb", "Works", "print(6 * 7)")
    _nb(src / "01_bad.ipynb", "Breaks", "raise ValueError('on purpose')")
    entries = build_book(src, tmp_path / "out")
    assert [e.error is None for e in entries] == [True, False]
    page = (tmp_path / "out" / "00_ok.html").read_text()
    assert "42" in page
    assert (tmp_path / "out" / "index.html").exists()
    # the sources stay without outputs
    assert not nbformat.read(src / "00_ok.ipynb", as_version=4).cells[1].get("outputs")


def test_a_cell_over_the_timeout_is_reported_not_raised(tmp_path):
    src = tmp_path / "nbs"
    src.mkdir()
    _nb(src / "00_slow.ipynb", "Slow", "import time\ntime.sleep(30)")
    _nb(src / "01_ok.ipynb", "Works", "print(6 * 7)")
    entries = build_book(src, tmp_path / "out", timeout=2)
    assert entries[0].error is not None and "2 seconds" in entries[0].error
    assert entries[1].error is None and "42" in (tmp_path / "out" / "01_ok.html").read_text()


def test_index_has_summaries_citation_commit_and_date(tmp_path):
    from mas_lib.teach.book import PAPER_CITATION

    page = index_html([BookEntry(tmp_path / "a", "A", "a.html", 1.0)], commit="abc123", built="2026-01-02 03:04 UTC",
                      summaries={"a.html": "what you learn in A"})
    assert "what you learn in A" in page and "abc123" in page and "2026-01-02 03:04 UTC" in page
    assert PAPER_CITATION.split(".")[0] in page and "Foshan University" in page


def test_summaries_cover_every_notebook():
    from pathlib import Path

    from mas_lib.teach.book import SUMMARIES, notebook_summary

    folder = Path(__file__).resolve().parents[1] / "notebooks"
    for path in ordered_notebooks(folder):
        assert path.stem in SUMMARIES and notebook_summary(path) == SUMMARIES[path.stem]


def test_summary_falls_back_to_the_first_sentence(tmp_path):
    _nb(tmp_path / "07_new.ipynb", "New")
    from mas_lib.teach.book import notebook_summary

    assert notebook_summary(tmp_path / "07_new.ipynb") == "text"


def test_mathjax_is_bundled_by_a_declared_package():
    from mas_lib.teach.book import MATHJAX_URL, mathjax_source

    src = mathjax_source()
    config = MATHJAX_URL.split("config=")[1].split(",")[0]
    assert (src / "MathJax.js").exists() and (src / "config" / f"{config}.js").exists()
    assert not MATHJAX_URL.startswith(("http:", "https:", "//"))


def test_pages_are_offline_linked_and_widgets_replaced(tmp_path):
    import re

    src = tmp_path / "nbs"
    src.mkdir()
    _nb(src / "00_first.ipynb", "First", "import ipywidgets\nipywidgets.IntSlider()")
    _nb(src / "01_second.ipynb", "Second", "print('$x$')")
    _nb(src / "02_third.ipynb", "Third")
    out = tmp_path / "out"
    build_book(src, out)
    first, second = (out / "00_first.html").read_text(), (out / "01_second.html").read_text()
    # every script is local: MathJax from the copy in the book folder, nothing from a CDN
    scripts = re.findall(r"<script[^>]*\ssrc=[\"']([^\"']+)", first + second)
    assert scripts and all(not s.startswith(("http:", "https:", "//")) for s in scripts)
    assert any(s.startswith("mathjax/MathJax.js") for s in scripts) and (out / "mathjax" / "MathJax.js").exists()
    # ... configured, before it loads, for the only fonts the bundle ships
    from mas_lib.teach.book import MATHJAX_CONFIG

    assert second.index(MATHJAX_CONFIG) < second.index('src="mathjax/MathJax.js')
    assert (out / "mathjax" / "fonts" / "HTML-CSS" / "STIX-Web").is_dir() and "STIX-Web" in MATHJAX_CONFIG
    # previous / next links (and the contents) at the top and bottom of every page
    assert second.count('href="00_first.html"') >= 2 and second.count('href="02_third.html"') >= 2
    assert 'href="01_second.html"' in first and "00_first.html" not in first.split("book-nav")[1][:300]
    assert second.count("href='index.html'") == 2
    # the widget became a note on how to run it live
    assert "Interactive panel" in first and "make lab" in first and "widget-view+json" not in first


def test_pages_are_written_atomically(tmp_path):
    """The pages and the index go through mas_lib.files.atomic_write: an old page is replaced in
    one step, and the temporaries that killed builds left next to them are removed."""
    src = tmp_path / "nbs"
    src.mkdir()
    _nb(src / "00_ok.ipynb", "Works", "print(6 * 7)")
    out = tmp_path / "out"
    out.mkdir()
    (out / "00_ok.html").write_text("old page")
    dead_pid = 2**22 + 99  # above the kernel's pid_max: the writer is surely dead
    stale = [out / f".00_ok.html.{dead_pid}-abcd1234.tmp", out / f".index.html.{dead_pid}-abcd1234.tmp"]
    for p in stale:
        p.write_text("half a page")
    entries = build_book(src, out)
    assert entries[0].error is None and "42" in (out / "00_ok.html").read_text()
    assert not any(p.exists() for p in stale)
    assert sorted(p.name for p in out.iterdir() if p.suffix in (".html", ".tmp")) == ["00_ok.html", "index.html"]


def test_hidden_solution_cells_are_collapsed_in_the_book():
    from nbconvert import HTMLExporter

    from mas_lib.teach.book import collapse_hidden_cells

    nb = nbformat.v4.new_notebook()
    hidden = nbformat.v4.new_code_cell("# Solution 1: the answer\nprint(6 * 7)",
                                       metadata={"tags": ["hide-cell"], "jupyter": {"source_hidden": True}})
    hidden.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    shown = nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["other"]})
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), hidden, shown]
    assert collapse_hidden_cells(nb) == 1
    assert nb.cells[1].cell_type == "markdown" and nb.cells[2] is shown
    src = nb.cells[1].source
    assert src.startswith("<details><summary>Solution 1: the answer</summary>") and "print(6 * 7)" in src and "42" in src
    body, _ = HTMLExporter().from_notebook_node(nb)
    assert "<details><summary>Solution 1: the answer</summary>" in body and "<details open" not in body

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

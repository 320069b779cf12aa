"""Slide figures (mas_lib.teach.figures, book/export_figures.py, make figures): every PNG output of
an executed notebook becomes a file named after its cell, under its heading, with index pages."""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path

import nbformat
import pytest

from mas_lib.teach.course import run_notebook
from mas_lib.teach.figures import Figure, export_figures, figures_of, write_index
from mas_lib.validation import ConfigError

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 16


def _output(png: bytes) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(png).decode(),
                                                        "text/plain": "<Figure>"})


def test_figures_of_names_and_captions_each_png_by_cell_and_heading():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\n\n## First part"),
                nbformat.v4.new_code_cell("a", outputs=[_output(PNG), _output(PNG + b"2")]),
                nbformat.v4.new_markdown_cell("text without a heading"),
                nbformat.v4.new_code_cell("b", outputs=[nbformat.v4.new_output("stream", text="x")]),
                nbformat.v4.new_markdown_cell("## Second part"),
                nbformat.v4.new_code_cell("c", outputs=[_output(PNG + b"3")])]
    figs = figures_of(nb)
    assert [(f.name, f.heading) for f in figs] == [("cell01_1.png", "First part"),
                                                     ("cell01_2.png", "First part"),
                                                     ("cell05_1.png", "Second part")]
    assert figs[2].png == PNG + b"3"
    nb.cells = [c for c in nb.cells if c.cell_type == "markdown"]
    assert figures_of(nb) == []


def test_export_replaces_stale_files_and_indexes(tmp_path):
    (tmp_path / "cell09_1.png").write_bytes(b"old")  # from an earlier version of the notebook
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("a", outputs=[_output(PNG)])]
    paths = export_figures(nb, tmp_path, title="01_x")
    assert paths == [tmp_path / "cell00_1.png"] and paths[0].read_bytes() == PNG
    assert not (tmp_path / "cell09_1.png").exists()
    assert 'src="cell00_1.png"' in (tmp_path / "index.html").read_text()
    index = write_index(tmp_path.parent, {"01_x": paths, "02_y": []}).read_text()
    assert '01_x/index.html">01_x</a>: 1 figure<' in index and "02_y</a>: 0 figures" in index
    assert Figure(3, 2, "", b"").name == "cell03_2.png"


def test_export_script_executes_a_small_notebook_and_writes_its_plots(tmp_path):
    nbs, out = tmp_path / "notebooks", tmp_path / "figures"
    nbs.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("## A line"),
                nbformat.v4.new_code_cell("%matplotlib inline\nimport matplotlib.pyplot as plt\n"
                                          "plt.plot([1, 2, 3]); plt.show()"),
                nbformat.v4.new_markdown_cell("## Two bars"),
                nbformat.v4.new_code_cell("plt.bar([0, 1], [2, 1]); plt.show()")]
    nbformat.write(nb, nbs / "00_small.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")],
                                            metadata=nb.metadata), nbs / "01_broken.ipynb")
    spec = importlib.util.spec_from_file_location("export_figures", ROOT / "book" / "export_figures.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--notebooks", str(nbs), "--out", str(out)]) == 1  # 01 failed, 00 exported
    pngs = sorted(p.name for p in (out / "00_small").glob("*.png"))
    assert pngs == ["cell01_1.png", "cell03_1.png"]
    assert all((out / "00_small" / n).read_bytes().startswith(b"\x89PNG") for n in pngs)
    assert "Two bars" in (out / "00_small" / "index.html").read_text()
    assert "00_small</a>: 2 figures" in (out / "index.html").read_text()
    assert "01_broken" not in (out / "index.html").read_text()


def test_run_notebook_rejects_a_bad_timeout(tmp_path):
    with pytest.raises(ConfigError, match="timeout"):
        run_notebook(tmp_path / "x.ipynb", timeout=0)

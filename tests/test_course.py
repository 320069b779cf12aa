"""The course around the notebooks: reading-time estimates and the measured table of
book/course.md (mas_lib.teach.course), the Colab first cell (mas_lib.teach.colab), the
syllabus and teacher-notes pages, the Binder files and the book's launch buttons."""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from test_data import EXPECTED_TINY, _tiny_zip

from mas_lib import data as D
from mas_lib.teach import colab
from mas_lib.teach.course import (
    TABLE_END,
    TABLE_START,
    NotebookTime,
    reading_minutes,
    replace_table,
    times_table,
    word_count,
)
from mas_lib.validation import ConfigError

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# ---------------------------------------------------------------- reading time


def test_word_count_skips_code_maths_html_and_link_targets():
    md = ("# Two words\n\nThe cost $c_h x^2$ is [shown here](https://example.org/a/b) today.\n"
          "```python\nx = not counted at all\n```\n<img src='a.png'>\n$$\\sum_i y_i$$ done")
    assert word_count(md) == 2 + 6 + 1  # heading; The cost is shown here today; done


def _nb(markdown: list[str], code: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(m) for m in markdown]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in code]
    return nb


def test_reading_minutes_is_words_at_the_rate_plus_code_cells():
    nb = _nb(["word " * 300, "word " * 150], ["x = 1", "   ", "y = 2"])  # the blank cell is not read
    assert reading_minutes(nb) == pytest.approx(450 / 150 + 2 * 0.5)
    assert reading_minutes(nb, words_per_minute=300, minutes_per_code_cell=0) == pytest.approx(1.5)


@given(st.lists(st.integers(0, 400), max_size=6), st.integers(0, 8),
       st.floats(50, 400), st.floats(0, 3))
def test_reading_minutes_grows_with_words_and_cells(words, cells, wpm, per_cell):
    nb = _nb(["w " * n for n in words], ["x"] * cells)
    base = reading_minutes(nb, words_per_minute=wpm, minutes_per_code_cell=per_cell)
    assert base == pytest.approx(sum(words) / wpm + cells * per_cell)
    nb.cells.append(nbformat.v4.new_markdown_cell("more words"))
    assert reading_minutes(nb, words_per_minute=wpm, minutes_per_code_cell=per_cell) > base


@pytest.mark.parametrize("kwargs, field", [({"words_per_minute": 0}, "words_per_minute"),
                                           ({"words_per_minute": "fast"}, "words_per_minute"),
                                           ({"minutes_per_code_cell": -1}, "minutes_per_code_cell")])
def test_reading_minutes_rejects_bad_rates(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        reading_minutes(_nb(["a"], []), **kwargs)


def test_every_notebook_has_a_plausible_reading_time():
    minutes = [reading_minutes(p) for p in NOTEBOOKS]
    assert len(minutes) == 10 and all(5 < m < 90 for m in minutes)


# ---------------------------------------------------------------- the measured table


ROWS = [NotebookTime("00_start_here", 9.6, 5.4, 0.5, 0.6),
        NotebookTime("05_q_learning", 30.2, 150.0, 2.0, 3.5),
        NotebookTime("09_deep_rl", 33.0, None, 3.5, 3.9)]


def test_times_table_rows_total_date_and_failures():
    table = times_table(ROWS, date="2026-12-03 17:00 UTC", cores=2)
    assert "| 00_start_here | 10 min | 5 s | 0.50 → 0.60 |" in table
    assert "| 05_q_learning | 30 min | 2.5 min | 2.00 → 3.50 |" in table
    assert "| 09_deep_rl | 33 min | not measured |" in table
    assert "**1.2 h**" in table and "**2.6 min** (measured ones)" in table  # 72.8 min read; 155.4 s run
    assert "| x | 1 min | 2 s | – |" in times_table([NotebookTime("x", 1.0, 2.0, float("nan"), 1.0)],
                                                   date="d", cores=1)
    assert "2026-12-03 17:00 UTC" in table and "2-core" in table
    with pytest.raises(ConfigError, match="rows"):
        times_table([], date="d", cores=1)
    with pytest.raises(ConfigError, match="read_minutes of x"):
        times_table([NotebookTime("x", -1.0, 1.0, 0, 0)], date="d", cores=1)


def test_replace_table_keeps_everything_outside_the_markers():
    page = f"# Title\n\nbefore\n{TABLE_START}\nold | table\n{TABLE_END}\nafter\n"
    new = replace_table(page, "NEW")
    assert new == f"# Title\n\nbefore\n{TABLE_START}\nNEW\n{TABLE_END}\nafter\n"
    assert replace_table(new, "NEW") == new  # idempotent
    for bad in ("no markers", f"{TABLE_END} x {TABLE_START}", f"{TABLE_START}{TABLE_START}{TABLE_END}"):
        with pytest.raises(ConfigError, match="page"):
            replace_table(bad, "t")


def test_course_page_holds_a_measured_table_for_every_notebook():
    page = (BOOK / "course.md").read_text()
    table = page.split(TABLE_START)[1].split(TABLE_END)[0]
    assert [p.stem for p in NOTEBOOKS] == re.findall(r"^\| (\d\d_\w+) \|", table, re.M)
    assert re.search(r"Measured \d{4}-\d\d-\d\d \d\d:\d\d(–\d\d:\d\d)? UTC", table)
    assert "failed" not in table
    # the reading column is the function's estimate of the notebooks as they are now (+-1 min)
    for p in NOTEBOOKS:
        shown = int(re.search(rf"^\| {p.stem} \| (\d+) min", table, re.M).group(1))
        assert abs(shown - reading_minutes(p)) <= 1, (p.stem, shown, reading_minutes(p))


# ---------------------------------------------------------------- Colab


def test_setup_off_colab_does_nothing(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.delenv(D.ENV_PATH, raising=False)

    def boom(*a):
        raise AssertionError("must not run off Colab")

    got = colab.setup(["mas_lib"], cache_dir=tmp_path, pip=boom, fetch=boom)
    assert got == colab.ColabSetup(False, (), None) and "Not on Colab" in got.summary()
    assert D.ENV_PATH not in os.environ and not list(tmp_path.iterdir())


def test_setup_on_colab_installs_fetches_verifies_and_points_the_env_at_the_data(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    monkeypatch.delenv(D.ENV_PATH, raising=False)
    zpath, sha = _tiny_zip(tmp_path), hashlib.sha256(EXPECTED_TINY.encode()).hexdigest()
    installed, fetched = [], []

    def fetch(url, dest):
        fetched.append(url)
        dest.write_bytes(zpath.read_bytes())

    got = colab.setup(["mas_lib[scale]"], cache_dir=tmp_path / "cache", expected_sha256=sha,
                      pip=installed.append, fetch=fetch)
    assert colab.on_colab() and installed == [("mas_lib[scale]",)] and fetched == [D.UCI_URL]
    assert got.data_path == tmp_path / "cache" / D.FILE_NAME and D.sha256_of_csv_gz(got.data_path) == sha
    assert os.environ[D.ENV_PATH] == str(got.data_path) == str(D.resolve_online_retail_path())
    assert "installed mas_lib[scale]" in got.summary()
    # a second run finds the verified cache and downloads nothing
    again = colab.setup(cache_dir=tmp_path / "cache", expected_sha256=sha, fetch=None, pip=None)
    assert again.data_path == got.data_path and fetched == [D.UCI_URL]


def test_setup_on_colab_with_a_wrong_download_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    monkeypatch.delenv(D.ENV_PATH, raising=False)
    zpath = _tiny_zip(tmp_path)
    with pytest.raises(D.ChecksumError, match="nothing was written"):  # the real checksum
        colab.setup(cache_dir=tmp_path / "cache", fetch=lambda url, dest: dest.write_bytes(zpath.read_bytes()))
    assert not (tmp_path / "cache" / D.FILE_NAME).exists() and D.ENV_PATH not in os.environ


def test_setup_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="requirements = 'mas_lib'.*list"):
        colab.setup("mas_lib")
    with pytest.raises(ConfigError, match="data"):
        colab.setup(data="yes")


# ---------------------------------------------------------------- pages, Binder, launch buttons


def test_syllabus_comes_first_and_links_the_teacher_notes():
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    assert toc["chapters"][0]["file"] == "course"
    page = (BOOK / "course.md").read_text()
    for heading in ("Self-study", "Two-week module", "One-semester module", "Learning outcomes",
                    "Optional", "Run it anywhere"):
        assert heading.lower() in page.lower(), heading
    assert "teacher_notes" in page
    notes = (BOOK / "teacher_notes.md").read_text()
    for p in NOTEBOOKS:  # one section per notebook, each with the four parts
        sec = notes.split(f"## {p.stem[:2]} ")[1].split("\n## ")[0]
        for part in ("Students get wrong", "Discuss", "Run live", "Skip when short of time"):
            assert part in sec, (p.stem, part)
    assert "teacher_notes" in [c["file"] for c in toc["chapters"]]


def test_binder_installs_the_package_and_registers_a_kernel():
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install" in post and re.search(r"pip install[^\n]* \"?\.(\[\w+\])?\"?(\s|$)", post)
    assert "ipykernel install" in post and os.access(ROOT / "binder" / "postBuild", os.X_OK)
    version = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.(1\d)", version)  # pyproject: requires-python >= 3.10


def test_launch_buttons_need_a_repository_url_that_is_not_invented():
    cfg = yaml.safe_load((BOOK / "_config.yml").read_text())
    lb = cfg["launch_buttons"]
    assert lb["binderhub_url"] == "https://mybinder.org" and lb["colab_url"] == "https://colab.research.google.com"
    # a placeholder in GitHub's form (the theme builds the buttons from it), set before publishing
    assert cfg["repository"]["url"] == "https://github.com/SET-ME-OWNER/SET-ME-REPO"
    assert "repository" in (BOOK / "course.md").read_text() and "_config.yml" in (BOOK / "course.md").read_text()

"""The teacher and student editions built from the repository's notebooks (mas_lib.teach.editions,
``make editions``): the student edition has no solution cell and no answer value, every check it
calls exists in the grading table, and one short student notebook runs with its checks saying
"not yet answered"."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from mas_lib.teach import editions
from mas_lib.teach.grading import EXERCISES, NOT_ANSWERED
from mas_lib.validation import ConfigError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECK = re.compile(r'check\("(\d\d\.\d+)", (\w+)\)')
# text answers the grading table hides (numbers are binned hashes; these would read as plain text)
HIDDEN_TEXT = ("requested_of_me [units]", "GlobalTrees", "fair_share", "WeightsMismatchError", "France")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("editions")
    return out, editions.build_editions(ROOT / "notebooks", out)


def test_both_editions_hold_every_notebook(built):
    out, written = built
    for edition in ("teacher", "student"):
        assert [p.name for p in written[edition]] == [p.name for p in NOTEBOOKS]
        assert all(p.parent == out / edition for p in written[edition])


def test_the_teacher_edition_is_the_notebooks_as_they_are(built):
    out, _ = built
    for nb in NOTEBOOKS:
        source, teacher = nbformat.read(nb, 4), nbformat.read(out / "teacher" / nb.name, 4)
        assert [(c.id, c.source) for c in teacher.cells] == [(c.id, c.source) for c in source.cells]
        assert any(editions.is_solution(c) for c in teacher.cells), nb.name


def test_every_exercise_section_has_its_solutions_tagged():
    """The script relies on the tag: every hidden '# Solution' cell and collapsed answer carries it."""
    for nb in NOTEBOOKS:
        for c in nbformat.read(nb, 4).cells:
            looks_like = c.source.startswith("# Solution") or c.source.startswith("<details><summary>Solutions")
            assert looks_like == editions.is_solution(c), (nb.name, c.id)


def test_the_student_edition_has_no_solution_and_no_answer_value(built):
    out, _ = built
    for nb in NOTEBOOKS:
        student = nbformat.read(out / "student" / nb.name, 4)
        nbformat.validate(student)
        assert not any(editions.is_solution(c) for c in student.cells), nb.name
        assert not any(c.source.startswith(("# Solution", "<details><summary>Solutions")) for c in student.cells)
        start = next(i for i, c in enumerate(student.cells) if "## Exercises" in c.source)
        tail = "\n".join(c.source for c in student.cells[start:])
        assert not [t for t in HIDDEN_TEXT if t in tail], nb.name
        answers = [c for c in student.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
        assert all(re.fullmatch(r"answer_\d\d_\d+ = \.\.\.", c.source) for c in answers), nb.name
        assert all(c.outputs == [] for c in student.cells if c.cell_type == "code")
        ids = [c.id for c in student.cells]
        assert len(ids) == len(set(ids)), nb.name


def test_every_check_exists_in_the_grading_table_and_every_exercise_is_checked(built):
    out, _ = built
    seen = []
    for nb in NOTEBOOKS:
        student = nbformat.read(out / "student" / nb.name, 4)
        calls = [m for c in student.cells if c.cell_type == "code" for m in CHECK.findall(c.source)]
        assert all(k in EXERCISES and k.startswith(nb.name[:2]) for k, _ in calls), nb.name
        grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in student.cells if "nbgrader" in c.metadata]
        assert len(grade_ids) == len(set(grade_ids))
        seen += [k for k, _ in calls]
    assert seen == list(EXERCISES)


def test_a_notebook_without_exercises_heading_is_refused():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 05 · no exercises")])
    with pytest.raises(ConfigError, match="05_x.ipynb cells = .* allowed: a markdown cell with '## Exercises'"):
        editions.student_edition(nb, "05_x.ipynb")


def test_an_empty_source_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="source = .* allowed: a folder holding notebooks"):
        editions.build_editions(tmp_path, tmp_path / "out")


def test_the_student_notebook_00_runs_and_says_not_yet_answered(built):
    """Execute one short student notebook in a fresh kernel (nbclient): it runs to the end and
    each check prints 'not yet answered'."""
    nbclient = pytest.importorskip("nbclient")
    out, _ = built
    path = out / "student" / "00_start_here.ipynb"
    nb = nbformat.read(path, 4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    printed = [o.get("text", "") for c in nb.cells if c.cell_type == "code" and CHECK.search(c.source) for o in c.outputs]
    assert len(printed) == len(editions.exercises_of("00_start_here.ipynb")) == 2
    assert all("Exercise 00." in t and NOT_ANSWERED in t for t in printed), printed

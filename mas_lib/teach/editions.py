"""Two editions of the notebooks from one source (``make editions``): the **teacher** edition is the
notebooks as they are, worked solutions included; the **student** edition drops every cell tagged
``solution`` (the hidden solution cells and the collapsed answers of each ``## Exercises``) and puts,
after the exercises, one block per question of :data:`mas_lib.teach.grading.EXERCISES`: a
prompt saying what kind of value is expected, an answer cell ``answer_NN_k = ...`` and a cell
``check("NN.k", answer_NN_k)`` that grades it. Answer and check cells carry nbgrader metadata
(``nbgrader: {solution: true, grade_id, ...}``), so the student edition can also be fed to
nbgrader. Both editions are written without outputs.

Run ``python -m mas_lib.teach.editions --source notebooks --out build/editions``; it writes
``<out>/teacher/NN_*.ipynb`` and ``<out>/student/NN_*.ipynb``.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import nbformat

from ..files import atomic_write
from ..validation import not_allowed
from .grading import EXERCISES

SOLUTION_TAG = "solution"
EXERCISES_HEADING = "## Exercises"
_NBGRADER = {"schema_version": 3, "task": False}


def is_solution(cell: nbformat.NotebookNode) -> bool:
    """Whether a cell is a worked solution (tagged ``solution``; the script never guesses)."""
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def exercises_of(notebook_name: str) -> list[str]:
    """The exercise ids of the notebook ``NN_name.ipynb`` in :data:`EXERCISES`, in order."""
    prefix = Path(notebook_name).name[:2]
    return [k for k in EXERCISES if k.startswith(prefix + ".")]


def _clear(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _exercise_cells(exercise_id: str) -> list[nbformat.NotebookNode]:
    """Prompt, answer cell (absent for a discussion) and check cell of one exercise."""
    ex = EXERCISES[exercise_id]
    stem = exercise_id.replace(".", "-")
    var = "answer_" + exercise_id.replace(".", "_")
    if ex.kind == "discussion":
        prompt = f"**Exercise {exercise_id}** is a discussion question: answer it in words (a markdown cell)."
    else:
        prompt = (f"**Exercise {exercise_id}** — replace `...` by your answer: {ex.expects}. "
                  f"Then run the check below it.")
    cells = [nbformat.v4.new_markdown_cell(prompt, id=f"ex{stem}-prompt")]
    if ex.kind != "discussion":
        answer = nbformat.v4.new_code_cell(f"{var} = ...", id=f"ex{stem}-answer")
        answer.metadata["nbgrader"] = {**_NBGRADER, "solution": True, "grade": False, "locked": False,
                                       "grade_id": f"ex{stem}-answer"}
        cells.append(answer)
    checker = nbformat.v4.new_code_cell(f'check("{exercise_id}", {var if ex.kind != "discussion" else "None"})',
                                        id=f"ex{stem}-check")
    checker.metadata["nbgrader"] = {**_NBGRADER, "solution": False, "grade": False, "locked": True,
                                    "grade_id": f"ex{stem}-check"}
    cells.append(checker)
    return cells


def student_edition(nb: nbformat.NotebookNode, notebook_name: str) -> nbformat.NotebookNode:
    """The student edition of one notebook: solution cells removed, an answer and a check cell per
    exercise after the cell holding ``## Exercises``, outputs cleared. Raises
    :class:`~mas_lib.validation.ConfigError` if the notebook has exercises in the grading table
    but no ``## Exercises`` heading."""
    out = _clear(copy.deepcopy(nb))
    out.cells = [c for c in out.cells if not is_solution(c)]
    ids = exercises_of(notebook_name)
    if not ids:
        return out
    at = [i for i, c in enumerate(out.cells) if c.cell_type == "markdown" and EXERCISES_HEADING in c.source]
    if not at:
        raise not_allowed(f"{notebook_name} cells", "no '## Exercises' heading", "a markdown cell with '## Exercises'")
    block = [nbformat.v4.new_code_cell("from mas_lib.teach.grading import check", id="ex-import-check")]
    block[0].metadata["nbgrader"] = {**_NBGRADER, "solution": False, "grade": False, "locked": True,
                                     "grade_id": "ex-import-check"}
    for exercise_id in ids:
        block += _exercise_cells(exercise_id)
    out.cells[at[0] + 1: at[0] + 1] = block
    return out


def _write(nb: nbformat.NotebookNode, path: Path) -> None:
    nbformat.validate(nb)
    with atomic_write(path, "w") as f:
        nbformat.write(nb, f)


def build_editions(source: str | Path, out: str | Path) -> dict[str, list[Path]]:
    """Write ``out/teacher`` and ``out/student`` from the notebooks ``NN_*.ipynb`` in ``source``;
    returns the paths written per edition. Raises :class:`~mas_lib.validation.ConfigError` when
    ``source`` holds no notebook."""
    source, out = Path(source), Path(out)
    notebooks = sorted(source.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise not_allowed("source", str(source), "a folder holding notebooks named NN_*.ipynb")
    written: dict[str, list[Path]] = {"teacher": [], "student": []}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for edition, book in (("teacher", _clear(copy.deepcopy(nb))), ("student", student_edition(nb, path.name))):
            target = out / edition / path.name
            _write(book, target)
            written[edition].append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    """Command line of ``make editions``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="notebooks", help="folder of the NN_*.ipynb notebooks")
    parser.add_argument("--out", default="build/editions", help="folder to write teacher/ and student/ into")
    args = parser.parse_args(argv)
    written = build_editions(args.source, args.out)
    for edition, paths in written.items():
        print(f"{edition}: {len(paths)} notebooks in {Path(args.out) / edition}")


if __name__ == "__main__":
    main()

"""The course page's numbers (``book/course.md``): how long a notebook takes to read, and the
table of reading and running times that ``book/measure_times.py`` writes into the page.

Reading time is an estimate: the words of the markdown cells at a reading speed (150 words per
minute by default) plus a fixed time per code cell for reading the code and its output. Running
time is a measurement made elsewhere (``book/measure_times.py``) and only formatted here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from mas_lib.validation import ConfigError, check_number

__all__ = [
    "TABLE_START",
    "TABLE_END",
    "NotebookTime",
    "word_count",
    "reading_minutes",
    "times_table",
    "replace_table",
    "run_notebook",
]

#: The markers in ``book/course.md`` between which the measured table is rewritten.
TABLE_START = "<!-- times:start -->"
TABLE_END = "<!-- times:end -->"

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)  # fenced code inside markdown
_MARKUP = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|<[^>]+>|\]\([^)]*\)", re.S)  # maths, HTML, link targets
_WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")


def word_count(markdown: str) -> int:
    """Number of prose words in a markdown text: fenced code, maths, HTML tags and link
    targets are not counted (a formula is read, but not as words)."""
    text = _MARKUP.sub(" ", _FENCE.sub(" ", markdown))
    return len(_WORD.findall(text))


def _notebook(nb: nbformat.NotebookNode | str | Path) -> nbformat.NotebookNode:
    if isinstance(nb, (str, Path)):
        return nbformat.read(str(nb), as_version=4)
    return nb


def reading_minutes(
    nb: nbformat.NotebookNode | str | Path,
    *,
    words_per_minute: float = 150.0,
    minutes_per_code_cell: float = 0.5,
) -> float:
    """Estimated minutes to read a notebook: markdown words / ``words_per_minute`` plus
    ``minutes_per_code_cell`` for every non-empty code cell (reading the code and its output).

    Hidden cells (worked solutions) count like any other: a student who checks the solution reads
    it. ``nb`` is a notebook or the path of one. Used by ``book/measure_times.py`` for the course
    page's table.

    Raises:
        ConfigError: a rate that is not a positive number (or a negative time per cell).
    """
    wpm = check_number(words_per_minute, "words_per_minute", low=0, low_inclusive=False,
                       unit="words/min")
    per_cell = check_number(minutes_per_code_cell, "minutes_per_code_cell", low=0, unit="min")
    book = _notebook(nb)
    words = sum(word_count(c.source) for c in book.cells if c.cell_type == "markdown")
    code = sum(1 for c in book.cells if c.cell_type == "code" and c.source.strip())
    return words / wpm + code * per_cell


@dataclass(frozen=True)
class NotebookTime:
    """One row of the course page's table: a notebook's reading estimate and measured run."""

    notebook: str          #: file stem, e.g. ``00_start_here``
    read_minutes: float    #: estimate from :func:`reading_minutes` [min]
    run_seconds: float | None  #: wall time of one top-to-bottom run [s]; None: failed or not run
    load_before: float     #: 1-minute load average when the run started
    load_after: float      #: 1-minute load average when it ended


def _run_text(seconds: float | None) -> str:
    if seconds is None:
        return "not measured"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _load_text(before: float, after: float) -> str:
    return "–" if before != before or after != after else f"{before:.2f} → {after:.2f}"  # NaN: none


def times_table(rows: Sequence[NotebookTime], *, date: str, cores: int) -> str:
    """The markdown table of reading and running times, with the date and machine load under it.

    Every row must have a non-negative reading time; ``date`` is printed as given. A row without a
    run time (the run failed or was stopped) says "not measured" and is left out of the total.
    """
    if not rows:
        raise ConfigError("rows: got no rows; need at least one NotebookTime")
    lines = ["| Notebook | Read (est.) | Run (measured) | Load avg. before → after |",
             "|---|---|---|---|"]
    for r in rows:
        check_number(r.read_minutes, f"read_minutes of {r.notebook}", low=0, unit="min")
        lines.append(f"| {r.notebook} | {r.read_minutes:.0f} min | {_run_text(r.run_seconds)} | "
                     f"{_load_text(r.load_before, r.load_after)} |")
    read = sum(r.read_minutes for r in rows)
    ran = [r.run_seconds for r in rows if r.run_seconds is not None]
    some = " (measured ones)" if len(ran) < len(rows) else ""
    lines.append(f"| **total** | **{read / 60:.1f} h** | **{sum(ran) / 60:.1f} min**{some} | |")
    lines.append("")
    lines.append(f"Measured {date} on a {cores}-core machine, one notebook at a time in a fresh "
                 "kernel (wall time of a top-to-bottom run). The load average shows how busy the "
                 "machine was; on a quiet laptop expect shorter runs.")
    return "\n".join(lines)


def replace_table(page: str, table: str) -> str:
    """``page`` with the text between :data:`TABLE_START` and :data:`TABLE_END` replaced by
    ``table`` (the markers stay).

    Raises:
        ConfigError: the page does not hold both markers once, start before end.
    """
    if page.count(TABLE_START) != 1 or page.count(TABLE_END) != 1:
        raise ConfigError(f"page: needs {TABLE_START!r} and {TABLE_END!r} exactly once each; found "
                          f"{page.count(TABLE_START)} and {page.count(TABLE_END)}")
    head, rest = page.split(TABLE_START)
    if TABLE_END not in rest:
        raise ConfigError(f"page: {TABLE_END!r} comes before {TABLE_START!r}; put the end after the start")
    _, tail = rest.split(TABLE_END)
    return f"{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}"


def run_notebook(path: str | Path, *, timeout: float = 900.0) -> tuple[nbformat.NotebookNode, float]:
    """Execute the notebook at ``path`` top to bottom in a fresh ``python3`` kernel started in its
    folder (as JupyterLab does); return the executed notebook and the wall time [s] of the run.

    Used by ``book/measure_times.py`` (the course page's run times) and ``book/export_figures.py``.

    Raises:
        ConfigError: a timeout that is not a positive number of seconds.
        nbclient.exceptions.CellExecutionError: a cell raised (the notebook failed).
    """
    from nbclient import NotebookClient  # the Jupyter stack; imported only when a notebook runs

    seconds = check_number(timeout, "timeout", low=0, low_inclusive=False, unit="s")
    p = Path(path)
    nb = nbformat.read(str(p), as_version=4)
    client = NotebookClient(nb, timeout=int(seconds), kernel_name="python3",
                            resources={"metadata": {"path": str(p.parent)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start

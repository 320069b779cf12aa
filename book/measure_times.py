"""Re-measure the course page's table (book/course.md): each notebook's reading estimate
(mas_lib.teach.course.reading_minutes) and the wall time of one top-to-bottom run in a fresh
kernel, one notebook at a time, with the 1-minute load average before and after.

    python book/measure_times.py                 # every notebook, rewrite book/course.md
    python book/measure_times.py 00 03 --dry-run # two notebooks, print the table only

A notebook that fails is listed as "not measured" (its error printed) and the others are still
measured. With notebook prefixes the table holds only those notebooks: use --dry-run and copy the rows. The kernel starts in
notebooks/, as in JupyterLab; the environment (MAS_LIB_ONLINE_RETAIL, ...) is inherited.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from mas_lib.files import atomic_write
from mas_lib.teach.course import (
    NotebookTime,
    reading_minutes,
    replace_table,
    run_notebook,
    times_table,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PAGE = ROOT / "book" / "course.md"


def run_once(path: Path, timeout: int = 900) -> float | None:
    """Wall seconds of one run of ``path`` in a fresh kernel (cwd: its folder); None if it failed."""
    try:
        return run_notebook(path, timeout=timeout)[1]
    except Exception as exc:  # noqa: BLE001 - one failure must not lose the other notebooks
        print(f"{path.name}: failed ({type(exc).__name__}: {str(exc)[:200]})", file=sys.stderr)
        return None


def measure(paths: list[Path]) -> list[NotebookTime]:
    rows = []
    for p in paths:
        before = os.getloadavg()[0]
        seconds = run_once(p)
        rows.append(NotebookTime(p.stem, reading_minutes(p), seconds, before, os.getloadavg()[0]))
        print(f"{p.stem}: read {rows[-1].read_minutes:.0f} min, run {seconds} s, "
              f"load {before:.2f} -> {rows[-1].load_after:.2f}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("only", nargs="*", help="notebook number prefixes (default: all)")
    ap.add_argument("--dry-run", action="store_true", help="print the table, leave the page alone")
    ap.add_argument("--page", type=Path, default=PAGE)
    args = ap.parse_args(argv)
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        paths = [p for p in paths if p.name[:2] in args.only]
    rows = measure(paths)
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table = times_table(rows, date=date, cores=os.cpu_count() or 1)
    print(table)
    if not args.dry_run:
        text = replace_table(args.page.read_text(encoding="utf-8"), table)
        with atomic_write(args.page, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {args.page}")
    return 0 if all(r.run_seconds is not None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

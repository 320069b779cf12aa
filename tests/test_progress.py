"""The one progress bar (mas_lib.progress): used by the sweep runner and the twin's forecast plans."""

from __future__ import annotations

import io

from mas_lib.progress import ProgressBar


def test_bar_moves_to_done_shows_failures_and_closes_at_the_end():
    out = io.StringIO()
    bar = ProgressBar("sweep", unit="job", file=out, mininterval=0)
    for done in range(1, 5):
        bar(done, 4, errors=1 if done >= 2 else 0)
    text = out.getvalue()
    assert "sweep" in text and "4/4" in text and "failed=1" in text
    assert bar._bar is None                                  # closed by itself at the end


def test_a_new_total_starts_a_new_bar():
    out = io.StringIO()
    bar = ProgressBar("plan", unit="day", file=out, mininterval=0)
    bar(1, 3)
    bar(2, 10)
    assert bar._bar is not None and bar._bar.total == 10 and bar._bar.n == 2
    bar.close()
    assert "2/10" in out.getvalue()

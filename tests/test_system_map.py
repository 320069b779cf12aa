"""Tests of mas_lib.teach.system_map: the map of notebook 00 names real notebooks and modules."""

from __future__ import annotations

import importlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from mas_lib.teach.system_map import SYSTEM_PARTS, plot_system_map, system_map_table  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_covered_parts_point_at_existing_notebooks_and_modules():
    present = {p.name[:2] for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    for part in SYSTEM_PARTS:
        if part.covered:
            assert {n.strip() for n in part.notebooks.split(",")} <= present, part
            for module in part.modules.split(","):
                importlib.import_module(module.split()[0])
            assert not part.planned
        else:
            assert part.planned.startswith("issue ") and not part.modules


def test_table_lists_what_is_not_built_yet():
    t = system_map_table()
    assert len(t) == len(SYSTEM_PARTS)
    missing = t.loc[t["status"] != "covered", "status"].tolist()
    assert missing == []


def test_diagram_draws_every_part():
    fig = plot_system_map()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert all(p.name in texts for p in SYSTEM_PARTS)
    assert sum("not built yet" in t for t in texts) == 0
    matplotlib.pyplot.close(fig)

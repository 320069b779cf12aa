"""Tests of mas_lib.teach.system_map: the map of notebook 00 names real notebooks and modules."""

from __future__ import annotations

import importlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from mas_lib.teach.system_map import SYSTEM_PARTS, SystemPart, plot_system_map, system_map_table  # noqa: E402
from mas_lib.validation import ConfigError  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_covered_parts_point_at_existing_notebooks_and_modules():
    present = {p.name[:2] for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    for part in SYSTEM_PARTS:
        assert {n.strip() for n in part.notebooks.split(",")} <= present, part
        for module in part.modules.split(","):
            importlib.import_module(module.split()[0])


def test_table_has_every_part_and_a_part_needs_its_notebooks():
    t = system_map_table()
    assert t["part of the system"].tolist() == [p.name for p in SYSTEM_PARTS]
    with pytest.raises(ConfigError, match=r"SystemPart\('x'\).notebooks = '' is not allowed"):
        SystemPart("x", "2", "", "mas_lib.sim")


def test_diagram_draws_every_part():
    fig = plot_system_map()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert all(p.name in texts for p in SYSTEM_PARTS)
    matplotlib.pyplot.close(fig)

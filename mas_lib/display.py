"""Figures shown in a notebook whatever the kernel's matplotlib backend: :func:`figure_png`.

A :class:`matplotlib.figure.Figure` built outside pyplot (as the Q-learning panel and the twin's dashboard do,
so the inline backend never shows it a second time below the widget) is displayed by IPython as
its text form ("<Figure size ...>") in a kernel where pyplot has not been imported yet. Rendering
it to PNG bytes here makes the panel show the picture in every kernel (``tests/test_browser.py``
checks the bytes are not blank).
"""

from __future__ import annotations

import io

__all__ = ["figure_png"]


def figure_png(fig, dpi: int = 100):
    """``fig`` rendered to PNG, as an ``IPython.display.Image`` ready for ``display()``.
    ``dpi`` dots per inch of the picture (the figure's size is in inches)."""
    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return Image(data=buf.getvalue(), format="png")

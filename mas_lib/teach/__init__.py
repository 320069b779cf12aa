"""Teaching: the paper's section 4 scenario and its errata (:mod:`~mas_lib.teach.paper`), the
section 2 experiments (:mod:`~mas_lib.teach.problems`), the Q-learning panel
(:mod:`~mas_lib.teach.widgets`), plots (:mod:`~mas_lib.teach.plotting`) and the benchmark snapshot
the notebooks show (:mod:`~mas_lib.teach.published`). ``make book`` is built by Jupyter Book from
``book/``. The exercises' worked solutions are collapsed cells of the notebooks, not library code.
Import the module you need; nothing heavy runs on import.
"""

"""Teaching: the paper's section 4 scenario and its errata (:mod:`~mas_lib.teach.paper`), the
section 2 experiments (:mod:`~mas_lib.teach.problems`), the Q-learning panel
(:mod:`~mas_lib.teach.widgets`), plots (:mod:`~mas_lib.teach.plotting`) and the exercises' worked
solutions (:mod:`~mas_lib.teach.solutions`). ``make book`` is built by Jupyter Book from ``book/``.
Import the module you need; nothing heavy runs on import.
"""

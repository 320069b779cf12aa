"""Teaching: the paper's section 4 scenario and its errata (:mod:`~mas_lib.teach.paper`), the
section 2 experiments (:mod:`~mas_lib.teach.problems`), the Q-learning panel
(:mod:`~mas_lib.teach.widgets`), plots (:mod:`~mas_lib.teach.plotting`), the book renderer
(:mod:`~mas_lib.teach.book`) and the exercises' worked solutions (:mod:`~mas_lib.teach.solutions`).
Import the module you need; nothing heavy runs on import.
"""

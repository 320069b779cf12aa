"""Teaching: the paper's section 4 scenario and its errata (:mod:`~mas_lib.teach.paper`), the
section 2 experiments (:mod:`~mas_lib.teach.problems`), the Q-learning panel
(:mod:`~mas_lib.teach.widgets`), plots (:mod:`~mas_lib.teach.plotting`) and the benchmark snapshot
the notebooks show (:mod:`~mas_lib.teach.published`). ``make book`` is built by Jupyter Book from
``book/``. The exercises' worked solutions are collapsed cells of the notebooks (tagged
``solution``), not library code; :mod:`~mas_lib.teach.grading` checks a student's answers without
showing them, :mod:`~mas_lib.teach.editions` writes the teacher and student editions
(``make editions``) and :mod:`~mas_lib.teach.mdp_intro` holds the three-state chain that opens the
Q-learning notebook.
Import the module you need; nothing heavy runs on import.
"""

"""The notebooks' prose: the glossary of notebook 00 covers the terms the notebooks use, formulas
survive the Jupyter Book's markdown, every exercise hint's import works, every numbered
cross-reference to a section of the same notebook names a section that exists, and notebook 00's map
lists every notebook."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
GLOSSARY_ENTRY = re.compile(r"^- \*\*(.+?)\*\* — (.+?)(?=^- \*\*|^#|\Z)", re.M | re.S)

# every term a learner meets in notebooks 01-09 that needs a definition: glossary term (as written,
# case-insensitive) -> a phrase a notebook uses for it
REQUIRED_TERMS = {
    "Agent": "agent", "Episode": "episode", "Lead time": "lead time", "Pipeline": "pipeline",
    "Lost sales": "lost sales", "Backlog (backorders)": "backlog", "Holding cost": "holding",
    "Fixed order cost": "fixed", "Fill rate": "fill rate", "Safety stock": "safety stock",
    "Service level (cycle service level)": "service level",
    "Base-stock (order-up-to) policy": "base-stock", "(s, S) policy": "(s, S)",
    "Newsvendor problem": "newsvendor", "Critical fractile": "fractile",
    "Transshipment / transfer": "transfer", "Allocation": "allocat",
    "Intermittent demand": "intermittent", "Seasonal naive": "seasonal naive",
    "Croston / SBA": "Croston", "Holt-Winters": "Holt-Winters", "SARIMAX": "SARIMAX",
    "Count GLM (Poisson / negative binomial regression)": "negative binomial",
    "Rolling-origin backtest": "backtest", "MASE": "MASE", "Pinball (quantile) loss": "pinball",
    "Bootstrap interval": "bootstrap", "State": "state", "Action": "action", "Reward": "reward",
    "Policy": "policy", r"Discount factor $\gamma$": "discount", "Value (of a state)": "value",
    "Markov decision process (MDP)": "Markov decision process", "Bellman equation": "Bellman",
    "Value iteration": "value iteration", "Policy iteration": "policy iteration",
    "Gap to the optimum": "gap", "Q-value": "Q(s,a)", "Q-learning": "Q-learning",
    r"$\varepsilon$-greedy": "greedy", r"Learning rate $\alpha$": "learning rate",
    "Double Q-learning": "double", "DQN (deep Q-network)": "DQN", "Replay buffer": "replay",
    "Target network": "target network", "Policy gradient / REINFORCE": "REINFORCE",
    "GAE (generalised advantage estimation)": "GAE", "PPO (proximal policy optimisation)": "PPO",
    "Entropy bonus": "entropy", "CTDE (centralised training, decentralised execution)": "decentralised execution",
    "VDN (value decomposition network)": "VDN", "Coordination graph": "coordination graph",
    "Contract net": "contract net", "Value of information": "value of information",
    "Relative overgeneralisation": "relative overgeneralisation", "Non-stationarity": "non-stationarity",
    "PettingZoo": "PettingZoo",
}


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _markdown(path: Path) -> list[str]:
    return [c.source for c in _read(path).cells if c.cell_type == "markdown"]


def glossary() -> dict[str, str]:
    """Notebook 00's glossary: term -> definition (one markdown cell under '## Glossary')."""
    cells = [s for s in _markdown(ROOT / "notebooks" / "00_start_here.ipynb") if s.startswith("## Glossary")]
    assert len(cells) == 1, "notebook 00 must have exactly one '## Glossary' cell"
    return {m.group(1): " ".join(m.group(2).split()) for m in GLOSSARY_ENTRY.finditer(cells[0])}


def test_glossary_covers_every_required_term_in_plain_sentences():
    terms = glossary()
    missing = set(REQUIRED_TERMS) - set(terms)
    assert not missing, f"the glossary lacks {sorted(missing)}"
    for term, definition in terms.items():
        body = re.sub(r"\$[^$]*\$|\([^()]*\)|e\.g\.|i\.e\.", "", definition)  # formulas, brackets, abbreviations
        sentences = [s for s in re.split(r"(?<=\.)\s", body.strip()) if s.strip(" ()0-9,.")]
        assert 1 <= len(sentences) <= 2 and len(definition) < 400, f"{term}: {definition!r}"


def test_every_required_glossary_term_is_used_by_a_notebook():
    """Each term is used outside its own entry: in notebooks 01-09 or in another entry's definition."""
    text = "\n".join(src for nb in NOTEBOOKS if not nb.name.startswith("00_") for src in _markdown(nb))
    text += "\n".join(c.source for nb in NOTEBOOKS if not nb.name.startswith("00_")
                      for c in _read(nb).cells if c.cell_type == "code")
    terms = glossary()
    unused = [term for term, phrase in REQUIRED_TERMS.items() if phrase.lower() not in text.lower()
              and not any(phrase.lower() in d.lower() for t, d in terms.items() if t != term)]
    assert not unused, f"glossary terms no notebook uses (drop them or fix the phrase): {unused}"


def test_glossary_links_from_the_notebooks_resolve():
    """A notebook may link a term as [term](00_start_here.ipynb#glossary); the term must exist."""
    terms = {t.lower() for t in glossary()}
    for nb in NOTEBOOKS:
        for src in _markdown(nb):
            for word in re.findall(r"\[([^\]]+)\]\(00_start_here\.ipynb#glossary\)", src):
                assert any(word.lower() in t for t in terms), f"{nb.name} links {word!r}, not in the glossary"


def _inline_math_open(line: str) -> bool:
    """True when ``line`` leaves an inline ``$...$`` formula open (an odd number of lone ``$``)."""
    return line.replace("$$", "").replace(r"\$", "").count("$") % 2 == 1


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_formula_is_broken_into_a_list_item(nb):
    """Markdown starts a bullet at a line beginning with -, * or +: a formula broken before such a
    sign turns into a list item and a run-on line in the book."""
    for src in _markdown(nb):
        lines, inside = src.splitlines(), False
        for line, nxt in zip(lines, lines[1:] + [""], strict=True):
            if line.strip() == "$$" or line.startswith("```"):
                inside = not inside if line.strip() == "$$" else inside
            open_inline = _inline_math_open(line)
            assert not (open_inline and re.match(r"\s*[-*+]\s", nxt)), f"{nb.name}: formula broken before {nxt!r}"


def _hint_imports(nb: Path) -> list[tuple[str, list[str]]]:
    found = []
    for src in _markdown(nb):
        for span in re.findall(r"`([^`]+)`", src):
            for mod, names in re.findall(r"from ([\w.]+) import ([\w, ]+)", span):
                found.append((mod, [n.strip() for n in names.split(",") if n.strip()]))
        for name, mod in re.findall(r"`(\w+)` from `([\w.]+)`", src):
            found.append((mod, [name]))
    return found


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_import_a_hint_names_works(nb):
    for mod, names in _hint_imports(nb):
        module = importlib.import_module(mod)
        for name in names:
            assert hasattr(module, name), f"{nb.name}: a hint imports {name} from {mod}, which has no {name}"


def test_hint_imports_are_found():
    """The check above is not empty: the hints of 02 and 07 name their imports."""
    assert ("mas_lib.decide", ["grid_search", "simulate"]) in _hint_imports(ROOT / "notebooks" / "02_the_paper_scenario.ipynb")
    assert ("mas_lib.messaging", ["CentralCoordinator"]) in _hint_imports(ROOT / "notebooks" / "07_agents_that_talk.ipynb")


# "section 12", "sections 3 and 4", "section 6's": a reference to this notebook's own numbered section,
# unless the paper is named just before it ("the paper's section 4", "paper sections 3.1.1")
SECTION_REF = re.compile(r"(?<![\w.])sections? (\d+)(?![.\d(])", re.I)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_section_cross_references_name_existing_sections(nb):
    sources = _markdown(nb) + [c.source for c in _read(nb).cells if c.cell_type == "code"]
    headings = {int(m) for src in sources for m in re.findall(r"^## (\d+)\. ", src, re.M)}
    for src in sources:
        for m in SECTION_REF.finditer(src):
            before = src[max(0, m.start() - 40): m.start()].lower()
            if "paper" in before or "its section" in before or "notebook" in before:
                continue
            assert int(m.group(1)) in headings, f"{nb.name}: {src[max(0, m.start() - 60): m.end() + 20]!r}"


def test_notebook_00_maps_every_notebook():
    text = "\n".join(_markdown(ROOT / "notebooks" / "00_start_here.ipynb"))
    rows = re.findall(r"^\| (\d\d) [^|]+\|", text, re.M)
    assert rows == [nb.name[:2] for nb in NOTEBOOKS]


@pytest.mark.parametrize("nb", [p for p in NOTEBOOKS if p.name[:2] in {"07", "09"}], ids=lambda p: p.stem)
def test_notebooks_07_and_09_follow_the_template(nb):
    text = "\n".join(_markdown(nb))
    for part in ("**Paper sections", "objectives", "**Prerequisites.**", "## Summary", "## Exercises", "## References"):
        assert part in text, f"{nb.name} lacks {part!r}"
    prerequisites = re.search(r"\*\*Prerequisites\.\*\*(.+?)(?:\n\n|\Z)", text, re.S).group(1)
    named = {int(n) for n in re.findall(r"\b0(\d)\b", prerequisites)}
    assert named and max(named) < int(nb.name[:2]), f"{nb.name}: prerequisites must name earlier notebooks only"


PREREQUISITES = re.compile(r"\*\*Prerequisites[.:]?\*\*[.:]?(.+?)(?:\n\n|\Z)", re.S)


def prerequisites(nb: Path) -> str | None:
    """The prerequisites paragraph of a notebook (the markdown after '**Prerequisites.**' up to the
    next blank line, within its cell), or None when it has none."""
    for src in _markdown(nb):
        m = PREREQUISITES.search(src)
        if m:
            return m.group(1)
    return None


@pytest.mark.parametrize("nb", [p for p in NOTEBOOKS if prerequisites(p) is not None], ids=lambda p: p.stem)
def test_prerequisites_name_earlier_notebooks_only(nb):
    """No loop: a notebook's prerequisites never name itself or a later notebook."""
    named = {int(n) for n in re.findall(r"\b0(\d)\b", prerequisites(nb))}
    assert all(n < int(nb.name[:2]) for n in named), f"{nb.name}: prerequisites name {sorted(named)}"


def test_prerequisites_assume_no_outside_reinforcement_learning():
    """Notebook 00 says no RL is assumed, so no notebook may send the reader to an RL textbook first:
    notebook 05 introduces the MDP itself, and later notebooks only name earlier ones."""
    assert "No inventory theory or RL is assumed" in prerequisites(ROOT / "notebooks" / "00_start_here.ipynb")
    for nb in NOTEBOOKS:
        text = prerequisites(nb) or ""
        assert not re.search(r"Sutton|Barto|chapters? \d", text.replace("further reading, not a prerequisite", "")
                             .split("Nothing else is assumed")[0]), nb.name


def test_notebook_05_opens_with_the_mdp():
    """Notebook 05 is the first to use RL words; its section 0 defines each before section 1 uses it,
    with the Bellman equation in LaTeX and a computed three-state example."""
    cells = _read(ROOT / "notebooks" / "05_q_learning.ipynb").cells
    first = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## 1. "))
    zero = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## 0. "))
    assert zero < first
    text = cells[zero].source
    for term in ("**State**", "**Action**", "**Reward**", "**Transition**", "**Policy**", "**Discount**",
                 "**Value**", "**Bellman equation**", "**Optimum**", r"(I - \gamma P_\pi)", "A tiny example"):
        assert term in text, term
    code = "\n".join(c.source for c in cells[zero:first] if c.cell_type == "code")
    assert "policy_values(" in code and "assert" in code


def test_notebook_09_derives_what_it_uses():
    text = "\n".join(_markdown(ROOT / "notebooks" / "09_deep_rl.ipynb"))
    for part in ("policy-gradient theorem", "**The advantage.**", r"\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t)",
                 r"(\gamma\lambda)^l", r"\operatorname{clip}(\rho_t(\theta), 1-\epsilon, 1+\epsilon)", "why it clips"):
        assert part in text, part

"""Sphinx extension of ``make book`` (loaded by ``book/_config.yml``), on top of Jupyter Book.

Jupyter Book (MyST-NB, ``execute_notebooks: cache``) runs each notebook in a fresh kernel and keeps
its outputs in jupyter-cache, but one notebook at a time. This extension adds three things:

* **Parallel execution.** Before Sphinx reads the pages, the notebooks it is about to read whose
  code is not in the cache are executed ``mas_book_jobs`` at a time (default 2) by jupyter-cache's
  own worker, each in a new process with a new kernel, with the book's per-cell timeout. MyST-NB
  then finds every successful run in the cache and executes nothing itself.
* **Failed notebooks.** A notebook that fails (a cell error, a cell over the timeout, a dead
  kernel) is not executed a second time: its page is rendered without outputs under a red box
  with the error and its traceback, the execution table marks it failed, its traceback is
  written to ``reports/<page>.err.log``, and the build ends by listing the failures with exit
  status 1. A failed notebook is tried again at the next build; a successful one only when its
  code changes.
* **Nothing remote.** No page names a script on a CDN: MathJax comes from the site
  (``sphinx-mathjax-offline``) and the unused Thebe scripts are left out.
* **Widget outputs.** A static page cannot run a kernel, so an ipywidgets output is replaced by a
  note saying how to run the panel live, and no widget state or widget manager is put on the page
  (the config also sets ``nb_ipywidgets_js: {}``, so nothing is loaded from a CDN).
"""

from __future__ import annotations

import multiprocessing as mp
import re
import sys
import time
import traceback
from pathlib import Path, PurePosixPath

from docutils import nodes
from jupyter_cache import get_cache
from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData
from jupyter_cache.executors.utils import ExecutionResult
from myst_nb.sphinx_ import NbMetadataCollector
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ("A static page cannot run a kernel, so this interactive panel is not shown here. To use "
               "it live, open this notebook in JupyterLab (make lab) and run it; where the notebook has "
               "one, a static figure nearby shows a representative run.")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def error_summary(err: BaseException) -> str:
    """One line for a failed notebook: the cell's exception (``ValueError: boom``) for a cell error,
    else the first line of the message (a cell over the timeout, a kernel that died)."""
    lines = [ln.strip() for ln in _ANSI.sub("", str(err)).splitlines() if ln.strip("- ")]
    if type(err).__name__ == "CellExecutionError" and lines:
        return lines[-1][:300]
    return f"{type(err).__name__}: {lines[0] if lines else ''}"[:300]


class Worker(ExecutionWorkerLocalMProc):
    """jupyter-cache's worker (executes a notebook in its folder, caches a success, records a
    failure's traceback) that also records a kernel that died or would not start, puts a one-line
    summary first in the traceback, and returns the seconds taken."""

    def __call__(self, data: ProcessData) -> tuple[int, str, float]:
        t0 = time.perf_counter()
        code, uri = super().__call__(data)
        return code, uri, time.perf_counter() - t0

    @staticmethod
    def execute(project_nb, data: ProcessData) -> ExecutionResult:
        try:
            result = ExecutionWorkerLocalMProc.execute(project_nb, data)
        except Exception as exc:  # nbclient raises DeadKernelError and start-up errors
            result = ExecutionResult(project_nb.nb, str(Path(project_nb.uri).parent), 0.0, exc,
                                     traceback.format_exc())
        if result.err is not None:  # a cell's error says which cell and has the kernel's traceback
            cell = isinstance(result.err, (CellExecutionError, CellTimeoutError))
            detail = str(result.err) if cell else result.exc_string
            result.exc_string = f"{error_summary(result.err)}\n\n{detail}"
        return result


def _notebooks(env, docnames) -> dict[str, Path]:
    """The notebooks among ``docnames`` that MyST-NB would execute, by docname."""
    cfg = env.mystnb_config
    out = {}
    for doc in docnames:
        path = Path(env.doc2path(doc))
        if path.suffix == ".ipynb" and not any(PurePosixPath(path.as_posix()).match(p)
                                               for p in cfg.execution_excludepatterns):
            out[doc] = path.absolute()
    return out


def _expected_seconds(cache, uri: str, book_order: list[Path]) -> float:
    """How long a notebook is expected to run, to start the longest first: its last run in the
    cache (an earlier version of it), else longer than any known run, later notebooks of the book
    before earlier ones (they build on them and run longer: 09, 05 and 06 are the slowest)."""
    runs = [r for r in cache.list_cache_records() if r.uri == uri and "execution_seconds" in (r.data or {})]
    if runs:
        return float(max(runs, key=lambda r: r.created).data["execution_seconds"])
    return 1e9 + [str(p) for p in book_order].index(uri)


def execute_in_parallel(app, env, docnames) -> None:
    """``env-before-read-docs``: execute the notebooks about to be read that the cache lacks."""
    env.mas_book_failed = {d: v for d, v in getattr(env, "mas_book_failed", {}).items() if d not in docnames}
    cfg = env.mystnb_config
    if cfg.execution_mode != "cache":
        return
    paths = _notebooks(env, docnames)
    if not paths:
        return
    cache = get_cache(cfg.execution_cache_path)
    for path in paths.values():
        cache.add_nb_to_project(str(path))
    records = cache.list_unexecuted(filter_uris=[str(p) for p in paths.values()])
    if not records:
        return
    records.sort(key=lambda r: _expected_seconds(cache, r.uri, list(paths.values())), reverse=True)
    jobs = max(1, min(int(app.config.mas_book_jobs), len(records)))
    LOGGER.info(f"mas_book: executing {len(records)} notebook(s), {jobs} at a time, "
                f"cell timeout {cfg.execution_timeout} s")
    work = [ProcessData(r.pk, r.uri, cache, cfg.execution_timeout, cfg.execution_allow_errors) for r in records]
    doc_of = {str(p): d for d, p in paths.items()}
    failed = []
    t0 = time.perf_counter()
    # a new process for every notebook: a kernel client that had run another notebook in the same
    # process once hung for the whole cell timeout after notebook 08's widget cell. Forked (where
    # that is safe) from this process, which has run no kernel: a spawned one re-imports for seconds.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    with mp.get_context(method).Pool(jobs, maxtasksperchild=1) as pool:
        for code, uri, seconds in pool.imap_unordered(Worker(), work, chunksize=1):
            doc = doc_of[uri]
            if code == 0:
                LOGGER.info(f"mas_book: {doc} executed in {seconds:.1f} s")
                continue
            record = cache.get_project_record(uri)
            tb = record.traceback or "the notebook could not be executed (no traceback recorded)"
            env.mas_book_failed[doc] = {"error": tb.split("\n", 1)[0], "traceback": tb, "runtime": seconds}
            failed.append(uri)
            LOGGER.warning(f"mas_book: {doc} FAILED after {seconds:.1f} s: {tb.splitlines()[0]}")
    LOGGER.info(f"mas_book: executed {len(records)} notebook(s) in {time.perf_counter() - t0:.1f} s")
    if failed:  # rendered without outputs, not executed a second time by MyST-NB
        env.mystnb_config = cfg.copy(execution_excludepatterns=[*cfg.execution_excludepatterns, *failed])


def retry_failed(app, env, added, changed, removed) -> list[str]:
    """``env-get-outdated``: read (and so execute) the notebooks that failed last time again."""
    return [doc for doc, meta in NbMetadataCollector.get_doc_data(env).items()
            if (meta.get("exec_data") or {}).get("succeeded") is False and doc not in removed]


def _failure_box(doc: str, failure: dict) -> nodes.Element:
    box = nodes.admonition(classes=["error", "mas-book-failed"])
    box += nodes.title(text="This notebook failed")
    box += nodes.paragraph(text=f"This notebook failed when make book executed it in a fresh kernel: "
                                f"{failure['error']}. Its outputs are not shown. The traceback:")
    tb = _ANSI.sub("", failure["traceback"].split("\n", 1)[-1]).strip()
    box += nodes.literal_block(tb, tb, language="text")
    return box


def mark_page(app, doctree) -> None:
    """``doctree-read``: widget outputs become a note; a failed notebook gets its error box and
    its row in the execution table."""
    env, doc = app.env, app.env.docname
    for raw in list(doctree.findall(nodes.raw)):
        if f'type="{WIDGET_VIEW}"' in raw.astext():
            note = nodes.admonition(classes=["note", "widget-note"])
            note += nodes.title(text="Interactive panel")
            note += nodes.paragraph(text=WIDGET_NOTE)
            raw.replace_self(note)
    NbMetadataCollector.get_doc_data(env).get(doc, {}).get("js_files", {}).pop("ipywidgets_state", None)
    failure = getattr(env, "mas_book_failed", {}).get(doc)
    if failure is None:
        return
    NbMetadataCollector.set_exec_data(env, doc, {
        "mtime": time.time(), "runtime": failure["runtime"], "method": "cache", "succeeded": False,
        "error": failure["error"], "traceback": failure["traceback"]})
    section = next(iter(doctree.findall(nodes.section)), None)
    parent = section if section is not None else doctree
    at = 1 if section is not None and section.children and isinstance(section[0], nodes.title) else 0
    parent.insert(at, _failure_box(doc, failure))
    report = Path(app.outdir, "reports", *(doc + ".err.log").split("/"))
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(_ANSI.sub("", failure["traceback"]), encoding="utf-8")


def report_failures(app, exc) -> None:
    """``build-finished``: list the failed notebooks and make the build exit with status 1."""
    if exc is not None:
        return
    data = NbMetadataCollector.get_doc_data(app.env)
    failed = {doc: meta["exec_data"] for doc, meta in sorted(data.items())
              if (meta.get("exec_data") or {}).get("succeeded") is False}
    if not failed:
        return
    lines = [f"  {doc}: {info['error']}  (traceback: {Path(app.outdir, 'reports', doc + '.err.log')})"
             for doc, info in failed.items()]
    LOGGER.warning(f"mas_book: {len(failed)} notebook(s) failed; their pages show the error:\n" + "\n".join(lines))
    app.statuscode = 1


def drop_thebe(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context``: Jupyter Book always loads sphinx-thebe, which puts the address of
    its script on a CDN in every page; the book has no live code (``launch_buttons.thebe: false``),
    so its two scripts are left out and no page names a remote script."""
    context["script_files"] = [
        js for js in context.get("script_files", [])
        if not (str(getattr(js, "filename", "") or "").endswith("sphinx-thebe.js")
                or "THEBE_JS_URL" in str(getattr(js, "attributes", {}).get("body", "")))]


def setup(app):
    app.add_config_value("mas_book_jobs", 2, "", int)
    app.connect("env-get-outdated", retry_failed)
    app.connect("env-before-read-docs", execute_in_parallel)
    app.connect("doctree-read", mark_page)
    app.connect("build-finished", report_failures)
    app.connect("html-page-context", drop_thebe)
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True}

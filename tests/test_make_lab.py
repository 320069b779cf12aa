"""`make lab`, the README's first command, starts a JupyterLab server that answers on its port.

It is run as the user the tests run as, which in a container or on a CI box is root: Jupyter
refuses root without ``--allow-root``, and the Makefile must pass it. The server is started on a
free loopback port with a fixed token and no browser, polled until ``/api/status`` answers, then
stopped with its whole process group.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser.lab import free_port

ROOT = Path(__file__).resolve().parents[1]
STARTUP_S = 120.0


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.skipif(not (ROOT / ".venv" / ".installed").exists(),
                    reason="the .venv made by `make` is missing (run `make test`, which creates it)")
def test_make_lab_answers_on_its_port(tmp_path):
    port = free_port()
    token = "maslib-test-token"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    args = f"--no-browser --IdentityProvider.token={token} --ServerApp.answer_yes=True"
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["make", "-s", "lab", f"LAB_PORT={port}", f"LAB_ARGS={args}"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    try:
        deadline = time.monotonic() + STARTUP_S
        status = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"`make lab` exited with {proc.returncode} before answering:\n"
                            + log.read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    status = r.status
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        tail = log.read_text(errors="replace")[-3000:]
        assert status == 200, f"no answer from `make lab` on port {port} within {STARTUP_S:.0f} s:\n{tail}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    assert proc.returncode is not None

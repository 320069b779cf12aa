"""A throwaway JupyterLab server for the browser tests (tests/test_browser.py).

The server listens on a free loopback port with a random token, serves a *copy* of the notebooks
(so the browser never writes outputs into the committed, stripped notebooks) and keeps its
config, settings, workspaces and runtime files under the test's own folder. Lab is started with
``expose_app_in_browser`` so the test can call Lab commands (e.g. "run all above") by id.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
STARTUP_TIMEOUT_S = 120.0

# User settings for the throwaway Lab: no autosave, no news/update toasts over the notebook,
# every cell kept in the DOM (no virtual scrolling), so locators find the panel cell.
_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    process: subprocess.Popen
    port: int
    token: str
    root: Path
    log: Path

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server and its kernels (its own process group, started by us)."""
        if self.process.poll() is None:
            pgid = os.getpgid(self.process.pid)
            os.killpg(pgid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(pgid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_lab(workdir: Path) -> LabServer:
    """Start ``jupyter lab`` on a copy of ``notebooks/`` in ``workdir``; wait (bounded) until it
    answers. Raises ``RuntimeError`` with the server log when it does not come up."""
    root = workdir / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    jdir = workdir / "jupyter"
    for rel, values in _SETTINGS.items():
        p = jdir / "settings" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(values))
    env = dict(os.environ)
    env.update({
        "JUPYTER_CONFIG_DIR": str(jdir / "config"),
        "JUPYTER_RUNTIME_DIR": str(jdir / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(jdir / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(jdir / "workspaces"),
        # the kernel imports this checkout's mas_lib, whatever is installed
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
    port, token = free_port(), secrets.token_hex(16)
    log = workdir / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",  # ServerApp.token before 2.0
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={root}", "--ServerApp.terminals_enabled=False",
           "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        cmd.append("--allow-root")
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    server = LabServer(proc, port, token, root, log)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url("api/status"), timeout=5) as r:
                if r.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"jupyter lab did not answer within {STARTUP_TIMEOUT_S:.0f} s:\n{server.log_tail()}")

"""`make run` as a process on free ports, for the tests that use it from the outside (HTTP, a browser)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass

from localrun.stack import ROOT

READY = "Ctrl+C stops it."


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalRun:
    gateway: str
    ecwid: str
    tiktok: str
    printed: str
    output: list[str]  # everything the process printed, still growing

    @property
    def open_url(self) -> str:
        """The first URL `make run` prints: the demo store's TikTok page, opened through the Ecwid admin stand-in."""
        found = re.search(r"Open the TikTok page of demo store \d+[^\n]*:\n\s+(\S+)", self.printed)
        assert found is not None, self.printed
        return found.group(1)

    @property
    def install_url(self) -> str:
        found = re.search(r"Install the app in another store: (\S+)", self.printed)
        assert found is not None, self.printed
        return found.group(1)


@contextmanager
def local_run(extra_env: dict[str, str] | None = None, startup_seconds: float = 60.0) -> Iterator[LocalRun]:
    ports = {name: str(free_port()) for name in ("GATEWAY", "MOTO", "ECWID", "TIKTOK")}
    env = {**os.environ, **{f"LOCAL_{name}_PORT": port for name, port in ports.items()}, **(extra_env or {})}
    for name in list(env):
        if name.startswith("AWS_ENDPOINT_URL"):
            del env[name]
    process = subprocess.Popen(
        [sys.executable, "-m", "localrun"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    printed: list[str] = []
    deadline = time.time() + startup_seconds
    while time.time() < deadline:
        line = process.stdout.readline()
        printed.append(line)
        if READY in line or process.poll() is not None:
            break
    assert READY in "".join(printed), "".join(printed)
    banner = "".join(printed)
    # Keep reading, so the process never blocks on a full pipe while it logs.
    threading.Thread(target=lambda: printed.extend(process.stdout or []), daemon=True).start()
    try:
        yield LocalRun(
            gateway=f"http://127.0.0.1:{ports['GATEWAY']}",
            ecwid=f"http://127.0.0.1:{ports['ECWID']}",
            tiktok=f"http://127.0.0.1:{ports['TIKTOK']}",
            printed=banner,
            output=printed,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        finally:
            process.kill()
            process.stdout.close()

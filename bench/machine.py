"""What a benchmark's numbers were measured on and with: the machine, the commit, the command."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict[str, Any]:
    """What the numbers were measured on: CPU, memory, Python, and the load when the run started."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb: float | str = "?"
    with contextlib.suppress(OSError, ValueError):
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages / 2**30, 1)
    return {
        "load_average_start": load_average(),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def load_average() -> list[float]:
    """The machine's 1, 5 and 15-minute load averages: other work on it slows the sandboxes, moto and the worker."""
    with contextlib.suppress(OSError):
        return [round(x, 2) for x in os.getloadavg()]
    return []


def git_state() -> str:
    """The commit measured, and whether the working tree differed from it."""

    def git(*args: str) -> str:
        command = ["git", *args]
        answer = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
        return answer.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"commit {commit}" + (" with uncommitted changes" if dirty else "")


def command(module: str, argv: list[str]) -> str:
    """The command line that runs `module` with `argv` with this interpreter, relative to the repository."""
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(ROOT)
    return " ".join([str(python), "-m", module, *argv])

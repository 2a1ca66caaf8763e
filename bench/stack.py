"""One benchmark size on the local stack (localrun.stack): moto as a server in its own process, the sandboxes
with latency and TikTok's limits, and the catalog worker left out of this process: it runs in a child process
per sync (bench.worker), against the same moto, so that its time and memory are its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.worker import RESULT_PREFIX
from localrun.stack import ROOT, LocalStack, local_aws_environment, local_stack, move_clock

WORKER = "CatalogWorkerFunction"
QUEUE = "CatalogQueue"


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and what was seen."""


@dataclass
class WorkerRun:
    result: dict[str, Any]
    log: Path
    cpu_seconds: dict[str, float]  # of the worker, of this process (sandboxes, routes) and of moto, meanwhile


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy_seconds() -> float:
    """CPU time the whole machine has been busy (Linux /proc/stat; 0 where there is none)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """CPU time of another process so far (Linux /proc; 0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class BenchStack:
    """The local stack of one size, and the worker process that drains its catalog queue."""

    stack: LocalStack
    logs: Path
    worker_environment: dict[str, str]
    moto_pid: int
    # How far every clock (the app's here and in the worker process, both sandboxes') was moved forward.
    clock_offset_seconds: float = 0.0
    # catalog_id → when (TikTok's sandbox clock) each upload call of this stack's syncs came.
    upload_calls: dict[str, list[float]] = field(default_factory=dict)

    @property
    def upload_batch_size(self) -> int:
        return int(self.worker_setting("TIKTOK_UPLOAD_BATCH_SIZE"))

    def worker_setting(self, name: str) -> str:
        """One variable of the catalog worker's environment, as provisioned."""
        return self.stack.resources.function_environment(WORKER)[name]

    def advance_clocks(self, seconds: float) -> None:
        """Move time forward for everyone: the sandboxes, the app's routes in this process and the worker process
        (its clock is moved by the same total when it starts; see bench.worker)."""
        self.stack.ecwid.clock.advance(seconds)
        self.stack.tiktok.clock.advance(seconds)
        self.clock_offset_seconds += seconds
        move_clock(self.clock_offset_seconds)

    def run_worker(self, name: str, timeout_seconds: float) -> WorkerRun:
        """Drain the catalog queue with the catalog worker in a child process; its BENCH_RESULT."""
        resources = self.stack.resources
        spec = {
            "resources": resources.to_json(),
            "function": WORKER,
            # As provisioned: the template on disk may have changed since (others edit it).
            "environment": resources.function_environment(WORKER),
            "function_name": resources.function_name(WORKER),
            "function_arn": resources.function_arn(WORKER),
            "queue": QUEUE,
            "timeout_seconds": timeout_seconds,
            "clock_offset_seconds": self.clock_offset_seconds,
        }
        spec_path = self.logs / f"{name}.spec.json"
        spec_path.write_text(json.dumps(spec, indent=1))
        log_path = self.logs / f"{name}.log"
        own_before, moto_before, machine_before = (
            _own_cpu_seconds(),
            process_cpu_seconds(self.moto_pid),
            machine_busy_seconds(),
        )
        with log_path.open("wb") as log:
            try:
                process = subprocess.run(  # noqa: S603 - our own interpreter and module
                    [sys.executable, "-m", "bench.worker", str(spec_path)],
                    cwd=ROOT,
                    env=self.worker_environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=timeout_seconds + 120,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise BenchError(f"the worker process ({name}) did not finish; its log: {log_path}") from None
        text = log_path.read_text(errors="replace")
        lines = [line for line in text.splitlines() if line.startswith(RESULT_PREFIX)]
        if process.returncode != 0 or not lines:
            tail = "\n".join(text.splitlines()[-30:])
            raise BenchError(f"the worker process ({name}) failed with exit code {process.returncode}:\n{tail}")
        result = json.loads(lines[-1][len(RESULT_PREFIX) :])
        cpu = {
            "worker": float(result["cpu_seconds"]),
            "sandboxes_and_routes": round(_own_cpu_seconds() - own_before, 2),
            "moto": round(process_cpu_seconds(self.moto_pid) - moto_before, 2),
        }
        busy = machine_busy_seconds() - machine_before
        # What other processes of the machine used meanwhile (tests of other sessions, …): contention.
        cpu["other_processes"] = round(max(0.0, busy - sum(cpu.values())), 2)
        cpu["machine_cpus"] = float(os.cpu_count() or 1)
        return WorkerRun(result, log_path, cpu)


@contextlib.contextmanager
def bench_stack(*, logs: Path, latency_seconds: float, review_delay_seconds: float) -> Iterator[BenchStack]:
    """A fresh local stack for one size, torn down on exit."""
    logs.mkdir(parents=True, exist_ok=True)
    # The worker's environment: this process's, less what the in-process functions and Powertools set.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))}
    with (
        (logs / "moto.log").open("ab") as moto_log,
        local_stack(
            moto_server=True,
            moto_log=moto_log,
            ecwid_options={"latency_seconds": latency_seconds},
            tiktok_options={
                "latency_seconds": latency_seconds,
                "enforce_rate_limits": True,  # TikTok's documented table (sandboxes/tiktok_limits.default_limits)
                "review_delay_seconds": review_delay_seconds,
            },
            without=[WORKER],
        ) as stack,
    ):
        assert stack.moto is not None  # moto_server=True
        worker_environment = {**environment, **local_aws_environment(stack.moto.url), "PYTHONUNBUFFERED": "1"}
        yield BenchStack(stack, logs, worker_environment, stack.moto.pid)

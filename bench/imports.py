"""Each handler's cold import, as a Lambda init pays it, beside `import boto3` alone measured in the same run.

    python -m bench.imports              # 7 runs of each
    python -m bench.imports --runs 15

For every function of template.yaml: `python -X importtime -c "import app"` in a subprocess, in the function's
code directory, with the layer (layers/shared) on PYTHONPATH and a Lambda-like environment: the function's
variables of the template (Globals and its own; parameter defaults where the template has them, a dummy for
each resource), AWS_DEFAULT_REGION and AWS_LAMBDA_FUNCTION_NAME. A run's total is the sum of importtime's
"self" column; the median of the runs is reported with the number of tiktok_channel modules loaded, and
its ratio to the median of `import boto3` (which the runtime provides, and which any AWS call imports).
The runs of all imports are interleaved, so that other load on the machine falls on each alike.
Writes bench/results/imports.json and bench/results/imports.md.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import command, git_state, load_average, machine
from localrun.template import Function, Resolver, UnresolvedReference, as_text, load_template

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "shared"
RESULTS = ROOT / "bench" / "results"
RUNS = 7
BOTO3 = "boto3"
# "import time:       412 |       1390 |   tiktok_channel.settings" (microseconds; nesting indents the name)
_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+\d+\s+\|\s*(\S+)")


@dataclass(frozen=True)
class Target:
    name: str  # the function's logical id, or "boto3"
    code_dir: Path
    statement: str
    environment: dict[str, str]


@dataclass(frozen=True)
class Profile:
    total_ms: float  # the sum of the "self" column
    modules: tuple[str, ...]

    @property
    def tiktok_channel_modules(self) -> int:
        return sum(1 for name in self.modules if name == "tiktok_channel" or name.startswith("tiktok_channel."))


def parse_importtime(stderr: str) -> Profile:
    """The total self time (ms) and the modules imported, from `python -X importtime` output."""
    found = [(int(m.group(1)), m.group(2)) for m in map(_LINE.match, stderr.splitlines()) if m]
    return Profile(sum(us for us, _ in found) / 1000, tuple(name for _, name in found))


def lambda_environment(function: Function, resolver: Resolver) -> dict[str, str]:
    """The function's variables as Lambda would set them, with nothing provisioned: a parameter's default, or
    a dummy for a resource (a table name, a queue URL) that only exists once deployed."""
    environment = {}
    for name, value in function.environment.items():
        try:
            environment[name] = as_text(resolver.resolve(value))
        except UnresolvedReference:
            environment[name] = f"dummy-{name.lower()}"
    return {
        **environment,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "PYTHONPATH": str(LAYER),
    }


def targets() -> list[Target]:
    """`import boto3`, then every function of the template whose code is under functions/."""
    template = load_template(ROOT / "template.yaml")
    resolver = Resolver(template, {})
    found = []
    for function in template.functions.values():
        if not function.code_uri.is_relative_to(ROOT / "functions"):
            continue
        module = function.handler.rpartition(".")[0]
        found.append(
            Target(function.logical_id, function.code_uri, f"import {module}", lambda_environment(function, resolver))
        )
    baseline = Target(BOTO3, ROOT, "import boto3", {**found[0].environment, "AWS_LAMBDA_FUNCTION_NAME": BOTO3})
    return [baseline, *found]


def measure(target: Target) -> Profile:
    answer = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-X", "importtime", "-c", target.statement],
        cwd=target.code_dir,
        env=target.environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if answer.returncode != 0:
        tail = "\n".join(answer.stderr.splitlines()[-15:])
        raise RuntimeError(f"{target.name}: `{target.statement}` failed with exit code {answer.returncode}:\n{tail}")
    return parse_importtime(answer.stderr)


def run(runs: int, argv: list[str]) -> dict[str, Any]:
    """Measure every target `runs` times, interleaved; the results document."""
    started = machine()
    meta: dict[str, Any] = {
        "command": command("bench.imports", argv),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git": git_state(),
    }
    found = targets()
    profiles: dict[str, list[Profile]] = {target.name: [] for target in found}
    for _ in range(runs):
        for target in found:
            profiles[target.name].append(measure(target))
    boto3_ms = statistics.median(p.total_ms for p in profiles[BOTO3])
    functions = []
    for target in found[1:]:
        measured = profiles[target.name]
        median = statistics.median(p.total_ms for p in measured)
        functions.append(
            {
                "function": target.name,
                "code_dir": str(target.code_dir.relative_to(ROOT)),
                "median_ms": round(median, 1),
                "runs_ms": [round(p.total_ms, 1) for p in measured],
                "tiktok_channel_modules": measured[-1].tiktok_channel_modules,
                "modules": len(measured[-1].modules),
                "ratio_to_boto3": round(median / boto3_ms, 2),
            }
        )
    return {
        **meta,
        "machine": {**started, "load_average_end": load_average()},
        "runs": runs,
        "measure": "median over runs of the sum of `python -X importtime`'s self column, in ms",
        "boto3": {
            "median_ms": round(boto3_ms, 1),
            "runs_ms": [round(p.total_ms, 1) for p in profiles[BOTO3]],
            "modules": len(profiles[BOTO3][-1].modules),
        },
        "functions": functions,
    }


def markdown(document: dict[str, Any]) -> str:
    rows = [
        f"| {f['function']} | {f['median_ms']:.1f} | {f['tiktok_channel_modules']} | {f['modules']} | "
        f"{f['ratio_to_boto3']:.2f} |"
        for f in document["functions"]
    ]
    boto3, machine = document["boto3"], document["machine"]
    return "\n".join(
        [
            "# Cold import of each handler",
            "",
            f"`{document['command']}` on {document['git']} ({document['date']}; Python {machine['python']}, "
            f"{machine['nproc']} × {machine['cpu']}, load {machine['load_average_start']} at the start, "
            f"{machine['load_average_end']} at the end): {document['measure']}, {document['runs']} runs of each, "
            "interleaved.",
            "",
            "| function | import app (ms) | tiktok_channel modules | modules | × import boto3 |",
            "| --- | ---: | ---: | ---: | ---: |",
            *rows,
            f"| `import boto3` alone | {boto3['median_ms']:.1f} | 0 | {boto3['modules']} | 1.00 |",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"runs of each import (default {RUNS})")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where imports.json and imports.md go")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    document = run(args.runs, argv)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "imports.json").write_text(json.dumps(document, indent=2) + "\n")
    table = markdown(document)
    (args.out / "imports.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

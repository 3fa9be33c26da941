"""Run the benchmark suite, print one table and write it as JSON.

``python -m tests.benchmarks [-k NAME] [--quick] [--runs N] [--json PATH]``

Every ``tests/benchmarks/bench_*.py`` module has ``run() -> list[tuple[str, str]]`` (measure,
value) and may have ``TARGETS: dict[str, str]`` mapping a measure to ``"<= 50"``,
``">= 1.8"`` or ``"== text"``; a value is compared by its first number (thousands
separators allowed), or as a whole string for ``==`` with a non-numeric target.

Each module runs ``--runs`` times (default 3; 2 with ``--quick``), each time in a fresh
interpreter, and every figure is shown as the **median** and the **worst** of those runs
("worst" follows the target: the largest value for ``<=``, the smallest for ``>=``). The
verdict is taken on the median. A module whose own rows are already medians and worsts of
many repeats (or that needs a long quiet stretch) sets ``RUNS = 1`` and runs once.
The JSON (``--json``, default ``benchmark-results.json``) holds every run's value too,
with the machine the table was made on.

Why a fresh interpreter per module: Qt (one QApplication per process), the asyncio loop,
the garbage collector and the allocator carry state from one benchmark into the next; a
subprocess starts each one from the same clean state. The child writes its rows to a JSON
file, so whatever a module or Qt prints cannot corrupt the results.

Benchmarks report, they do not test: a missed target prints ``MISSED`` and the exit code
stays 0. A benchmark that crashes prints ``ERROR`` with its stderr, and the exit code is 1.
The files are not ``test_*.py``, so pytest does not collect them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks._common import QUICK_ENV

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PACKAGE = "tests.benchmarks"
MODULE_TIMEOUT = 600.0

_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+")
_TARGET = re.compile(r"^\s*(<=|>=|==|<|>)\s*(.+?)\s*$")


@dataclass
class Row:
    module: str
    measure: str
    value: str  # the median run's text (or the only run's)
    target: str = ""
    verdict: str = ""
    worst: str = ""
    values: tuple[str, ...] = ()  # every run's text


def _worst_of(values: list[str], target: str) -> str:
    numbers = [(first_number(v), v) for v in values]
    known = [(n, v) for n, v in numbers if n is not None]
    if not known:
        return values[0]
    match = _TARGET.match(target)
    low_is_bad = match is not None and match.group(1) in (">=", ">")
    pick = min if low_is_bad else max
    return pick(known, key=lambda pair: pair[0])[1]


def _median_of(values: list[str]) -> str:
    """The run whose first number is the median (an observed value, as text)."""
    known = sorted(
        ((n, v) for v in values if (n := first_number(v)) is not None), key=lambda p: p[0]
    )
    if len(known) != len(values) or not known:
        return values[0]
    wanted = statistics.median_low([n for n, _ in known])
    return next(v for n, v in known if n == wanted)


def combine(module: str, runs: list[list[tuple[str, str]]], targets: dict[str, str]) -> list[Row]:
    """One Row per measure (in first-run order) from several runs of a module."""
    order: list[str] = []
    seen: dict[str, list[str]] = {}
    for rows in runs:
        for measure, value in rows:
            if measure not in seen:
                order.append(measure)
                seen[measure] = []
            seen[measure].append(value)
    result = []
    for measure in order:
        values = seen[measure]
        target = targets.get(measure, "")
        median = _median_of(values)
        worst = ""
        if len(values) > 1 and len(set(values)) > 1 and first_number(median) is not None:
            worst = _worst_of(values, target).split(" (")[0]  # the figure, not its note
        verdict = judge(median, target) if target else ""
        result.append(Row(module, measure, median, target, verdict, worst, tuple(values)))
    return result


def discover() -> list[str]:
    return sorted(path.stem for path in HERE.glob("bench_*.py"))


def first_number(text: str) -> float | None:
    match = _NUMBER.search(text)
    return float(match.group().replace(",", "")) if match else None


def judge(value: str, target: str) -> str:
    """``ok`` or ``MISSED`` for a value against a target such as ``<= 50``."""
    match = _TARGET.match(target)
    if match is None:
        return "?"
    op, wanted = match.groups()
    limit = first_number(wanted)
    if limit is None or not _NUMBER.fullmatch(wanted.split()[0]):
        return "ok" if op == "==" and value.strip() == wanted else "MISSED"
    got = first_number(value)
    if got is None:
        return "MISSED"
    passed = {
        "<=": got <= limit,
        ">=": got >= limit,
        "<": got < limit,
        ">": got > limit,
        "==": got == limit,
    }[op]
    return "ok" if passed else "MISSED"


# --- the child: one module in this interpreter ---------------------------------------------


def child(module_name: str, out: Path) -> int:
    module = importlib.import_module(f"{PACKAGE}.{module_name}")
    started = time.perf_counter()
    rows = [(str(measure), str(value)) for measure, value in module.run()]
    targets = dict(getattr(module, "TARGETS", {}) or {})
    out.write_text(
        json.dumps({"rows": rows, "targets": targets, "seconds": time.perf_counter() - started}),
        encoding="utf-8",
    )
    return 0


# --- the parent: run each module in its own process, then print the table ------------------


def run_once(name: str, quick: bool) -> tuple[dict[str, object] | None, float, str | None]:
    """(the child's JSON, seconds, error text or None) for one run of one module."""
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env[QUICK_ENV] = "1" if quick else "0"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / "rows.json"
        cmd = [sys.executable, "-m", PACKAGE, "--child", name, "--out", str(out)]
        try:
            proc = subprocess.run(
                cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=MODULE_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            return None, time.perf_counter() - started, f"timed out after {MODULE_TIMEOUT:.0f} s"
        seconds = time.perf_counter() - started
        if proc.returncode != 0 or not out.exists():
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
            return None, seconds, f"exit code {proc.returncode}\n" + "\n".join(detail)
        data: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return data, seconds, None


def module_runs(name: str, default: int) -> int:
    module = importlib.import_module(f"{PACKAGE}.{name}")
    return max(1, min(default, int(getattr(module, "RUNS", default))))


def run_module(name: str, quick: bool, runs: int) -> tuple[list[Row], float, str | None]:
    """(rows, seconds, error text or None) for ``runs`` runs of a module."""
    short = name.removeprefix("bench_")
    total = 0.0
    results: list[list[tuple[str, str]]] = []
    targets: dict[str, str] = {}
    for _ in range(runs):
        data, seconds, error = run_once(name, quick)
        total += seconds
        if error is not None or data is None:
            return [], total, error
        results.append([(str(m), str(v)) for m, v in data["rows"]])  # type: ignore[attr-defined]
        targets = dict(data["targets"])  # type: ignore[call-overload]
    return combine(short, results, targets), total, None


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def print_table(rows: list[Row]) -> None:
    headers = ("module", "measure", "median", "worst", "target", "result")
    caps = (9, 46, 46, 22, 8, 6)
    cells = [(r.module, r.measure, r.value, r.worst, r.target, r.verdict) for r in rows]
    widths = [
        min(cap, max([len(h)] + [len(c[i]) for c in cells]))
        for i, (h, cap) in enumerate(zip(headers, caps, strict=True))
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    previous = ""
    for cell in cells:
        if previous and cell[0] != previous:
            print()
        previous = cell[0]
        wrapped = [_wrap(text, width) for text, width in zip(cell, widths, strict=True)]
        for i in range(max(len(w) for w in wrapped)):
            parts = [
                (w[i] if i < len(w) else "").ljust(width)
                for w, width in zip(wrapped, widths, strict=True)
            ]
            print("  ".join(parts).rstrip())


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def write_json(path: Path, rows: list[Row], meta: dict[str, object]) -> None:
    payload = {
        **meta,
        "figures": [
            {
                "module": r.module,
                "measure": r.measure,
                "median": r.value,
                "worst": r.worst or r.value,
                "runs": list(r.values),
                "target": r.target,
                "result": r.verdict,
            }
            for r in rows
        ],
    }
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "-k",
        dest="names",
        action="append",
        default=[],
        metavar="NAME",
        help="run only modules whose name contains NAME (repeatable)",
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument(
        "--runs", type=int, default=0, help="runs per module (default 3; 2 with --quick)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("benchmark-results.json"),
        help="where to write the table as JSON (default: benchmark-results.json)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.out)

    modules = [m for m in discover() if not args.names or any(n in m for n in args.names)]
    if not modules:
        print(f"no benchmark matches {args.names}; have: {', '.join(discover())}")
        return 1
    rows: list[Row] = []
    errors: list[tuple[str, str]] = []
    started = time.perf_counter()
    default_runs = args.runs or (2 if args.quick else 3)
    for name in modules:
        runs = module_runs(name, default_runs)
        print(f"running {name} x{runs} ...", end="", file=sys.stderr, flush=True)
        module_rows, seconds, error = run_module(name, args.quick, runs)
        print(f" {seconds:.1f} s{'  ERROR' if error else ''}", file=sys.stderr, flush=True)
        if error is not None:
            errors.append((name, error))
            module_rows = [
                Row(
                    name.removeprefix("bench_"),
                    "(benchmark failed)",
                    error.splitlines()[0],
                    "",
                    "ERROR",
                )
            ]
        rows += module_rows
    total = time.perf_counter() - started

    print()
    print_table(rows)
    print()
    judged = [r for r in rows if r.target]
    missed = [r for r in judged if r.verdict != "ok"]
    mode = "quick" if args.quick else "full"
    met = len(judged) - len(missed)
    summary = f"targets: {met} met, {len(missed)} MISSED"
    about = machine()
    print(
        f"{len(modules)} modules, {mode} run ({default_runs} runs each unless a module says"
        f" otherwise), {total:.1f} s on {about['cpus']} x {about['cpu']}; {summary}"
    )
    write_json(
        args.json,
        rows,
        {"mode": mode, "runs": default_runs, "seconds": round(total, 1), "machine": about},
    )
    print(f"written: {args.json}")
    for r in missed:
        print(f"  MISSED  {r.module}: {r.measure} = {r.value} (target {r.target})")
    for name, error in errors:
        print(f"\nERROR in {name}:\n{textwrap.indent(error, '  ')}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

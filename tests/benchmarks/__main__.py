"""Run the benchmark suite and print one table: ``python -m tests.benchmarks [-k NAME] [--quick]``.

Every ``tests/benchmarks/bench_*.py`` module has ``run() -> list[tuple[str, str]]`` (measure,
value) and may have ``TARGETS: dict[str, str]`` mapping a measure to ``"<= 50"``,
``">= 1.8"`` or ``"== text"``; a value is compared by its first number (thousands
separators allowed), or as a whole string for ``==`` with a non-numeric target.

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
import importlib
import json
import os
import re
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
    value: str
    target: str = ""
    verdict: str = ""


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


def run_module(name: str, quick: bool) -> tuple[list[Row], float, str | None]:
    """(rows, seconds, error text or None)."""
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env[QUICK_ENV] = "1" if quick else "0"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    short = name.removeprefix("bench_")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / "rows.json"
        cmd = [sys.executable, "-m", PACKAGE, "--child", name, "--out", str(out)]
        try:
            proc = subprocess.run(
                cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=MODULE_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            return [], time.perf_counter() - started, f"timed out after {MODULE_TIMEOUT:.0f} s"
        seconds = time.perf_counter() - started
        if proc.returncode != 0 or not out.exists():
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
            return [], seconds, f"exit code {proc.returncode}\n" + "\n".join(detail)
        data = json.loads(out.read_text(encoding="utf-8"))
    targets: dict[str, str] = data["targets"]
    rows = []
    for measure, value in data["rows"]:
        target = targets.get(measure, "")
        rows.append(Row(short, measure, value, target, judge(value, target) if target else ""))
    return rows, seconds, None


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def print_table(rows: list[Row]) -> None:
    headers = ("module", "measure", "value", "target", "result")
    caps = (10, 52, 58, 8, 6)
    cells = [(r.module, r.measure, r.value, r.target, r.verdict) for r in rows]
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
    for name in modules:
        print(f"running {name} ...", end="", file=sys.stderr, flush=True)
        module_rows, seconds, error = run_module(name, args.quick)
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
    print(f"{len(modules)} modules, {mode} run, {total:.1f} s; {summary}")
    for r in missed:
        print(f"  MISSED  {r.module}: {r.measure} = {r.value} (target {r.target})")
    for name, error in errors:
        print(f"\nERROR in {name}:\n{textwrap.indent(error, '  ')}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

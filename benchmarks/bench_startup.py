"""Whole-command wall times: cold versus repeated, with and without the compilation cache.

Each command runs as its own process (``python -m rfdiff ...``), timed from start to exit,
import and compilation included. For every command, with a fresh, empty cache folder
(``RFDIFF_CACHE_DIR``):

  1. ``cold``: the first run, which compiles and fills the cache;
  2. ``repeated``: the next ``--repeats`` runs of the same command, which read it;
  3. ``uncached``: ``--repeats`` runs with ``RFDIFF_NO_CACHE=1`` (every run compiles);

and, as the floor of any command, ``python -c "import rfdiff"``. Medians are reported.
Timings depend on the load of the machine; the load average is recorded with them.

Run:  python benchmarks/bench_startup.py  [--repeats 3] [--no-report]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "startup.txt"

COMMANDS = {
    "spectrum": ["spectrum", "--points", "1000", "--json"],
    "curves": ["curves", "--points", "100", "--json"],
    "report": ["report", "--d", "16", "--seeds", "1", "--quiet", "--out", "{tmp}/report"],
}


def _time(argv, env) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *argv], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _env(**extra):
    env = dict(os.environ)
    env.pop("RFDIFF_NO_CACHE", None)  # the cached runs must not inherit the off switch
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


def bench(name, args, repeats, tmp):
    argv = ["-m", "rfdiff", *[a.format(tmp=tmp) for a in args]]
    cache = Path(tmp) / f"cache-{name}"
    env = _env(RFDIFF_CACHE_DIR=str(cache))
    cold = _time(argv, env)
    repeated = [_time(argv, env) for _ in range(repeats)]
    uncached = [_time(argv, _env(RFDIFF_NO_CACHE="1")) for _ in range(repeats)]
    files = sum(1 for _ in cache.rglob("*") if _.is_file())
    return {"cold": cold, "repeated": statistics.median(repeated),
            "uncached": statistics.median(uncached), "cache_files": files}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-report", action="store_true", help="leave out rfdiff report")
    args = ap.parse_args()
    load = os.getloadavg()
    lines = [f"# bench_startup: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start",
             f"# python -m rfdiff COMMAND; medians of {args.repeats} runs (cold: one run)"]
    with tempfile.TemporaryDirectory() as tmp:
        imp = statistics.median(_time(["-c", "import rfdiff"], _env())
                                for _ in range(args.repeats))
        lines.append(f"import rfdiff alone: {imp:.2f} s")
        lines.append(f"{'command':<10} {'cold':>8} {'repeated':>9} {'uncached':>9} "
                     f"{'files':>6}  arguments")
        for name, cmd in COMMANDS.items():
            if name == "report" and args.no_report:
                continue
            r = bench(name, cmd, args.repeats, tmp)
            lines.append(f"{name:<10} {r['cold']:8.2f} {r['repeated']:9.2f} "
                         f"{r['uncached']:9.2f} {r['cache_files']:6d}  {' '.join(cmd)}")
            print(lines[-1], flush=True)
    lines.append(f"# load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at end")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

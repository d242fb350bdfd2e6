"""Run every benchmark script in ``benchmarks/`` with its small default sizes (``make bench``).

Scripts run one after another (they share the 2-core machine and the
database server, so running them in parallel would distort every figure),
each in its own process with its output streamed, and a summary of exit
codes and durations is printed at the end. Scripts that do not exist yet are
skipped. Exit status is non-zero when any script failed.

Usage (from the repository root)::

    .venv/bin/python benchmarks/run_all.py                 # everything present
    .venv/bin/python benchmarks/run_all.py award api_http  # only these (bench_<name>.py)
    .venv/bin/python benchmarks/run_all.py --results-dir benchmarks/results   # also keep each output
    .venv/bin/python benchmarks/run_all.py --full pages   # full size (100k learners, 2M entries)

Environment: ``THRIVE_BENCH_PG_URL`` (PostgreSQL server, default
postgresql://postgres@127.0.0.1:5432/postgres); the OULAD import benchmark
reads ``../shared/data/oulad/`` when present.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: In this order; names are ``bench_<name>.py``, each with the arguments of the quick run
#: (``make bench``); ``--full`` runs each with its own defaults (the sizes of §15: 100k
#: learners / 2M entries for the pages, 1M learners for circles and goals — long).
SCRIPTS = {
    "award": [],
    "api_http": [],
    # quick: the first OULAD_QUICK_ROWS submissions (the full extract takes 4–10 min; --full runs it)
    "import_oulad": "oulad_subset",
    "pages": ["--learners", "5000", "--entries", "100000", "--warmup", "1", "--duration", "5"],
    "circles": ["--learners", "50000", "--rounds", "1"],
    "goals": ["--learners", "50000", "--early", "200", "--rounds", "1"],
}
#: Submissions of the OULAD extract used by the quick run of bench_import_oulad.py.
OULAD_QUICK_ROWS = 15_000
OULAD_DIR = ROOT.parent / "shared" / "data" / "oulad"

#: A script running longer than this is stopped and reported as failed (seconds).
TIMEOUT = 60 * 60


def oulad_subset(tmp: Path) -> list[str]:
    """Arguments for a quick OULAD import: a copy of the extract cut to its first submissions.

    Without the extract the script runs with no arguments (it reports the data as missing).
    """
    source = OULAD_DIR / "studentAssessment.csv"
    if not source.is_file():
        return []
    for name in ("assessments.csv", "studentInfo.csv", "README.md"):
        if (OULAD_DIR / name).is_file():
            shutil.copyfile(OULAD_DIR / name, tmp / name)
    with source.open(encoding="utf-8") as src, (tmp / source.name).open("w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i > OULAD_QUICK_ROWS:  # line 0 is the header
                break
            dst.write(line)
    return ["--data", str(tmp)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("only", nargs="*", help="run only these benchmarks (e.g. award api_http)")
    p.add_argument("--results-dir", type=Path, help="write each script's output to <dir>/<script>.txt")
    p.add_argument("--full", action="store_true", help="run each script with its own (full-size) defaults")
    args = p.parse_args(argv)

    names = args.only or SCRIPTS
    unknown = [n for n in names if n not in SCRIPTS]
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(SCRIPTS)})")
    if args.results_dir:
        args.results_dir.mkdir(parents=True, exist_ok=True)

    summary = []
    tmp = tempfile.mkdtemp(prefix="thrive_bench_data_")
    try:
        _run(names, args, summary, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{'=' * 78}\n== summary\n{'=' * 78}")
    width = max(len(s[0]) for s in summary)
    for name, status, elapsed in summary:
        print(f"{name.ljust(width)}  {status:<24} {elapsed:7.1f} s")
    return 1 if any(s[1].startswith("FAILED") for s in summary) else 0


def _run(names, args, summary, tmp) -> None:
    for name in names:
        script = HERE / f"bench_{name}.py"
        if not script.exists():
            summary.append((script.name, "skipped (not present)", 0.0))
            continue
        print(f"\n{'=' * 78}\n== {script.name}\n{'=' * 78}", flush=True)
        t0 = time.perf_counter()
        lines: list[str] = []
        try:
            extra = [] if args.full else SCRIPTS[name]
            if extra == "oulad_subset":
                extra = oulad_subset(Path(tmp))
                if extra:
                    print(f"(quick: the first {OULAD_QUICK_ROWS:,} submissions of the OULAD extract)", flush=True)
            if extra:
                print(f"(quick sizes: {' '.join(extra)}; --full for the script's defaults)", flush=True)
            proc = subprocess.Popen([sys.executable, str(script), *extra], cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, bufsize=1)
            watchdog = threading.Timer(TIMEOUT, proc.kill)
            watchdog.start()
            assert proc.stdout is not None
            for line in proc.stdout:
                print(line, end="", flush=True)
                lines.append(line)
            code = proc.wait()
            timed_out = not watchdog.is_alive()
            watchdog.cancel()
            status = "ok" if code == 0 else f"FAILED (exit {code})"
            if timed_out:
                status = f"FAILED (over {TIMEOUT // 60} min)"
        except OSError as exc:
            status = f"FAILED ({exc})"
        elapsed = time.perf_counter() - t0
        summary.append((script.name, status, elapsed))
        if args.results_dir:
            (args.results_dir / f"{script.stem}.txt").write_text("".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())

"""``make bench``: run every benchmark script under bench/ and print one table of
figures, raw baselines, ratios and whether each target is met."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.common import RESULT_PREFIX

HERE = Path(__file__).resolve().parent
SKIP = {"__init__.py", "__main__.py", "common.py"}


def main() -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.name not in SKIP)
    rows: list[dict] = []
    failed: list[str] = []
    for script in scripts:
        module = f"bench.{script.stem}"
        print(f"== {module}", flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", module, *sys.argv[1:]], capture_output=True, text=True, cwd=HERE.parent
        )
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0:
            failed.append(module)
            sys.stderr.write(proc.stderr[-4000:])
        rows += [
            json.loads(line[len(RESULT_PREFIX) :])
            for line in proc.stdout.splitlines()
            if line.startswith(RESULT_PREFIX)
        ]
    print()
    width = max([len(r["name"]) for r in rows] + [len(m) for m in failed] + [9])
    header = f"{'benchmark':<{width}} {'figure':>14} {'raw baseline':>14} {'unit':<14} {'ratio':>7} {'target':>7}  met"
    print(header)
    print("-" * len(header))
    for r in rows:
        target, met = ("—", "—") if r["target"] is None else (f"{r['target']:.2f}", "yes" if r["met"] else "NO")
        print(
            f"{r['name']:<{width}} {r['figure']:>14,.1f} {r['baseline']:>14,.1f} {r['unit']:<14} "
            f"{r['ratio']:>7.2f} {target:>7}  {met}"
        )
    for module in failed:
        print(f"{module:<{width}} FAILED (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

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
    header = f"{'benchmark':<44} {'figure':>14} {'raw baseline':>14} {'unit':<12} {'ratio':>7} {'target':>7}  met"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['name']:<44} {r['figure']:>14,.1f} {r['baseline']:>14,.1f} {r['unit']:<12} "
            f"{r['ratio']:>7.2f} {r['target']:>7.2f}  {'yes' if r['met'] else 'NO'}"
        )
    for module in failed:
        print(f"{module:<44} FAILED (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

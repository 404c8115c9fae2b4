"""Run every benchmark: ``python -m bench [NAME ...]``.

Each ``bench/bench_<topic>.py`` is a script that prints JSON lines
``{"name": ..., "value": ..., "unit": ..., ...}`` (plus a peer measured in the same run
where one exists). This runner starts each in its own process (so one benchmark's imports
and threads do not colour another's), passes its JSON lines through, and ends with a
summary line. ``NAME`` filters by substring of the script name.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(a in s.stem for a in argv)]
    failed = []
    t0 = time.perf_counter()
    for script in scripts:
        proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True,
                              env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
        for line in proc.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                rec.setdefault("bench", script.stem)
                print(json.dumps(rec), flush=True)
        if proc.returncode != 0:
            failed.append(script.stem)
            print(json.dumps({"name": "bench_failed", "bench": script.stem, "value": proc.returncode,
                              "unit": "exit code", "stderr_tail": proc.stderr[-800:]}), flush=True)
    print(json.dumps({"name": "bench_run", "value": round(time.perf_counter() - t0, 1), "unit": "s",
                      "scripts": [s.stem for s in scripts], "failed": failed}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Command line for the model zoo.

    python -m dlcore.zoo list                 # names, accuracy, sha256 status
    python -m dlcore.zoo verify               # exit 1 if any checkpoint fails its sha256
    python -m dlcore.zoo build NAME [NAME..]  # retrain from the recipe ("all" = every model)
    python -m dlcore.zoo evaluate NAME        # re-measure the stored file's metrics
"""

from __future__ import annotations

import argparse
import sys

from dlcore import zoo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcore.zoo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list checkpoints")
    sub.add_parser("verify", help="verify every checkpoint's sha256")
    b = sub.add_parser("build", help="retrain from the recipe")
    b.add_argument("names", nargs="+", help=f"{', '.join(zoo.NAMES)} or 'all'")
    b.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    e = sub.add_parser("evaluate", help="re-measure test accuracy")
    e.add_argument("names", nargs="+")
    args = parser.parse_args(argv)

    if args.cmd == "list":
        for st in zoo.status():
            entry = zoo.info(st.name)
            acc = entry.get("test_accuracy")
            print(f"{st.name:18s} {'ok' if st.ok else st.problem:18s} "
                  f"acc={acc if acc is not None else '-'} data={entry.get('data_source', '-')} "
                  f"v{entry.get('version', 0)} {entry.get('bytes', 0) / 1e6:.2f} MB")
        return 0
    if args.cmd == "verify":
        bad = [st for st in zoo.status() if not st.ok]
        for st in bad:
            print(f"{st.name}: {st.problem}", file=sys.stderr)
        print("all checkpoints verified" if not bad else f"{len(bad)} checkpoint(s) failed")
        return 1 if bad else 0
    names = list(zoo.NAMES) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in zoo.NAMES]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(zoo.NAMES)} or 'all'")
    if args.cmd == "build":
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        for n in names:
            entry = zoo.build(n)
            acc = entry["test_accuracy"]
            extra = " ".join(f"{k}={v:.4f}" for k, v in entry.get("metrics", {}).items())
            print(f"{n}: test accuracy {'-' if acc is None else f'{acc:.4f}'} {extra} on {entry['n_test']} "
                  f"({entry['data_source']}), {entry['train_seconds']} s, "
                  f"sha256 {entry['sha256'][:12]}")
        return 0
    for n in names:
        got = zoo.evaluate(n)
        entry = zoo.info(n)
        recorded = {"test_accuracy": entry.get("test_accuracy"), **entry.get("metrics", {})}
        print(f"{n}: re-measured " + ", ".join(f"{k} {v:.4f} (manifest {recorded.get(k)})" for k, v in got.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

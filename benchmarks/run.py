"""Run every benchmark in turn: ``make bench`` (add ``--quick`` for a short pass)."""

from __future__ import annotations

import importlib
import sys

# The benchmarks, in the order they run; each module has a ``main(argv)``.
BENCHMARKS = (
    "benchmarks.runtime_throughput",
    "benchmarks.intacct_bench",
    "benchmarks.creatio_bench",
    "benchmarks.d365_bench",
    "benchmarks.bulk_bench",
    "benchmarks.bulk_targets",
    "benchmarks.poll_cost",
    "benchmarks.webhook_latency",
    "benchmarks.bulk_memory",
    "benchmarks.scale_out",
)


def main(argv: list[str]) -> int:
    failed = 0
    for name in BENCHMARKS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            print(f"skip {name}: not in this build")
            continue
        print(f"== {name}", flush=True)
        failed += bool(module.main(argv))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`python -m bench [figure ...]`: runs the figures (all by default), prints each with its target,
and merges their numbers into bench/results.json.

Figures: cold_import, layer_import, aws_requests, receiver_throughput, delivery, cost, capacity_billed, hot_keys, idle_cost,
list_realtime, connect_push, noisy_neighbour.
"""

from __future__ import annotations

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for path in (os.path.join(ROOT, "layers", "hub", "python"), ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)

from bench import harness  # noqa: E402

harness.configure_environment()  # before any hub module is imported

from bench import (  # noqa: E402
    aws_requests,
    capacity_billed,
    cold_import,
    connect_push,
    cost,
    delivery_batch,
    hot_keys,
    idle_cost,
    layer_import,
    list_realtime,
    noisy_neighbour,
    receiver_throughput,
)

FIGURES = {
    m.NAME: m
    for m in (
        cold_import,
        layer_import,
        aws_requests,
        receiver_throughput,
        delivery_batch,
        cost,
        capacity_billed,
        hot_keys,
        idle_cost,
        list_realtime,
        connect_push,
        noisy_neighbour,
    )
}
"""In running order: cost reuses aws_requests' capacity units and the delivery figure's slow batch, capacity_billed
the cost figure's Lambda durations, hot_keys capacity_billed's units."""


def main(argv: list[str]) -> int:
    unknown = [a for a in argv if a not in FIGURES]
    if unknown or any(a in ("-h", "--help") for a in argv):
        print(f"usage: python -m bench [{' | '.join(FIGURES)}] ...   (no argument: all figures)")
        return 2
    chosen = [FIGURES[name] for name in (argv or FIGURES)]
    results = harness.load_results() if argv else {}
    targets = dict(results.get("targets", {})) if argv else {}
    started = time.perf_counter()
    for module in chosen:
        began = time.perf_counter()
        print()
        measured, checks = module.run(results)
        results.update(measured)
        for check in checks:
            targets[check["name"]] = {
                "value": check["value"],
                "limit": check["limit"],
                "pass": 1 if check["pass"] else 0,
            }
        print(f"  ({module.NAME}: {time.perf_counter() - began:.1f} s)", flush=True)
        results["targets"] = targets
        harness.save_results(results)
    elapsed = time.perf_counter() - started
    if not argv:  # the time of a whole `make bench`: a run of chosen figures keeps the last one's
        results["bench_seconds"] = round(elapsed, 1)
        harness.save_results(results)

    print("\nTargets")
    for name, check in targets.items():
        print(
            f"  {name:<56} {check['value']:>10,.3f}  limit {check['limit']:>8g}  {'PASS' if check['pass'] else 'MISS'}"
        )
    print(f"\nwrote {os.path.relpath(harness.RESULTS_PATH, ROOT)} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

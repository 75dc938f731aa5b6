"""receiver_events_per_second and receiver_floor_ratio: the receiver's warm throughput in process.

EVENTS distinct, signed whatsapp-web.js message events (prebuilt API Gateway REST proxy events, so building
them is not timed) for a session with no subscribers, handed one by one to the receiver handler (through
local.runtime.Invoker, as Lambda's runtime would) while it runs on moto. Each run uses a fresh session
(new bodies, no duplicates); the figure is the median of RUNS runs. One warm-up event first.

receiver_floor_ratio = the receiver's time per event / the time per event to `json.loads` the same bodies
and verify their HMAC-SHA256 signatures (hmac.new + compare_digest): how far the handler is from the work
every receiver must do. The moto time is part of the receiver's time (DynamoDB answers in process).
"""

from __future__ import annotations

import cProfile
import hashlib
import hmac
import io
import json
import os
import pstats
import time
from typing import Any

from bench import harness as h

NAME = "receiver_throughput"
EVENTS = 300
RUNS = 3
FLOOR_LOOPS = 20
FLOOD_ALLOWANCE_PER_SECOND = "1000000"
"""The ingest limit for this figure: out of reach of one session's flood, so the limiter counts but never refuses."""


def _build(api: h.Api, session: dict[str, Any], n: int) -> tuple[str, dict[str, Any], bytes, dict[str, str]]:
    body = h.message_body(n)
    headers = h.signed_headers(session["inboundSecret"], body)
    function, event = api.event("POST", h.receive_target(session["receiverHandle"]), headers, body)
    return function, event, body, headers


def _prebuilt(
    api: h.Api, session: dict[str, Any], first: int
) -> list[tuple[str, dict[str, Any], bytes, dict[str, str]]]:
    return [_build(api, session, n) for n in range(first, first + EVENTS)]


def _floor_ms_per_event(secret: str, prebuilt: list[tuple[str, dict[str, Any], bytes, dict[str, str]]]) -> float:
    key = secret.encode()
    pairs = [(body, headers["X-Webhook-Signature"]) for _, _, body, headers in prebuilt]
    timings = []
    for _ in range(FLOOR_LOOPS):
        started = time.perf_counter()
        for body, signature in pairs:
            json.loads(body)
            if not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).hexdigest(), signature):
                raise RuntimeError("bad signature")
        timings.append((time.perf_counter() - started) * 1000 / len(pairs))
    return h.median(timings)


def _one_run(profile: bool) -> dict[str, Any]:
    """EVENTS events into a fresh embedded AWS (moto's cost per request grows with its tables).

    One session posts them as fast as it can, a flood by the ingest limit's measure: the limit is raised out of
    reach (FLOOD_ALLOWANCE_PER_SECOND) so the limiter still counts, as in production, but never refuses."""
    os.environ["GATEWAY_RATE_LIMIT_PER_SECOND"] = FLOOD_ALLOWANCE_PER_SECOND
    with h.embedded_aws():
        meter = h.Meter(sizing=False).attach()
        try:
            api = h.Api()
            h.silence_powertools_logs()
            tenant = api.create_tenant()
            session = api.create_session(tenant["apiKey"], "bench-tput")
            prebuilt = _prebuilt(api, session, first=0)
            warm_function, warm_event, *_ = _build(api, session, 50_000)
            api.invoke(warm_function, warm_event)
            meter.reset()
            profiler = cProfile.Profile() if profile else None
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            for function, event, _, _ in prebuilt:
                result = api.invoke(function, event)
                if result["statusCode"] != 200 or '"duplicate":false' not in result["body"]:
                    raise RuntimeError(f"receiver answered {result}")
            elapsed = time.perf_counter() - started
            if profiler:
                profiler.disable()
                return {"profile": _profile_report(profiler)}
            calls = meter.snapshot()
            return {
                "ms_per_event": elapsed * 1000 / len(prebuilt),
                "aws_ms_per_event": sum(c.ms for c in calls) / len(prebuilt),
                "aws_calls_per_event": len(calls) / len(prebuilt),
                "floor_ms_per_event": _floor_ms_per_event(session["inboundSecret"], prebuilt),
            }
        finally:
            meter.detach()
            os.environ.pop("GATEWAY_RATE_LIMIT_PER_SECOND", None)


def measure(profile: bool = True) -> dict[str, Any]:
    runs = [_one_run(profile=False) for _ in range(RUNS)]
    receiver_ms = h.median(r["ms_per_event"] for r in runs)
    floor_ms = h.median(r["floor_ms_per_event"] for r in runs)
    aws_ms = h.median(r["aws_ms_per_event"] for r in runs)
    return {
        "receiver_events_per_second": h.rounded(1000 / receiver_ms, 1),
        "receiver_floor_ratio": h.rounded(receiver_ms / floor_ms, 1),
        "receiver_ms_per_event": h.rounded(receiver_ms, 3),
        "receiver_ms_per_event_in_aws_calls": h.rounded(aws_ms, 3),
        "receiver_ms_per_event_outside_aws_calls": h.rounded(receiver_ms - aws_ms, 3),
        "receiver_floor_ms_per_event": h.rounded(floor_ms, 5),
        "receiver_floor_ratio_outside_aws_calls": h.rounded((receiver_ms - aws_ms) / floor_ms, 1),
        "_profile": _one_run(profile=True)["profile"] if profile else "",
    }


def _listing(stats: pstats.Stats, sort: str, restrictions: tuple[Any, ...]) -> str:
    """The table part of a pstats listing, paths shortened."""
    stream = io.StringIO()
    stats.stream = stream
    stats.sort_stats(sort).print_stats(*restrictions)
    out, started = [], False
    for line in stream.getvalue().splitlines():
        if line.strip().startswith("ncalls"):
            started = True
        if started and line.strip():
            out.append("      " + line.replace(h.ROOT + "/", "").replace(".venv/lib/python3.11/site-packages/", ""))
    return "\n".join(out)


def _cumulative(stats: pstats.Stats, file_suffix: str, function: str) -> float:
    return sum(v[3] for (file, _, name), v in stats.stats.items() if file.endswith(file_suffix) and name == function)


def _profile_report(profiler: cProfile.Profile) -> str:
    """Where the time goes: AWS calls (moto, in process) vs the rest, then the hub's own code and
    the heaviest functions by self time."""
    stats = pstats.Stats(profiler)
    total = _cumulative(stats, "functions/receiver/handler.py", "handler")
    aws = _cumulative(stats, "botocore/client.py", "_make_api_call")
    moto = _cumulative(stats, "moto/core/botocore_stubber.py", "__call__")
    lines = [
        f"      handler total {total:.2f} s; inside boto3 API calls {aws:.2f} s ({aws / total:.0%}),"
        f" of which moto's in-process service {moto:.2f} s ({moto / total:.0%}); everything else {total - aws:.2f} s"
        f" ({(total - aws) / total:.0%})",
        "    the hub's own functions by cumulative time:",
        _listing(stats, "cumulative", (r"layers/hub|functions/", 18)),
        "    heaviest functions by self time (all code, moto included):",
        _listing(stats, "tottime", (12,)),
    ]
    return "\n".join(lines)


def run(results: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    print(
        f"receiver_events_per_second ({EVENTS} distinct signed message events, 0 subscribers, in process on moto, "
        f"median of {RUNS} runs)"
    )
    measured = measure()
    profile = measured.pop("_profile")
    h.show("receiver_events_per_second", measured["receiver_events_per_second"], "ev/s")
    h.show("receiver_ms_per_event", measured["receiver_ms_per_event"], "ms")
    h.show("  of which inside boto3 calls (moto)", measured["receiver_ms_per_event_in_aws_calls"], "ms")
    h.show("  of which the handler's own code", measured["receiver_ms_per_event_outside_aws_calls"], "ms")
    h.show("floor (json.loads + HMAC verify) per event", measured["receiver_floor_ms_per_event"], "ms")
    h.show("receiver_floor_ratio", measured["receiver_floor_ratio"], "x", "(no target)")
    h.show("  same, handler's own code only", measured["receiver_floor_ratio_outside_aws_calls"], "x")
    if profile:
        print("    where a receiver event's time goes (cProfile of one extra run of the same events):")
        print(profile)
    return measured, []

"""The C2 verifier's percent-encoding of bodies, before and after, side by side in one run.

Before: every body encoded with ``str.translate`` over the 256-entry table of strings
(what ``ccms.auth`` did for every body until the large-body encoder); after: this tree,
where a body longer than ``TABLE_BYTES`` takes ``_percent_encoded``. Both run in turns in
one process (``TABLE_BYTES`` set out of reach for "before"), so that the machine's drift
hits both alike, and each figure is CPU time (``time.process_time``), the median of the
rounds:

- a wrong signature (known key, fresh timestamp) over 8 MiB of intake JSON, over 8 MiB of
  ``{`` (every byte encoded: the worst case) and over 1 MiB of JSON;
- the agent query's verification (47 bytes, both phases, caches warm: the hot path),
  in microseconds.

    python benchmarks/auth_before_after.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import orjson

from ccms import auth
from ccms.auth import AccessKey, AuthenticationError, Verifier, format_timestamp, sign

AK, SK = "bench", "Zq3-vX8kLp0rT2yWm9sB"
EVENTS = "/ccms/v1/events"
QUERY = "/rest/cmsapp/v1/openapi/agent/agentbyworkno"
QUERY_BODY = b'{"queryParam":{"ccId":1,"vdn":1,"agentId":101}}'
HOST = {"host": "127.0.0.1:28080"}
NOW = 1_790_000_000.0
STAMP = format_timestamp(datetime.fromtimestamp(NOW, UTC))
SIDES = {"before": 1 << 62, "after": auth.TABLE_BYTES}


def intake_json(size: int) -> bytes:
    """A batch of status events of about ``size`` bytes, cut at an event."""
    events = [
        {"eventId": f"ev-{n}", "ccId": 1, "vdn": 1, "agentId": 101 + n % 5000,
         "at": 1_790_000_000_000 + n, "ctiStatus": 1 + n % 7, "name": f"Agent {n}"}
        for n in range(size // 60)
    ]  # fmt: skip
    body = orjson.dumps({"events": events})[:size]
    return body[: body.rfind(b"},") + 1] + b"]}"


def failed(body: bytes) -> Callable[[], None]:
    verifier = Verifier({AK: AccessKey(AK, SK, frozenset({"ingest"}))}, 900)
    wrong = sign(AK, SK, "POST", EVENTS, HOST, b"{}", STAMP)[:-64] + "0" * 64

    def run() -> None:
        try:
            verifier.verify(wrong, "POST", EVENTS, "", HOST, body, NOW)
        except AuthenticationError:
            return
        raise AssertionError("a wrong signature verified")

    return run


def agent_query() -> Callable[[], None]:
    verifier = Verifier({AK: AccessKey(AK, SK, frozenset({"query"}))}, 900)
    authorization = sign(AK, SK, "POST", QUERY, HOST, QUERY_BODY, STAMP)
    verifier.verify(authorization, "POST", QUERY, "", HOST, QUERY_BODY, NOW)  # warm caches

    def run() -> None:
        for _ in range(10_000):
            verifier.verify(authorization, "POST", QUERY, "", HOST, QUERY_BODY, NOW)

    return run


def cpu(run: Callable[[], None]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    rounds = parser.parse_args().rounds
    json8 = intake_json(8 << 20)
    cases = {  # label: what to run, its unit, rounds per round (a short one: more)
        "wrong signature, 8 MiB of intake JSON (ms)": (failed(json8), 1e3, 1),
        "wrong signature, 8 MiB of '{' (ms)": (failed(b"{" * (8 << 20)), 1e3, 1),
        "wrong signature, 1 MiB of intake JSON (ms)": (failed(intake_json(1 << 20)), 1e3, 1),
        "agent query verified, 47 bytes (us)": (agent_query(), 1e6 / 10_000, 5),
    }
    print(f"{'CPU time, median of the rounds':48s} {'before':>9s} {'after':>9s}")
    for label, (run, unit, more) in cases.items():
        times: dict[str, list[float]] = {side: [] for side in SIDES}
        for _ in range(rounds * more):
            for side, table_bytes in SIDES.items():
                auth.TABLE_BYTES = table_bytes
                times[side].append(cpu(run))
        auth.TABLE_BYTES = SIDES["after"]
        before, after = (statistics.median(times[side]) * unit for side in SIDES)
        print(f"{label:48s} {before:9.2f} {after:9.2f}")


if __name__ == "__main__":
    main()

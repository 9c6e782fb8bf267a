"""The wallboard's queue strip in Chromium, against a real server: hidden while the VDN
has no call data, then waiting calls, the longest wait ticking (a warning from 60 s, an
alert from 120 s, with a word for screen readers), the service level and the abandoned
calls, for every queue or the one selected."""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.conftest import mid_window_ms
from tests.e2e.wallboard.conftest import board_url, floor_events, open_board, post_all, view_token

pytestmark = pytest.mark.e2e


def call(event_id: str, call_id: str, at: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {"eventId": event_id, "ccId": 1, "vdn": 1, "callId": call_id, "at": at,
            "callEvent": kind, **fields}  # fmt: skip


def strip(page: Any, key: str) -> str:
    return str(page.locator(f'#queues [data-queue="{key}"] .count-value').text_content())


def test_the_queue_strip_shows_the_queues_of_the_floor(server_factory: Any, page: Any) -> None:
    server = server_factory().start()
    post_all(server, floor_events("floor", 6))  # agents in skill queues 1 and 2
    open_board(page, board_url(server, view_token(server)), 6)
    assert page.locator("#queue-strip").is_hidden()  # no call data yet
    now = mid_window_ms()  # the answer and the abandon in the figures' current 5 minutes
    post_all(server, [
        call("a1", "1790000000-1", now - 70_000, "queue", skillId=1),  # waits 70 s: warning
        call("b1", "1790000000-2", now - 5_000, "queue", skillId=2),
        call("c1", "1790000000-3", now - 9_000, "queue", skillId=2),
        call("c2", "1790000000-3", now - 4_000, "answer", agentId=102),  # within 20 s
        call("d1", "1790000000-4", now - 8_000, "queue", skillId=2),
        call("d2", "1790000000-4", now - 6_000, "abandon"),
    ])  # fmt: skip
    page.wait_for_selector("#queue-strip", state="visible", timeout=10_000)
    page.wait_for_function(
        "() => document.querySelector('#queues [data-queue=\"waiting\"] .count-value')"
        ".textContent === '2'",
        timeout=10_000,
    )
    assert strip(page, "abandoned") == "1"
    assert strip(page, "level") == "50%"  # 1 answered within 20 s of 1 answered + 1 abandoned
    longest = page.locator('#queues [data-queue="longest"]')
    assert "q-warning" in (longest.get_attribute("class") or "")
    assert longest.locator(".sr-only").text_content() == "Warning: "
    first = strip(page, "longest")
    minutes, seconds = (int(part) for part in first.split(":"))
    assert 70 <= minutes * 60 + seconds < 80, first
    page.wait_for_function(  # it ticks with no event
        "t => document.querySelector('#queues [data-queue=\"longest\"] .count-value')"
        ".textContent !== t",
        arg=first,
        timeout=5_000,
    )
    # the queue selected: queue 2 alone (no call waits long there; nothing abandoned in 1)
    page.select_option("#skill", "2")
    page.wait_for_function(
        "() => document.querySelector('#queues [data-queue=\"waiting\"] .count-value')"
        ".textContent === '1'",
        timeout=5_000,
    )
    assert "q-warning" not in (longest.get_attribute("class") or "")
    assert strip(page, "abandoned") == "1"
    page.select_option("#skill", "1")
    page.wait_for_function(
        "() => document.querySelector('#queues [data-queue=\"abandoned\"] .count-value')"
        ".textContent === '0'",
        timeout=5_000,
    )
    assert strip(page, "level") == "–"  # nothing answered or abandoned in queue 1
    # a call waiting over 120 s: an alert
    page.select_option("#skill", "")
    post_all(server, [call("e1", "1790000000-5", now - 130_000, "queue", skillId=1)])
    page.wait_for_selector('#queues [data-queue="longest"].q-alert', timeout=10_000)
    assert longest.locator(".sr-only").text_content() == "Alert: "
    assert page.evaluate("window.wallboard.stats.queues") >= 2

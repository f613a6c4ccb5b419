"""Dates in the conversation list."""

from __future__ import annotations

import time

from app.widgets.conversation_list import short_date

NOW = time.mktime((2026, 6, 15, 12, 0, 0, 0, 0, -1))


def test_short_date() -> None:
    assert short_date(NOW - 5, NOW) == "just now"
    assert short_date(NOW - 300, NOW) == "5 min ago"
    assert short_date(NOW - 3 * 3600, NOW) == "3 h ago"
    assert short_date(NOW - 30 * 3600, NOW) == "yesterday"
    assert short_date(time.mktime((2026, 3, 5, 12, 0, 0, 0, 0, -1)), NOW) == "Mar 05"
    assert short_date(time.mktime((2024, 3, 5, 12, 0, 0, 0, 0, -1)), NOW) == "2024-03-05"

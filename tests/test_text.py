"""Terminal safety and small text helpers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.text import StreamSanitizer, human_size, make_title, sanitize

HOSTILE = [
    ("\x1b[2J\x1b[Hcleared", "cleared"),
    ("\x1b]0;window title\x07after", "after"),
    ("\x1b]52;c;aGVsbG8=\x07clip", "clip"),
    ("\x1b]8;;https://evil\x1b\\link\x1b]8;;\x1b\\", "link"),
    ("\x9b31mred\x9b0m", "red"),
    ("\x1bP1$r\x1b\\dcs", "dcs"),
    ("bell\x07 back\x08space\x00nul", "bell backspacenul"),
    ("line\r\nnext\rover", "line\nnextover"),
    ("tab\tkept\nnewline kept", "tab\tkept\nnewline kept"),
    ("[bold]markup[/bold] stays text", "[bold]markup[/bold] stays text"),
    ("漢字 😀 עברית", "漢字 😀 עברית"),
]


@pytest.mark.parametrize(("raw", "shown"), HOSTILE)
def test_sanitize(raw: str, shown: str) -> None:
    assert sanitize(raw) == shown


@pytest.mark.parametrize(("raw", "shown"), HOSTILE)
def test_stream_sanitizer_matches_whole_text_at_every_split(raw: str, shown: str) -> None:
    for cut in range(len(raw) + 1):
        stream = StreamSanitizer()
        assert stream.feed(raw[:cut]) + stream.feed(raw[cut:]) + stream.flush() == shown, cut


CONTROL_HEAVY = st.text(
    alphabet=st.sampled_from([*"ab \n\t[]/;0123456789m", "\x1b", "\x07", "\x9b", "\x9c", "\x9d", "\r", "\\", "]", "P"]),
    max_size=60,
)


@given(CONTROL_HEAVY, st.lists(st.integers(min_value=0, max_value=60), max_size=6))
def test_stream_sanitizer_never_leaks_controls(text: str, cuts: list[int]) -> None:
    stream = StreamSanitizer()
    pieces, start = [], 0
    for cut in sorted(cuts):
        pieces.append(text[start:cut])
        start = max(start, cut)
    pieces.append(text[start:])
    out = "".join(stream.feed(piece) for piece in pieces) + stream.flush()
    assert not any((ord(char) < 32 and char not in "\n\t") or 0x7F <= ord(char) <= 0x9F for char in out)
    assert sanitize(out) == out


def test_make_title() -> None:
    assert make_title("  hello\n  world  ") == "hello world"
    assert make_title("") == "New conversation"
    title = make_title("Explain the difference between a process and a thread in operating systems")
    assert title.endswith("…") and len(title) <= 48 and title.startswith("Explain the difference")
    assert "\x1b" not in make_title("\x1b[31mred title")


def test_human_size() -> None:
    assert human_size(512) == "512 B"
    assert human_size(2_019_393_189) == "2.0 GB"
    assert human_size(815_319_791) == "815.3 MB"

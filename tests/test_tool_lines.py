"""Tool calls in the conversation view: one folded line each, unfolded by Enter or a click, results
shown as plain text (escape codes and markup are only characters), long ones cut with their size."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.types import CSSPathType

from app.conversation import ToolStatus, Turn
from app.paths import STYLES_DIR
from app.protocol import ToolCall
from app.tools import display
from app.tools.calls import DENIED_TEXT
from app.widgets.conversation_view import ConversationView
from app.widgets.tool_lines import RESULT_LINES, ToolTurnLines, lines_for

SIZE = (90, 30)
HOSTILE = "before \x1b[31mred\x1b[0m \x1b]0;owned\x07 [bold red]markup[/] after"
READ = ToolCall("files__read", {"path": "notes/a.md", "lines": 3}, "call_1", 0)
LIST = ToolCall("files__list", {"folder": "notes"}, "", 1)


class Host(App[None]):
    CSS_PATH: ClassVar[CSSPathType] = [STYLES_DIR / "chat.tcss"]

    def compose(self) -> ComposeResult:
        yield ConversationView()


def shown(view: ConversationView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


def result(call: ToolCall, text: str, status: ToolStatus = ToolStatus.OK, problem: str = "") -> Turn:
    return Turn(
        "tool",
        text,
        error=problem,
        tool_name=call.name,
        tool_call_id=call.id,
        tool_status=status,
        duration=0.25,
    )


def conversation(*results: Turn) -> list[Turn]:
    return [
        Turn("user", "Read my notes"),
        Turn("assistant", "", model="llama3.2:latest", tool_calls=(READ, LIST)),
        *results,
    ]


def test_results_pair_with_their_calls_by_id_or_else_by_place() -> None:
    def paired(turns: list[Turn]) -> list[ToolCall | None]:
        return [entry.call for entry in lines_for(turns, 80) if isinstance(entry, ToolTurnLines)]

    assert paired(conversation(result(READ, "a"), result(LIST, "b"))) == [READ, LIST]
    named = replace(LIST, id="call_2")
    turns = [Turn("user", "Read"), Turn("assistant", "", tool_calls=(READ, named))]
    assert paired([*turns, result(named, "b"), result(READ, "a")]) == [named, READ]  # ids, whatever the order
    assert paired([Turn("user", "Hi"), result(READ, "a")]) == [None]  # no reply asked for it
    follow_up = [*conversation(result(READ, "a"), result(LIST, "b")), Turn("assistant", "Done.")]
    assert paired([*follow_up, Turn("user", "More"), result(READ, "c")]) == [READ, LIST, None]


def test_the_words_of_a_call() -> None:
    assert display.title("files__read_file") == "files › read_file"
    assert display.title("read_file") == "read_file"  # a small model dropped the prefix
    assert display.summary(READ) == 'path="notes/a.md", lines=3'
    assert display.arguments(READ) == '{\n  "path": "notes/a.md",\n  "lines": 3\n}'
    broken = ToolCall("files__read", {}, arguments_text='{"path": ', problem="its arguments are not valid JSON")
    assert display.summary(broken) == '{"path":' and display.arguments(broken) == '{"path": '
    assert [display.duration(s) for s in (None, 0.0002, 0.04, 2.25, 12.4, 75)] == [
        "",
        "1 ms",
        "40 ms",
        "2.2 s",
        "12 s",
        "1 min 15 s",
    ]


async def settled(pilot: Pilot[None]) -> None:
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def test_a_call_is_one_folded_line_and_enter_unfolds_it() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        read = result(READ, "# Notes\n\n- milk")
        view.set_turns(conversation(read, result(LIST, "a.md\nb.md")))
        await settled(pilot)
        rows = shown(view)
        first = next(row for row in rows if "files › read" in row)
        assert first.startswith('▎ ▸ files › read  path="notes/a.md", lines=3')
        assert first.endswith("done · 250 ms · 15 B")
        assert "milk" not in "\n".join(rows)  # folded: the result is not shown
        view.focus()
        for _ in range(3):  # the message cursor: from the last block to the first
            if view.cursor_turn is read:
                break
            await pilot.press("up")
        await pilot.press("enter")
        await settled(pilot)
        rows = shown(view)
        start = next(index for index, row in enumerate(rows) if "▾ files › read" in row)
        assert rows[start + 1 : start + 10] == [
            "▎   arguments",
            "▎   {",
            '▎     "path": "notes/a.md",',
            '▎     "lines": 3',
            "▎   }",
            "▎   result · 15 B",
            "▎   # Notes",
            "▎",
            "▎   - milk",
        ]
        await pilot.press("enter")
        await settled(pilot)
        assert "milk" not in "\n".join(shown(view))


async def test_a_click_on_the_line_unfolds_it() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(conversation(result(READ, "the text of a.md")))
        await settled(pilot)
        row = next(index for index, text in enumerate(shown(view)) if "files › read" in text)
        await pilot.click(ConversationView, offset=(6, row))
        await settled(pilot)
        assert "▎   the text of a.md" in shown(view)


async def test_a_hostile_result_is_drawn_as_the_characters_it_holds() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        turn = result(READ, HOSTILE)
        view.set_turns(conversation(turn))
        await settled(pilot)
        view.toggle_tool(turn)
        await settled(pilot)
        line = next(y for y, text in enumerate(shown(view)) if "before" in text)
        strip = view.render_line(line)
        assert (
            strip.text.rstrip() == "▎   before red  [bold red]markup[/] after"
        )  # escape codes gone, markup kept as text
        assert all("\x1b" not in segment.text for segment in strip)
        styles = {segment.style for segment in strip if isinstance(segment, Segment) and "markup" in segment.text}
        assert all(style is None or not style.bold for style in styles)


async def test_a_long_result_is_cut_with_its_size_and_length() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        text = "\n".join(f"line {number}" for number in range(1, 5001)) + "\n" + "x" * 1_000_000
        turn = result(READ, text)
        view.set_turns(conversation(turn))
        await settled(pilot)
        folded = next(row for row in shown(view) if "files › read" in row)
        assert folded.endswith("done · 250 ms · 1.0 MB")
        view.toggle_tool(turn)
        await settled(pilot)
        view.scroll_end()
        await settled(pilot)
        rows = shown(view)
        assert f"▎   line {RESULT_LINES}" in rows and f"▎   line {RESULT_LINES + 1}" not in rows
        assert "▎   … 1.0 MB in all, 5001 lines" in rows


async def test_failures_say_why_folded() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        gone = "the server exited during the call: Traceback (most recent call last)"
        view.set_turns(
            conversation(
                result(READ, f"Error: {gone}", ToolStatus.FAILED, gone),
                result(LIST, DENIED_TEXT, ToolStatus.DENIED, "Declined."),
            )
        )
        await settled(pilot)
        rows = [row for row in shown(view) if row.strip("▎ ")]
        read = next(index for index, row in enumerate(rows) if "files › read" in row)
        assert rows[read].endswith("failed · 250 ms")
        assert rows[read + 1] == f"▎   ↳ {gone}"
        assert rows[read + 2].startswith("▎ ▸ files › list") and rows[read + 2].endswith("denied · 250 ms")


async def test_a_call_being_asked_shows_its_arguments_until_answered() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        turns = conversation()
        view.set_turns(turns)
        asking = Turn("tool", "", tool_name=READ.name, tool_call_id=READ.id, activity=display.ASKING)
        view.add_turn(asking)
        await settled(pilot)
        rows = shown(view)
        assert any(row.startswith("▎ ▾ files › read") and row.endswith("asking") for row in rows)
        assert '▎     "path": "notes/a.md",' in rows
        asking.activity = display.RUNNING
        view.update_turn(asking)
        await settled(pilot)
        rows = shown(view)
        assert any(row.startswith("▎ ▸ files › read") and row.endswith("running") for row in rows)
        asking.content, asking.tool_status, asking.duration = "done text", ToolStatus.OK, 1.5
        view.update_turn(asking)
        await settled(pilot)
        assert any(row.endswith("done · 1.5 s · 9 B") for row in shown(view))

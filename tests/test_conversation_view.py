"""The conversation view as a person sees it: what is on screen while opening, streaming,
scrolling and resizing."""

from __future__ import annotations

import itertools
import re
import weakref
from typing import ClassVar

from conftest import following
from rich.color import Color
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.types import CSSPathType

from app.conversation import Turn, TurnState
from app.paths import STYLES_DIR
from app.protocol import ChatStats
from app.render.markdown import CODE_THEME
from app.render.message import MessageRenderer
from app.widgets import conversation_layout, turn_lines
from app.widgets.conversation_view import ConversationView

SIZE = (80, 24)


class Host(App[None]):
    CSS_PATH: ClassVar[CSSPathType] = [STYLES_DIR / "chat.tcss"]  # the view's colours and scrollbar

    def compose(self) -> ComposeResult:
        yield ConversationView()


def shown(view: ConversationView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


def with_text(view: ConversationView) -> list[str]:
    """The rows on screen down to the last one with something on it."""
    rows = shown(view)
    while rows and not rows[-1].strip():
        rows.pop()
    return rows


def screen_text(view: ConversationView) -> str:
    return "\n".join(shown(view))


def colour_of(segment: Segment) -> Color | None:
    """The text colour of a drawn segment (the view gives every segment a style)."""
    assert segment.style is not None
    return segment.style.color


def conversation(pairs: int, words: int = 30) -> list[Turn]:
    turns = []
    for number in range(pairs):
        turns.append(Turn("user", f"Question {number}: " + "why " * words))
        turns.append(
            Turn(
                "assistant",
                f"Answer {number}\n\n- first point\n- second point\n\n" + "because " * words,
                model="llama3.2:latest" if number % 2 else "qwen2.5:7b",
                stats=ChatStats(eval_count=120, eval_duration=2_000_000_000),
            )
        )
    return turns


async def settled(pilot: Pilot[None]) -> None:
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def test_opening_a_conversation_shows_its_end() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(conversation(200))
        await settled(pilot)
        text = screen_text(view)
        assert "because because" in text and "120 tokens · 60.0 tok/s" in text
        assert "llama3.2:latest" in text  # the model that wrote the last answer
        assert "Answer 0\n" not in text
        assert following(view) and view.scroll_offset.y == view.max_scroll_y > 0


async def test_streaming_appends_and_follows_the_end() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(conversation(20))
        view.add_turn(Turn("user", "Tell me a story"))
        reply = Turn("assistant", "", model="mistral:7b", state=TurnState.STREAMING)
        view.add_turn(reply)
        await settled(pilot)
        assert "mistral:7b  streaming…" in screen_text(view)
        tops = set()
        for number in range(60):
            reply.content += f"word{number} " + ("\n\n" if number % 9 == 8 else "")
            view.update_turn(reply)
            if number % 10 == 0:
                await pilot.pause()
            assert f"word{number}" in with_text(view)[-1]
            tops.add(view.scroll_offset.y)
        # A streaming reply scrolls the view a quarter page at a time (each scroll repaints
        # the whole view), its next lines filling the blank rows it leaves.
        assert 1 < len(tops) < 60 / 9 * 2 and following(view)
        top = view.scroll_offset.y
        reply.state = TurnState.COMPLETE
        reply.stats = ChatStats(eval_count=60, eval_duration=1_000_000_000)
        view.update_turn(reply)
        await settled(pilot)
        lines = with_text(view)
        assert lines[-1] == "▎ 60 tokens · 60.0 tok/s"
        assert "word59" in lines[-2]
        assert 0 <= view.scroll_offset.y - top <= 1  # at most the new note row moved it
        assert "streaming…" not in screen_text(view)
        assert view.last_reply_text() == reply.content


async def test_rows_kept_from_the_last_update_are_the_rows_drawn_afresh() -> None:
    """An update draws again only the rows that changed: what it keeps must be what a fresh
    drawing shows, also when a wider cell resizes a table's columns, a code block gets its
    label or the cursor moves."""
    async with Host().run_test(size=(80, 30)) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.add_turn(Turn("user", "A table, please"))
        reply = Turn("assistant", "Here:\n\n", model="m", state=TurnState.STREAMING)
        view.add_turn(reply)
        rows = ["| name | value |", "|---|---|", *(f"| item {n} | {n * 7} |" for n in range(24))]
        rows.insert(14, "| a name much longer than the others | 7 |")
        rows += ["", "```python", "def f():", "    return 1", "```", "", "The end."]  # a code block gets its label
        for number, row in enumerate(rows):
            for piece in (row[: len(row) // 2], row[len(row) // 2 :] + "\n"):
                reply.content += piece
                view.update_turn(reply)
                await pilot.pause()
                if number == 20:
                    view.focus()
                    await pilot.press("up")  # the cursor onto the reply: its bar changes colour
                kept = [view.render_line(y) for y in range(view.size.height)]
                view.notify_style_update()  # forgets every drawn row
                assert [view.render_line(y) for y in range(view.size.height)] == kept, reply.content
        assert "a name much longer than the others" in screen_text(view) and "1 python" in screen_text(view)


async def test_scrolling_up_stops_following_and_the_end_reengages() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        reply = Turn("assistant", "start\n\n", model="mistral:7b", state=TurnState.STREAMING)
        view.set_turns([*conversation(20), reply])
        view.focus()
        await settled(pilot)
        await pilot.press("pageup", "pageup")
        await settled(pilot)
        assert not following(view)
        before, offset = shown(view), view.scroll_offset
        for number in range(30):
            reply.content += f"more{number} "
            view.update_turn(reply)
        await settled(pilot)
        assert shown(view) == before and view.scroll_offset == offset

        await pilot.press("end")
        await settled(pilot)
        assert following(view) and "more29" in screen_text(view)
        reply.content += "\n\nlast words"
        view.update_turn(reply)
        await settled(pilot)
        assert "last words" in with_text(view)[-1]

        await pilot.press("shift+up")  # a line up (Up alone moves the message cursor)
        await settled(pilot)
        assert not following(view)
        await pilot.press("shift+down")
        await settled(pilot)
        assert following(view)  # back at the bottom by scrolling
        reply.content += " and after"
        view.update_turn(reply)
        await settled(pilot)
        assert "and after" in screen_text(view)


async def test_headers_show_who_wrote_what_and_how_it_ended() -> None:
    turns = [
        Turn("user", "hello"),
        Turn("assistant", "Hi!", model="llama3.2:latest"),
        Turn("assistant", "Partial", model="qwen2.5:7b", state=TurnState.STOPPED,
             error="Stopped."),
        Turn("assistant", "Cut", model="phi4", state=TurnState.INTERRUPTED,
             error="The connection to Ollama was lost."),
        Turn("assistant", "", model="gemma3", state=TurnState.ERROR,
             error="model 'gemma3' not found"),
    ]  # fmt: skip
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(turns)
        await settled(pilot)
        lines = shown(view)
        for header in (
            "▎ You",
            "▎ llama3.2:latest",
            "▎ qwen2.5:7b  stopped",
            "▎ phi4  interrupted",
            "▎ gemma3  error",
            "▎ Stopped.",
            "▎ The connection to Ollama was lost.",
            "▎ model 'gemma3' not found",
        ):
            assert header in lines, header

        def colour(text: str) -> object:
            strip = view.render_line(lines.index(text))
            return next(colour_of(s) for s in strip if s.text.strip() == text[2:].strip())

        error = view.get_component_rich_style("conversation-view--error").color
        warning = view.get_component_rich_style("conversation-view--warning").color
        assert colour("▎ model 'gemma3' not found") == error
        assert colour("▎ Stopped.") == warning
        user_bar = view.render_line(lines.index("▎ You"))
        reply_bar = view.render_line(lines.index("▎ llama3.2:latest"))
        assert colour_of(next(iter(user_bar))) != colour_of(next(iter(reply_bar)))


async def test_untrusted_names_and_text_are_shown_literally() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns([Turn("assistant", "[bold]x[/bold] \x1b[2J", model="m\x1b]0;t\x07x")])
        await settled(pilot)
        lines = shown(view)
        assert "▎ mx" in lines and "▎ [bold]x[/bold]" in lines
        assert not any("\x1b" in segment.text for y in range(5) for segment in view.render_line(y))


async def test_removing_and_clearing() -> None:
    turns = [Turn("user", "first message"), Turn("assistant", "second message", model="m"),
             Turn("user", "third message")]  # fmt: skip
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(turns)
        await settled(pilot)
        view.remove_turn(turns[1])
        await settled(pilot)
        text = screen_text(view)
        assert "first message" in text and "third message" in text
        assert "second message" not in text and view.last_reply_text() is None
        view.clear()
        await settled(pilot)
        assert screen_text(view).strip() == ""
        assert view.virtual_size.height == 0

        many = conversation(30)
        view.set_turns(many)
        view.scroll_home()
        await settled(pilot)
        assert not following(view)
        for turn in many:
            view.remove_turn(turn)
        await settled(pilot)
        assert screen_text(view).strip() == ""


async def test_resizing_rewraps_and_keeps_the_end() -> None:
    words = " ".join(f"w{number}" for number in range(120))
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns([*conversation(10), Turn("assistant", words, model="m")])
        await settled(pilot)
        wide = [line for line in shown(view) if line.startswith("▎ w")]
        await pilot.resize_terminal(40, 24)
        await settled(pilot)
        narrow = [line for line in shown(view) if line.startswith("▎ w")]
        assert len(narrow) > len(wide) and all(len(line) <= 39 for line in narrow)
        assert narrow[-1].endswith("w119")
        assert following(view) and view.scroll_offset.y == view.max_scroll_y

        view.scroll_to(y=view.max_scroll_y // 2)
        await settled(pilot)
        question = next(line for line in shown(view) if line.startswith("▎ Question"))
        number = question.split(":")[0]
        await pilot.resize_terminal(70, 24)
        await settled(pilot)
        assert any(line.startswith(number + ":") for line in shown(view))  # still in sight
        assert not following(view)


async def test_home_and_end_keys() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(conversation(100))
        view.focus()
        await settled(pilot)
        await pilot.press("home")
        await settled(pilot)
        assert shown(view)[0] == "▎ You" and shown(view)[1].startswith("▎ Question 0: why")
        assert not following(view)
        await pilot.press("end")
        await settled(pilot)
        assert following(view) and "Answer 99" in screen_text(view)


async def test_scrolling_up_into_estimated_turns_does_not_jump() -> None:
    # Headings render taller than their text suggests, so every estimate here is too low.
    turns = [Turn("assistant", f"## {n}a\n## {n}b\n## {n}c", model="m") for n in range(300)]
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(turns)
        view.focus()
        await settled(pilot)
        view.scroll_to(y=view.max_scroll_y // 2, animate=False)
        await settled(pilot)
        height = view.virtual_size.height
        for _ in range(60):  # every few lines another estimated turn gets measured
            before = shown(view)
            view.action_scroll_up()  # what shift+up and the mouse wheel do
            assert shown(view)[1:] == before[:-1]
        assert view.virtual_size.height > height  # estimates were replaced on the way
        for _ in range(10):  # a page up lands in turns never drawn; a page down comes back
            before = shown(view)
            view.action_page_up()
            view.action_page_down()
            assert shown(view) == before
            view.action_page_up()
        before = shown(view)
        await pilot.press("shift+up")
        assert shown(view)[1:] == before[:-1] and not following(view)


async def test_a_huge_conversation_opens_drawing_only_its_end(monkeypatch) -> None:
    drawn: list[MessageRenderer] = []

    class Counted(MessageRenderer):
        def __init__(self, code_theme: str = CODE_THEME, breaks: bool = False) -> None:
            super().__init__(code_theme, breaks)
            drawn.append(self)

    monkeypatch.setattr(turn_lines, "MessageRenderer", Counted)
    turns = conversation(2500, words=40)  # 5,000 turns
    assert sum(len(turn.content) for turn in turns) > 1_000_000
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(turns)
        await settled(pilot)
        assert "Answer 2499" in screen_text(view)
        assert len(drawn) <= 6
        view.scroll_home(animate=False)
        await settled(pilot)
        assert shown(view)[0] == "▎ You" and "Question 0:" in shown(view)[1]
        assert len(drawn) <= 12


async def test_turns_far_away_let_go_of_their_lines(monkeypatch) -> None:
    alive: weakref.WeakSet[MessageRenderer] = weakref.WeakSet()

    class Tracked(MessageRenderer):
        def __init__(self, code_theme: str = CODE_THEME, breaks: bool = False) -> None:
            super().__init__(code_theme, breaks)
            alive.add(self)

    monkeypatch.setattr(turn_lines, "MessageRenderer", Tracked)
    monkeypatch.setattr(conversation_layout, "KEEP_RENDERED", 12)
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(conversation(40))
        await settled(pilot)
        pages = []
        while view.scroll_offset.y > 0:
            pages.append(shown(view))
            view.action_page_up()
        assert "Question 0:" in screen_text(view)
        assert len(alive) > 12  # every turn drawn on the way, but only the last 12 keep lines
        assert sum(renderer.holds_lines for renderer in alive) <= 12
        view.action_scroll_end()
        for page in pages:  # the way up again: forgotten turns come back the same
            assert shown(view) == page
            view.action_page_up()
        assert sum(renderer.holds_lines for renderer in alive) <= 12


async def test_thinking_unfolds_while_alone_then_folds_when_the_answer_starts() -> None:
    reply = Turn("assistant", "", model="qwen3:4b", state=TurnState.STREAMING)
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns([Turn("user", "Which city?"), reply])
        assert not view.toggle_thinking()  # nothing to toggle yet
        reply.thinking = "The user asks about Peru.\n\nIts capital is \x1b[31mLima."
        view.update_turn(reply)
        await settled(pilot)
        lines = shown(view)
        assert "▎ ▾ Thinking… (9 words)" in lines
        assert "▎   The user asks about Peru." in lines and "▎   Its capital is Lima." in lines
        colour = view.get_component_rich_style("conversation-view--thinking").color
        strip = view.render_line(lines.index("▎   The user asks about Peru."))
        assert next(colour_of(s) for s in strip if "Peru" in s.text) == colour

        reply.content = "\n\nLima."
        view.update_turn(reply)
        await settled(pilot)
        lines = shown(view)
        title = lines.index("▎ ▸ Thinking (9 words)")
        assert lines[title + 1] == "▎ Lima." and "Peru" not in screen_text(view)

        assert view.toggle_thinking()
        await settled(pilot)
        lines = shown(view)
        title = lines.index("▎ ▾ Thinking (9 words)")
        assert lines[title + 1 : title + 6] == [
            "▎   The user asks about Peru.", "▎", "▎   Its capital is Lima.", "▎", "▎ Lima."
        ]  # fmt: skip
        reply.content += " It sits on the coast."  # stays unfolded as the answer grows
        view.update_turn(reply)
        await settled(pilot)
        assert "▎   The user asks about Peru." in shown(view)
        assert view.toggle_thinking(reply)
        await settled(pilot)
        assert "Peru" not in screen_text(view) and "▎ ▸ Thinking (9 words)" in shown(view)


async def test_clicking_the_thinking_line_toggles_it() -> None:
    turns = [
        Turn("user", "hi"),
        Turn("assistant", "Hello!", model="qwen3:4b", thinking="Greet back briefly."),
    ]
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns(turns)
        await settled(pilot)
        lines = shown(view)
        title = lines.index("▎ ▸ Thinking (3 words)")  # an old reply opens folded
        await pilot.click(ConversationView, offset=(4, title))
        await settled(pilot)
        assert "▎   Greet back briefly." in shown(view)
        await pilot.click(ConversationView, offset=(4, title))
        await settled(pilot)
        assert "Greet back" not in screen_text(view)
        await pilot.click(ConversationView, offset=(4, title + 1))  # the answer: nothing happens
        await settled(pilot)
        assert "Greet back" not in screen_text(view)


def long_reply(sections: int) -> str:
    parts = []
    for number in range(sections):
        parts.append(f"## Part {number}\n\nText of part {number}, " + "which wraps " * 12)
        parts.append(f"```python\ndef part_{number}():\n    return {number}\n```")
        parts.append(f"1. first of {number}\n2. second of {number}")
    return "\n\n".join(parts)


async def test_a_long_reply_reads_the_same_page_by_page_as_drawn_whole() -> None:
    """Its parts are drawn only as they come into view, with estimated heights until then:
    every page must still be a window of the whole reply drawn at once, in order, with no
    line lost or repeated, up and down again."""
    text = long_reply(120)
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns([Turn("user", "Tell me everything"), Turn("assistant", text, model="m")])
        await settled(pilot)
        width = turn_lines.content_width(view._width)
        whole = MessageRenderer()
        whole.update(text)
        body = [(turn_lines.BAR + "".join(segment.text for segment in line)).rstrip() for line in whole.lines(width)]

        def window() -> int:
            """Where the rows on screen sit in the whole reply (all of them must)."""
            rows = [row for row in shown(view) if row.startswith(turn_lines.BAR.strip())]
            # A code block's first row carries its number, which the renderer's rows do not.
            rows = [re.sub(r"^(▎)\s+\d+(?: \S+)?$", r"\1", row) for row in rows]
            rows = [row for row in rows if row not in ("▎ You", "▎ m", "▎ Tell me everything")]
            for start in range(len(body) - len(rows) + 1):
                if body[start : start + len(rows)] == rows:
                    return start
            raise AssertionError(f"not a window of the whole reply:\n{rows}")

        window()
        assert body[-1] in shown(view)
        starts = []
        while view.scroll_offset.y > 0:
            view.action_page_up()
            await settled(pilot)
            starts.append(window())
        assert "Tell me everything" in screen_text(view)
        # Each Page Up moves the text by exactly a page: drawing the parts above moved nothing.
        # (The last one reaches the top; the turn's header is above the reply's first line.)
        assert all(a - b == view.size.height for a, b in itertools.pairwise(starts[:-1]))
        assert starts[-1] == 0 and len(starts) > 50
        while not view.following:
            view.action_page_down()
            await settled(pilot)
            window()
        assert body[-1] in shown(view)


async def test_an_opened_conversation_ends_at_the_bottom_when_estimates_were_too_high() -> None:
    """Parts of a long reply above the screen are guessed too high until drawn (a paragraph's
    lines are joined on screen, a table's rows are counted from its text): when the page above
    is drawn the reply gets shorter, and its end must still sit on the last rows (the turn's
    own blank separator), not above more blank rows."""
    from benchmarks.corpus import shape_reply

    reply = shape_reply("mixed", 0.1).text
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        view.set_turns([Turn("user", "Tell me"), Turn("assistant", reply, model="m")])
        await settled(pilot)
        rows = shown(view)
        while rows and not rows[-1].strip("▎ "):
            rows.pop()
        assert len(rows) >= view.size.height - 1, shown(view)[-5:]


async def test_the_statistics_note_never_shows_under_a_half_drawn_end() -> None:
    """A fast reply's last update brings several sections and its end at once: the frame that
    first shows the "tokens · tok/s" note must already show the text above it whole."""
    parts = [
        f"## Part {number}\n\nSome text for part {number}, long enough to wrap once or twice " * 3
        for number in range(12)
    ]
    async with Host().run_test(size=SIZE) as pilot:
        view = pilot.app.query_one(ConversationView)
        reply = Turn("assistant", parts[0], model="m", state=TurnState.STREAMING)
        view.set_turns([Turn("user", "Go"), reply])
        await settled(pilot)
        reply.content = "\n\n".join(parts)
        reply.state, reply.stats = TurnState.COMPLETE, ChatStats(eval_count=900, eval_duration=1_000_000_000)
        view.update_turn(reply)  # no pause: what the next frame would draw is what is there now
        rows = shown(view)
        notes = [row for row, line in enumerate(rows) if "900 tokens" in line]
        assert notes, rows
        whole = MessageRenderer()
        whole.update(reply.content)
        body = [
            (turn_lines.BAR + "".join(segment.text for segment in line)).rstrip()
            for line in whole.lines(turn_lines.content_width(view._width))
        ]
        above = rows[: notes[0]]
        assert above == body[-len(above) :]

"""ToolServers against real MCP servers written with the SDK (tests/mcp_servers/): one over stdio,
one over streamable HTTP on 127.0.0.1, and the ways servers fail. Then the whole loop with the
fake Ollama: tools offered, calls streamed back, run, and their results sent in the next request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from ollama_server import ChatScript, FakeOllama, tokenize, tool_call

from app import debug_log
from app.client import OllamaClient
from app.conversation import ToolStatus, Turn, history
from app.export import to_json, to_markdown
from app.protocol import ChatMessage, ChatRequest, ToolCall
from app.store import DB_NAME, Store
from app.tools.config import ToolServerConfig
from app.tools.policy import ToolPolicy
from app.tools.servers import ServerState, ServerStatus, ToolServers

pytestmark = pytest.mark.slow

SERVERS = Path(__file__).parent / "mcp_servers"
STDIO = str(SERVERS / "stdio_server.py")
TOOL_NAMES = ["echo", "add", "sleep", "fail", "hostile", "huge", "media", "pid", "env_has", "header_has", "die"]
SECRET = "s3cr3t-Token-4f9a1c"


def stdio(name: str = "local", **options: object) -> ToolServerConfig:
    return ToolServerConfig(name, command=sys.executable, args=(STDIO,), **options)  # type: ignore[arg-type]  # options: keyword arguments the test names


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    """The HTTP test server's base URL; it runs in its own process for the whole module."""
    process = subprocess.Popen(
        [sys.executable, str(SERVERS / "http_server.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("PORT "), line
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        process.terminate()
        process.wait(timeout=10)


Make = Callable[..., ToolServers]


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    """Builds ToolServers that are stopped after the test, whatever happens."""
    made: list[ToolServers] = []

    def build(*configs: ToolServerConfig, **options: object) -> ToolServers:
        servers = ToolServers(configs, **options)  # type: ignore[arg-type]  # options: keyword arguments the test names
        made.append(servers)
        return servers

    yield build
    for servers in made:
        await servers.aclose()


async def started(servers: ToolServers) -> ToolServers:
    servers.start()
    await asyncio.wait_for(servers.wait_started(), 30)
    return servers


async def run(
    servers: ToolServers, name: str, arguments: dict[str, object] | None = None
) -> tuple[ToolStatus, str, str]:
    call = ToolCall(name, arguments or {})
    tool, problem = servers.check(call)
    assert tool is not None and problem == "", problem
    result = await servers.call(tool, call)
    return result.status, result.text, result.problem


async def gone(pid: int) -> bool:
    """Whether the process has ended and been reaped (polls a few seconds)."""
    for _ in range(250):
        if not Path(f"/proc/{pid}").exists():
            return True
        await asyncio.sleep(0.02)
    return False


# Start, list, call, stop


async def test_a_stdio_server_starts_in_the_background_lists_its_tools_and_stops(make: Make) -> None:
    changes: list[ServerStatus] = []
    servers = make(stdio(auto_approve=frozenset({"echo"})), on_change=changes.append)
    servers.start()
    assert servers.status("local").state is ServerState.STARTING  # start() did not wait
    await servers.wait_started()
    status = servers.status("local")
    assert status.state is ServerState.RUNNING and status.kind == "stdio"
    assert [tool.name for tool in status.tools] == TOOL_NAMES
    add = next(tool for tool in status.tools if tool.name == "add")
    assert add.qualified == "local__add" and add.description == "Add two numbers."
    assert add.input_schema["required"] == ["a", "b"]
    assert [tool.auto_approve for tool in status.tools][:2] == [True, False]
    assert [change.state for change in changes] == [ServerState.STARTING, ServerState.RUNNING]

    assert await run(servers, "local__echo", {"text": "hello"}) == (ToolStatus.OK, "hello", "")
    assert await run(servers, "local__add", {"a": 2, "b": 3}) == (ToolStatus.OK, "5.0", "")
    status_, text, _ = await run(servers, "local__media")
    assert status_ is ToolStatus.OK
    assert (
        text
        == "a picture:\n[image: image/png, 100 bytes]\n[resource: file:///notes/a.md]\n# Notes\n[resource link: b.md (file:///notes/b.md)]"
    )
    pid = int((await run(servers, "local__pid"))[1])

    await servers.aclose()
    assert servers.status("local").state is ServerState.OFF
    assert await gone(pid), "the server process outlived aclose()"


async def test_an_http_server_gets_its_headers_with_variables_expanded(make: Make, http_url: str) -> None:
    config = ToolServerConfig(
        "remote", url=f"{http_url}/mcp", headers=(("Authorization", "Bearer ${TEST_TOKEN}"), ("X-Plain", "yes"))
    )
    servers = await started(make(config, environ={"TEST_TOKEN": SECRET}))
    status = servers.status("remote")
    assert status.state is ServerState.RUNNING and status.kind == "http"
    assert [tool.qualified for tool in status.tools][:2] == ["remote__echo", "remote__add"]
    assert await run(servers, "remote__add", {"a": 1.5, "b": 2}) == (ToolStatus.OK, "3.5", "")
    assert (await run(servers, "remote__header_has", {"name": "authorization"}))[1] == "set"
    assert (await run(servers, "remote__header_has", {"name": "x-missing"}))[1] == "unset"
    assert SECRET in " ".join(servers.secrets())  # for the log to mask


async def test_the_env_of_a_stdio_server_is_expanded_and_passed(make: Make) -> None:
    servers = await started(make(stdio(env=(("API_TOKEN", "${TEST_TOKEN}"),)), environ={"TEST_TOKEN": SECRET}))
    assert (await run(servers, "local__env_has", {"name": "API_TOKEN"}))[1] == "set"
    assert (await run(servers, "local__env_has", {"name": "TEST_TOKEN"}))[1] == "unset"  # only what is configured


# Names the model sees


async def test_tool_names_are_unique_across_servers_and_map_back(make: Make, http_url: str) -> None:
    servers = await started(make(stdio("a"), ToolServerConfig("b", url=f"{http_url}/mcp")))
    names = [definition.name for definition in servers.definitions()]
    assert len(names) == len(set(names)) == 2 * len(TOOL_NAMES)
    assert {"a__echo", "b__echo"} <= set(names)
    assert servers.find("b__echo").server == "b"  # type: ignore[union-attr]  # None would fail the assertion anyway
    assert servers.find("echo") is None  # both have it: a bare name could mean either

    policy = ToolPolicy().with_server("b", False)
    assert servers.find("echo", policy).qualified == "a__echo"  # type: ignore[union-attr]  # None would fail the assertion anyway
    assert all(name.startswith("a__") for name in (d.name for d in servers.definitions(policy)))
    servers.set_tool_enabled("a__die", False)
    assert "a__die" not in [tool.qualified for tool in servers.tools(policy)]
    call = ToolCall("a__die")
    tool, problem = servers.check(call, policy)
    assert tool is None and problem.startswith('there is no tool named "a__die". The tools are: a__add, a__echo')


async def test_the_definitions_go_out_in_a_real_request(make: Make, ollama: FakeOllama) -> None:
    servers = await started(make(stdio()))
    definitions = servers.definitions()
    async with OllamaClient(ollama.url) as client:
        async for _ in client.chat(ChatRequest("llama3.2", (ChatMessage("user", "hi"),), tools=definitions)):
            pass
    sent = ollama.bodies("/api/chat")[-1]["tools"]
    assert [tool["function"]["name"] for tool in sent] == [f"local__{name}" for name in TOOL_NAMES]
    add = sent[1]
    assert add["type"] == "function"
    assert add["function"]["description"] == "Add two numbers."
    assert add["function"]["parameters"]["properties"]["a"]["type"] == "number"


# The whole loop


async def test_a_reply_with_several_calls_runs_them_and_the_answer_follows(make: Make, ollama: FakeOllama) -> None:
    servers = await started(make(stdio()))
    policy = ToolPolicy()
    turns = [Turn("user", "What is 2 + 3? And say hi.")]
    ollama.enqueue(
        ChatScript(
            tokens=tokenize("Let me use the tools."),
            tool_calls=(
                tool_call("local__add", {"a": 2, "b": 3}, 0),
                tool_call("local__echo", '{"text": "hi"}', 1),  # arguments as a JSON string
                tool_call("local__add", {"a": 2}, 2),  # missing b
                tool_call("local__nope", {}, 3),
            ),
        ),
        ChatScript(tokens=tokenize("2 + 3 = 5, and hi.")),
    )
    async with OllamaClient(ollama.url) as client:
        for _round in range(2):
            reply = Turn("assistant", "", model="llama3.2")
            request = ChatRequest("llama3.2", history(turns), tools=servers.definitions(policy))
            async for chunk in client.chat(request):
                reply.content += chunk.content
                reply.tool_calls += chunk.tool_calls
            turns.append(reply)
            for call in reply.tool_calls:
                tool, problem = servers.check(call, policy)
                if tool is None or problem:
                    from app.tools.calls import failed

                    turns.append(failed(call, problem).turn())
                else:
                    turns.append((await servers.call(tool, call)).turn())
    assert [turn.role for turn in turns] == ["user", "assistant", "tool", "tool", "tool", "tool", "assistant"]
    assert [turn.tool_status for turn in turns[2:6]] == [
        ToolStatus.OK,
        ToolStatus.OK,
        ToolStatus.FAILED,
        ToolStatus.FAILED,
    ]
    assert turns[-1].content == "2 + 3 = 5, and hi."
    sent = ollama.bodies("/api/chat")[-1]["messages"]
    assert sent[1]["tool_calls"][1]["function"]["arguments"] == {"text": "hi"}
    assert sent[2:6] == [
        {"role": "tool", "content": "5.0", "tool_name": "local__add", "tool_call_id": turns[1].tool_calls[0].id},
        {"role": "tool", "content": "hi", "tool_name": "local__echo", "tool_call_id": turns[1].tool_calls[1].id},
        {
            "role": "tool",
            "content": "Error: the arguments do not fit the tool's input schema: 'b' is a required property.",
            "tool_name": "local__add",
            "tool_call_id": turns[1].tool_calls[2].id,
        },
        {
            "role": "tool",
            "content": 'Error: there is no tool named "local__nope". The tools are: '
            + ", ".join(sorted(f"local__{name}" for name in TOOL_NAMES))
            + ".",
            "tool_name": "local__nope",
            "tool_call_id": turns[1].tool_calls[3].id,
        },
    ]


# Untrusted output


async def test_hostile_and_huge_results_are_made_safe(make: Make) -> None:
    servers = await started(make(stdio()))
    status, text, _ = await run(servers, "local__hostile")
    assert status is ToolStatus.OK
    assert text == "before red   link [bold red]markup[/]  after"
    status, text, _ = await run(servers, "local__huge", {"megabytes": 2.5})
    assert status is ToolStatus.OK
    assert 1_000_000 < len(text.encode()) < 1_000_100 and text.endswith("the rest was not kept.]")
    turns = [
        Turn("user", "big"),
        Turn("assistant", "", tool_calls=(ToolCall("local__huge"),)),
        Turn("tool", text, tool_name="local__huge"),
    ]
    sent = history(turns)[2].content
    assert len(sent.encode()) < 100_100 and sent.endswith("the rest was not sent.]")


# Faults: each ends in one line, and the rest goes on


async def test_a_command_that_does_not_exist(make: Make) -> None:
    servers = await started(make(ToolServerConfig("ghost", command="no-such-mcp-server-xyz"), stdio()))
    assert servers.status("ghost") == ServerStatus(
        "ghost",
        "stdio",
        ServerState.FAILED,
        (),
        "the command 'no-such-mcp-server-xyz' was not found; is it installed and on PATH?",
    )
    assert servers.status("local").state is ServerState.RUNNING  # the others start regardless


async def test_a_server_that_exits_at_start_says_why(make: Make) -> None:
    config = ToolServerConfig("early", command=sys.executable, args=(str(SERVERS / "exits_at_start.py"),))
    servers = await started(make(config))
    status = servers.status("early")
    assert status.state is ServerState.FAILED
    assert status.reason == "the server exited at start: fatal: cannot open ~/notes: no such directory"


async def test_a_server_that_never_answers_times_out_and_is_stopped(make: Make) -> None:
    marker = "import os, sys, time; print(os.getpid(), flush=True, file=sys.stderr); time.sleep(120)"
    config = ToolServerConfig("silent", command=sys.executable, args=("-c", marker))
    servers = await started(make(config, start_timeout=0.5))
    status = servers.status("silent")
    assert status.state is ServerState.FAILED
    pid = int(status.reason.rsplit(": ", 1)[1])
    assert status.reason == f"the server did not answer within 0.5 s: {pid}"
    assert await gone(pid)


async def test_a_server_that_exits_mid_call_fails_the_call_and_itself(make: Make) -> None:
    servers = await started(make(stdio()))
    pid = int((await run(servers, "local__pid"))[1])
    assert await run(servers, "local__die") == (
        ToolStatus.FAILED,
        "Error: the server exited during the call",
        "the server exited during the call",
    )
    status = servers.status("local")
    assert (status.state, status.reason, status.tools) == (ServerState.FAILED, "the server exited during the call", ())
    assert servers.definitions() == ()
    assert await gone(pid)

    servers.set_server_enabled("local", True)  # a retry
    await servers.wait_started()
    assert servers.status("local").state is ServerState.RUNNING
    assert (await run(servers, "local__echo", {"text": "back"}))[1] == "back"


async def test_a_call_that_takes_too_long_times_out_and_the_server_goes_on(make: Make) -> None:
    servers = await started(make(stdio(), timeout=0.5))
    status, text, problem = await run(servers, "local__sleep", {"seconds": 5})
    assert (status, text, problem) == (
        ToolStatus.FAILED,
        "Error: the call timed out after 0.5 s",
        "the call timed out after 0.5 s",
    )
    assert servers.status("local").state is ServerState.RUNNING
    assert await run(servers, "local__echo", {"text": "still here"}) == (ToolStatus.OK, "still here", "")


async def test_a_tool_that_reports_an_error(make: Make) -> None:
    servers = await started(make(stdio()))
    status, text, problem = await run(servers, "local__fail", {"reason": "disk full"})
    assert status is ToolStatus.ERROR
    assert text == "Tool error: Error executing tool fail: could not do it: disk full"
    assert problem == "Error executing tool fail: could not do it: disk full"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (
            "/unauthorized",
            "the server refused the credentials (HTTP 401 Unauthorized); check the headers in its config",
        ),
        ("/broken", "the server failed (HTTP 500 Internal Server Error)"),
        ("/nothing-here", "nothing answers at that url (HTTP 404 Not Found)"),
    ],
)
async def test_http_servers_that_refuse_or_fail(make: Make, http_url: str, path: str, reason: str) -> None:
    config = ToolServerConfig("remote", url=f"{http_url}{path}", headers=(("Authorization", f"Bearer {SECRET}"),))
    servers = await started(make(config))
    assert servers.status("remote") == ServerStatus("remote", "http", ServerState.FAILED, (), reason)


async def test_an_http_server_that_is_not_there(make: Make) -> None:
    servers = await started(make(ToolServerConfig("remote", url="http://127.0.0.1:9/mcp?token=abc")))
    assert servers.status("remote").reason == "cannot connect to http://127.0.0.1:9/mcp (is the server running?)"


async def test_an_unset_variable_fails_that_server_only(make: Make) -> None:
    servers = await started(make(stdio("a", env=(("TOKEN", "${NOT_SET_ANYWHERE}"),)), stdio("b"), environ={}))
    assert (
        servers.status("a").reason
        == "mcp_servers.a.env.TOKEN uses ${NOT_SET_ANYWHERE}, which is not set in the environment."
    )
    assert servers.status("b").state is ServerState.RUNNING


async def test_a_call_to_a_server_that_is_off_fails_cleanly(make: Make) -> None:
    servers = await started(make(stdio()))
    tool = servers.find("local__echo")
    assert tool is not None
    pid = int((await run(servers, "local__pid"))[1])
    servers.set_server_enabled("local", False)
    assert servers.status("local").state is ServerState.OFF
    result = await servers.call(tool, ToolCall("local__echo", {"text": "x"}))
    assert (result.status, result.problem) == (ToolStatus.FAILED, "the server 'local' is not running")
    assert await gone(pid)


async def test_disabled_servers_do_not_start(make: Make) -> None:
    servers = await started(make(stdio(enabled=False)))
    assert servers.status("local").state is ServerState.OFF
    servers.set_server_enabled("local", True)
    await servers.wait_started()
    assert servers.status("local").state is ServerState.RUNNING


# The terminal and the disk


def test_the_sdk_loads_in_the_background_and_nothing_reaches_stderr(tmp_path: Path) -> None:
    """A process like the app: start, use, hit faults, stop. Its stderr must stay empty."""
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from app import debug_log
        from app.protocol import ToolCall
        from app.tools import ToolServerConfig, ToolServers

        debug_log.configure(False)  # as the app does without --debug
        STDIO = {STDIO!r}

        async def main():
            servers = ToolServers(
                [
                    ToolServerConfig("local", command=sys.executable, args=(STDIO,)),
                    ToolServerConfig("ghost", command="no-such-mcp-server-xyz"),
                    ToolServerConfig("early", command=sys.executable, args=({str(SERVERS / "exits_at_start.py")!r},)),
                    ToolServerConfig("remote", url="http://127.0.0.1:9/mcp"),
                ],
                timeout=0.5,
            )
            servers.start()
            print("sdk loaded at start:", "mcp" in sys.modules)
            await servers.wait_started()
            print("sdk loaded once started:", "mcp" in sys.modules)
            for name, arguments in [("local__fail", {{"reason": "x"}}), ("local__sleep", {{"seconds": 3}}), ("local__hostile", {{}}), ("local__die", {{}})]:
                tool = servers.find(name)
                result = await servers.call(tool, ToolCall(name, arguments))
                print(name, result.status.value)
            print(sorted((status.name, status.state.value) for status in servers.statuses()))
            await servers.aclose()

        asyncio.run(main())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "sdk loaded at start: False",
        "sdk loaded once started: True",
        "local__fail error",
        "local__sleep failed",
        "local__hostile ok",
        "local__die failed",
        "[('early', 'failed'), ('ghost', 'failed'), ('local', 'failed'), ('remote', 'failed')]",
    ]


async def test_secrets_reach_neither_the_database_nor_the_log_nor_exports(
    make: Make, http_url: str, tmp_path: Path
) -> None:
    logs = tmp_path / "log"
    sdk_loggers = ("mcp", "httpx2", "httpcore2")
    levels = {name: logging.getLogger(name).level for name in sdk_loggers}
    servers = make(
        stdio(env=(("API_TOKEN", "${TEST_TOKEN}"),)),
        ToolServerConfig("remote", url=f"{http_url}/mcp", headers=(("Authorization", "Bearer ${TEST_TOKEN}"),)),
        ToolServerConfig(
            "refused", url=f"{http_url}/unauthorized", headers=(("Authorization", "Bearer ${TEST_TOKEN}"),)
        ),
        environ={"TEST_TOKEN": SECRET},
    )
    try:
        for name in sdk_loggers:  # let every record of the SDK through to the file
            logging.getLogger(name).setLevel(logging.DEBUG)
        await started(servers)
        debug_log.configure(True, logs, content=True, secrets=servers.secrets())
        turns = [Turn("user", "check the token")]
        for name, arguments in [
            ("local__env_has", {"name": "API_TOKEN"}),
            ("remote__header_has", {"name": "Authorization"}),
        ]:
            call = ToolCall(name, arguments, f"call_{name}")
            turns.append(Turn("assistant", "", tool_calls=(call,)))
            tool, problem = servers.check(call)
            assert tool is not None and not problem
            turns.append((await servers.call(tool, call)).turn())
        assert [turn.content for turn in turns if turn.role == "tool"] == ["set", "set"]
        logging.getLogger("app.tools").warning("statuses: %r", servers.statuses())
        with Store.open(tmp_path / "data") as store:
            info = store.create_conversation("llama3.2", tool_settings=ToolPolicy().to_json())
            for turn in turns:
                store.add_turn(info.id, turn)
            saved = store.conversation(info.id)
            assert saved is not None
            (tmp_path / "export.json").write_text(to_json(saved, store.turns(info.id)))
            (tmp_path / "export.md").write_text(to_markdown(saved, store.turns(info.id)))
        await servers.aclose()
    finally:
        debug_log.configure(False)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {DB_NAME, "export.json", "export.md", "ollama-tui.log"}
    assert (logs / "ollama-tui.log").stat().st_size > 0
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), f"the secret is in {path}"
    assert "refused" in json.dumps([status.name for status in servers.statuses()])


async def test_turning_a_server_off_while_it_starts_stops_it_at_once(make: Make) -> None:
    code = "import time; time.sleep(120)  # turned-off-while-starting"
    servers = make(ToolServerConfig("silent", command=sys.executable, args=("-c", code)), start_timeout=60)
    servers.start()
    for _ in range(250):  # until it has spawned; it never answers
        if processes_running("turned-off-while-starting"):
            break
        await asyncio.sleep(0.02)
    servers.set_server_enabled("silent", False)
    await asyncio.wait_for(servers.wait_started(), 15)  # well before the 60 s start timeout
    assert servers.status("silent") == ServerStatus("silent", "stdio", ServerState.OFF)
    assert processes_running("turned-off-while-starting") == []


def processes_running(marker: str) -> list[int]:
    """Live processes whose command line holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            running = entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes()
            if running and (entry / "stat").read_text().split(") ", 1)[1][0] != "Z":  # Z: a zombie
                found.append(int(entry.name))
        except OSError:
            continue
    return found


async def test_a_call_cut_short_by_turning_its_server_off(make: Make) -> None:
    servers = await started(make(stdio()))
    tool = servers.find("local__sleep")
    assert tool is not None
    call = asyncio.ensure_future(servers.call(tool, ToolCall("local__sleep", {"seconds": 30})))
    await asyncio.sleep(0.3)
    servers.set_server_enabled("local", False)
    result = await asyncio.wait_for(call, 15)
    assert (result.status, result.problem) == (ToolStatus.FAILED, "the server was stopped during the call")
    await servers.wait_started()
    assert servers.status("local").state is ServerState.OFF


async def test_cancelling_a_call_leaves_the_server_usable(make: Make) -> None:
    """Stop in the chat cancels the worker, and with it the call."""
    servers = await started(make(stdio()))
    tool = servers.find("local__sleep")
    assert tool is not None
    call = asyncio.ensure_future(servers.call(tool, ToolCall("local__sleep", {"seconds": 30})))
    await asyncio.sleep(0.3)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await run(servers, "local__echo", {"text": "still"}) == (ToolStatus.OK, "still", "")

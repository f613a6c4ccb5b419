"""The tool settings of the config file, per-conversation policy, and checking calls and results.

Pure parts, no servers: the servers are in test_tool_servers.py.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from app.conversation import ToolStatus
from app.protocol import ToolCall
from app.tools.calls import (
    STORED_RESULT_BYTES,
    ContentPart,
    ToolInfo,
    denied,
    describe,
    failed,
    from_parts,
    result_text,
    validate,
)
from app.tools.config import (
    DEFAULT_MAX_TOOL_ROUNDS,
    DEFAULT_TOOL_TIMEOUT,
    ConfigError,
    ToolsConfig,
    ToolServerConfig,
    parse_tools_config,
    resolve,
)
from app.tools.policy import ToolPolicy

EXAMPLE = """
max_tool_rounds = 4
tool_timeout = 12.5

[mcp_servers.files]
command = "uvx"
args = ["mcp-server-filesystem", "~/notes"]
env = { LOG_LEVEL = "warn", TOKEN = "${FILES_TOKEN}" }
auto_approve = ["read_file"]
enabled = true

[mcp_servers.tracker]
url = "https://tracker.example/mcp"
headers = { Authorization = "Bearer ${TRACKER_TOKEN}" }
enabled = false
"""


def parse(text: str) -> tuple[ToolsConfig, tuple[str, ...]]:
    return parse_tools_config(tomllib.loads(text))


# The config file


def test_the_example_config_reads_as_typed_settings() -> None:
    config, problems = parse(EXAMPLE)
    assert problems == ()
    assert (config.max_tool_rounds, config.tool_timeout) == (4, 12.5)
    files, tracker = config.servers
    assert files == ToolServerConfig(
        "files",
        command="uvx",
        args=("mcp-server-filesystem", "~/notes"),
        env=(("LOG_LEVEL", "warn"), ("TOKEN", "${FILES_TOKEN}")),
        auto_approve=frozenset({"read_file"}),
    )
    assert (files.kind, tracker.kind) == ("stdio", "http")
    assert tracker.url == "https://tracker.example/mcp" and not tracker.enabled
    assert tracker.headers == (("Authorization", "Bearer ${TRACKER_TOKEN}"),)


def test_no_tool_settings_means_the_defaults() -> None:
    assert parse("model = 'llama3.2'\n") == (ToolsConfig((), DEFAULT_MAX_TOOL_ROUNDS, DEFAULT_TOOL_TIMEOUT), ())


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        (
            'command = "uvx"\ncomand = "x"',
            "mcp_servers.bad.comand is not a server setting (they are: args, auto_approve, command, enabled, env, headers, url).",
        ),
        ('command = "a"\nurl = "http://x"', "mcp_servers.bad has both command and url; a server is one or the other."),
        ("args = []", "mcp_servers.bad needs a command (a program to run) or a url (a streamable HTTP server)."),
        ("command = 3", "mcp_servers.bad.command must be a string."),
        ('command = " "', "mcp_servers.bad.command must not be empty."),
        ('command = "a"\nargs = "x y"', "mcp_servers.bad.args must be a list of strings."),
        ('command = "a"\nargs = ["x", 1]', "mcp_servers.bad.args must be a list of strings."),
        ('command = "a"\nenv = ["A=1"]', 'mcp_servers.bad.env must be a table of strings (env = { NAME = "value" }).'),
        ('command = "a"\nenv = { PORT = 8080 }', "mcp_servers.bad.env.PORT must be a string."),
        (
            'command = "a"\nheaders = { A = "b" }',
            "mcp_servers.bad.headers does not apply to a server run by a command.",
        ),
        ('url = "http://x"\nargs = ["a"]', "mcp_servers.bad.args does not apply to a server with a url."),
        ('url = "ftp://x"', "mcp_servers.bad.url must start with http:// or https://, not 'ftp://x'."),
        ('url = "http://x"\nheaders = { "X Key" = 1 }', 'mcp_servers.bad.headers."X Key" must be a string.'),
        ('command = "a"\nauto_approve = "read"', "mcp_servers.bad.auto_approve must be a list of strings."),
        ('command = "a"\nenabled = "yes"', "mcp_servers.bad.enabled must be true or false."),
    ],
)
def test_each_problem_names_its_key_and_leaves_the_server_out(section: str, problem: str) -> None:
    config, problems = parse(f'[mcp_servers.good]\ncommand = "ok"\n\n[mcp_servers.bad]\n{section}\n')
    assert problems == (problem,)
    assert [server.name for server in config.servers] == ["good"]


def test_server_names_become_tool_prefixes_so_they_are_plain() -> None:
    _, problems = parse('[mcp_servers."my files"]\ncommand = "a"\n[mcp_servers.a__b]\ncommand = "a"\n')
    assert problems == (
        'mcp_servers."my files": a server name may use only letters, digits, "-" and single "_" (the names of its tools start with it).',
        'mcp_servers.a__b: a server name may use only letters, digits, "-" and single "_" (the names of its tools start with it).',
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("mcp_servers = 3", "mcp_servers must be a table of servers ([mcp_servers.NAME])."),
        ("mcp_servers = { files = 3 }", "mcp_servers.files must be a table ([mcp_servers.files])."),
        ("max_tool_rounds = 0", "max_tool_rounds must be a whole number of at least 1, not 0; using 10."),
        ("max_tool_rounds = true", "max_tool_rounds must be a whole number of at least 1, not True; using 10."),
        ("tool_timeout = -1", "tool_timeout must be a number of seconds above 0, not -1; using 60."),
        ("tool_timeout = nan", "tool_timeout must be a number of seconds above 0, not nan; using 60."),
        ("tool_timeout = '60'", "tool_timeout must be a number of seconds above 0, not '60'; using 60."),
    ],
)
def test_bad_top_level_settings_keep_their_defaults(text: str, problem: str) -> None:
    config, problems = parse(text)
    assert problems == (problem,)
    assert (config.max_tool_rounds, config.tool_timeout) == (DEFAULT_MAX_TOOL_ROUNDS, DEFAULT_TOOL_TIMEOUT)


def test_a_tomlkit_style_document_is_unwrapped_first() -> None:
    class Document(dict[str, object]):  # tomlkit's documents are dicts of wrapped values
        def unwrap(self) -> dict[str, object]:
            return tomllib.loads(EXAMPLE)

    config, problems = parse_tools_config(Document(mcp_servers="not what unwrap gives"))
    assert problems == () and len(config.servers) == 2


# ${VAR} and secrets


def test_variables_are_expanded_at_start_from_the_environment() -> None:
    config, _ = parse(EXAMPLE)
    files, tracker = config.servers
    resolved = resolve(files, {"FILES_TOKEN": "abc-123"})
    assert resolved.env == (("LOG_LEVEL", "warn"), ("TOKEN", "abc-123"))
    assert resolve(tracker, {"TRACKER_TOKEN": "t0k3n"}).headers == (("Authorization", "Bearer t0k3n"),)
    assert files.env[1] == ("TOKEN", "${FILES_TOKEN}")  # the config itself is left as written


def test_an_unset_variable_is_an_error_naming_it_and_its_key() -> None:
    config, _ = parse(EXAMPLE)
    with pytest.raises(ConfigError) as caught:
        resolve(config.servers[1], {})
    assert (
        str(caught.value)
        == "mcp_servers.tracker.headers.Authorization uses ${TRACKER_TOKEN}, which is not set in the environment."
    )
    odd = ToolServerConfig("x", command="a", env=(("A", "${not-a-name}"),))
    with pytest.raises(ConfigError, match=r"mcp_servers.x.env.A uses \$\{not-a-name\}, which is not a variable name"):
        resolve(odd, {})


def test_no_repr_shows_env_or_header_values() -> None:
    config, _ = parse(EXAMPLE)
    files, tracker = config.servers
    resolved = resolve(tracker, {"TRACKER_TOKEN": "t0k3n-secret"})
    shown = repr(files) + repr(tracker) + repr(resolved) + repr(resolve(files, {"FILES_TOKEN": "f1les-secret"}))
    assert "t0k3n-secret" not in shown and "f1les-secret" not in shown and "TRACKER_TOKEN" not in shown
    assert "'Authorization': '***'" in shown and "'LOG_LEVEL': '***'" in shown
    assert resolved.secrets == ("Bearer t0k3n-secret",)


# Policy


FILES_READ = ToolInfo("files", "read_file", "files__read_file", auto_approve=True)
FILES_WRITE = ToolInfo("files", "write_file", "files__write_file")
TRACKER_OPEN = ToolInfo("tracker", "open", "tracker__open")


def test_nothing_runs_unasked_but_auto_approved_tools_and_always_answers() -> None:
    policy = ToolPolicy()
    assert not policy.needs_approval(FILES_READ)
    assert policy.needs_approval(FILES_WRITE)
    policy = policy.approve_always(FILES_WRITE)
    assert not policy.needs_approval(FILES_WRITE)
    assert policy.needs_approval(TRACKER_OPEN)


def test_servers_and_tools_turn_off_per_conversation() -> None:
    policy = ToolPolicy().with_server("tracker", False).with_tool("files__write_file", False)
    assert [policy.allows(tool) for tool in (FILES_READ, FILES_WRITE, TRACKER_OPEN)] == [True, False, False]
    policy = policy.with_server("tracker", True).with_tool("files__write_file", True)
    assert policy == ToolPolicy()


def test_the_policy_saves_as_canonical_json_and_reads_back() -> None:
    policy = ToolPolicy().approve_always(FILES_WRITE).with_server("tracker", False)
    text = policy.to_json()
    assert text == '{"always":["files__write_file"],"disabled_servers":["tracker"]}'
    assert ToolPolicy.from_json(text) == policy
    assert ToolPolicy().to_json() == "" and ToolPolicy.from_json("") == ToolPolicy()
    for damaged in ("{", "[1]", '{"always": "files__write_file"}', '{"always": [1, null]}'):
        assert ToolPolicy.from_json(damaged) == ToolPolicy()  # asks again rather than guess


# Checking calls


ADD = ToolInfo(
    "numbers",
    "add",
    "numbers__add",
    "Add two numbers.",
    {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]},
)


@pytest.mark.parametrize(
    ("call", "tool", "problem"),
    [
        (ToolCall("numbers__add", {"a": 1, "b": 2}), ADD, ""),
        (ToolCall("numbers__ad", {}), None, 'there is no tool named "numbers__ad". The tools are: numbers__add.'),
        (
            ToolCall.from_json({"function": {"name": "numbers__add", "arguments": "{a: 1}"}}),
            ADD,
            'the call to "numbers__add" cannot be used: its arguments are not valid JSON'
            " (Expecting property name enclosed in double quotes).",
        ),
        (
            ToolCall.from_json({"function": {"name": "numbers__add", "arguments": [1, 2]}}),
            ADD,
            'the call to "numbers__add" cannot be used: its arguments must be a JSON object, not a list.',
        ),
        (
            ToolCall("numbers__add", {"a": 1}),
            ADD,
            "the arguments do not fit the tool's input schema: 'b' is a required property.",
        ),
        (
            ToolCall("numbers__add", {"a": 1, "b": "two"}),
            ADD,
            "the arguments do not fit the tool's input schema at \"b\": 'two' is not of type 'number'.",
        ),
        (ToolCall.from_json({"function": {}}), None, "the call names no tool."),
    ],
)
def test_a_call_is_checked_before_it_runs(call: ToolCall, tool: ToolInfo | None, problem: str) -> None:
    assert validate(call, tool, ["numbers__add"]) == problem


def test_a_broken_schema_leaves_the_judgement_to_the_server() -> None:
    odd = ToolInfo("s", "t", "s__t", input_schema={"type": "object", "required": "a"})
    assert validate(ToolCall("s__t", {}), odd) == ""


def test_hostile_names_and_arguments_stay_one_plain_line() -> None:
    call = ToolCall("\x1b]0;title\x07evil\nname", {"text": "\x1b[2J" + "x" * 1000})
    problem = validate(call, None)
    assert "\x1b" not in problem and "\n" not in problem
    line = describe(call)
    assert "\x1b" not in line and len(line) == 300 and line.endswith("…")


# Results


def test_content_parts_become_one_text_for_the_model() -> None:
    parts = [
        ContentPart("text", "a picture:"),
        ContentPart("image", mime_type="image/png", size=2048),
        ContentPart("audio", mime_type="audio/wav", size=3_500_000),
        ContentPart("resource", "# Notes", "text/markdown", "file:///a.md"),
        ContentPart("resource", mime_type="application/pdf", uri="file:///b.pdf", size=10),
        ContentPart("resource_link", uri="file:///c.md", name="c.md"),
    ]
    assert result_text(parts) == (
        "a picture:\n[image: image/png, 2.0 KB]\n[audio: audio/wav, 3.5 MB]\n[resource: file:///a.md]\n# Notes\n"
        "[resource: file:///b.pdf, application/pdf, 10 bytes]\n[resource link: c.md (file:///c.md)]"
    )
    assert result_text([], {"temperature": 21}) == '{"temperature": 21}'


def test_results_are_sanitised_and_capped() -> None:
    text = result_text([ContentPart("text", "ok \x1b[31mred\x1b[0m \x1b]52;c;aGk=\x07 [b]x[/b] \ud800 \r\n")])
    assert text == "ok red  [b]x[/b] ? \n"
    huge = result_text([ContentPart("text", "y" * 3_000_000)])
    assert len(huge.encode()) < STORED_RESULT_BYTES + 100 and huge.endswith("the rest was not kept.]")


def test_each_way_a_call_ends_reads_as_a_tool_turn() -> None:
    call = ToolCall("numbers__add", {"a": 1}, "call_9")
    ok = from_parts(call, [ContentPart("text", "3")], is_error=False, duration=0.5)
    error = from_parts(call, [ContentPart("text", "division by zero")], is_error=True, duration=0.1)
    silent = from_parts(call, [], is_error=True, duration=0.1)
    broke = failed(call, "the call timed out after 60 s", 60.0)
    no = denied(call)
    assert [(r.status, r.text, r.problem) for r in (ok, error, silent, broke, no)] == [
        (ToolStatus.OK, "3", ""),
        (ToolStatus.ERROR, "Tool error: division by zero", "division by zero"),
        (ToolStatus.ERROR, "Tool error: ", "The tool reported an error without saying why."),
        (ToolStatus.FAILED, "Error: the call timed out after 60 s", "the call timed out after 60 s"),
        (ToolStatus.DENIED, "The person declined to run this tool call.", "Declined."),
    ]
    turn = broke.turn()
    assert (turn.role, turn.tool_name, turn.tool_call_id, turn.tool_status, turn.error, turn.duration) == (
        "tool",
        "numbers__add",
        "call_9",
        ToolStatus.FAILED,
        "the call timed out after 60 s",
        60.0,
    )


# Import cost


def test_importing_the_tools_loads_neither_the_ui_nor_the_sdk() -> None:
    heavy = "{'textual', 'rich', 'mcp', 'mcp_types', 'anyio', 'httpx2', 'pydantic', 'jsonschema', 'starlette'}"
    code = f"import sys, app.tools; print(sorted({heavy} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

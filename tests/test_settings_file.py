"""Reading config.toml: every key, and every kind of broken file (named by file, line and key,
with the rest of the file still applying)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app import settings_file
from app.chat_options import ChatOptions
from app.servers.config import ServerConfig
from app.settings_file import ConfigFile, Section, load
from app.toml_lines import key_lines
from app.tools.config import ToolsConfig, ToolServerConfig

FULL = """\
# my settings
host = "example.com:9000/ollama/"   # the box under the desk
model = "qwen3:4b"
theme = "nord"

[options]
temperature = 0.2
num_ctx = 8192
top_k = 40
stop = ["User:", "###"]

[keys]
stop = "f9"
new_conversation = ["ctrl+n", "F5"]
models.refresh = "ctrl+r"

[keys.conversations]
rename = "F6"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def messages(config: ConfigFile) -> list[str]:
    return [str(problem) for problem in config.problems]


def test_every_key(tmp_path: Path) -> None:
    config = load(write(tmp_path, FULL))
    assert config.found and config.problems == ()
    assert config.host == "http://example.com:9000/ollama"  # read as OLLAMA_HOST is
    assert config.model == "qwen3:4b"
    assert config.theme == "nord"
    assert config.options.options == (
        ("temperature", 0.2),
        ("top_k", 40),
        ("num_ctx", 8192),
        ("stop", ("User:", "###")),
    )
    assert dict(config.keymap) == {
        "stop": "f9",
        "new_conversation": "ctrl+n,f5",
        "models.refresh": "ctrl+r",
        "conversations.rename": "f6",
    }


def test_no_file_is_no_problem_unless_named(tmp_path: Path) -> None:
    quiet = load(tmp_path / "config.toml")
    assert not quiet.found and quiet.problems == () and quiet.options == ChatOptions()
    named = load(tmp_path / "mine.toml", named=True)
    assert messages(named) == [f"{tmp_path / 'mine.toml'}: no such file; using the defaults."]


def test_a_whole_number_is_a_float_option_and_a_string_is_one_stop(tmp_path: Path) -> None:
    config = load(write(tmp_path, 'options.temperature = 1\noptions.stop = "User:"\n'))
    assert config.problems == ()
    assert config.options.parameter("temperature") == 1.0
    assert isinstance(config.options.parameter("temperature"), float)
    assert config.options.parameter("stop") == ("User:",)


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        ('model = "a"\nthem = "nord"\n', 2, "them", "unknown setting (did you mean theme?)"),
        ("host = 11434\n", 1, "host", "takes a URL in quotes"),
        ('host = "ftp://box"\n', 1, "host", "Unsupported scheme 'ftp'"),
        ('host = "box:port"\n', 1, "host", "Invalid port"),
        ("model = 3\n", 1, "model", "takes a name in quotes, not 3"),
        ('theme = ""\n', 1, "theme", "takes a name in quotes"),
        ("options = 3\n", 1, "options", "must be a table ([options])"),
        ("[options]\ntemperature = -1\n", 2, "options.temperature", "temperature must be at least 0, not -1"),
        ("[options]\n\ntop_p = 1.5\n", 3, "options.top_p", "top_p must be between 0 and 1, not 1.5"),
        ('[options]\nnum_ctx = "big"\n', 2, "options.num_ctx", "num_ctx takes a whole number, not 'big'"),
        ("[options]\nseed = 1.5\n", 2, "options.seed", "seed takes a whole number, not 1.5"),
        ("[options]\ntemperature = true\n", 2, "options.temperature", "temperature takes a number, not True"),
        ("[options]\ntemperature = nan\n", 2, "options.temperature", "temperature takes a finite number"),
        ("[options]\nstop = [1]\n", 2, "options.stop", "stop takes a string or a list of strings"),
        ('[options]\nstop = [""]\n', 2, "options.stop", "at least one non-empty stop sequence"),
        ("[options]\ntemprature = 1\n", 2, "options.temprature", "unknown option (did you mean temperature?)"),
        ('[keys]\nsotp = "f9"\n', 2, "keys.sotp", "no action is called 'sotp' (did you mean stop?)"),
        ('[keys]\nstop = "ctrl+shfit+x"\n', 2, "keys.stop", "unknown modifier 'shfit'"),
        ('[keys]\nstop = "f99"\n', 2, "keys.stop", "'f99' is not a key Textual knows"),
        ("[keys]\nstop = 9\n", 2, "keys.stop", "takes a key such as"),
        ('[keys]\nstop = "ctrl+n"\n', 2, "keys.stop", "ctrl+n is already new_conversation's key"),
        ('keys = { stop = "f99" }\n', 1, "keys.stop", "is not a key"),
    ],
)
def test_a_wrong_setting_is_named_by_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, words: str
) -> None:
    path = write(tmp_path, text)
    config = load(path)
    assert len(config.problems) == 1, messages(config)
    problem = config.problems[0]
    assert (problem.path, problem.line, problem.key) == (path, line, key)
    assert words in problem.message
    assert str(problem).startswith(f"{path}:{line}: {key}: ")


def test_the_rest_of_the_file_still_applies(tmp_path: Path) -> None:
    text = FULL.replace("temperature = 0.2", "temperature = -3").replace('stop = "f9"', 'stop = "f99"')
    config = load(write(tmp_path, text + "colour = 'red'\n"))
    assert [problem.key for problem in config.problems] == [
        "options.temperature",
        "keys.stop",
        "keys.conversations.colour",
    ]
    assert config.model == "qwen3:4b" and config.theme == "nord" and config.host == "http://example.com:9000/ollama"
    assert config.options.parameter("temperature") is None  # the model's own, as with no setting
    assert config.options.parameter("num_ctx") == 8192
    keymap = dict(config.keymap)
    assert "stop" not in keymap and keymap["new_conversation"] == "ctrl+n,f5"


def test_a_line_that_is_not_toml_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, 'model = "qwen3:4b"\ntheme = = "nord"\n[options]\ntemperature = 0.5\n')
    config = load(path)
    assert messages(config) == [f"{path}:2: not valid TOML (Invalid value); this line is skipped."]
    assert config.model == "qwen3:4b" and config.theme is None
    assert config.options.parameter("temperature") == 0.5


def test_a_broken_table_header_skips_its_table(tmp_path: Path) -> None:
    # Its keys must not land in the table above: `stop = "f9"` would become a stop sequence.
    path = write(tmp_path, '[options]\ntemperature = 0.5\n[keys\nstop = "f9"\n[keys.conversations]\nrename = "f6"\n')
    config = load(path)
    assert [(problem.line, problem.key) for problem in config.problems] == [(3, "")]
    assert "this table is skipped" in config.problems[0].message
    assert config.options.options == (("temperature", 0.5),)
    assert config.keymap == (("conversations.rename", "f6"),)


def test_something_left_open_at_the_end(tmp_path: Path) -> None:
    path = write(tmp_path, 'model = "qwen3:4b"\nstop = [1,\n')
    config = load(path)
    assert [problem.line for problem in config.problems] == [2]
    assert config.model == "qwen3:4b"


def test_a_file_broken_throughout_is_ignored_whole(tmp_path: Path) -> None:
    path = write(tmp_path, "".join(f"key{number} = = {number}\n" for number in range(10)))
    config = load(path)
    assert len(config.problems) == 1
    assert str(config.problems[0]).startswith(f"{path}: not valid TOML (Invalid value, line 1)")
    assert "will not rewrite it" in str(config.problems[0])
    assert config.model is None and config.keymap == ()


def test_a_file_that_is_not_text_or_not_readable(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'model = "a"\ntheme = "\xff"\n')
    assert messages(load(path)) == [f"{path}:2: is not UTF-8 text; using the defaults."]
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    assert "cannot be read" in messages(load(folder))[0]
    if os.geteuid() != 0:  # root reads anything
        path.write_text('model = "a"\n')
        path.chmod(0)
        assert "cannot be read (Permission denied)" in messages(load(path))[0]


def test_the_tools_and_servers_sections_are_read(tmp_path: Path) -> None:
    text = (
        "max_tool_rounds = 4\ntool_timeout = 30\n"
        '[mcp_servers.files]\ncommand = "mcp-files"\n'
        '[servers.lab]\nurl = "http://lab:11434"\n'
    )
    config = load(write(tmp_path, text))
    assert config.problems == ()
    tools = config.section("mcp_servers", ToolsConfig)  # read by app/tools/config.py
    assert tools == ToolsConfig((ToolServerConfig("files", command="mcp-files"),), 4, 30.0)
    servers = config.section("servers", tuple)  # read by app/servers/config.py
    assert servers == (ServerConfig("lab", "ollama", "http://lab:11434"),)
    assert [table for table, _ in config.sections] == ["mcp_servers", "servers"]


def test_a_problem_of_the_tools_section_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'model = "a"\n\n[mcp_servers.files]\ncommand = "x"\nargs = "notes"\n')
    config = load(path)
    assert messages(config) == [f"{path}:5: mcp_servers.files.args must be a list of strings."]
    assert config.section("mcp_servers", ToolsConfig) == ToolsConfig()  # the server is left out


def test_a_registered_section_gets_the_document_and_its_problems_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []

    def parse(document: Any) -> tuple[object, list[str]]:
        seen.append(dict(document))
        return ("servers", len(document["servers"])), ["servers.lab.url must start with http://."]

    monkeypatch.setitem(settings_file.SECTIONS, "servers", Section("servers", parse=parse))
    path = write(tmp_path, 'model = "a"\n\n[servers.lab]\nurl = "lab"\n')
    config = load(path)
    assert seen == [{"model": "a", "servers": {"lab": {"url": "lab"}}}]
    assert config.section("servers", tuple) == ("servers", 1)
    assert config.section("servers", str) is None
    assert messages(config) == [f"{path}:4: servers.lab.url must start with http://."]


def test_a_password_in_the_host_stays_out_of_the_repr(tmp_path: Path) -> None:
    config = load(write(tmp_path, 'host = "https://me:hunter2@box"\n'))
    assert config.host == "https://me:hunter2@box:443"
    assert "hunter2" not in repr(config)
    wrong = load(write(tmp_path, 'host = "https://me:hunter2@box:port"\n'))
    assert "hunter2" not in messages(wrong)[0]


def test_key_lines_skip_strings_and_comments() -> None:
    text = (
        'model = """\nfake = 1\n"""  # a = 2\n'
        "[options]\n"
        'stop = [\n  "a = b",\n]\n'
        "x = '''\n[keys]\n'''\n"
        '"quoted" = 1\n'
        "[keys.models]\nrefresh = 'f5'\n"
    )
    assert key_lines(text) == {
        "model": 1,
        "options": 4,
        "options.stop": 5,
        "options.x": 8,
        "options.quoted": 11,
        "keys.models": 12,
        "keys.models.refresh": 13,
    }


def test_reading_the_file_loads_neither_textual_nor_tomlkit(tmp_path: Path) -> None:
    """Shell commands read the file too, and must start quickly."""
    path = write(tmp_path, FULL)
    code = (
        "import sys; from app.cli import build_parser, read_config, settings_from;"
        f"args = build_parser().parse_args(['--config', {str(path)!r}, 'models']);"
        "settings_from(args, read_config(args));"
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'textual', 'tomlkit', 'rich'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

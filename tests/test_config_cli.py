"""The config file through the real command line, in a process whose XDG folders are a temp
dir: where the file is, flag > environment > file > default, and `config show`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from ollama_server import ChatScript, FakeOllama


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a person with no OLLAMA_* variables and their own XDG folders."""
    base = {name: value for name, value in os.environ.items() if not name.startswith(("OLLAMA_", "XDG_"))}
    base.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    return base


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=60, env=env)


def config_file(env: dict[str, str], text: str) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / "ollama-tui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def closed_port_url() -> str:
    """An address where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def shown(output: str) -> dict[str, tuple[str, str]]:
    """`config show`'s lines as name -> (value, origin)."""
    rows: dict[str, tuple[str, str]] = {}
    for line in output.splitlines()[1:]:
        name, value, origin = line.split(maxsplit=1)[0], *line.split(maxsplit=1)[1].rsplit("  ", 1)
        rows[name] = (value.strip(), origin.strip())
    return rows


def test_config_path_is_in_the_user_config_dir(env: dict[str, str], tmp_path: Path) -> None:
    result = run(env, "config", "path")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{tmp_path / 'config' / 'ollama-tui' / 'config.toml'}\n"
    assert result.stderr == ""
    other = run(env, "--config", str(tmp_path / "other.toml"), "config", "path")
    assert other.stdout == f"{tmp_path / 'other.toml'}\n"
    assert "other.toml: no such file; using the defaults." in other.stderr  # named, so probably a typo


@pytest.mark.parametrize(
    ("flag", "environment", "file", "value", "origin"),
    [
        (None, None, None, "http://127.0.0.1:11434", "default"),
        (None, None, "file.example:1", "http://file.example:1", "file {path}:1"),
        (None, "env.example:2", "file.example:1", "http://env.example:2", "env OLLAMA_HOST"),
        ("flag.example:3", "env.example:2", "file.example:1", "http://flag.example:3", "flag --host"),
        (None, "  ", "file.example:1", "http://file.example:1", "file {path}:1"),  # blank is unset
    ],
)
def test_host_precedence_in_config_show(
    env: dict[str, str], flag: str | None, environment: str | None, file: str | None, value: str, origin: str
) -> None:
    path = config_file(env, f'host = "{file}"\n' if file else "# nothing yet\n")
    if environment is not None:
        env["OLLAMA_HOST"] = environment
    result = run(env, *(["--host", flag] if flag else []), "config", "show")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"config file: {path} (found)"
    assert shown(result.stdout)["host"] == (value, origin.format(path=path))


def test_each_setting_says_where_it_came_from(env: dict[str, str], tmp_path: Path) -> None:
    path = config_file(
        env,
        'model = "qwen3:4b"\ntheme = "nord"\n\n[options]\ntemperature = 0.25\n\n[keys]\nstop = "f9"\n',
    )
    result = run(env, "config", "show")
    assert result.returncode == 0 and result.stderr == ""
    rows = shown(result.stdout)
    assert rows["model"] == ("qwen3:4b", f"file {path}:1")
    assert rows["theme"] == ("nord", f"file {path}:2")
    assert rows["options.temperature"] == ("0.25", f"file {path}:5")
    assert rows["keys.stop"] == ("f9", f"file {path}:8")
    assert rows["keys.quit"] == ("ctrl+q", "default")
    assert rows["data_dir"] == (str(tmp_path / "data" / "ollama-tui"), "default")
    assert rows["api_key"] == ("(not set)", "default")
    flagged = shown(run(env, "-m", "llama3.2", "--data-dir", str(tmp_path / "d"), "config", "show").stdout)
    assert flagged["model"] == ("llama3.2", "flag --model")
    assert flagged["data_dir"] == (str(tmp_path / "d"), "flag --data-dir")
    assert shown(run(env, "--config", str(tmp_path / "none.toml"), "config", "show").stdout)["theme"] == (
        "textual-dark",
        "default",
    )


def test_config_show_never_prints_a_secret(env: dict[str, str]) -> None:
    config_file(env, 'host = "https://me:hunter2@box.example/ollama"\n')
    env["OLLAMA_API_KEY"] = "sk-very-secret"
    result = run(env, "config", "show")
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout + result.stderr and "sk-very-secret" not in result.stdout + result.stderr
    rows = shown(result.stdout)
    assert rows["host"][0] == "https://me:***@box.example:443/ollama"
    assert rows["api_key"] == ("***", "env OLLAMA_API_KEY")
    env["OLLAMA_HOST"] = "https://you:sesame@other.example"
    assert "sesame" not in run(env, "config", "show").stdout


def test_problems_go_to_stderr_and_the_rest_applies(env: dict[str, str]) -> None:
    path = config_file(env, 'model = "qwen3:4b"\ntheme = "nrod"\n[options]\ntemperature = -1\nnum_ctx = 4096\n')
    result = run(env, "config", "show")
    assert result.returncode == 0
    assert (
        f"ollama-tui: {path}:4: options.temperature: temperature must be at least 0, not -1. Ignored." in result.stderr
    )
    assert f"ollama-tui: {path}:2: theme: no theme is called 'nrod' (did you mean nord?); using textual-dark." in (
        result.stderr
    )
    rows = shown(result.stdout)
    assert rows["model"][0] == "qwen3:4b" and rows["options.num_ctx"][0] == "4096"
    assert "options.temperature" not in rows and rows["theme"] == ("textual-dark", "default")


def test_the_host_precedence_holds_for_real_requests(env: dict[str, str]) -> None:
    """Each level is pointed at the test server in turn while the one below it points at an
    address where nothing listens: only the winning level can make the command work."""
    with FakeOllama() as server:
        dead = closed_port_url()
        config_file(env, f'host = "{server.url}"\n')
        assert run(env, "models").returncode == 0  # the file
        config_file(env, f'host = "{dead}"\n')
        assert run(env, "models").returncode == 2  # unreachable: the file is used, not the default
        env["OLLAMA_HOST"] = server.url
        listed = run(env, "models")
        assert listed.returncode == 0 and "qwen3:4b" in listed.stdout  # the environment over the file
        env["OLLAMA_HOST"] = dead
        assert run(env, "--host", server.url, "models").returncode == 0  # the flag over both
        assert run(env, "models").returncode == 2


def test_the_files_model_is_the_default_for_ask(env: dict[str, str]) -> None:
    with FakeOllama() as server:
        config_file(env, f'host = "{server.url}"\nmodel = "qwen3:4b"\n[options]\nfoo = 1\n')
        server.enqueue(ChatScript(tokens=["Lima"]), ChatScript(tokens=["Lima"]))
        result = run(env, "ask", "Capital of Peru?")
        assert result.returncode == 0 and result.stdout.strip() == "Lima"
        assert "options.foo: unknown option" in result.stderr  # said, and the rest still applied
        assert run(env, "-m", "llama3.2", "ask", "Again?").returncode == 0
        assert [body["model"] for body in server.bodies("/api/generate")] == ["qwen3:4b", "llama3.2"]


def test_a_bad_host_in_the_file_falls_back_but_a_bad_flag_is_refused(env: dict[str, str]) -> None:
    path = config_file(env, 'host = "http://box:port"\n')
    result = run(env, "config", "show")
    assert result.returncode == 0
    assert f"{path}:1: host: Invalid port" in result.stderr
    assert shown(result.stdout)["host"] == ("http://127.0.0.1:11434", "default")
    refused = run(env, "--host", "http://box:port", "config", "show")
    assert refused.returncode == 2 and "Invalid port" in refused.stderr and "Traceback" not in refused.stderr

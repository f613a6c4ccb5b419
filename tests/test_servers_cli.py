"""The command line with several servers: every shared option before or after the command's
name, and `ask`, `models` and `ps` with `--server`, as a person runs them (real processes,
real servers on 127.0.0.1)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ollama_server import DEFAULT_REPLY, FakeOllama, make_model

from app.cli import build_parser
from app.store import Store

KEY = "sk-cli-3b8e6f0d2a"
CLUSTER_MODEL = "Qwen/Qwen3-8B"


@pytest.fixture
def gpu() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        server.models = [make_model("llama3.1:70b", "llama", "70.6B", "Q4_K_M", 42_520_413_916)]
        yield server


@pytest.fixture
def cluster() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        server.openai_only, server.api_key = True, KEY
        server.models = [make_model(CLUSTER_MODEL, "qwen3", "8.2B", "BF16", 0)]
        yield server


class Run:
    """`python -m app ARGS` with a private config, data and state folder."""

    def __init__(self, tmp_path: Path, config: str = "") -> None:
        self.home = tmp_path
        self.config = tmp_path / "config.toml"
        self.config.write_text(config)
        self.env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
            "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
            "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
            "CLUSTER_KEY": KEY,
        }
        self.env.pop("OLLAMA_HOST", None)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "app", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env,
            stdin=subprocess.DEVNULL,
        )
        assert "Traceback" not in result.stdout + result.stderr
        return result


def servers_config(gpu: FakeOllama, cluster: FakeOllama, *more: str) -> str:
    return "\n".join([
        f'[servers.gpu]\nurl = "{gpu.url}"',
        f'[servers.cluster]\nkind = "openai"\nurl = "{cluster.url}/v1"\napi_key = "${{CLUSTER_KEY}}"',
        *more,
    ]) + "\n"  # fmt: skip


# -- options before or after the command's name -----------------------------------------------

SHARED = [
    ("--host", "http://example.com:1234", "host", "http://example.com:1234"),
    ("--server", "gpu", "server", "gpu"),
    ("--data-dir", "/tmp/somewhere", "data_dir", Path("/tmp/somewhere")),
    ("--config", "/tmp/other.toml", "config", Path("/tmp/other.toml")),
    ("--debug", None, "debug", True),
    ("--debug-content", None, "debug_content", True),
]
COMMANDS = [["ask", "why?"], ["models"], ["ps"], ["sessions", "list"], ["config", "show"], ["sessions", "export", "3"]]


@pytest.mark.parametrize("option, value, dest, parsed", SHARED, ids=[option for option, *_ in SHARED])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_shared_option_is_read_before_and_after_the_command(
    option: str, value: str | None, dest: str, parsed: object, command: list[str]
) -> None:
    given = [option] if value is None else [option, value]
    before = build_parser().parse_args([*given, *command])
    after = build_parser().parse_args([*command[:1], *given, *command[1:]])
    at_the_end = build_parser().parse_args([*command, *given])
    assert getattr(before, dest) == getattr(after, dest) == getattr(at_the_end, dest) == parsed
    assert vars(before) == vars(after) == vars(at_the_end)
    untouched = build_parser().parse_args(command)
    assert getattr(untouched, dest) in (None, False)  # not given: the default, as before


def test_after_the_command_wins_and_leaves_the_rest_alone() -> None:
    args = build_parser().parse_args(["--host", "http://a:1", "--data-dir", "/d", "ask", "--host", "http://b:2", "q"])
    assert (args.host, args.data_dir, args.prompt) == ("http://b:2", Path("/d"), ["q"])


def test_the_options_work_in_either_order_for_real(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, tmp_path: Path
) -> None:
    run = Run(tmp_path, servers_config(gpu, cluster))
    data = tmp_path / "data"
    dead = "http://127.0.0.1:9"
    for args in (
        [
            "--host",
            ollama.url,
            "--config",
            str(run.config),
            "--server",
            "gpu",
            "--data-dir",
            str(data),
            "--debug",
            "ask",
            "--save",
            "hi",
        ],
        [
            "ask",
            "--host",
            ollama.url,
            "--config",
            str(run.config),
            "--server",
            "gpu",
            "--data-dir",
            str(data),
            "--debug",
            "--save",
            "hi",
        ],
        [
            "--host",
            dead,
            "ask",
            "--save",
            "hi",
            "--host",
            ollama.url,
            "--config",
            str(run.config),
            "--server",
            "gpu",
            "--data-dir",
            str(data),
            "--debug",
        ],
    ):
        result = run(*args)
        assert (result.returncode, result.stdout) == (0, DEFAULT_REPLY + "\n"), result.stderr
    assert [body["model"] for body in gpu.bodies("/api/generate")] == [
        "llama3.1:70b"
    ] * 3  # --server gpu, from the file
    with Store.open(data) as store:
        saved = store.conversations()
        assert [info.model for info in saved] == ["llama3.1:70b@gpu"] * 3
        assert [turn.server for turn in store.turns(saved[0].id)] == ["", "gpu"]
    log = tmp_path / "xdg-state" / "ollama-tui" / "log" / "ollama-tui.log"
    assert log.read_text().count("command ask") == 3  # --debug, before and after the name
    assert KEY not in log.read_text()


# -- models, ps and ask with servers ----------------------------------------------------------


def test_models_lists_every_server_with_a_column_for_it(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, tmp_path: Path
) -> None:
    run = Run(tmp_path, servers_config(gpu, cluster))
    result = run("--host", ollama.url, "--config", str(run.config), "models")
    assert (result.returncode, result.stderr) == (0, "")
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["NAME", "ID", "SIZE", "MODIFIED", "SERVER"]
    assert [(row.split()[0], row.split()[-1]) for row in rows] == [
        ("llama3.2:latest", "local"),
        ("qwen3:4b", "local"),
        ("llava:7b", "local"),
        ("llama3.1:70b", "gpu"),
        (CLUSTER_MODEL, "cluster"),
    ]
    column = header.index("SERVER")
    assert all(row[column:] in ("local", "gpu", "cluster") for row in rows)  # the column lines up

    for order in (["models", "--server", "cluster"], ["--server", "cluster", "models"]):
        result = run("--host", ollama.url, "--config", str(run.config), *order)
        assert (result.returncode, result.stderr) == (0, "")
        assert [row.split()[0] for row in result.stdout.splitlines()] == ["NAME", CLUSTER_MODEL]


def test_models_lists_the_servers_that_answer_and_says_which_did_not(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, tmp_path: Path
) -> None:
    run = Run(tmp_path, servers_config(gpu, cluster, '[servers.lab]\nkind = "openai"\nurl = "http://127.0.0.1:9/v1"'))
    gpu.stop()
    result = run("--host", ollama.url, "--config", str(run.config), "models")
    assert result.returncode == 2  # unreachable, as with one server down
    assert [row.split()[-1] for row in result.stdout.splitlines()[1:]] == ["local"] * 3 + ["cluster"]
    assert f'Cannot reach the Ollama server "gpu" at {gpu.url}' in result.stderr
    assert 'Cannot reach the server "lab" at http://127.0.0.1:9/v1' in result.stderr
    assert "ollama serve" not in result.stderr


def test_ps_skips_what_cannot_say_and_refuses_it_when_named(
    ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, tmp_path: Path
) -> None:
    run = Run(tmp_path, servers_config(gpu, cluster))
    assert run("--host", ollama.url, "--config", str(run.config), "ask", "-m", "llama3.1:70b@gpu", "hi").returncode == 0
    result = run("--host", ollama.url, "--config", str(run.config), "ps")
    assert (result.returncode, result.stderr) == (0, "")
    header, row = result.stdout.splitlines()
    assert header.split()[-1] == "SERVER" and row.split()[0] == "llama3.1:70b" and row.split()[-1] == "gpu"
    result = run("--host", ollama.url, "--config", str(run.config), "ps", "--server", "cluster")
    assert (result.returncode, result.stdout) == (1, "")
    assert (
        'The server "cluster" cannot list the models it has loaded: OpenAI-compatible servers have no such call.'
        in result.stderr
    )


def test_ask_goes_to_the_server_named(ollama: FakeOllama, gpu: FakeOllama, cluster: FakeOllama, tmp_path: Path) -> None:
    run = Run(tmp_path, servers_config(gpu, cluster))
    base = ["--host", ollama.url, "--config", str(run.config), "--data-dir", str(tmp_path / "data")]
    for args in (["ask", "--server", "cluster", "hello"], ["ask", "-m", f"{CLUSTER_MODEL}@cluster", "hello"]):
        result = run(*base, *args)
        assert (result.returncode, result.stdout, result.stderr) == (0, DEFAULT_REPLY + "\n", "")
    assert [body["model"] for body in cluster.bodies("/v1/chat/completions")] == [CLUSTER_MODEL] * 2
    assert ollama.bodies("/api/generate") == []

    conflict = run(*base, "ask", "--server", "gpu", "-m", f"{CLUSTER_MODEL}@cluster", "hello")
    assert conflict.returncode == 1 and "is on the server cluster, but --server names gpu" in conflict.stderr
    unknown = run(*base, "ask", "--server", "nowhere", "hello")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == 'No server is named "nowhere"; the servers are: local, gpu, cluster.'
    assert len(cluster.bodies("/v1/chat/completions")) == 2  # nothing more was asked


def test_config_show_lists_the_servers_without_their_keys(gpu: FakeOllama, cluster: FakeOllama, tmp_path: Path) -> None:
    run = Run(tmp_path, servers_config(gpu, cluster))
    result = run("config", "show", "--config", str(run.config))
    assert result.returncode == 0
    lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:]}
    assert lines["servers.gpu"][:2] == ["ollama", gpu.url]
    assert lines["servers.cluster"][:4] == ["openai", f"{cluster.url}/v1,", "key", "***"]
    assert KEY not in result.stdout + result.stderr

"""`ask`, `models` and `ps` as a person runs them: real processes against the fake server."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ollama_server import DEFAULT_REPLY, RUNNER_STOPPED, ChatScript, FakeOllama

from app.conversation import TurnState
from app.protocol import ModelInfo, RunningModel
from app.store import Store
from app.tables import model_rows, processor, relative_time, running_rows


class Cli:
    """`python -m app --host <fake> --data-dir <tmp> ...`, stdin empty unless given."""

    def __init__(self, server: FakeOllama, data_dir: Path) -> None:
        self.server, self.data_dir = server, data_dir

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "app", "--host", self.server.url, "--data-dir", str(self.data_dir), *args]

    def __call__(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self.argv(*args), input=stdin, capture_output=True, text=True, timeout=30)
        assert "Traceback" not in result.stdout + result.stderr
        return result


@pytest.fixture
def cli(ollama: FakeOllama, tmp_path: Path) -> Cli:
    return Cli(ollama, tmp_path / "data")


# ask


def test_ask_prints_exactly_the_answer_and_sends_the_request(cli: Cli, ollama: FakeOllama) -> None:
    result = cli("ask", "-m", "qwen3:4b", "--system", "Be brief.", "--json", "Why", "is", "the", "sky", "blue?")
    assert (result.returncode, result.stdout, result.stderr) == (0, DEFAULT_REPLY + "\n", "")
    assert ollama.bodies("/api/generate") == [
        {"model": "qwen3:4b", "prompt": "Why is the sky blue?", "system": "Be brief.", "format": "json", "stream": True}
    ]
    assert not cli.data_dir.exists()  # nothing to save, nothing created


def test_piped_text_is_added_to_the_prompt_or_is_the_prompt(cli: Cli, ollama: FakeOllama) -> None:
    assert cli("ask", "-m", "qwen3:4b", "review this", stdin="-old\n+new\n").returncode == 0
    assert cli("ask", "-m", "qwen3:4b", stdin="just this\n").returncode == 0
    assert [body["prompt"] for body in ollama.bodies("/api/generate")] == ["review this\n\n-old\n+new", "just this"]


def test_nothing_to_ask(cli: Cli, ollama: FakeOllama) -> None:
    result = cli("ask", "-m", "qwen3:4b")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "Nothing to ask: give a prompt, or pipe text on stdin.\n"
    assert ollama.bodies("/api/generate") == []


def test_model_defaults_to_the_last_used_then_the_first_installed(cli: Cli, ollama: FakeOllama) -> None:
    assert cli("ask", "hi").returncode == 0
    with Store.open(cli.data_dir) as store:
        store.set_setting("last_model", "llava:7b")
    assert cli("ask", "hi").returncode == 0
    assert cli("-m", "qwen3:4b", "ask", "hi").returncode == 0  # the global option counts too
    assert [body["model"] for body in ollama.bodies("/api/generate")] == ["llama3.2:latest", "llava:7b", "qwen3:4b"]


def test_no_model_installed(cli: Cli, ollama: FakeOllama) -> None:
    ollama.models.clear()
    result = cli("ask", "hi")
    assert (result.returncode, result.stdout) == (3, "")
    assert "ollama pull" in result.stderr


def test_server_down_exits_2_with_a_hint(cli: Cli, ollama: FakeOllama) -> None:
    ollama.stop()
    result = cli("ask", "-m", "qwen3:4b", "hi")
    assert (result.returncode, result.stdout) == (2, "")
    assert "ollama serve" in result.stderr and "OLLAMA_HOST" in result.stderr
    assert result.stderr.count("\n") == 1


def test_unknown_model_exits_3_with_the_server_message_and_a_pull_hint(cli: Cli) -> None:
    result = cli("ask", "-m", "nope", "hi")
    assert (result.returncode, result.stdout) == (3, "")
    assert 'model "nope" not found' in result.stderr.lower()
    assert "ollama pull nope" in result.stderr


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (ChatScript(error_after=3), RUNNER_STOPPED),
        (ChatScript(cut_after=3), "dropped before the reply was complete"),
    ],
)
def test_a_failure_mid_stream_exits_1_after_the_partial_answer(
    cli: Cli, ollama: FakeOllama, script: ChatScript, message: str
) -> None:
    ollama.enqueue(script)
    result = cli("ask", "-m", "qwen3:4b", "hi")
    assert result.returncode == 1
    assert result.stdout == "## Binary search\n"  # the three tokens that arrived, line ended
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_escape_codes_are_stripped_even_when_split_across_chunks(cli: Cli, ollama: FakeOllama) -> None:
    ollama.enqueue(ChatScript(tokens=["plain ", "\x1b[31", "mred\x1b[0m", " \x1b]0;title\x07done\r\n"]))
    result = cli("ask", "-m", "qwen3:4b", "hi")
    assert (result.returncode, result.stdout) == (0, "plain red done\n")


def test_thinking_is_not_printed(cli: Cli, ollama: FakeOllama) -> None:
    ollama.enqueue(ChatScript(thinking=["Let me ", "think."], tokens=["Lima."]))
    result = cli("ask", "-m", "qwen3:4b", "Capital of Peru?")
    assert (result.returncode, result.stdout, result.stderr) == (0, "Lima.\n", "")


def test_save_keeps_the_exchange_for_the_app(cli: Cli, ollama: FakeOllama) -> None:
    ollama.enqueue(ChatScript(thinking=["Hmm."], tokens=["Rayleigh", " scattering."]))
    result = cli("ask", "--save", "-m", "qwen3:4b", "--system", "Be brief.", "Why is the sky blue?")
    assert (result.returncode, result.stdout) == (0, "Rayleigh scattering.\n")
    with Store.open(cli.data_dir) as store:
        [info] = store.conversations()
        user, reply = store.turns(info.id)
    assert result.stderr == f"Saved as conversation {info.id} (ollama-tui --session {info.id}).\n"
    assert (info.title, info.model, info.system) == ("Why is the sky blue?", "qwen3:4b", "Be brief.")
    assert (user.role, user.content) == ("user", "Why is the sky blue?")
    assert (reply.role, reply.content, reply.thinking) == ("assistant", "Rayleigh scattering.", "Hmm.")
    assert (reply.model, reply.state) == ("qwen3:4b", TurnState.COMPLETE)
    assert reply.stats is not None and reply.stats.eval_count == 3 and reply.stats.done_reason == "stop"


def test_save_skips_a_request_that_failed_before_any_text(cli: Cli) -> None:
    assert cli("ask", "--save", "-m", "nope", "hi").returncode == 3
    with Store.open(cli.data_dir) as store:
        assert store.conversations() == []


def test_ctrl_c_exits_130_quietly_and_saves_what_arrived(cli: Cli, ollama: FakeOllama) -> None:
    ollama.enqueue(ChatScript(tokens=["Partial", " answer", " never finished"], stall_after=2))
    process = subprocess.Popen(
        cli.argv("ask", "--save", "-m", "qwen3:4b", "hi"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 10
    while ollama.bodies("/api/generate") == [] or not select.select([process.stdout], [], [], 0.02)[0]:
        assert time.monotonic() < deadline, "no output"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert (process.returncode, out) == (130, "Partial answer\n")
    assert err.startswith("Saved as conversation 1 ") and err.count("\n") == 1
    with Store.open(cli.data_dir) as store:
        reply = store.turns(1)[-1]
    assert (reply.content, reply.state) == ("Partial answer", TurnState.STOPPED)


def test_ask_never_imports_textual(cli: Cli) -> None:
    argv = cli.argv("ask", "-m", "qwen3:4b", "hi")
    result = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "app.oneshot_cli" in imported and "httpx" in imported
    assert not {name for name in imported if name.split(".")[0] in ("textual", "rich")}


# models and ps


def test_models_lists_local_models(cli: Cli) -> None:
    result = cli("models")
    assert (result.returncode, result.stderr) == (0, "")
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["NAME", "ID", "SIZE", "MODIFIED"]
    assert [row.split()[:4] for row in rows] == [
        ["llama3.2:latest", "17177962e713", "2.0", "GB"],
        ["qwen3:4b", "c351ea7c6d3f", "2.5", "GB"],
        ["llava:7b", "2b98070271b3", "4.7", "GB"],
    ]
    column = header.index("MODIFIED")
    assert all(row[:column].endswith("    ") and row[column:].endswith(" ago") for row in rows)


def test_ps_lists_loaded_models(cli: Cli, ollama: FakeOllama) -> None:
    assert cli("ps").stdout.split() == ["NAME", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"]
    assert cli("ask", "-m", "qwen3:4b", "hi").returncode == 0
    result = cli("ps")
    assert (result.returncode, result.stderr) == (0, "")
    header, row = result.stdout.splitlines()
    assert row.split() == ["qwen3:4b", "2.9", "GB", "100%", "GPU", "4096", "4", "minutes", "from", "now"]
    assert header.index("PROCESSOR") == row.index("100% GPU") and header.index("UNTIL") == row.index("4 minutes")


@pytest.mark.parametrize("command", ["models", "ps"])
def test_listing_with_the_server_down_exits_2(cli: Cli, ollama: FakeOllama, command: str) -> None:
    ollama.stop()
    result = cli(command)
    assert (result.returncode, result.stdout) == (2, "")
    assert "ollama serve" in result.stderr


# formatting, with a fixed clock

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (timedelta(seconds=-0.5), "less than a second ago"),
        (timedelta(seconds=-1), "1 second ago"),
        (timedelta(minutes=-59, seconds=-59), "59 minutes ago"),
        (timedelta(days=-3, hours=-5), "3 days ago"),
        (timedelta(days=-15), "2 weeks ago"),
        (timedelta(days=-400), "1 year ago"),
        (timedelta(minutes=4, seconds=59), "4 minutes from now"),
        (timedelta(days=365 * 300), "forever"),
    ],
)
def test_relative_time(offset: timedelta, text: str) -> None:
    assert relative_time(NOW + offset, NOW) == text


@pytest.mark.parametrize(
    ("size", "vram", "text"),
    [(100, 100, "100% GPU"), (100, 0, "100% CPU"), (100, 52, "48%/52% CPU/GPU"), (0, 0, "100% CPU")],
)
def test_processor(size: int, vram: int, text: str) -> None:
    assert processor(RunningModel("m", size=size, size_vram=vram)) == text


def test_rows_parse_ollama_timestamps_and_tolerate_missing_fields() -> None:
    modified = "2025-05-29T13:00:00.123456789+02:00"  # nine digits and a local offset, as Go writes
    models = [
        ModelInfo("a\x1b[2Jb:latest", 2_019_393_189, modified_at=modified, digest="sha256:" + "f" * 64),
        ModelInfo("old", modified_at=""),
    ]
    assert model_rows(models, NOW)[1:] == [
        ("ab:latest", "f" * 12, "2.0 GB", "3 days ago"),
        ("old", "", "0 B", "-"),
    ]
    running = [
        RunningModel("m", 10, 10, expires_at="2025-06-01T12:04:59.5Z", context_length=8192),
        RunningModel("n"),
    ]
    assert running_rows(running, NOW)[1:] == [
        ("m", "10 B", "100% GPU", "8192", "4 minutes from now"),
        ("n", "0 B", "100% CPU", "-", "-"),
    ]

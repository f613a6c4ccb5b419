"""The command line as a person runs it: a real process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app import __version__
from app.cli import build_parser, settings_from


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=60, env=env)


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"ollama-tui {__version__}"


def test_help_lists_options() -> None:
    result = run("--help")
    assert result.returncode == 0
    for option in ("--host", "--model", "--data-dir", "--continue", "--session", "OLLAMA_HOST"):
        assert option in result.stdout


def test_bad_option_is_a_usage_error() -> None:
    result = run("--no-such-option")
    assert result.returncode == 2
    assert "usage: ollama-tui" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "env", "host"),
    [
        ([], {}, "http://127.0.0.1:11434"),
        ([], {"OLLAMA_HOST": "example.com:9000/ollama/"}, "http://example.com:9000/ollama"),
        (["--host", "https://remote"], {"OLLAMA_HOST": "ignored"}, "https://remote:443"),
    ],
)
def test_host_from_option_or_environment(
    argv: list[str], env: dict[str, str], host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert settings_from(build_parser().parse_args(argv)).host == host


def test_resume_options(tmp_path) -> None:
    settings = settings_from(build_parser().parse_args(["-c", "--data-dir", str(tmp_path), "-m", "qwen3:4b"]))
    assert settings.continue_last and settings.model == "qwen3:4b" and settings.data_dir == tmp_path
    assert settings_from(build_parser().parse_args(["--session", "7"])).session_id == 7
    with pytest.raises(SystemExit):
        build_parser().parse_args(["-c", "--session", "7"])

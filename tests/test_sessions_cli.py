"""`sessions list|export|import|delete`, through a parser built with `register()`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.conversation import Turn, TurnState
from app.sessions_cli import register, run
from app.store import DB_NAME, Store


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ollama-tui")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "data") as opened:
        first = opened.create_conversation("llama3.2")
        opened.add_turn(first.id, Turn("user", "Why is the sky blue?"))
        opened.add_turn(first.id, Turn("assistant", "Rayleigh scattering.", model="llama3.2"))
        second = opened.create_conversation("qwen3:30b-a3b", title="Evil \x1b]0;title\x07 name")
        opened.add_turn(second.id, Turn("user", "hi"))
        yield opened


class Cli:
    def __init__(self, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
        self.store, self.capsys = store, capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        args = parse("sessions", *argv)
        assert args.command == "sessions"
        code = run(args, self.store)
        out, err = self.capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err


@pytest.fixture
def cli(store: Store, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(store, capsys)


def test_list_shows_aligned_columns_newest_first(cli: Cli) -> None:
    code, out, err = cli("list")
    assert (code, err) == (0, "")
    header, newest, older = out.splitlines()
    assert header.split() == ["ID", "UPDATED", "MESSAGES", "MODEL", "TITLE"]
    # id, date, time, message count, model, title (escape codes removed)
    assert newest.split()[3:] == ["1", "qwen3:30b-a3b", "Evil", "name"]
    assert older.split()[3:] == ["2", "llama3.2", "Why", "is", "the", "sky", "blue?"]
    assert (newest.split()[0], older.split()[0]) == ("2", "1")
    assert header.index("MODEL") == newest.index("qwen3") == older.index("llama3.2")
    assert header.index("TITLE") == newest.index("Evil") == older.index("Why is the sky blue?")
    assert "\x1b" not in out and "\x07" not in out


def test_list_of_an_empty_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(parse("sessions", "list"), Store.memory()) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("", "No saved conversations.\n")


def test_export_markdown_to_stdout(cli: Cli) -> None:
    code, out, err = cli("export", "1")
    assert (code, err) == (0, "")
    assert out.startswith("# Why is the sky blue?\n")
    assert "### You\n\nWhy is the sky blue?" in out
    assert "### llama3.2 (assistant)\n\nRayleigh scattering." in out


def test_export_json_to_stdout(cli: Cli) -> None:
    code, out, _ = cli("export", "1", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert [message["content"] for message in document["messages"]] == [
        "Why is the sky blue?",
        "Rayleigh scattering.",
    ]


def test_export_to_a_file_never_overwrites_without_force(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "chat.md"
    code, out, err = cli("export", "1", "-o", str(target))
    assert (code, out) == (0, "") and "Wrote conversation 1" in err
    assert target.read_text().startswith("# Why is the sky blue?")

    target.write_text("precious")
    code, out, err = cli("export", "2", "--output", str(target))
    assert (code, out) == (1, "")
    assert err == f"{target} already exists; add --force to overwrite it.\n"
    assert target.read_text() == "precious"

    code, _, _ = cli("export", "2", "-o", str(target), "--force", "--format", "json")
    assert code == 0
    assert json.loads(target.read_text())["title"] == "Evil \x1b]0;title\x07 name"


def test_export_to_an_impossible_place(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("export", "1", "-o", str(tmp_path / "missing" / "chat.md"))
    assert code == 1 and err.startswith("Cannot write ")


def test_export_of_a_missing_conversation(cli: Cli) -> None:
    assert cli("export", "99") == (1, "", "There is no conversation 99; see `sessions list`.\n")


def test_json_export_then_import_copies_the_conversation(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "chat.json"
    assert cli("export", "1", "--format", "json", "-o", str(target))[0] == 0
    code, out, err = cli("import", str(target))
    assert (code, err) == (0, "")
    new_id = int(out)
    assert new_id not in (1, 2)
    original, copy = cli.store.turns(1), cli.store.turns(new_id)
    assert [(t.role, t.content, t.model) for t in copy] == [(t.role, t.content, t.model) for t in original]
    copied = cli.store.conversation(new_id)
    assert copied is not None and copied.title == "Why is the sky blue?"


def test_import_of_a_bare_ollama_messages_file(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "messages.json"
    source.write_text('[{"role": "user", "content": "Hello from curl"}]')
    code, out, _ = cli("import", str(source))
    assert code == 0
    [turn] = cli.store.turns(int(out))
    assert (turn.content, turn.state) == ("Hello from curl", TurnState.COMPLETE)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{oops", "bad.json: The file is not valid JSON"),
        ('{"messages": [{"role": "robot"}]}', 'Message 1: "role" must be one of'),
        (b"\xff\xfe\x00bad", "Cannot read"),
    ],
)
def test_import_of_a_bad_file(cli: Cli, tmp_path: Path, content: str | bytes, message: str) -> None:
    source = tmp_path / "bad.json"
    if isinstance(content, bytes):
        source.write_bytes(content)
    else:
        source.write_text(content)
    before = len(cli.store.conversations())
    code, out, err = cli("import", str(source))
    assert (code, out) == (1, "")
    assert message in err and err.count("\n") == 1
    assert len(cli.store.conversations()) == before


def test_import_of_a_missing_file(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("import", str(tmp_path / "nope.json"))
    assert code == 1 and err.startswith("Cannot read ") and "No such file" in err


def test_delete(cli: Cli) -> None:
    code, out, _ = cli("delete", "1")
    assert (code, out) == (0, "Deleted conversation 1 (Why is the sky blue?).\n")
    assert cli.store.conversation(1) is None and cli.store.turns(1) == []
    assert cli("delete", "1") == (1, "", "There is no conversation 1; see `sessions list`.\n")


def test_changes_are_refused_when_they_could_not_be_saved(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store.close()
    (tmp_path / "data" / DB_NAME).write_bytes(b"not a database at all" * 100)
    with Store.open(tmp_path / "data") as damaged:
        cli = Cli(damaged, capsys)
        code, out, err = cli("delete", "1")
        assert (code, out) == (1, "")
        assert "is damaged" in err and "Nothing was changed" in err
        code, out, err = cli("list")
        assert (code, out) == (0, "") and "is damaged" in err


def test_an_action_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse("sessions")
    assert exited.value.code == 2
    assert "ACTION" in capsys.readouterr().err

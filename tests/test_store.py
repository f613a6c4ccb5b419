"""The SQLite store: round trips, migrations, damaged, read-only and locked files, concurrency
and search."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from app.conversation import ConversationInfo, Turn, TurnState
from app.protocol import ChatStats
from app.store import (
    DB_NAME,
    INTERRUPTED_ERROR,
    SCHEMA_VERSION,
    Store,
    StoreError,
)

NOBODY = 65534


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path) as opened:
        assert opened.mode == "normal", opened.notice
        yield opened


def stored(store: Store, conversation_id: int) -> ConversationInfo:
    """The conversation as saved, which the test knows is there."""
    info = store.conversation(conversation_id)
    assert info is not None
    return info


def reply(content: str, **fields: Any) -> Turn:
    return Turn("assistant", content, **{"model": "llama3.2", **fields})


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain connection, as another program would have; closed on leaving."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        yield connection
    finally:
        connection.close()


def saved_store(data_dir: Path, title: str = "Saved before") -> None:
    with Store.open(data_dir) as store:
        info = store.create_conversation("llama3.2", title=title)
        store.add_turn(info.id, Turn("user", "an old question"))


# Round trips


def test_memory_store_has_no_file_and_no_notice() -> None:
    store = Store.memory()
    assert (store.mode, store.path, store.notice) == ("memory", None, None)
    info = store.create_conversation("llama3.2")
    store.add_turn(info.id, Turn("user", "hi"))
    assert [turn.content for turn in store.turns(info.id)] == ["hi"]


def test_conversation_and_turns_round_trip(tmp_path: Path) -> None:
    stats = ChatStats("stop", 5_000_000_000, 1_000, 12, 2_000, 42, 3_000_000_000)
    turns = [
        Turn("user", "Why is the sky blue?", images=("aGVsbG8=",)),
        reply("Rayleigh scattering.", thinking="Physics question.", stats=stats),
        reply("Partial ans", state=TurnState.STOPPED, error="Stopped by you."),
        reply("", state=TurnState.ERROR, error="model not found", model="other"),
    ]
    with Store.open(tmp_path) as store:
        info = store.create_conversation(
            "llama3.2", system="Be brief.", options=[("temperature", 0.2), ("stop", ["\n"])]
        )
        ids = [store.add_turn(info.id, turn) for turn in turns]
    assert ids == [turn.id for turn in turns] and len(set(ids)) == 4
    assert all(turn.created_at > 0 for turn in turns)

    with Store.open(tmp_path) as store:
        loaded = store.conversation(info.id)
        assert store.turns(info.id) == turns
    assert loaded is not None
    assert (loaded.model, loaded.system, loaded.message_count) == ("llama3.2", "Be brief.", 4)
    assert loaded.options == (("temperature", 0.2), ("stop", ["\n"]))
    assert loaded.title == "Why is the sky blue?"


def test_add_turn_keeps_a_given_created_at(store: Store) -> None:
    info = store.create_conversation("llama3.2")
    turn = Turn("user", "hi", created_at=1_700_000_000.5)
    store.add_turn(info.id, turn)
    assert store.turns(info.id)[0].created_at == 1_700_000_000.5


def test_conversations_newest_activity_first(store: Store) -> None:
    first, second, third = (store.create_conversation("m", title=name) for name in "abc")
    assert [info.title for info in store.conversations()] == ["c", "b", "a"]
    store.add_turn(first.id, Turn("user", "bump"))
    assert [info.title for info in store.conversations()] == ["a", "c", "b"]
    assert [info.message_count for info in store.conversations()] == [1, 0, 0]
    assert [info.title for info in store.conversations(limit=2)] == ["a", "c"]
    latest = store.latest()
    assert latest is not None and latest.id == first.id
    store.rename(second.id, "renamed")  # a rename is not activity
    assert [info.title for info in store.conversations()] == ["a", "c", "renamed"]
    assert third.id in {info.id for info in store.conversations()}


def test_latest_and_lookup_of_nothing(store: Store) -> None:
    assert store.latest() is None
    assert store.conversation(12345) is None
    assert store.turns(12345) == []


def test_title_comes_from_the_first_user_message(store: Store) -> None:
    info = store.create_conversation("m")
    store.add_turn(info.id, Turn("system", "You are terse."))
    store.add_turn(info.id, Turn("user", "  Plan a\n trip to   Lisbon  "))
    store.add_turn(info.id, reply("Sure."))
    store.add_turn(info.id, Turn("user", "Something else"))
    assert stored(store, info.id).title == "Plan a trip to Lisbon"


def test_a_given_or_cleared_title_is_not_replaced(store: Store) -> None:
    named = store.create_conversation("m", title="Mine")
    store.add_turn(named.id, Turn("user", "hello"))
    assert stored(store, named.id).title == "Mine"
    store.rename(named.id, "")
    store.add_turn(named.id, Turn("user", "second question"))
    assert stored(store, named.id).title == ""


def test_rename_model_and_settings(store: Store) -> None:
    info = store.create_conversation("m", options=[("seed", 1)])
    store.rename(info.id, "New name")
    store.set_model(info.id, "qwen3")
    store.set_settings(info.id, system="Answer in French.")
    changed = store.conversation(info.id)
    assert changed is not None
    assert (changed.title, changed.model) == ("New name", "qwen3")
    assert changed.system == "Answer in French."
    assert changed.options == (("seed", 1),)
    store.set_settings(info.id, options=[("num_ctx", 8192)])
    assert stored(store, info.id).options == (("num_ctx", 8192),)
    assert stored(store, info.id).system == "Answer in French."


def test_delete_cascades_to_messages_and_search(store: Store) -> None:
    keep = store.create_conversation("m")
    gone = store.create_conversation("m")
    store.add_turn(keep.id, Turn("user", "kept zebra"))
    store.add_turn(gone.id, Turn("user", "deleted zebra"))
    store.add_turn(gone.id, reply("zebra reply"))
    store.delete(gone.id)
    assert store.conversation(gone.id) is None
    assert store.turns(gone.id) == []
    assert [hit.conversation_id for hit in store.search("zebra")] == [keep.id]
    store.delete(gone.id)  # already gone: nothing happens


def test_update_and_delete_turn(store: Store) -> None:
    info = store.create_conversation("m")
    question = Turn("user", "count")
    store.add_turn(info.id, question)
    answer = reply("one", state=TurnState.STREAMING)
    store.add_turn(info.id, answer)
    before = stored(store, info.id).updated_at

    answer.content, answer.state = "one two three", TurnState.COMPLETE
    answer.thinking, answer.model = "counting", "qwen3"
    answer.stats = ChatStats(done_reason="stop", eval_count=3, eval_duration=10**9)
    store.update_turn(answer)
    assert store.turns(info.id) == [question, answer]
    assert stored(store, info.id).updated_at >= before

    assert question.id is not None
    store.delete_turn(question.id)
    assert store.turns(info.id) == [answer]
    assert stored(store, info.id).message_count == 1


def test_update_of_a_deleted_turn_does_nothing(store: Store) -> None:
    info = store.create_conversation("m")
    turn = reply("partial", state=TurnState.STREAMING)
    store.add_turn(info.id, turn)
    store.delete(info.id)
    turn.content = "more"
    store.update_turn(turn)
    assert store.turns(info.id) == []


def test_programming_mistakes_become_store_errors(store: Store) -> None:
    with pytest.raises(StoreError, match="was deleted"):
        store.add_turn(999, Turn("user", "lost?"))
    with pytest.raises(StoreError, match="never saved"):
        store.update_turn(Turn("user", "no id"))


def test_closed_store_raises_store_error(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.conversations()


def test_settings(store: Store) -> None:
    assert store.get_setting("last_model") is None
    store.set_setting("last_model", "llama3.2")
    store.set_setting("last_model", "qwen3")
    assert store.get_setting("last_model") == "qwen3"


def test_import_conversation(store: Store) -> None:
    info = ConversationInfo(0, "", 1_600_000_000.0, 1_600_000_100.0, "llama3.2", "Be kind.")
    turns = [
        Turn("user", "Imported question", created_at=1_600_000_000.0),
        reply("cut off", state=TurnState.STREAMING, created_at=1_600_000_050.0),
    ]
    new_id = store.import_conversation(info, turns)
    saved = store.conversation(new_id)
    assert saved is not None
    assert saved.title == "Imported question"
    assert (saved.created_at, saved.updated_at) == (1_600_000_000.0, 1_600_000_100.0)
    assert saved.system == "Be kind." and saved.message_count == 2
    loaded = store.turns(new_id)
    assert [turn.content for turn in loaded] == ["Imported question", "cut off"]
    assert loaded[1].state is TurnState.INTERRUPTED
    assert loaded[1].created_at == 1_600_000_050.0


# Search


def test_search_marks_matches_in_a_one_line_snippet(store: Store) -> None:
    info = store.create_conversation("m", title="Travel")
    turn = Turn("user", "Plan a trip\nto Lisbon in spring, with trains.")
    store.add_turn(info.id, turn)
    [hit] = store.search("lisbon")
    assert (hit.conversation_id, hit.message_id, hit.role) == (info.id, turn.id, "user")
    assert hit.title == "Travel"
    assert "«Lisbon»" in hit.snippet and "\n" not in hit.snippet
    assert hit.created_at == turn.created_at


def test_search_prefixes_all_words_and_diacritics(store: Store) -> None:
    info = store.create_conversation("m")
    store.add_turn(info.id, Turn("user", "The café serves espresso"))
    store.add_turn(info.id, Turn("user", "The café is closed"))
    assert len(store.search("caf")) == 2
    assert len(store.search("cafe espr")) == 1
    assert "«espresso»" in store.search("espr")[0].snippet
    assert store.search("café tea") == []
    assert len(store.search("cafe", limit=1)) == 1


ODD_QUERIES = ['"', "'; DROP TABLE messages; --", "a OR", "NEAR(", "*", "-x", "c++", "foo:bar"]
ODD_QUERIES += ["^", "AND", "(", ")", "col:", "{x}", "\x00", "²", "ǅ", "日本語", 'a"b*']


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_search_never_raises_on_odd_input(store: Store, query: str) -> None:
    info = store.create_conversation("m")
    store.add_turn(info.id, Turn("user", "c++ and foo:bar AND NEAR 日本語"))
    assert isinstance(store.search(query), list)


def test_search_of_nothing(store: Store) -> None:
    assert store.search("") == []
    assert store.search("   ...  ") == []


def test_search_follows_updates_and_deletes(store: Store) -> None:
    info = store.create_conversation("m")
    turn = reply("first draft", state=TurnState.STREAMING)
    store.add_turn(info.id, turn)
    turn.content, turn.state = "final wording", TurnState.COMPLETE
    store.update_turn(turn)
    assert store.search("draft") == []
    assert [hit.message_id for hit in store.search("wording")] == [turn.id]
    assert turn.id is not None
    store.delete_turn(turn.id)
    assert store.search("wording") == []


# Interrupted replies


def test_recover_interrupted_takes_only_stale_streaming_replies(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        info = store.create_conversation("m")
        stale = reply("half", state=TurnState.STREAMING)
        fresh = reply("live", state=TurnState.STREAMING)
        stopped = reply("stop", state=TurnState.STOPPED, error="Stopped by you.")
        for turn in (Turn("user", "q"), stale, fresh, stopped):
            store.add_turn(info.id, turn)
        assert store.recover_interrupted() == 0
        with raw(tmp_path / DB_NAME) as other:  # as if the writing process died a minute ago
            other.execute(
                "UPDATE messages SET updated_at = updated_at - 60 WHERE id IN (?, ?)",
                (stale.id, stopped.id),
            )
        assert store.recover_interrupted() == 1
        states = {turn.id: (turn.state, turn.error) for turn in store.turns(info.id)}
    assert states[stale.id] == (TurnState.INTERRUPTED, INTERRUPTED_ERROR)
    assert states[fresh.id] == (TurnState.STREAMING, "")
    assert states[stopped.id] == (TurnState.STOPPED, "Stopped by you.")


# Schema history

V1_SCHEMA = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL,
    updated_at REAL NOT NULL, model TEXT NOT NULL DEFAULT '', system TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL, content TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'complete', error TEXT NOT NULL DEFAULT '',
    thinking TEXT NOT NULL DEFAULT '', images TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX conversations_by_update ON conversations(updated_at);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO conversations
    VALUES (7, 'Old chat', 100.0, 200.0, 'llama2', 'Old system', '{"seed": 3}');
INSERT INTO messages (conversation_id, role, content, created_at, updated_at)
    VALUES (7, 'user', 'What is a penguin?', 100.0, 100.0);
INSERT INTO messages (conversation_id, role, content, model, state, error, created_at, updated_at)
    VALUES (7, 'assistant', 'A flightless bird.', 'llama2', 'stopped', 'Stopped by you.',
            150.0, 150.0);
INSERT INTO settings VALUES ('last_model', 'llama2');
PRAGMA user_version = 1;
"""


def test_migrates_a_version_1_file_and_keeps_its_data(tmp_path: Path) -> None:
    with raw(tmp_path / DB_NAME) as old:
        old.executescript(V1_SCHEMA)
    with Store.open(tmp_path) as store:
        assert store.mode == "normal", store.notice
        assert store.conversation(7) == ConversationInfo(
            7, "Old chat", 100.0, 200.0, "llama2", "Old system", (("seed", 3),), 2
        )
        question, answer = store.turns(7)
        assert (question.content, question.stats) == ("What is a penguin?", None)
        assert (answer.state, answer.error) == (TurnState.STOPPED, "Stopped by you.")
        assert (answer.model, answer.server) == ("llama2", "")  # from before servers: the only one
        assert store.get_setting("last_model") == "llama2"
        assert [hit.message_id for hit in store.search("flightless")] == [answer.id]
        answer.stats = ChatStats(eval_count=5)
        store.update_turn(answer)
        assert store.turns(7)[1].stats == ChatStats(eval_count=5)
    with raw(tmp_path / DB_NAME) as upgraded:
        assert upgraded.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4


def test_a_newer_schema_is_opened_read_only_and_left_untouched(tmp_path: Path) -> None:
    saved_store(tmp_path)
    path = tmp_path / DB_NAME
    with raw(path) as newer:
        newer.execute("PRAGMA user_version = 99")
    before = path.read_bytes()
    with Store.open(tmp_path) as store:
        assert store.mode == "read-only"
        assert store.notice and "newer version" in store.notice and str(path) in store.notice
        assert [info.title for info in store.conversations()] == ["Saved before"]
        info = store.create_conversation("m")  # works, in memory
        store.add_turn(info.id, Turn("user", "typed during the run"))
        assert len(store.conversations()) == 2
    assert path.read_bytes() == before


def test_a_newer_schema_without_our_columns_falls_back_to_memory(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    with raw(path) as newer:
        newer.executescript("CREATE TABLE chats (id INTEGER PRIMARY KEY); PRAGMA user_version = 9;")
    before = path.read_bytes()
    with Store.open(tmp_path) as store:
        assert store.mode == "memory"
        assert store.notice and "newer version" in store.notice and "memory" in store.notice
        store.create_conversation("m")
    assert path.read_bytes() == before


# Damaged, foreign, read-only and locked files


def test_random_bytes_are_reported_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    garbage = os.urandom(8192)
    path.write_bytes(garbage)
    with Store.open(tmp_path) as store:
        assert store.mode == "memory"
        assert store.notice and "damaged" in store.notice and str(path) in store.notice
        info = store.create_conversation("m")
        store.add_turn(info.id, Turn("user", "still usable"))
        assert store.turns(info.id)[0].content == "still usable"
    assert path.read_bytes() == garbage


def test_damaged_pages_are_detected(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        info = store.create_conversation("m")
        for number in range(200):
            store.add_turn(info.id, Turn("user", f"message {number} " * 40))
    path = tmp_path / DB_NAME
    damaged = bytearray(path.read_bytes())
    damaged[4096 * 5 : 4096 * 8] = os.urandom(4096 * 3)
    path.write_bytes(damaged)
    with Store.open(tmp_path) as store:
        assert store.mode == "memory"
        assert store.notice and "damaged" in store.notice
    assert path.read_bytes() == damaged


def test_another_programs_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    with raw(path) as other:
        other.execute("CREATE TABLE conversations (name TEXT)")
    before = path.read_bytes()
    with Store.open(tmp_path) as store:
        assert store.mode == "memory"
        assert store.notice and "not an ollama-tui" in store.notice
    assert path.read_bytes() == before


def test_an_unusable_data_folder_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = Store.open(blocker / "data")
    assert store.mode == "memory"
    assert store.notice and "data folder" in store.notice
    store.create_conversation("m")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder an unprivileged user can reach (pytest's tmp_path is private to root)."""
    with tempfile.TemporaryDirectory() as name:
        os.chmod(name, 0o755)
        yield Path(name)


def as_unprivileged(function: Callable[[Path], Any], data_dir: Path) -> Any:
    """Run `function(data_dir)` where file permissions bind: as nobody when the tests run as
    root (root writes read-only files anyway), in a forked child that reports back."""
    if os.geteuid() != 0:
        return function(data_dir)
    for path in (data_dir, *data_dir.iterdir()):
        os.chown(path, NOBODY, NOBODY)
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(function, data_dir, sender))
    child.start()
    result = receiver.recv()
    child.join()
    if isinstance(result, BaseException):
        raise result
    return result


def _child(function: Callable[[Path], Any], data_dir: Path, sender: Connection) -> None:
    try:
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        sender.send(function(data_dir))
    except BaseException as error:  # carried to the parent, which fails the test with it
        sender.send(error)


def use_store(data_dir: Path) -> tuple[str, str | None, list[str]]:
    with Store.open(data_dir) as store:
        info = store.create_conversation("m", title="Typed during the run")
        store.add_turn(info.id, Turn("user", "kept in memory"))
        return store.mode, store.notice, [info.title for info in store.conversations()]


@pytest.mark.parametrize(("file_mode", "dir_mode"), [(0o400, 0o700), (0o600, 0o500)], ids=["file", "folder"])
def test_a_read_only_file_or_folder_is_read_but_never_written(shared_dir: Path, file_mode: int, dir_mode: int) -> None:
    data_dir = shared_dir / "data"
    saved_store(data_dir)
    path = data_dir / DB_NAME
    before = path.read_bytes()
    path.chmod(file_mode)
    data_dir.chmod(dir_mode)
    mode, notice, titles = as_unprivileged(use_store, data_dir)
    data_dir.chmod(0o700)
    assert mode == "read-only"
    assert notice and "cannot be written" in notice and "memory" in notice
    assert titles == ["Typed during the run", "Saved before"]
    assert path.read_bytes() == before


def test_an_unreadable_file_falls_back_to_memory(shared_dir: Path) -> None:
    data_dir = shared_dir / "data"
    saved_store(data_dir)
    (data_dir / DB_NAME).chmod(0)
    mode, notice, titles = as_unprivileged(use_store, data_dir)
    assert mode == "memory"
    assert notice and "cannot be read" in notice
    assert titles == ["Typed during the run"]


def test_a_database_locked_for_writing_is_opened_read_only(tmp_path: Path) -> None:
    saved_store(tmp_path)
    with raw(tmp_path / DB_NAME) as other:
        other.execute("BEGIN IMMEDIATE")
        with Store.open(tmp_path, timeout=0.05) as store:
            assert store.mode == "read-only"
            assert store.notice and "locked" in store.notice
            assert [info.title for info in store.conversations()] == ["Saved before"]
        other.execute("ROLLBACK")


def test_a_database_locked_even_for_reading_falls_back_to_memory(tmp_path: Path) -> None:
    saved_store(tmp_path)
    with raw(tmp_path / DB_NAME) as other:
        other.execute("PRAGMA journal_mode = DELETE")
        other.execute("BEGIN EXCLUSIVE")
        with Store.open(tmp_path, timeout=0.05) as store:
            assert store.mode == "memory"
            assert store.notice and "cannot be read" in store.notice and "locked" in store.notice
        other.execute("ROLLBACK")


def test_writes_wait_for_another_writer(store: Store, tmp_path: Path) -> None:
    info = store.create_conversation("m")
    with raw(tmp_path / DB_NAME) as other:
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.2, other.execute, ("COMMIT",))
        release.start()
        store.add_turn(info.id, Turn("user", "waited"))
        release.join()
    assert [turn.content for turn in store.turns(info.id)] == ["waited"]


def test_failed_writes_say_why_in_one_sentence(tmp_path: Path) -> None:
    with Store.open(tmp_path, timeout=0.05) as store:
        info = store.create_conversation("m")
        with raw(tmp_path / DB_NAME) as other:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreError, match=r"^The conversation database is busy in another program"):
                store.rename(info.id, "Waited too long")
            other.execute("ROLLBACK")
        # A file that may not grow any more fails as a full disk does (SQLITE_FULL).
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreError, match=r"^The disk is full, so the conversation could not be saved"):
            store.add_turn(info.id, Turn("user", "many words " * 20_000))
        assert store.turns(info.id) == []


# Concurrency


def test_two_stores_written_from_many_threads(tmp_path: Path) -> None:
    stores = [Store.open(tmp_path), Store.open(tmp_path)]
    info = stores[0].create_conversation("m")

    def write(store: Store, name: str) -> None:
        for number in range(150):
            store.add_turn(info.id, Turn("user", f"{name} {number}"))

    threads = [
        threading.Thread(target=write, args=(store, f"t{index}{side}"))
        for index, store in enumerate(stores)
        for side in "ab"
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    contents = {turn.content for turn in stores[1].turns(info.id)}
    assert len(contents) == 600
    for store in stores:
        store.close()


WRITER = """
import sys
import time
from pathlib import Path
from app.conversation import Turn
from app.store import Store

conversation_id, count, name = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with Store.open(Path(sys.argv[1])) as store:
    assert store.mode == "normal", store.notice
    print("ready", flush=True)
    sys.stdin.readline()  # start together with the other writer
    for number in range(count):
        store.add_turn(conversation_id, Turn("user", f"{name} {number}"))
        time.sleep(0.0002)  # the app pauses between writes; a tight loop can starve the other
"""


@pytest.mark.slow
def test_two_processes_write_at_once(tmp_path: Path) -> None:
    count = 400
    with Store.open(tmp_path) as store:
        info = store.create_conversation("m")
    names = ("left", "right")
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), str(info.id), str(count), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.close()
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    with Store.open(tmp_path) as store:
        contents = [turn.content for turn in store.turns(info.id)]
    expected = [f"{name} {number}" for name in names for number in range(count)]
    assert sorted(contents) == sorted(expected)
    writer_order = [content.split()[0] for content in contents]
    switches = sum(a != b for a, b in itertools.pairwise(writer_order))
    assert switches > 1, "the writers did not overlap, so this test proved nothing"


# Files on disk


def test_folder_and_files_are_private_under_a_permissive_umask(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    previous = os.umask(0)
    try:
        with Store.open(data_dir) as store:
            store.create_conversation("m")
            modes = {path.name: path.stat().st_mode & 0o777 for path in data_dir.iterdir()}
            folder = data_dir.stat().st_mode & 0o777
    finally:
        os.umask(previous)
    assert folder == 0o700
    assert modes[DB_NAME] == 0o600
    assert set(modes.values()) == {0o600}  # -wal and -shm too


def test_reopening_keeps_the_store_usable(tmp_path: Path) -> None:
    saved_store(tmp_path)
    saved_store(tmp_path, title="Second")
    with Store.open(tmp_path) as store:
        assert store.mode == "normal" and store.notice is None
        assert [info.title for info in store.conversations()] == ["Second", "Saved before"]


def test_the_store_loads_no_ui_or_http_code() -> None:
    code = (
        "import sys, app.store, app.export, app.sessions_cli;"
        "print(sorted({'textual', 'rich', 'httpx'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

"""Remote hosts and secrets: https, a path prefix, IPv6, credentials; private files; the debug log.

The remote server is a `Relay` in front of FakeOllama: it listens where a remote Ollama would
(behind a reverse proxy under a path prefix, on an IPv6 address, over TLS) and forwards to the
fake, streaming the answer back as it arrives.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import http.client
import logging
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import SIZE, screen_text, type_text, wait_until
from ollama_server import ChatScript, FakeOllama

from app import debug_log
from app.app import make_app
from app.client import OllamaClient
from app.config import Settings
from app.conversation import TurnState
from app.host import parse_host
from app.protocol import ChatMessage, ChatRequest
from app.screens.chat import ChatScreen
from app.store import DB_NAME

USER, PASSWORD, API_KEY = "me", "s3cret-pw", "tok-XYZ-9f8e7d"
SECRETS = (PASSWORD, API_KEY)
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


# -- a remote-looking server ------------------------------------------------------------------


class Relay(ThreadingHTTPServer):
    """Forwards every request under `prefix` to FakeOllama; anything else is a plain 404."""

    daemon_threads = True

    def __init__(
        self, upstream: FakeOllama, host: str = "127.0.0.1", prefix: str = "", tls: ssl.SSLContext | None = None
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), _RelayHandler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.upstream_port = int(upstream.url.rsplit(":", 1)[1])
        self.prefix = prefix
        self.paths: list[str] = []  # as requested, prefix included
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> Relay:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        assert isinstance(host, str)  # an IP socket's address (only Unix sockets' may be bytes)
        host = f"[{host}]" if ":" in host else host
        return f"{self.scheme}://{host}:{port}{self.prefix}"

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # failed handshakes and vanished clients are part of the job


class _RelayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Relay

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        self.server.paths.append(self.path)
        prefix = self.server.prefix
        if not self.path.startswith(prefix + "/"):
            self._reply(404, b"404 page not found")
            return
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=30)
        try:
            skip = {"host", "connection", "content-length"}
            headers = {name: value for name, value in self.headers.items() if name.lower() not in skip}
            upstream.request(self.command, self.path[len(prefix) :], body=body, headers=headers)
            self._relay(upstream.getresponse())
        finally:
            upstream.close()

    do_HEAD = do_POST = do_DELETE = do_GET

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _relay(self, response: http.client.HTTPResponse) -> None:
        chunked = response.getheader("Transfer-Encoding", "").lower() == "chunked"
        self.send_response(response.status)
        self.send_header("Content-Type", response.getheader("Content-Type", "text/plain"))
        if not chunked:
            data = response.read()
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            while data := response.read1(65536):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.write(b"0\r\n\r\n")
        except (OSError, http.client.HTTPException):  # either side went away: so does the other
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate for 127.0.0.1, ::1 and localhost; its key sits beside it."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return folder / "cert.pem"


def server_tls(certificate: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, certificate.with_name("key.pem"))
    return context


def ipv6_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def ask(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`ollama-tui ask`: the real command line, its host parsing and client, in a process."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("OLLAMA_", "SSL_CERT_"))}
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=60, env={**clean, **env}
    )


# -- remote hosts -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["prefix", "ipv6", "https", "https+ipv6+prefix"])
def test_remote_host_forms(kind: str, ollama: FakeOllama, certificate: Path, tmp_path: Path) -> None:
    if "ipv6" in kind and not ipv6_available():
        pytest.skip("this machine cannot listen on ::1")
    tls = server_tls(certificate) if "https" in kind else None
    host = "::1" if "ipv6" in kind else "127.0.0.1"
    prefix = "/ollama/v1" if "prefix" in kind else ""
    ollama.enqueue(ChatScript(tokens=["Lima", "."]))
    env = {"OLLAMA_HOST": "", "XDG_DATA_HOME": str(tmp_path)}
    if tls:
        env["SSL_CERT_FILE"] = str(certificate)
    with Relay(ollama, host, prefix, tls) as relay:
        env["OLLAMA_HOST"] = relay.url
        result = ask("ask", "-m", "llama3.2", "Capital of Peru?", env=env)
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "Lima.", "")
    assert f"{prefix}/api/generate" in relay.paths
    assert ollama.bodies("/api/generate")[-1]["prompt"] == "Capital of Peru?"


def test_https_with_untrusted_certificate_says_so(ollama: FakeOllama, certificate: Path, tmp_path: Path) -> None:
    with Relay(ollama, tls=server_tls(certificate)) as relay:
        result = ask("ask", "-m", "llama3.2", "hi", env={"OLLAMA_HOST": relay.url, "XDG_DATA_HOME": str(tmp_path)})
    assert result.returncode == 2  # unreachable
    assert "certificate" in result.stderr and "SSL_CERT_FILE" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_path_prefix_is_not_a_missing_model(ollama: FakeOllama, tmp_path: Path) -> None:
    with Relay(ollama, prefix="/ollama") as relay:
        env = {"OLLAMA_HOST": relay.url.removesuffix("/ollama"), "XDG_DATA_HOME": str(tmp_path)}
        result = ask("ask", "-m", "llama3.2", "hi", env=env)
    assert result.returncode == 1
    assert "404" in result.stderr and "page not found" in result.stderr


async def test_tui_over_https_with_prefix(
    ollama: FakeOllama, certificate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
    with Relay(ollama, prefix="/ollama", tls=server_tls(certificate)) as relay:
        app = make_app(Settings(host=parse_host(relay.url), data_dir=tmp_path / "data"))
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            screen = app.screen
            assert isinstance(screen, ChatScreen)
            await wait_until(pilot, lambda: screen.models)
            assert relay.url.replace("/ollama", "") in screen_text(app)
            await type_text(pilot, "hello over TLS")
            await pilot.press("enter")
            await wait_until(pilot, lambda: screen.turns[-1].state == TurnState.COMPLETE)
    assert "/ollama/api/chat" in relay.paths


async def test_banner_names_an_untrusted_certificate(ollama: FakeOllama, certificate: Path, tmp_path: Path) -> None:
    with Relay(ollama, tls=server_tls(certificate)) as relay:
        app = make_app(Settings(host=relay.url, data_dir=tmp_path / "data"))
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_until(pilot, lambda: "Cannot" in screen_text(app))
            assert "certificate" in screen_text(app)


# -- credentials ------------------------------------------------------------------------------


def with_credentials(url: str) -> str:
    return url.replace("://", f"://{USER}:{PASSWORD}@", 1)


async def test_basic_auth_and_bearer_token(ollama: FakeOllama) -> None:
    async with OllamaClient(parse_host(with_credentials(ollama.url))) as client:
        await client.version()
        async for _ in client.chat(ChatRequest("llama3.2", (ChatMessage("user", "hi"),))):
            pass
    async with OllamaClient(ollama.url, api_key=API_KEY) as client:
        await client.version()
    async with OllamaClient(with_credentials(ollama.url), api_key=API_KEY) as client:
        await client.version()  # both: the URL's credentials win, as documented
    seen = [recorded.headers.get("authorization") for recorded in ollama.requests]
    assert seen == [BASIC, BASIC, f"Bearer {API_KEY}", BASIC]


def assert_no_secret(where: str, text: str | bytes) -> None:
    for secret in SECRETS:
        found = secret.encode() in text if isinstance(text, bytes) else secret in text
        assert not found, f"{secret!r} appears in {where}"


async def test_secrets_appear_nowhere(
    ollama: FakeOllama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app_logging: None
) -> None:
    """Credentials in the URL and an API key: sent as headers, never shown, stored or logged."""
    # No secrets handed to the log's mask: this shows nothing ever tries to log them.
    log = debug_log.configure(True, tmp_path / "log", content=True)
    assert log is not None
    data, out = tmp_path / "data", tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    host = parse_host(with_credentials(ollama.url))
    ollama.enqueue(ChatScript(tokens=["Lima", "."]))
    app = make_app(Settings(host=host, data_dir=data, api_key=API_KEY))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await wait_until(pilot, lambda: screen.models)
        assert f"127.0.0.1:{ollama.url.rsplit(':', 1)[1]}" in screen_text(app)
        await type_text(pilot, "Capital of Peru?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.turns[-1].state == TurnState.COMPLETE)
        await type_text(pilot, "/export md")
        await pilot.press("enter")
        await type_text(pilot, "/export json")
        await pilot.press("enter")
        assert_no_secret("the screen", screen_text(app))
        app.save_screenshot("screen.svg", str(out))
        ollama.stop()  # now every path reports an error that names the server
        await type_text(pilot, "still there?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.turns[-1].state == TurnState.ERROR)
        error = screen.turns[-1].error
        assert error.startswith(f"Cannot reach Ollama at {ollama.url}")
        await wait_until(pilot, lambda: "Cannot reach Ollama" in screen_text(app))
        assert_no_secret("the screen after an error", screen_text(app))
        assert_no_secret("the settings' repr", repr(app.settings))
    assert {request.headers.get("authorization") for request in ollama.requests} == {BASIC}
    files = sorted(out.iterdir())
    assert [path.suffix for path in files] == [".json", ".md", ".svg"]
    for path in [*files, *data.iterdir(), *log.parent.iterdir()]:
        assert_no_secret(path.name, path.read_bytes())
    logged = log.read_text()
    assert "POST /api/chat (llama3.2:latest): 200" in logged and "Cannot reach Ollama" in logged
    assert "Capital of Peru?" in logged  # content was asked for


def test_command_line_keeps_secrets_out(ollama: FakeOllama, tmp_path: Path) -> None:
    env = {
        "OLLAMA_HOST": with_credentials(ollama.url),
        "OLLAMA_API_KEY": API_KEY,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "share"),
    }
    log = tmp_path / "state" / "ollama-tui" / "log" / debug_log.LOG_NAME
    result = ask("--debug", "ask", "-m", "llama3.2", "a private question", env=env)
    assert result.returncode == 0, result.stderr
    assert ollama.requests[-1].headers["authorization"] == BASIC
    logged = log.read_text()
    assert "POST /api/generate (llama3.2): 200" in logged and "done in" in logged
    assert "a private question" not in logged and "Binary search" not in logged  # no content
    ollama.stop()
    result = ask("--debug", "ask", "-m", "llama3.2", "again", env=env)
    assert result.returncode == 2 and f"Cannot reach Ollama at {ollama.url}" in result.stderr
    bad_host = ask("--host", f"ftp://{USER}:{PASSWORD}@example.com", "ask", "x", env=env)
    assert bad_host.returncode == 2 and "***@example.com" in bad_host.stderr
    for where, text in [("stderr", result.stderr + bad_host.stderr), ("the log", log.read_text())]:
        assert_no_secret(where, text)
    assert "Cannot reach Ollama" in log.read_text()


# -- private files ----------------------------------------------------------------------------


def modes_under_open_umask(script: str, root: Path, *args: str) -> dict[str, int]:
    """Run `script` (with `args`) in a process with umask 000; the permission bits of
    everything under `root` by path relative to it, as `modes()` in the script saw them and
    as they are once it ended."""
    code = f"""import os, stat, sys
from pathlib import Path
os.umask(0)
seen = {{}}
def modes():
    root = Path({str(root)!r})
    seen.update((str(p.relative_to(root)), stat.S_IMODE(p.stat().st_mode)) for p in root.rglob("*"))
{script}
modes()
print(repr(seen))
"""
    result = subprocess.run([sys.executable, "-c", code, *args], check=True, timeout=60, capture_output=True, text=True)
    seen: dict[str, int] = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    return seen


def test_data_and_log_files_are_private_under_an_open_umask(tmp_path: Path) -> None:
    script = """
from app import debug_log
from app.store import Store
store = Store.open(Path(sys.argv[1]))
store.create_conversation("m")
modes()  # with the database open, its -wal and -shm files exist
debug_log.configure(True, Path(sys.argv[2]), max_bytes=200, backups=2)
for number in range(20):
    debug_log.logging.getLogger("app.test").info("line %d of the debug log", number)
"""
    modes = modes_under_open_umask(script, tmp_path, str(tmp_path / "data"), str(tmp_path / "state" / "log"))
    folders = {name: modes.pop(name) for name in ("data", "state", "state/log")}
    assert folders == {"data": 0o700, "state": 0o700, "state/log": 0o700}  # "state": a missing parent
    assert sorted(modes) == [
        f"data/{DB_NAME}", f"data/{DB_NAME}-shm", f"data/{DB_NAME}-wal",
        "state/log/ollama-tui.log", "state/log/ollama-tui.log.1", "state/log/ollama-tui.log.2",
    ]  # fmt: skip
    assert set(modes.values()) == {0o600}, modes


def test_missing_parents_of_the_data_folder_are_private(tmp_path: Path) -> None:
    script = "from app.store import Store\nStore.open(Path(sys.argv[1]))"
    modes = modes_under_open_umask(script, tmp_path, str(tmp_path / "parent" / "data"))
    assert modes["parent/data"] == 0o700
    assert modes["parent"] & 0o077 == 0, oct(modes["parent"])


# -- the debug log ----------------------------------------------------------------------------


def test_debug_log_rotates_and_masks(tmp_path: Path, app_logging: None) -> None:
    log = debug_log.configure(True, tmp_path, secrets=[API_KEY, "pw"], max_bytes=1000, backups=2)
    assert log == tmp_path / debug_log.LOG_NAME
    logger = logging.getLogger("app.test")
    for number in range(100):
        logger.info("request %d with %s", number, API_KEY)
    logging.getLogger(debug_log.CONTENT_LOGGER).debug("message text")  # not asked for
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["ollama-tui.log", "ollama-tui.log.1", "ollama-tui.log.2"]
    text = "".join(path.read_text() for path in tmp_path.iterdir())
    assert "request 99 with ***" in text
    assert API_KEY not in text and "message text" not in text
    assert all(path.stat().st_size <= 1000 for path in tmp_path.iterdir())


def test_without_debug_nothing_is_logged_anywhere(
    tmp_path: Path, app_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert debug_log.configure(False) is None
    logging.getLogger("app.client").warning("would reach the terminal through logging's last resort")
    assert capsys.readouterr() == ("", "")


def test_default_log_dir_follows_xdg_state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.platform != "linux":
        pytest.skip("XDG_STATE_HOME is a Linux convention")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert debug_log.default_log_dir() == tmp_path / "ollama-tui" / "log"

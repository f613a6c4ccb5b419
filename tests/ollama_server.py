"""FakeOllama: a real HTTP server on 127.0.0.1 that answers like Ollama.

It runs in its own thread (so it also serves apps running their own event loop, as
`snap_compare` does), speaks HTTP/1.1 with chunked NDJSON streams, records every request and
plays `ChatScript`s: tokens with delays, tool calls, an error line, a malformed line, a cut or
a stall mid-reply, or an error status. Shapes follow the Ollama API reference, including the
ways real servers fail. It also serves the OpenAI-compatible `/v1/models` and
`/v1/chat/completions` (`openai_routes.py`), alone when `openai_only` is set, as vLLM would.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import re
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai_routes

JSON = dict[str, Any]

DEFAULT_REPLY = """\
## Binary search

Binary search finds an item in a **sorted** list by halving the range:

1. Compare the middle element with the target.
2. Keep the half that can still contain it.
3. Stop when the range is empty.

```python
def search(items, target):
    low, high = 0, len(items) - 1
    while low <= high:
        middle = (low + high) // 2
        if items[middle] == target:
            return middle
        if items[middle] < target:
            low = middle + 1
        else:
            high = middle - 1
    return -1
```

It runs in `O(log n)` time."""


def tokenize(text: str) -> list[str]:
    """Model-like tokens: each word with the whitespace before it."""
    return re.findall(r"\s*\S+|\s+", text)


DEFAULT_TOKENS = tokenize(DEFAULT_REPLY)
RUNNER_STOPPED = (
    "model runner has unexpectedly stopped, this may be due to resource limitations "
    "or an internal error, check ollama server logs for details"
)


@dataclass(frozen=True)
class ChatScript:
    """How the next `/api/chat` or `/api/generate` answers.

    The `*_after` counts are token lines already sent, thinking lines included.
    """

    tokens: list[str] = field(default_factory=lambda: list(DEFAULT_TOKENS))
    thinking: list[str] = field(default_factory=list)  # sent before the content, unless think=false
    delay: float = 0.0  # seconds between lines; 0 sends lines in large batches
    # The first `burst` lines go in large batches whatever `delay` says, then `burst_pause`
    # seconds of silence, then the rest `delay` apart: a long reply whose end alone streams.
    burst: int = 0
    burst_pause: float = 0.0
    first_delay: float = 0.0  # before the first line, like a model load
    hold: threading.Event | None = None  # the first line waits until the test sets this
    cut_after: int | None = None  # then close the connection mid-body: no done line
    error_after: int | None = None  # then an {"error": error} line ends the stream
    error: str = RUNNER_STOPPED
    malformed_after: int | None = None  # then a line that is not JSON, then the rest
    stall_after: int | None = None  # then silence until the client leaves or the server stops
    status: int | None = None  # answer with this status and `body` instead of a stream
    body: str | None = None
    done_reason: str = "stop"
    # Calls in Ollama's shape (see `tool_call`), on one line after the tokens, as a model that
    # asks for several at once gets them; `tool_calls_apart` sends a line per call instead.
    tool_calls: tuple[JSON, ...] = ()
    tool_calls_apart: bool = False
    # `/v1/chat/completions` only: the variants of other servers (see openai_routes).
    reasoning_field: str = "reasoning_content"  # "reasoning" in newer vLLM and Ollama
    sse_error_field: bool = False  # error_after sends an `error:` line, as llama.cpp does
    cut_mid_line: bool = False  # cut_after sends half of the next event first
    no_done: bool = False  # no `data: [DONE]` after the finish
    crlf: bool = False  # lines end in \r\n, as sse-starlette writes them

    @classmethod
    def long(cls, count: int, **options: Any) -> ChatScript:
        """A reply of `count` tokens: the default reply, repeated."""
        cycle = [*DEFAULT_TOKENS, "\n\n"]
        return cls(tokens=(cycle * (count // len(cycle) + 1))[:count], **options)


def tool_call(name: str, arguments: Any, index: int = 0, call_id: str | None = None) -> JSON:
    """A call as Ollama streams it: `arguments` is an object (pass a string to play a server
    that sends one). `call_id` "" leaves the id out, as older servers do."""
    call_id = call_id if call_id is not None else f"call_{_digest(f'{name}/{index}')[:8]}"
    function = {"index": index, "name": name, "arguments": arguments}
    return {"id": call_id, "function": function} if call_id else {"function": function}


@dataclass(frozen=True, slots=True)
class Recorded:
    method: str
    path: str  # without the query string
    headers: dict[str, str]  # names lower-cased
    body: JSON | None  # parsed JSON object, None without one


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def make_model(
    name: str,
    family: str,
    parameter_size: str,
    quantization: str,
    size: int,
    capabilities: tuple[str, ...] = ("completion",),
    context_length: int = 8192,
    families: tuple[str, ...] = (),
) -> JSON:
    """An `/api/tags` entry, as recent servers list them."""
    return {
        "name": name,
        "model": name,
        "modified_at": "2025-05-20T09:14:03.193548+02:00",
        "size": size,
        "digest": _digest(name),
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": list(families or (family,)),
            "parameter_size": parameter_size,
            "quantization_level": quantization,
            "context_length": context_length,
        },
        "capabilities": list(capabilities),
    }


def default_models() -> list[JSON]:
    return [
        make_model(
            "llama3.2:latest",
            "llama",
            "3.2B",
            "Q4_K_M",
            2_019_393_189,
            ("completion", "tools"),
            131_072,
        ),
        make_model(
            "qwen3:4b",
            "qwen3",
            "4.0B",
            "Q4_K_M",
            2_497_293_918,
            ("completion", "tools", "thinking"),
            40_960,
        ),
        make_model(
            "llava:7b",
            "llama",
            "7B",
            "Q4_0",
            4_733_363_377,
            ("completion", "vision"),
            32_768,
            ("llama", "clip"),
        ),
    ]


def default_library() -> list[JSON]:
    """Models `/api/pull` can fetch (installed ones can always be pulled again)."""
    return [
        make_model("gemma3:1b", "gemma3", "999.89M", "Q4_K_M", 815_319_791, context_length=32_768),
        make_model("smollm2:135m", "llama", "134.52M", "Q8_0", 270_898_672),
    ]


def full_name(name: str) -> str:
    """`llama3.2` and `LLAMA3.2:latest` name the same model."""
    name = name.strip().lower()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


_SHOW_EXTRAS: dict[str, JSON] = {
    "llama": {
        "parameters": 'stop                           "<|start_header_id|>"\n'
        'stop                           "<|end_header_id|>"\n'
        'stop                           "<|eot_id|>"',
        "template": "<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>"
        "{{ range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
        "{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n",
        "license": "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024",
    },
    "qwen3": {
        "parameters": "repeat_penalty                 1\n"
        'stop                           "<|im_start|>"\n'
        'stop                           "<|im_end|>"\n'
        "temperature                    0.6\n"
        "top_k                          20\n"
        "top_p                          0.95",
        "template": "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n"
        "{{ end }}<|im_start|>assistant\n",
        "license": "Apache License\nVersion 2.0, January 2004",
    },
}


def _now(offset: float = 0.0) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=offset)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"  # nine digits, like Go


class FakeOllama:
    """A scripted Ollama server. `with FakeOllama() as server: ... server.url ...`"""

    BATCH = 256  # lines per chunk when a script has no delay, so benchmarks measure the client

    def __init__(self, version: str = "0.33.0") -> None:
        self.version = version
        self.models: list[JSON] = default_models()
        self.library: list[JSON] = default_library()
        self.pull_delay = 0.0  # seconds between pull progress lines
        self.pull_error_after: int | None = None  # lines of a pull before an {"error"} line ends it
        self.pull_error = "max retries exceeded: connection reset by peer"
        self.api_key: str | None = None  # when set, every request needs `Authorization: Bearer KEY`
        self.openai_only = False  # serve only /v1 (as vLLM, SGLang, llama.cpp's server do)
        self.openai_models: list[Any] | None = None  # what /v1/models lists; None: from `models`
        self.owned_by = "vllm"
        self.listing_gate = threading.Event()  # model listings wait while it is clear
        self.listing_gate.set()
        self.requests: list[Recorded] = []
        self.disconnects = 0  # streams the client left before the end
        self._scripts: deque[ChatScript] = deque()
        self._loaded: dict[str, tuple[JSON, str, int]] = {}  # for /api/ps: model, expiry, window
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # Lifecycle

    def start(self) -> FakeOllama:
        server = _Server(self)
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Go down like a killed server: open connections (streams too) are closed."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.stopping.set()
        server.shutdown()
        with self._lock:
            connections = list(server.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        thread.join(timeout=5)
        self._server = self._thread = None

    def restart(self) -> None:
        """Down and up again on the same port."""
        self.stop()
        self.start()

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # Scripting and inspection

    def enqueue(self, *scripts: ChatScript) -> None:
        """Scripts for the next chat/generate requests, in order; then the default reply."""
        with self._lock:
            self._scripts.extend(scripts)

    def bodies(self, path: str) -> list[JSON]:
        with self._lock:
            return [r.body for r in self.requests if r.path == path and r.body is not None]

    def find(self, name: str) -> JSON | None:
        wanted = full_name(name)
        with self._lock:
            return next((m for m in self.models if full_name(m.get("name", "")) == wanted), None)

    # Used by the handler threads

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self.requests.append(recorded)

    def _next_script(self) -> ChatScript:
        with self._lock:
            return self._scripts.popleft() if self._scripts else ChatScript()


class _Server(ThreadingHTTPServer):
    """One run of the fake, between start() and stop(); restart() makes a new one."""

    daemon_threads = True  # a stalled stream must never hold up stop()
    allow_reuse_address = True  # restart() binds the same port again at once

    def __init__(self, fake: FakeOllama) -> None:
        super().__init__(("127.0.0.1", fake._port), _Handler)
        self.fake = fake
        # Per run: a stream of the old run that ends late must not count against the new one.
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()

    def track(self, connection: socket.socket, active: bool) -> None:
        with self.fake._lock:
            (self.connections.add if active else self.connections.discard)(connection)

    def client_left(self) -> None:
        if not self.stopping.is_set():  # our own shutdown is not the client leaving
            with self.fake._lock:
                self.fake.disconnects += 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that vanish mid-write are part of the job


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small lines must leave at once, as from Go
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_DELETE = do_PUT = do_GET

    @property
    def fake(self) -> FakeOllama:
        return self.server.fake

    def _dispatch(self) -> None:
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.fake._record(Recorded(self.command, path, headers, body if isinstance(body, dict) else None))

        openai = path.startswith("/v1/")
        if self.fake.openai_only and not openai:
            return self._json(404, {"detail": "Not Found"})  # FastAPI's answer to an unknown path
        key = self.fake.api_key
        if key is not None and headers.get("authorization") != f"Bearer {key}":
            return self._json(401, {"error": "Unauthorized" if openai else "unauthorized"})
        route = _ROUTES.get(path)
        if route is None:
            return self._send(404, b"404 page not found", "text/plain")
        methods, handle = route
        if self.command not in methods:
            return self._send(405, b"405 method not allowed", "text/plain")
        if raw and not isinstance(body, dict):
            return self._json(400, {"error": "invalid character looking for beginning of value"})
        handle(self, body or {})

    # Plain responses

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: JSON) -> None:
        self._send(status, _encode(value), "application/json")

    def _root(self, body: JSON) -> None:
        self._send(200, b"Ollama is running", "text/plain")

    def _version(self, body: JSON) -> None:
        self._json(200, {"version": self.fake.version})

    def _tags(self, body: JSON) -> None:
        if not self._pass_listing_gate():
            return
        with self.fake._lock:
            models = copy.deepcopy(self.fake.models)
        self._json(200, {"models": models})

    def _show(self, body: JSON) -> None:
        name = str(body.get("model") or body.get("name") or "")
        model = self.fake.find(name)
        if model is None:
            return self._json(404, {"error": f"model '{name}' not found"})
        details = model.get("details", {})
        family = details.get("family", "llama")
        size = details.get("parameter_size", "1B")
        scale = {"M": 1e6, "B": 1e9}.get(size[-1:], 1)
        extras = _SHOW_EXTRAS.get(family, {"parameters": "", "template": "{{ .Prompt }}", "license": ""})
        self._json(
            200,
            {
                **extras,
                "modelfile": f'# Modelfile generated by "ollama show"\nFROM {model["name"]}\n',
                "details": details,
                "model_info": {
                    "general.architecture": family,
                    "general.file_type": 15,
                    "general.parameter_count": int(float(size[:-1] or 1) * scale),
                    "general.quantization_version": 2,
                    f"{family}.context_length": details.get("context_length", 4096),
                    f"{family}.embedding_length": 3072,
                    "tokenizer.ggml.model": "gpt2",
                    "tokenizer.ggml.tokens": None,  # filled only with verbose: true
                },
                "capabilities": model.get("capabilities", ["completion"]),
                "modified_at": model.get("modified_at", ""),
            },
        )

    def _ps(self, body: JSON) -> None:
        with self.fake._lock:
            loaded = list(self.fake._loaded.values())
        self._json(
            200,
            {
                "models": [
                    {
                        "name": model["name"],
                        "model": model["name"],
                        "size": model.get("size", 0) + 400_000_000,
                        "digest": model.get("digest", ""),
                        "details": model.get("details", {}),
                        "expires_at": expires_at,
                        "size_vram": model.get("size", 0) + 400_000_000,
                        "context_length": window,
                    }
                    for model, expires_at, window in loaded
                ]
            },
        )

    def _delete(self, body: JSON) -> None:
        name = str(body.get("model") or body.get("name") or "")
        model = self.fake.find(name)
        if model is None:
            return self._json(404, {"error": f"model '{name}' not found"})
        with self.fake._lock:
            self.fake.models.remove(model)
            self.fake._loaded.pop(model["name"], None)
        self._send(200, b"", "text/plain")

    def _copy(self, body: JSON) -> None:
        source, destination = str(body.get("source", "")), str(body.get("destination", ""))
        model = self.fake.find(source)
        if model is None:
            return self._json(404, {"error": f"model '{source}' not found"})
        if not destination:
            return self._json(400, {"error": "destination is required"})
        existing = self.fake.find(destination)
        duplicate = {
            **copy.deepcopy(model),
            "name": full_name(destination),
            "model": full_name(destination),
        }
        with self.fake._lock:
            if existing is not None:
                self.fake.models.remove(existing)
            self.fake.models.insert(0, duplicate)  # newest first, like the real listing
        self._send(200, b"", "text/plain")

    # Streams

    def _pass_listing_gate(self) -> bool:
        """Wait while the listing gate is clear, as a busy server would; False if it stops."""
        while not self.fake.listing_gate.wait(0.05):
            if self.server.stopping.is_set():
                self.close_connection = True
                return False
        return True

    def _send_scripted(self, script: ChatScript) -> None:
        """The status and body a script asks for instead of a stream."""
        text = script.body or ""
        self._send(script.status or 500, text.encode(), _content_type(text))

    def _start_stream(self, content_type: str = "application/x-ndjson") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _write(self, data: bytes) -> bool:
        """Send one chunk; False when the client has gone."""
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            return True
        except OSError:
            self.server.client_left()
            self.close_connection = True
            return False

    def _end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True

    def _cut(self) -> bool:
        """Close mid-body, leaving the chunked encoding unfinished. False, for `_play`."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        return False

    def _wait(self, seconds: float) -> bool:
        """Sleep, watching the socket; False once the client left or the server is stopping."""
        deadline = time.monotonic() + seconds
        while not self.server.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            readable, _, _ = select.select([self.connection], [], [], min(remaining, 0.05))
            if readable:
                try:
                    gone = not self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    gone = True
                if gone:
                    self.server.client_left()
                    self.close_connection = True
                    return False
                time.sleep(min(remaining, 0.05))  # unexpected bytes: don't spin on them
        self.close_connection = True
        return False

    def _chat(self, body: JSON) -> None:
        self._complete(body, generate=False)

    def _generate(self, body: JSON) -> None:
        self._complete(body, generate=True)

    def _complete(self, body: JSON, generate: bool) -> None:
        name = body.get("model")
        if not isinstance(name, str) or not name:
            return self._json(400, {"error": "model is required"})
        model = self.fake.find(name)
        if model is None:
            return self._json(404, {"error": f'model "{name}" not found, try pulling it first'})
        think = body.get("think")
        if think is True and "thinking" not in model.get("capabilities", ()):
            return self._json(400, {"error": f'"{name}" does not support thinking'})
        if body.get("tools") and "tools" not in model.get("capabilities", ()):
            return self._json(400, {"error": f'"{name}" does not support tools'})
        problem = None if generate else _history_problem(body.get("messages"))
        if problem is not None:
            return self._json(400, {"error": problem})

        prefix = b'{"model":%s,"created_at":"%s",' % (_encode(name), _now().encode())
        empty = b'"response":""' if generate else b'"message":{"role":"assistant","content":""}'
        prompt = body.get("prompt") if generate else body.get("messages")
        if not prompt:  # an empty request only loads (or with keep_alive 0 unloads) the model
            self._load(model, body)
            reason = b"unload" if body.get("keep_alive") in (0, "0") else b"load"
            self._start_stream()
            self._write(prefix + empty + b',"done_reason":"%s","done":true}\n' % reason)
            self._end_stream()
            return self._unload_if_asked(model, body)

        script = self.fake._next_script()
        if script.status is not None:
            return self._send_scripted(script)
        reused = self._load(model, body)
        lines = _token_lines(prefix, script, generate, thinking=think is not False)
        self._start_stream()
        if self._play(lines, script):
            stats = _stats(len(lines), prompt, reused)
            if generate:
                stats["context"] = [128006, 882, 128007, 271]
            final = _encode({"done": True, "done_reason": script.done_reason, **stats})
            if self._write(prefix + empty + b"," + final[1:] + b"\n"):
                self._end_stream()
        self._unload_if_asked(model, body)

    def _play(self, lines: list[bytes], script: ChatScript) -> bool:
        """Send the token lines, then the script's fault; True when the done line follows."""
        faults = [script.cut_after, script.error_after, script.malformed_after, script.stall_after]
        stop = min((n for n in faults if n is not None), default=len(lines))
        if script.first_delay and not self._wait(script.first_delay):
            return self._cut()
        while script.hold is not None and not script.hold.is_set():
            if not self._wait(0.02):
                return self._cut()
        burst = min(script.burst, stop)
        if burst and not (self._send_lines(lines[:burst], 0.0) and self._wait(script.burst_pause)):
            return self._cut()
        if not self._send_lines(lines[burst:stop], script.delay):
            return self._cut()
        if stop == script.error_after:
            self._write(_encode({"error": script.error}) + b"\n")
            self._end_stream()
            return False
        if stop == script.malformed_after:
            rest = [b"<html>this is not json</html>\n", *lines[stop:]]
            return self._send_lines(rest, script.delay) or self._cut()
        if stop == script.stall_after:
            self._wait(float("inf"))
            return self._cut()
        if stop == script.cut_after:
            return self._cut()
        return True

    def _send_lines(self, lines: list[bytes], delay: float) -> bool:
        if delay <= 0:
            batch = FakeOllama.BATCH
            return all(self._write(b"".join(lines[i : i + batch])) for i in range(0, len(lines), batch))
        return all(self._wait(delay) and self._write(line) for line in lines)

    def _load(self, model: JSON, body: JSON) -> bool:
        """Mark the model loaded for /api/ps; True when it already was."""
        options = body.get("options") or {}
        trained = model.get("details", {}).get("context_length", 4096)
        window = min(options.get("num_ctx", 4096) if isinstance(options, dict) else 4096, trained)
        with self.fake._lock:
            reused = model["name"] in self.fake._loaded
            self.fake._loaded[model["name"]] = (model, _now(300), window)
        return reused

    def _unload_if_asked(self, model: JSON, body: JSON) -> None:
        if body.get("keep_alive") in (0, "0"):
            with self.fake._lock:
                self.fake._loaded.pop(model["name"], None)

    def _pull(self, body: JSON) -> None:
        name = str(body.get("model") or body.get("name") or "")
        if not name:
            return self._json(400, {"error": "model is required"})
        wanted = full_name(name)
        with self.fake._lock:
            known = self.fake.library + self.fake.models
            model = next((m for m in known if full_name(m.get("name", "")) == wanted), None)

        self._start_stream()
        lines = [{"status": "pulling manifest"}]
        if model is None:
            lines.append({"error": "pull model manifest: file does not exist"})
        else:
            lines += _layers(model)
            lines += [
                {"status": "verifying sha256 digest"},
                {"status": "writing manifest"},
                {"status": "success"},
            ]
            if self.fake.pull_error_after is not None:  # a download that fails part way
                lines = [*lines[: self.fake.pull_error_after], {"error": self.fake.pull_error}]
        for number, line in enumerate(lines):
            if number and self.fake.pull_delay and not self._wait(self.fake.pull_delay):
                self._cut()
                return
            if not self._write(_encode(line) + b"\n"):
                self._cut()
                return
        if model is not None and "error" not in lines[-1] and self.fake.find(wanted) is None:
            with self.fake._lock:
                self.fake.models.insert(0, {**copy.deepcopy(model), "name": wanted, "model": wanted})
        self._end_stream()


def _token_lines(prefix: bytes, script: ChatScript, generate: bool, thinking: bool) -> list[bytes]:
    """The streamed lines of a reply, thinking first, rendered once up front."""
    if generate:
        think = prefix + b'"response":"","thinking":%s,"done":false}\n'
        answer = prefix + b'"response":%s,"done":false}\n'
    else:
        head = prefix + b'"message":{"role":"assistant","content":'
        think = head + b'"","thinking":%s},"done":false}\n'
        answer = head + b'%s},"done":false}\n'
    lines = [think % _encode(token) for token in script.thinking] if thinking else []
    lines += [answer % _encode(token) for token in script.tokens]
    if script.tool_calls and not generate:
        calls = head + b'"","tool_calls":%s},"done":false}\n'
        apart = script.tool_calls_apart
        groups = [[call] for call in script.tool_calls] if apart else [list(script.tool_calls)]
        lines += [calls % _encode(group) for group in groups]
    return lines


def _history_problem(messages: Any) -> str | None:
    """What Go's decoder says of a history it cannot read: call arguments must be objects."""
    for message in messages if isinstance(messages, list) else ():
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        for call in calls if isinstance(calls, list) else ():
            function = call.get("function") if isinstance(call, dict) else None
            arguments = function.get("arguments") if isinstance(function, dict) else None
            if arguments is not None and not isinstance(arguments, dict):
                kind = {str: "string", list: "array", bool: "bool"}.get(type(arguments), "number")
                return (
                    f"json: cannot unmarshal {kind} into Go struct field "
                    "ToolCallFunction.messages.tool_calls.function.arguments of type "
                    "api.ToolCallFunctionArguments"
                )
    return None


def _layers(model: JSON) -> Iterator[JSON]:
    """Progress lines of one big weights blob and three small ones."""
    size = int(model.get("size", 1_000_000))
    blobs = [("weights", size - 10_000), ("template", 1_400), ("license", 7_700), ("params", 900)]
    for kind, total in blobs:
        digest = _digest(f"{model.get('name')}/{kind}")
        status = {"status": f"pulling {digest[:12]}", "digest": f"sha256:{digest}", "total": total}
        steps = (0, total // 4, total // 2, total * 3 // 4, total) if kind == "weights" else (total,)
        for completed in steps:
            # No `completed` before the first bytes arrive, as the real server does.
            yield {**status, "completed": completed} if completed else dict(status)


def _content_type(body: str) -> str:
    try:
        json.loads(body)
        return "application/json"
    except ValueError:
        return "text/html" if body.lstrip().startswith("<") else "text/plain"


def _encode(value: Any) -> bytes:
    return _ENCODER.encode(value).encode()


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # compact UTF-8, as Go


def _stats(eval_count: int, prompt: Any, reused: bool) -> JSON:
    """Final-line statistics in nanoseconds; zero values are left out, as Go does."""
    prompt_count = len(json.dumps(prompt)) // 4 + 8
    load = 12_000_000 if reused else 1_250_000_000
    stats = {
        "total_duration": load + prompt_count * 400_000 + eval_count * 16_000_000 + 2_000_000,
        "load_duration": load,
        "prompt_eval_count": prompt_count,
        "prompt_eval_duration": prompt_count * 400_000,
        "eval_count": eval_count,
        "eval_duration": eval_count * 16_000_000,
    }
    return {key: value for key, value in stats.items() if value}


_ROUTES = {
    "/": (("GET", "HEAD"), _Handler._root),
    "/api/version": (("GET", "HEAD"), _Handler._version),
    "/api/tags": (("GET", "HEAD"), _Handler._tags),
    "/api/show": (("POST",), _Handler._show),
    "/api/ps": (("GET",), _Handler._ps),
    "/api/chat": (("POST",), _Handler._chat),
    "/api/generate": (("POST",), _Handler._generate),
    "/api/pull": (("POST",), _Handler._pull),
    "/api/delete": (("DELETE",), _Handler._delete),
    "/api/copy": (("POST",), _Handler._copy),
    "/v1/models": (("GET",), openai_routes.models),
    "/v1/chat/completions": (("POST",), openai_routes.chat_completions),
}


def main() -> None:
    """Serve by hand, to look at the app against it: `python tests/ollama_server.py 11500`."""
    import sys

    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.03

    class Paced(FakeOllama):
        """Every reply streams at `delay` seconds a token."""

        def _next_script(self) -> ChatScript:
            return ChatScript(delay=delay)

    server = Paced()
    server._port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    with server:
        print(f"fake Ollama at {server.url}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()

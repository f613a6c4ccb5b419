"""Items 1 and 2: how fast a reply can be read, bare and through the app's client.

The ceiling is the least a correct reader must do: httpx's own line splitting and one
`json.loads` per line to take the token out. The app's `OllamaClient.chat` does the same work
plus its typed errors and `ChatChunk`s. Both read the same stream from the same server
process, alternating, with the connection already open; the median run counts.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import httpx

from app.client import OllamaClient
from app.protocol import ChatMessage, ChatRequest
from benchmarks.fake_server import ServerProcess, reply_text
from benchmarks.report import Figure, ItemResult, prose
from benchmarks.stats import median

MODEL = "llama3.2:latest"
CLIENT_TARGET = 0.90


def request() -> ChatRequest:
    return ChatRequest(MODEL, (ChatMessage("user", "Explain binary search."),))


async def bare_read(http: httpx.AsyncClient) -> tuple[float, float, str]:
    """Seconds from sending the request to the done line, CPU seconds spent here, the text."""
    parts: list[str] = []
    cpu = time.process_time()
    started = time.perf_counter()
    async with http.stream("POST", "/api/chat", json=request().to_json()) as response:
        async for line in response.aiter_lines():
            if line:
                data = json.loads(line)
                if data.get("done"):
                    break
                parts.append(data["message"]["content"])
    return time.perf_counter() - started, time.process_time() - cpu, "".join(parts)


async def client_read(client: OllamaClient) -> tuple[float, float, str]:
    parts: list[str] = []
    cpu = time.process_time()
    started = time.perf_counter()
    async for batch in client.chat_batches(request()):  # as the app reads it
        for chunk in batch:
            parts.append(chunk.content)
    return time.perf_counter() - started, time.process_time() - cpu, "".join(parts)


@dataclass(slots=True)
class _Runs:
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    correct: bool = True

    def add(self, counted: bool, seconds: float, cpu: float, text: str, expected: str) -> None:
        self.correct &= text == expected
        if counted:
            self.seconds.append(seconds)
            self.cpu.append(cpu)


async def _measure(server: ServerProcess, tokens: int, runs: int) -> tuple[_Runs, _Runs]:
    expected = reply_text(tokens)
    bare, client_runs = _Runs(), _Runs()
    http = httpx.AsyncClient(base_url=server.url, timeout=None)
    async with http, OllamaClient(server.url) as client:
        await http.get("/api/version")  # both start with an open connection
        await client.version()
        for run in range(runs + 1):  # the first round warms both up and is not counted
            server.script(tokens)
            bare.add(run > 0, *await bare_read(http), expected)
            server.script(tokens)
            client_runs.add(run > 0, *await client_read(client), expected)
    return bare, client_runs


def _ms(values: list[float]) -> str:
    return ", ".join(f"{value * 1000:.0f}" for value in values)


def run(server: ServerProcess, tokens: int, runs: int) -> list[ItemResult]:
    bare, client = asyncio.run(_measure(server, tokens, runs))
    ceiling = tokens / median(bare.seconds)
    speed = tokens / median(client.seconds)
    ceiling_result = ItemResult(
        "1",
        "Client limit",
        figures=[
            Figure(
                "1",
                f"bare httpx loop, {tokens:,} tokens",
                ceiling,
                f"{ceiling:,.0f} tok/s",
                "(the ceiling)",
            )
        ],
        checks={"bare loop read the whole reply": bare.correct},
        notes=[
            f"A bare `httpx.AsyncClient.stream` + `aiter_lines()` + `json.loads` loop reading the "
            f"fake server's `/api/chat` stream of {tokens:,} tokens sent as fast as it can (256 "
            f"lines per chunk), the server in a process of its own. Median of {runs} runs, "
            f"alternating with item 2, the connection already open. Wall time per run: "
            f"{_ms(bare.seconds)} ms; CPU time of the reading process: {_ms(bare.cpu)} ms "
            f"(busy {median(bare.cpu) / median(bare.seconds):.0%} of the time; the rest is "
            "spent waiting for the server)." + " " + " ".join(prose(__doc__)),
        ],
        data={"seconds": bare.seconds, "cpu": bare.cpu, "tokens_per_second": ceiling},
    )
    client_result = ItemResult(
        "2",
        "The app's client",
        figures=[
            Figure(
                "2",
                f"OllamaClient.chat, {tokens:,} tokens",
                speed,
                f"{speed:,.0f} tok/s",
                f"{ceiling:,.0f} tok/s",
                speed / ceiling,
                f">= {CLIENT_TARGET:.0%} of the ceiling",
                speed / ceiling >= CLIENT_TARGET,
            )
        ],
        checks={"client read the whole reply": client.correct},
        notes=[
            "`OllamaClient.chat()` on the same stream, every line turned into a `ChatChunk`. "
            + (
                "It can beat the bare loop: it splits lines on bytes itself and decodes them with "
                "`JSONDecoder.raw_decode`, skipping httpx's text decoder and line splitter and the "
                "whitespace checks of `json.loads`. "
                if speed > ceiling
                else ""
            )
            + f"Wall time per run: {_ms(client.seconds)} ms; CPU time: {_ms(client.cpu)} ms "
            f"(the bare loop's median: {median(bare.cpu) * 1000:.0f} ms).",
        ],
        data={"seconds": client.seconds, "cpu": client.cpu, "tokens_per_second": speed},
    )
    return [ceiling_result, client_result]

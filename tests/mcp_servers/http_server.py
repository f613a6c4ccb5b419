"""A streamable HTTP MCP server on 127.0.0.1 for the tests: `python http_server.py`.

Prints `PORT <n>` once it listens on an ephemeral port. Besides the MCP endpoint `/mcp` it has
`/unauthorized` (401, as a server that wants other credentials) and `/broken` (500).
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).parent))

from tools import make_server


async def unauthorized(request: Request) -> Response:
    return JSONResponse(
        {"error": "invalid_token", "error_description": "The access token is invalid"},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def broken(request: Request) -> Response:
    return PlainTextResponse("Internal Server Error", status_code=500)


def main() -> None:
    app = make_server("http-test").streamable_http_app(streamable_http_path="/mcp")
    methods = ["GET", "POST", "DELETE"]
    app.router.routes += [
        Route("/unauthorized", unauthorized, methods=methods),
        Route("/broken", broken, methods=methods),
    ]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])


if __name__ == "__main__":
    main()

"""Tools shared by the test MCP servers, written with the SDK as any server author would."""

from __future__ import annotations

import asyncio
import base64
import os

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import EmbeddedResource, ImageContent, ResourceLink, TextContent, TextResourceContents

HOSTILE = (
    "before \x1b[31mred\x1b[0m \x1b]0;owned title\x07 \x1b]52;c;aGVsbG8=\x07"
    " \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ [bold red]markup[/] \x9b2J after"
)
PIXEL = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 92).decode()


def make_server(name: str) -> MCPServer:
    server = MCPServer(name, log_level="WARNING")

    @server.tool()
    def echo(text: str) -> str:
        """Say the text back."""
        return text

    @server.tool()
    def add(a: float, b: float) -> float:
        """Add two numbers."""
        return a + b

    @server.tool()
    async def sleep(seconds: float) -> str:
        """Wait, then say so."""
        await asyncio.sleep(seconds)
        return f"slept {seconds}"

    @server.tool()
    def fail(reason: str) -> str:
        """Always fails, saying why."""
        raise ToolError(f"could not do it: {reason}")

    @server.tool()
    def hostile() -> str:
        """Text full of terminal escape codes and markup."""
        return HOSTILE

    @server.tool()
    def huge(megabytes: float) -> str:
        """A very long text."""
        return "x" * int(megabytes * 1_000_000)

    @server.tool()
    def media() -> list[TextContent | ImageContent | EmbeddedResource | ResourceLink]:
        """Several kinds of content at once."""
        return [
            TextContent(type="text", text="a picture:"),
            ImageContent(type="image", data=PIXEL, mime_type="image/png"),
            EmbeddedResource(
                type="resource",
                resource=TextResourceContents(uri="file:///notes/a.md", text="# Notes", mime_type="text/markdown"),
            ),
            ResourceLink(type="resource_link", uri="file:///notes/b.md", name="b.md"),
        ]

    @server.tool()
    def pid() -> int:
        """This server's process id."""
        return os.getpid()

    @server.tool()
    def env_has(name: str) -> str:
        """Whether an environment variable is set (never its value)."""
        return "set" if name in os.environ else "unset"

    @server.tool()
    def header_has(name: str, ctx: Context) -> str:
        """Whether the HTTP request carried a header (never its value)."""
        headers = ctx.headers or {}
        return "set" if name.lower() in {key.lower() for key in headers} else "unset"

    @server.tool()
    def die() -> str:
        """Exits the whole server in the middle of the call."""
        os._exit(3)

    return server

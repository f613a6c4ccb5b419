"""A small stdio MCP server of notes, for the screenshots: `python notes_server.py`."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

NOTES = {
    "todo.md": "# Todo\n\n- [ ] Call the dentist about the 14th\n- [ ] Renew passport\n- [x] Fix the bike light",
    "shopping.md": "- oat milk\n- lentils\n- coffee",
    "ideas/garden.md": "# Garden\n\nPlant garlic in October; move the rosemary to the sunny corner.",
}

server = MCPServer("notes", log_level="WARNING")


@server.tool()
def list_notes(folder: str) -> str:
    """List the notes in a folder."""
    return "\n".join(NOTES)


@server.tool()
def read_note(path: str) -> str:
    """Read one note."""
    return NOTES.get(path.rsplit("notes/", 1)[-1], f"no note at {path}")


@server.tool()
def search_notes(query: str, limit: int = 5) -> str:
    """Find notes that mention the words."""
    found = [name for name, text in NOTES.items() if query.lower() in text.lower()]
    return "\n".join(found[:limit])


if __name__ == "__main__":
    server.run()

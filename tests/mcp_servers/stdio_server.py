"""A stdio MCP server for the tests: `python stdio_server.py`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from tools import make_server

if __name__ == "__main__":
    print("test server starting", file=sys.stderr, flush=True)  # stderr must never reach the app's terminal
    make_server("stdio-test").run()

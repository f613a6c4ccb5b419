"""`python -m app` runs the same command line as `ollama-tui`."""

from app.cli import main

raise SystemExit(main())

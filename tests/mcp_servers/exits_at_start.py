"""A server that gives up before it answers anything, saying why on stderr."""

import sys

print("loading the index", file=sys.stderr)
print("fatal: cannot open ~/notes: no such directory", file=sys.stderr)
sys.exit(2)

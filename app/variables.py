"""`${VAR}` in a config file's values (keys, headers, a server's environment), taken from the
environment when the app starts, so that secrets need not be written in the file."""

from __future__ import annotations

import re
from collections.abc import Mapping

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def expand(value: str, environ: Mapping[str, str], where: str, error: type[ValueError] = ValueError) -> str:
    """`value` with each `${VAR}` replaced; `error` says which, naming `where` (the key)."""

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if not _NAME.fullmatch(name):
            raise error(f"{where} uses ${{{name}}}, which is not a variable name.")
        if name not in environ:
            raise error(f"{where} uses ${{{name}}}, which is not set in the environment.")
        return environ[name]

    return _VARIABLE.sub(variable, value)

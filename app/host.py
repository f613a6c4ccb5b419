"""Where Ollama is: `OLLAMA_HOST` / `--host` values turned into a base URL.

Parsing follows ollama-python's `_parse_host`, plus what Ollama's own tools do: surrounding
quotes and spaces are stripped, and the listen-on-everything addresses are rewritten to
loopback, since `0.0.0.0` as a destination fails on some systems.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import unquote, urlsplit, urlunsplit

DEFAULT_PORT = 11434
_SCHEME_PORTS = {"http": 80, "https": 443}
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def parse_host(value: str | None) -> str:
    """The base URL for an `OLLAMA_HOST` value: `scheme://host:port[/prefix]`.

    Without a scheme the port defaults to 11434; an explicit `http://` or `https://` switches
    it to 80 / 443, as ollama-python does. `user:password@` is kept, for `split_credentials`.
    Raises ValueError for another scheme or a port that is not a number; its text shows the
    value with any password masked.
    """
    text = (value or "").strip().strip("\"'").strip()
    scheme, separator, rest = text.partition("://")
    if separator:
        scheme = scheme.lower()
        if scheme not in _SCHEME_PORTS:
            raise ValueError(f"Unsupported scheme {scheme!r} in Ollama host {_masked(text)!r}.")
        port = _SCHEME_PORTS[scheme]
    else:
        scheme, rest, port = "http", text, DEFAULT_PORT

    try:
        split = urlsplit(f"{scheme}://{rest}")
    except ValueError:  # such as an unclosed IPv6 bracket
        raise ValueError(f"Invalid Ollama host {_masked(text)!r}.") from None
    host = split.hostname or "127.0.0.1"  # lower-cased, IPv6 brackets removed
    host = _WILDCARDS.get(host, host)
    if _is_ipv6(host):
        host = f"[{host}]"
    try:
        port = split.port or port
    except ValueError:
        raise ValueError(f"Invalid port in Ollama host {_masked(text)!r}.") from None
    userinfo, at, _ = split.netloc.rpartition("@")
    base = f"{scheme}://{userinfo}{at}{host}:{port}"
    path = split.path.strip("/")
    return f"{base}/{path}" if path else base


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """`url` without `user:password@`, and the (decoded) pair for HTTP Basic auth.

    Keeps the secret out of anything shown to people, such as the status bar or error text.
    """
    split = urlsplit(url)
    userinfo, at, hostport = split.netloc.rpartition("@")
    if not at:
        return url, None
    user, _, password = userinfo.partition(":")
    return urlunsplit(split._replace(netloc=hostport)), (unquote(user), unquote(password))


def _masked(text: str) -> str:
    """A host value as it may be shown: `user:password@` becomes `***@`."""
    scheme, separator, rest = text.rpartition("://")
    netloc, slash, path = rest.partition("/")
    _, at, hostport = netloc.rpartition("@")
    return f"{scheme}{separator}{'***@' if at else ''}{hostport}{slash}{path}"


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False

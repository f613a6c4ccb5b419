"""The `[servers.NAME]` sections of the config file: the servers besides `local`.

```toml
[servers.gpu]
url = "http://gpu-box:11434"           # kind defaults to "ollama"

[servers.cluster]
kind = "openai"                         # any OpenAI-compatible /v1 endpoint
url = "http://vllm.internal:8000/v1"
api_key = "${VLLM_API_KEY}"             # from the environment, never stored
```

`parse_servers_config()` takes the whole parsed config document (a mapping, as tomllib or
tomlkit gives it) and returns typed settings plus one sentence per problem, each naming its
key; a server with a problem is left out, so nothing talks to a half-configured one. `${VAR}`
in `api_key` is expanded from the environment here, at start: the key then lives in memory
only, and no `repr()` shows it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from app.host import parse_host, split_credentials
from app.variables import expand

SERVERS_KEY = "servers"
LOCAL = "local"  # the server of --host / OLLAMA_HOST / host
KINDS = ("ollama", "openai")
NAME = re.compile(r"[A-Za-z0-9_-]+")  # it follows the "@" of `model@server`
_KEYS = ("kind", "url", "api_key")


class ServerConfigError(ValueError):
    """A server setting that cannot be used, in one sentence naming its key."""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """One server: its name (as in `model@name`), kind, URL and key (expanded)."""

    name: str
    kind: str = "ollama"  # "ollama" | "openai"
    url: str = ""  # an Ollama base URL as parse_host gives it, or the endpoint as written
    api_key: str | None = None

    def __repr__(self) -> str:
        # Textual prints the locals of a crash: neither the key nor a password in the URL.
        key = "'***'" if self.api_key else "None"
        return f"ServerConfig(name={self.name!r}, kind={self.kind!r}, url={split_credentials(self.url)[0]!r}, api_key={key})"


def parse_servers_config(
    document: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> tuple[tuple[ServerConfig, ...], tuple[str, ...]]:
    """The servers of a parsed config document, and a sentence for each problem."""
    environ = os.environ if environ is None else environ
    unwrap = getattr(document, "unwrap", None)  # a tomlkit document: plain Python values, please
    plain: Mapping[str, Any] = unwrap() if callable(unwrap) else document
    sections = plain.get(SERVERS_KEY, {})
    if not isinstance(sections, Mapping):
        return (), (f"{SERVERS_KEY} must be a table of servers ([{SERVERS_KEY}.NAME]).",)
    servers: list[ServerConfig] = []
    problems: list[str] = []
    for name, section in sections.items():
        try:
            servers.append(_server(str(name), section, environ))
        except ServerConfigError as error:
            problems.append(str(error))
    return tuple(servers), tuple(problems)


def _server(name: str, section: object, environ: Mapping[str, str]) -> ServerConfig:
    where = f"{SERVERS_KEY}.{_key(name)}"
    if not NAME.fullmatch(name):
        raise ServerConfigError(
            f'{where}: a server name may use only letters, digits, "-" and "_" (it follows the @ of model@NAME).'
        )
    if name == LOCAL:
        raise ServerConfigError(
            f"{where}: the name {LOCAL} is the server of --host / OLLAMA_HOST / host; pick another."
        )
    if not isinstance(section, Mapping):
        raise ServerConfigError(f"{where} must be a table ([{where}]).")
    for key in section:
        if key not in _KEYS:
            raise ServerConfigError(f"{where}.{_key(str(key))} is not a server setting (they are: {', '.join(_KEYS)}).")
    kind = section.get("kind", "ollama")
    if kind not in KINDS:
        raise ServerConfigError(f'{where}.kind must be "ollama" or "openai", not {_shown(kind)}.')
    url = section.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ServerConfigError(f'{where}.url is missing: the address of the server, such as "http://gpu-box:11434".')
    api_key = section.get("api_key")
    if api_key is not None and not isinstance(api_key, str):
        raise ServerConfigError(f"{where}.api_key must be a string.")
    if api_key is not None:
        api_key = expand(api_key, environ, f"{where}.api_key", error=ServerConfigError)
    return ServerConfig(
        name=name,
        kind=kind,
        url=_ollama_url(url, where) if kind == "ollama" else _openai_url(url, where),
        api_key=api_key or None,  # an empty key is no key: the server says if it wants one
    )


def _ollama_url(url: str, where: str) -> str:
    """As OLLAMA_HOST is read: `gpu-box` alone is http://gpu-box:11434."""
    try:
        return parse_host(url)
    except ValueError as error:
        raise ServerConfigError(f"{where}.url: {error}") from None


def _openai_url(url: str, where: str) -> str:
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise ServerConfigError(f'{where}.url must start with http:// or https://, such as "http://vllm:8000/v1".')
    try:
        host = httpx.URL(url).host
    except httpx.InvalidURL:
        host = ""
    if not host:
        raise ServerConfigError(f"{where}.url names no host.")
    return url.rstrip("/")


def _shown(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _key(part: str) -> str:
    """A part of a dotted TOML key, quoted when it needs it (TOML's strings escape as JSON's)."""
    return part if NAME.fullmatch(part) else json.dumps(part)

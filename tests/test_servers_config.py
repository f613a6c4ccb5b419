"""The `[servers.NAME]` sections: typed settings, keys from the environment, a sentence per problem."""

from __future__ import annotations

import tomllib

from app.servers.config import ServerConfig, parse_servers_config

EXAMPLE = """
[servers.gpu]
url = "http://gpu-box:11434"           # kind defaults to "ollama"

[servers.cluster]
kind = "openai"                         # any OpenAI-compatible /v1 endpoint
url = "http://vllm.internal:8000/v1"
api_key = "${VLLM_API_KEY}"             # from the environment, never stored
"""
KEY = "sk-cluster-8c2f71d0"


def parse(text: str, **environ: str) -> tuple[tuple[ServerConfig, ...], tuple[str, ...]]:
    return parse_servers_config(tomllib.loads(text), environ)


def test_the_example() -> None:
    servers, problems = parse(EXAMPLE, VLLM_API_KEY=KEY)
    assert problems == ()
    assert servers == (
        ServerConfig("gpu", "ollama", "http://gpu-box:11434"),
        ServerConfig("cluster", "openai", "http://vllm.internal:8000/v1", KEY),
    )


def test_no_servers_is_no_problem() -> None:
    assert parse("") == ((), ())
    assert parse('host = "http://127.0.0.1:11434"') == ((), ())


def test_urls_are_read_for_their_kind() -> None:
    servers, problems = parse(
        """
        [servers.a]
        url = "gpu-box"
        [servers.b]
        url = "https://ollama.example.com"
        [servers.c]
        kind = "openai"
        url = "http://sglang:30000/v1/"
        [servers.d]
        kind = "openai"
        url = "http://me:pa55@llama:8080"
        """
    )
    assert problems == ()
    assert [s.url for s in servers] == [
        "http://gpu-box:11434",  # as OLLAMA_HOST reads it
        "https://ollama.example.com:443",
        "http://sglang:30000/v1",
        "http://me:pa55@llama:8080",  # the client adds /v1, and Basic auth from the URL
    ]


def test_keys_come_from_the_environment_and_may_be_written_or_empty() -> None:
    servers, problems = parse(
        """
        [servers.a]
        kind = "openai"
        url = "http://a/v1"
        api_key = "Bearer-less ${PART_ONE}-${PART_TWO}"
        [servers.b]
        kind = "openai"
        url = "http://b/v1"
        api_key = "${EMPTY}"
        """,
        PART_ONE="x",
        PART_TWO="y",
        EMPTY="",
    )
    assert problems == ()
    assert [s.api_key for s in servers] == ["Bearer-less x-y", None]


def test_each_problem_is_a_sentence_naming_its_key_and_leaves_the_server_out() -> None:
    servers, problems = parse(
        """
        [servers.ok]
        url = "http://fine:11434"
        [servers.unset]
        kind = "openai"
        url = "http://vllm/v1"
        api_key = "${VLLM_API_KEY}"
        [servers.badvar]
        kind = "openai"
        url = "http://vllm/v1"
        api_key = "${1NOPE}"
        [servers.typo]
        url = "http://x"
        apikey = "k"
        [servers.kind]
        kind = "vllm"
        url = "http://x"
        [servers.nourl]
        kind = "openai"
        [servers.numkey]
        kind = "openai"
        url = "http://x/v1"
        api_key = 42
        [servers.scheme]
        kind = "openai"
        url = "vllm:8000/v1"
        [servers.nohost]
        kind = "openai"
        url = "http:///v1"
        [servers.ftp]
        url = "ftp://gpu"
        [servers.local]
        url = "http://elsewhere"
        [servers."my gpu"]
        url = "http://x"
        [servers]
        flat = "http://x"
        """
    )
    assert [s.name for s in servers] == ["ok"]
    assert problems == (
        "servers.unset.api_key uses ${VLLM_API_KEY}, which is not set in the environment.",
        "servers.badvar.api_key uses ${1NOPE}, which is not a variable name.",
        "servers.typo.apikey is not a server setting (they are: kind, url, api_key).",
        'servers.kind.kind must be "ollama" or "openai", not "vllm".',
        'servers.nourl.url is missing: the address of the server, such as "http://gpu-box:11434".',
        "servers.numkey.api_key must be a string.",
        'servers.scheme.url must start with http:// or https://, such as "http://vllm:8000/v1".',
        "servers.nohost.url names no host.",
        "servers.ftp.url: Unsupported scheme 'ftp' in Ollama host 'ftp://gpu'.",
        "servers.local: the name local is the server of --host / OLLAMA_HOST / host; pick another.",
        'servers."my gpu": a server name may use only letters, digits, "-" and "_" (it follows the @ of model@NAME).',
        "servers.flat must be a table ([servers.flat]).",
    )


def test_servers_must_be_a_table() -> None:
    assert parse('servers = ["http://x"]') == ((), ("servers must be a table of servers ([servers.NAME]).",))


def test_repr_hides_the_key_and_the_password() -> None:
    config = ServerConfig("cluster", "openai", "http://me:pa55word@vllm/v1", KEY)
    shown = repr(config)
    assert KEY not in shown and "pa55word" not in shown
    assert shown == "ServerConfig(name='cluster', kind='openai', url='http://vllm/v1', api_key='***')"
    assert repr(ServerConfig("gpu", url="http://gpu:11434")).endswith("api_key=None)")

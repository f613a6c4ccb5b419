from __future__ import annotations

import pytest

from app.host import parse_host, split_credentials


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # unset or empty
        (None, "http://127.0.0.1:11434"),
        ("", "http://127.0.0.1:11434"),
        ("   ", "http://127.0.0.1:11434"),
        # bare hosts keep Ollama's port
        ("10.0.0.5", "http://10.0.0.5:11434"),
        ("example.com", "http://example.com:11434"),
        ("Example.COM", "http://example.com:11434"),
        # port only
        (":9000", "http://127.0.0.1:9000"),
        # path prefix kept, trailing slash dropped
        ("example.com:9000/ollama/", "http://example.com:9000/ollama"),
        ("example.com/ollama", "http://example.com:11434/ollama"),
        ("https://example.com/api/ollama/", "https://example.com:443/api/ollama"),
        # an explicit scheme switches the default port to 80 / 443
        ("http://example.com", "http://example.com:80"),
        ("https://example.com", "https://example.com:443"),
        ("HTTPS://example.com", "https://example.com:443"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("http://10.0.0.5:11434", "http://10.0.0.5:11434"),
        # IPv6 needs brackets
        ("[::1]", "http://[::1]:11434"),
        ("[::1]:9000", "http://[::1]:9000"),
        ("http://[fe80::1]:9000/x", "http://[fe80::1]:9000/x"),
        # listen-on-everything addresses become loopback
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),
        ("http://0.0.0.0:8080", "http://127.0.0.1:8080"),
        ("[::]", "http://[::1]:11434"),
        ("[::]:9000", "http://[::1]:9000"),
        # quotes and spaces around the value, as shells and .env files leave them
        ('"example.com:9000"', "http://example.com:9000"),
        ("  'http://example.com'  ", "http://example.com:80"),
        (' " 10.0.0.5 " ', "http://10.0.0.5:11434"),
        # credentials survive parsing so the client can turn them into Basic auth
        ("https://me:s3cret@example.com", "https://me:s3cret@example.com:443"),
        ("me:pw@0.0.0.0:9000/p", "http://me:pw@127.0.0.1:9000/p"),
    ],
)
def test_parse_host(value: str | None, expected: str) -> None:
    assert parse_host(value) == expected


@pytest.mark.parametrize("value", ["ftp://example.com", "example.com:port", "example.com:99999"])
def test_parse_host_rejects_nonsense(value: str) -> None:
    with pytest.raises(ValueError, match="Ollama host"):
        parse_host(value)


def test_split_credentials_removes_the_secret() -> None:
    url, credentials = split_credentials("https://me:s3cret@example.com:443/ollama")
    assert url == "https://example.com:443/ollama"
    assert credentials == ("me", "s3cret")
    assert "s3cret" not in url


def test_split_credentials_decodes_escapes_and_keeps_at_signs_in_the_password() -> None:
    url, credentials = split_credentials("http://a%40b:p@ss%3Aword@host:80")
    assert url == "http://host:80"
    assert credentials == ("a@b", "p@ss:word")


def test_split_credentials_user_without_password() -> None:
    assert split_credentials("http://token@host:80") == ("http://host:80", ("token", ""))


def test_split_credentials_without_credentials() -> None:
    assert split_credentials("http://127.0.0.1:11434") == ("http://127.0.0.1:11434", None)

"""Proxies and TLS against real local servers: a forward proxy and https test servers.

The "remote" host ``ollama.remote.test`` has no DNS entry: only the proxy knows where it
is (its route table points at a test server on 127.0.0.1), so a request that reaches the
server for that name went through the proxy, and one that did not fails to connect.
The test CA exists only in a temporary folder, so it is never in the system store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.core.explain import explain
from launcher.ollama import (
    OllamaClient,
    OllamaConnectionError,
    OllamaProxyError,
    OllamaTLSError,
)
from tests.conftest import free_port, run
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ollama_server.certs import Leaf, TestCA, self_signed
from tests.ollama_server.proxy import ForwardProxy

REMOTE = "ollama.remote.test"
MESSAGES = [{"role": "user", "content": "Hello"}]
UNTRUSTED = "the certificate was issued by an authority this computer does not trust"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start from an environment without proxies (the developer's shell may have some)."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    with ForwardProxy() as started:
        yield started


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path)


def serve(tls: Leaf | None = None) -> OllamaTestServer:
    server = OllamaTestServer(tls=tls.server_context() if tls else None)
    server.add_model("llama3.2")
    server.reply = ReplySpec(text="Through the proxy.")
    return server.start()


async def version_and_chat(client: OllamaClient) -> tuple[str, str]:
    version = await client.version(retries=0)
    async with client.chat("llama3.2", MESSAGES) as chunks:
        text = "".join([chunk.content async for chunk in chunks])
    return version, text


def call(url: str, **kw: object) -> tuple[str, str]:
    async def main() -> tuple[str, str]:
        async with OllamaClient(url, **kw) as client:  # type: ignore[arg-type]
            return await version_and_chat(client)

    return run(main())


def failure(url: str, **kw: object) -> BaseException:
    async def main() -> BaseException:
        async with OllamaClient(url, **kw) as client:  # type: ignore[arg-type]
            try:
                await client.version(retries=0)
            except Exception as exc:
                return exc
        raise AssertionError("the request succeeded")

    return run(main())


# --- proxies ---------------------------------------------------------------------------------


def test_remote_http_host_goes_through_the_env_proxy(
    proxy: ForwardProxy, ollama_server: OllamaTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ollama_server.reply = ReplySpec(text="Through the proxy.")
    proxy.route(REMOTE, 11434, ("127.0.0.1", ollama_server.port))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    assert call(f"http://{REMOTE}:11434") == ("0.12.3", "Through the proxy.")
    targets = [(s.method, s.target) for s in proxy.seen]
    assert ("GET", f"http://{REMOTE}:11434/api/version") in targets
    assert ("POST", f"http://{REMOTE}:11434/api/chat") in targets


def test_loopback_is_never_proxied(
    proxy: ForwardProxy, ollama_server: OllamaTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ollama_server.reply = ReplySpec(text="Direct.")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy.url)
    assert call(ollama_server.url) == ("0.12.3", "Direct.")
    assert call(f"http://localhost:{ollama_server.port}") == ("0.12.3", "Direct.")
    # Even a proxy chosen for the host itself is not used for loopback.
    assert call(ollama_server.url, proxy=proxy.url) == ("0.12.3", "Direct.")
    assert proxy.seen == []


def test_no_proxy_and_proxy_none_go_direct(
    proxy: ForwardProxy, ollama_server: OllamaTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy.route(REMOTE, 11434, ("127.0.0.1", ollama_server.port))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", REMOTE)
    assert isinstance(failure(f"http://{REMOTE}:11434"), OllamaConnectionError)
    monkeypatch.delenv("NO_PROXY")
    assert isinstance(failure(f"http://{REMOTE}:11434", proxy="none"), OllamaConnectionError)
    assert proxy.seen == []  # the name does not resolve: it was tried directly, twice


def test_per_host_proxy_url_without_env(
    proxy: ForwardProxy, ollama_server: OllamaTestServer
) -> None:
    ollama_server.reply = ReplySpec(text="Through the proxy.")
    proxy.route(REMOTE, 11434, ("127.0.0.1", ollama_server.port))
    assert call(f"http://{REMOTE}:11434", proxy=proxy.url) == ("0.12.3", "Through the proxy.")
    assert {s.method for s in proxy.seen} == {"GET", "POST"}


def test_stop_through_a_proxy_reaches_the_server(
    proxy: ForwardProxy, ollama_server: OllamaTestServer
) -> None:
    ollama_server.reply = ReplySpec(text="word " * 500, chunk_interval=0.02)
    proxy.route(REMOTE, 11434, ("127.0.0.1", ollama_server.port))

    async def main() -> None:
        async with OllamaClient(f"http://{REMOTE}:11434", proxy=proxy.url) as client:
            async with client.chat("llama3.2", MESSAGES) as chunks:
                async for chunk in chunks:
                    if chunk.content:
                        break

    run(main())
    ollama_server.wait_for(lambda: ollama_server.streams[-1].closed_by_client(), 2.0)
    assert not ollama_server.streams[-1].finished


def test_a_proxy_setting_that_is_not_a_url_is_a_clear_error() -> None:
    exc = failure(f"http://{REMOTE}:11434", proxy="ftp://proxy.example:21")
    assert isinstance(exc, OllamaConnectionError)
    assert "http://HOST:PORT" in str(exc)


# --- TLS ---------------------------------------------------------------------------------


def test_https_through_connect_with_the_ca_file(
    proxy: ForwardProxy, ca: TestCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(ca.leaf("remote"))
    try:
        proxy.route(REMOTE, 443, ("127.0.0.1", server.port))
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        got = call(f"https://{REMOTE}", ca_file=str(ca.pem))
        assert got == ("0.12.3", "Through the proxy.")
        assert {(s.method, s.target) for s in proxy.seen} == {("CONNECT", f"{REMOTE}:443")}
        assert server.requests_to("/api/version")  # it arrived, decrypted, at the server
    finally:
        server.stop()


def test_abort_over_https_through_connect_reaches_the_server(
    proxy: ForwardProxy, ca: TestCA
) -> None:
    """Stop's synchronous hang-up works through TLS inside a CONNECT tunnel: the socket
    shut down is the proxy's, which then closes its side to the server."""
    server = serve(ca.leaf("remote"))
    server.reply = ReplySpec(text="word " * 500, chunk_interval=0.02)
    try:
        proxy.route(REMOTE, 443, ("127.0.0.1", server.port))

        async def main() -> None:
            url = f"https://{REMOTE}"
            async with OllamaClient(url, proxy=proxy.url, ca_file=str(ca.pem)) as client:
                stream = client.chat("llama3.2", MESSAGES)
                async with stream as chunks:
                    async for chunk in chunks:
                        if chunk.content:
                            stream.abort()
                            # The server and the proxy run in their own threads.
                            server.wait_for(lambda: server.streams[-1].closed_by_client(), 2.0)
                            break

        run(main())
        assert not server.streams[-1].finished
    finally:
        server.stop()


def test_ca_signed_certificate_needs_the_ca(ca: TestCA) -> None:
    server = serve(ca.leaf("remote"))
    try:
        exc = failure(server.url)
        assert isinstance(exc, OllamaTLSError)
        assert exc.reason == UNTRUSTED
        assert server.requests == []  # nothing was sent, over TLS or plain http
        assert call(server.url, ca_file=str(ca.pem)) == ("0.12.3", "Through the proxy.")
    finally:
        server.stop()


def test_the_system_trust_store_is_used(ca: TestCA, monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenSSL's system store on Linux honours SSL_CERT_FILE: a CA "installed on the
    machine" is trusted with no per-host setting (certifi's bundle would not know it)."""
    server = serve(ca.leaf("remote"))
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca.pem))
        assert call(server.url) == ("0.12.3", "Through the proxy.")
    finally:
        server.stop()


def test_self_signed_certificate(tmp_path: Path) -> None:
    leaf = self_signed(tmp_path)
    server = serve(leaf)
    try:
        exc = failure(server.url)
        assert isinstance(exc, OllamaTLSError)
        assert exc.reason == "the certificate is self-signed"
        headline = explain(exc).headline
        assert server.url.removeprefix("https://") in headline
        assert "self-signed" in headline and "Errno" not in headline
        assert server.requests == []
        # Trusting that very certificate as the host's CA file makes it work.
        assert call(server.url, ca_file=str(leaf.cert)) == ("0.12.3", "Through the proxy.")
        # And skipping the check, only when chosen for the host.
        assert call(server.url, verify_tls=False) == ("0.12.3", "Through the proxy.")
    finally:
        server.stop()


def test_expired_certificate(ca: TestCA) -> None:
    server = serve(ca.leaf("expired", expired=True))
    try:
        exc = failure(server.url, ca_file=str(ca.pem))
        assert isinstance(exc, OllamaTLSError)
        assert exc.reason == "the certificate has expired"
    finally:
        server.stop()


def test_certificate_for_another_name(ca: TestCA) -> None:
    server = serve(ca.leaf("other", ("other.example",)))
    try:
        exc = failure(f"https://localhost:{server.port}", ca_file=str(ca.pem))
        assert isinstance(exc, OllamaTLSError)
        assert exc.reason == "the certificate does not match the host name"
    finally:
        server.stop()


def test_plain_http_server_on_an_https_url_never_falls_back(
    ollama_server: OllamaTestServer,
) -> None:
    exc = failure(f"https://127.0.0.1:{ollama_server.port}")
    assert isinstance(exc, OllamaTLSError)
    assert exc.reason == "the server does not speak https on this port"
    assert ollama_server.requests == []  # no request was ever sent in plain text


def test_unreadable_ca_file_is_reported_on_use(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    exc = failure("https://127.0.0.1:9", ca_file=str(missing))  # building the client is fine
    assert isinstance(exc, OllamaTLSError)
    assert str(missing) in exc.reason and "could not be read" in exc.reason


def test_a_proxy_that_does_not_answer_is_named(
    monkeypatch: pytest.MonkeyPatch, ollama_server: OllamaTestServer
) -> None:
    dead = f"http://user:secret@127.0.0.1:{free_port()}"
    for kw, env in (({"proxy": dead}, {}), ({}, {"HTTPS_PROXY": dead})):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        exc = failure(f"https://{REMOTE}", **kw)
        assert isinstance(exc, OllamaProxyError)
        assert exc.proxy == dead.replace("user:secret@", "")
        headline = explain(exc).headline
        assert "through the proxy http://127.0.0.1:" in headline and "secret" not in str(exc)
    # NO_PROXY covers the host: not the proxy's fault, an ordinary connection error.
    monkeypatch.setenv("NO_PROXY", REMOTE)
    exc = failure(f"https://{REMOTE}")
    assert isinstance(exc, OllamaConnectionError) and not isinstance(exc, OllamaProxyError)

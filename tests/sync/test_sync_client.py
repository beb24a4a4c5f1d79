"""The HTTP client refuses unsafe addresses, verifies TLS and classifies every failure."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sync.client import (
    CentralClient,
    InsecureUrlError,
    PermanentError,
    RetryableError,
    check_base_url,
)
from tests.support.echo_server import EchoServer, echo_server
from tests.support.faultproxy import FaultProxy, Mode

SECRET = "tok-SECRET-never-in-logs"


@pytest.fixture
def upstream() -> Iterator[EchoServer]:
    with echo_server() as server:
        yield server


@pytest.fixture
def proxy(upstream: EchoServer) -> Iterator[FaultProxy]:
    with FaultProxy(upstream.url, slow_seconds=1.0, retry_after="42", max_lifetime=60) as p:
        yield p


# --- addresses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8700",
        "http://127.8.9.10/",
        "http://localhost:1",
        "http://[::1]:8700",
        "https://central.example.gov.cn",
        "https://10.0.0.5:8443/base/",
    ],
)
def test_safe_addresses_are_accepted(url: str) -> None:
    assert not check_base_url(url).endswith("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://central.example.gov.cn",
        "http://10.0.0.5:8700",
        "http://128.0.0.1",
        "http://localhost.evil.com",
        "http://[::2]",
    ],
)
def test_plain_http_to_other_hosts_is_refused(url: str) -> None:
    with pytest.raises(InsecureUrlError, match="allow_insecure_http"):
        check_base_url(url)
    assert check_base_url(url, allow_insecure_http=True)


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1", "127.0.0.1:8700", "https://", "https://u:p@host", "https://h/?q=1",
     "http://127.0.0.1:notaport"],
)
def test_malformed_addresses_are_refused(url: str) -> None:
    with pytest.raises(InsecureUrlError):
        check_base_url(url, allow_insecure_http=True)


def test_missing_pinned_ca_bundle_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.pem"):
        CentralClient("https://central.example", ca_bundle=tmp_path / "nope.pem")


# --- classification -----------------------------------------------------------------------


def test_success_returns_json_and_sends_the_bearer_token(upstream: EchoServer) -> None:
    with CentralClient(upstream.url, token=SECRET) as client:
        answer = client.post_json("/echo", {"名": "张三"})
    assert answer.json()["echo"] == {"名": "张三"}
    assert upstream.last_headers["Authorization"] == f"Bearer {SECRET}"
    assert SECRET not in repr(client)


def test_no_token_is_sent_when_auth_is_off(upstream: EchoServer) -> None:
    with CentralClient(upstream.url, token=SECRET) as client:
        client.post_json("/echo", {}, auth=False)
    assert "Authorization" not in upstream.last_headers


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_server_trouble_is_retryable(upstream: EchoServer, status: int) -> None:
    with CentralClient(upstream.url) as client, pytest.raises(RetryableError) as caught:
        client.get(f"/status/{status}")
    assert caught.value.status == status


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_other_client_errors_are_permanent_with_the_problem_detail(
    upstream: EchoServer, status: int
) -> None:
    with CentralClient(upstream.url) as client, pytest.raises(PermanentError) as caught:
        client.get(f"/status/{status}")
    assert caught.value.status == status
    assert caught.value.problem["detail"] == "as asked"
    assert "as asked" in str(caught.value)
    assert caught.value.is_auth_failure == (status in (401, 403))


def test_refused_connection_is_retryable() -> None:
    with CentralClient("http://127.0.0.1:9", connect_timeout=1) as client:
        with pytest.raises(RetryableError, match="network error"):
            client.get("/json")


@pytest.mark.parametrize(
    "mode", [Mode.RESET_BEFORE, Mode.RESET_AFTER, Mode.HTTP_500, Mode.TRUNCATE]
)
def test_every_network_fault_is_retryable(proxy: FaultProxy, mode: Mode) -> None:
    proxy.set_mode(mode)
    with CentralClient(proxy.url) as client, pytest.raises(RetryableError):
        client.get("/json?size=5000").json()


def test_a_well_framed_but_cut_json_answer_is_retryable(proxy: FaultProxy) -> None:
    proxy.set_mode(Mode.TRUNCATE_BODY)
    with CentralClient(proxy.url) as client:
        answer = client.get("/json?size=5000")
        with pytest.raises(RetryableError, match="not valid JSON"):
            answer.json()


def test_503_carries_the_servers_retry_after(proxy: FaultProxy) -> None:
    proxy.set_mode(Mode.HTTP_503)
    with CentralClient(proxy.url) as client, pytest.raises(RetryableError) as caught:
        client.get("/json")
    assert caught.value.status == 503 and caught.value.retry_after == 42


def test_a_slow_answer_past_the_read_timeout_is_retryable(proxy: FaultProxy) -> None:
    proxy.set_mode(Mode.SLOW)
    with CentralClient(proxy.url, read_timeout=0.2) as client:
        with pytest.raises(RetryableError, match="network error"):
            client.get("/json")


def test_an_answer_larger_than_the_limit_is_refused(upstream: EchoServer) -> None:
    with CentralClient(upstream.url, max_answer_bytes=1000) as client:
        with pytest.raises(RetryableError, match="exceeds"):
            client.get("/json?size=5000")


def test_neither_token_nor_payload_reaches_the_log(
    proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with CentralClient(proxy.url, token=SECRET) as client:
        client.post_json("/echo", {"name": "张三-PAYLOAD"})
        proxy.set_mode(Mode.HTTP_500)
        with pytest.raises(RetryableError):
            client.post_json("/echo", {"name": "张三-PAYLOAD"})
    assert caplog.records
    assert SECRET not in caplog.text
    assert "PAYLOAD" not in caplog.text


# --- keep-alive connections the server closed -------------------------------------------


class ClosesIdleConnections:
    """A server that answers the first request on each connection and promises keep-alive,
    then closes the connection without answering the next request sent on it: what a
    client sees when the platform's idle timeout and its next request cross on the wire.

    With ``answer_none`` it closes every connection without answering at all.
    """

    def __init__(self, *, answer_none: bool = False) -> None:
        self.answer_none = answer_none
        self.connections = 0
        self.requests: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> ClosesIdleConnections:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(5)
                answered = False
                while True:
                    try:
                        request = self._read_request(conn)
                    except OSError:  # the client went away (or never sent anything)
                        request = None
                    if request is None:
                        break
                    self.requests.append(request)
                    if answered or self.answer_none:
                        break  # close without a byte of an answer
                    body = b'{"ok": true}'
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Connection: keep-alive\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                    )
                    answered = True

    @staticmethod
    def _read_request(conn: socket.socket) -> str | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += conn.recv(65536)
        return head.split(b"\r\n")[0].decode()


def test_a_read_is_sent_again_when_the_server_dropped_the_idle_connection() -> None:
    with ClosesIdleConnections() as server, CentralClient(server.url) as client:
        assert client.get("/v1/health").json() == {"ok": True}
        # The pooled connection is reused, the server closes it without answering; the
        # client sends the same read once more on a new connection and gets its answer.
        assert client.get("/v1/catalog").json() == {"ok": True}
    assert server.requests == ["GET /v1/health HTTP/1.1", "GET /v1/catalog HTTP/1.1", "GET /v1/catalog HTTP/1.1"]
    assert server.connections == 2


def test_a_write_is_not_sent_again_on_a_dropped_connection() -> None:
    with ClosesIdleConnections() as server, CentralClient(server.url) as client:
        client.get("/v1/health")
        with pytest.raises(RetryableError, match="closed without an answer"):
            client.post_json("/v1/submissions/batch", {"items": []})
    assert server.requests.count("POST /v1/submissions/batch HTTP/1.1") == 1


def test_a_read_is_sent_at_most_twice_when_no_answer_ever_comes() -> None:
    with ClosesIdleConnections(answer_none=True) as server, CentralClient(server.url) as client:
        with pytest.raises(RetryableError, match="closed without an answer"):
            client.get("/v1/health")
    assert server.requests == ["GET /v1/health HTTP/1.1"] * 2


# --- TLS ----------------------------------------------------------------------------------


def _make_ca_and_server_cert(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tongban Test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    ca_path, cert_path, key_path = _make_ca_and_server_cert(tmp_path)
    server = EchoServer()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", ca_path
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_unknown_certificate_is_refused_permanently(tls_server: tuple[str, Path]) -> None:
    url, _ = tls_server
    with CentralClient(url, connect_timeout=2) as client, pytest.raises(PermanentError) as caught:
        client.get("/json")
    assert "ca_bundle" in str(caught.value)


def test_pinned_ca_bundle_is_trusted_even_when_the_environment_names_another(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca_path = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    with CentralClient(url, ca_bundle=ca_path) as client:
        assert client.get("/json").json()["n"] == 1

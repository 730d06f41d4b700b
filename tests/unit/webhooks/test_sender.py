"""One POST: timeouts, refused connections, bounded reads, and TLS to a pinned address."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from runner.core.destinations import AddressGuard
from runner.core.webhooks.receiver import Receiver, Reply
from runner.core.webhooks.sender import Sender

NAME = "hooks.example.test"


def loopback_guard() -> AddressGuard:
    return AddressGuard(["127.0.0.1"], resolver=lambda host, port: ["127.0.0.1"])


def test_a_slow_endpoint_times_out(receiver: Receiver) -> None:
    receiver.reply(Reply(200, delay=1.0))
    post = Sender(loopback_guard(), timeout=0.2).post(receiver.url, {}, b"{}")
    assert post.status_code is None and post.error == "timed out after 0.2 s" and not post.ok


def test_a_closed_port_is_a_connection_error(receiver: Receiver) -> None:
    receiver.stop()
    post = Sender(loopback_guard(), timeout=1).post(receiver.url, {}, b"{}")
    assert post.status_code is None and "ConnectError" in (post.error or "")


def test_only_the_start_of_a_large_response_is_read(receiver: Receiver) -> None:
    receiver.reply(Reply(200, b"y" * 5_000_000))
    post = Sender(loopback_guard(), timeout=2).post(receiver.url, {}, b"{}")
    assert post.ok and post.snippet is not None and len(post.snippet) <= 1024


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for NAME only."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_receiver(certificate: tuple[Path, Path]) -> Iterator[Receiver]:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(*certificate)
    with Receiver(tls=server).running() as running:
        yield running


def test_https_to_the_pinned_address_verifies_the_certificate_for_the_name(
    tls_receiver: Receiver, certificate: tuple[Path, Path]
) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    sender = Sender(AddressGuard([NAME], resolver=lambda host, port: ["127.0.0.1"]), ssl_context=trust)
    post = sender.post(f"https://{NAME}:{tls_receiver.port}/hooks", {}, b"{}")
    assert post.ok, post.error
    assert tls_receiver.received[0].headers["host"] == f"{NAME}:{tls_receiver.port}"
    # The same server reached under another name fails the certificate check: SNI and verification
    # use the URL's host, not the pinned address.
    other = Sender(
        AddressGuard(["other.example.test"], resolver=lambda host, port: ["127.0.0.1"]), ssl_context=trust
    )
    refused = other.post(f"https://other.example.test:{tls_receiver.port}/hooks", {}, b"{}")
    assert not refused.ok and "CERTIFICATE_VERIFY_FAILED" in (refused.error or "").upper().replace(" ", "_")
    assert len(tls_receiver.received) == 1


def test_one_tls_context_per_sender_built_at_its_first_https_send(
    tls_receiver: Receiver, certificate: tuple[Path, Path], receiver: Receiver
) -> None:
    built: list[ssl.SSLContext] = []

    def trust() -> ssl.SSLContext:
        built.append(ssl.create_default_context(cafile=str(certificate[0])))
        return built[-1]

    guard = AddressGuard(["127.0.0.1", NAME], resolver=lambda host, port: ["127.0.0.1"])
    sender = Sender(guard, tls=trust)
    assert sender.post(receiver.url, {}, b"{}").ok
    assert built == []  # plain http loads no CA bundle
    for _ in range(3):
        post = sender.post(f"https://{NAME}:{tls_receiver.port}/hooks", {}, b"{}")
        assert post.ok, post.error
    assert len(built) == 1 and len(tls_receiver.received) == 3


def test_the_receiver_calls_back_for_each_request() -> None:
    seen: list[str] = []
    with Receiver(on_request=lambda request: seen.append(request.path)).running() as receiver:
        Sender(loopback_guard(), timeout=2).post(receiver.url, {}, b"{}")
    assert seen == ["/hooks"]


@pytest.fixture
def trickler() -> Iterator[int]:
    """A server that answers one header byte every 50 ms for 10 s, then hangs up: each read is
    quick, so only a deadline on the whole attempt ends it early (without one, the attempt
    fails with a protocol error after 10 s instead of timing out)."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(200):
                if stop.wait(0.05):
                    return
                try:
                    connection.sendall(b"a")
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.close()
    thread.join(timeout=5)


def test_an_endpoint_that_trickles_is_cut_off_at_the_deadline(trickler: int) -> None:
    post = Sender(loopback_guard(), timeout=0.5).post(f"http://127.0.0.1:{trickler}/hooks", {}, b"{}")
    assert post.error == "timed out after 0.5 s"

"""SSRF at connect time: the name is resolved once, every address vetted, and the connection goes
to a vetted address with the name as SNI, certificate name and Host (hub.delivery.urls, hub.delivery.sender)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from typing import ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.delivery import sender, urls
from hub.platform import settings
from local.harness import Subscriber


@pytest.fixture
def cloud(monkeypatch):
    """Settings as in the cloud (HUB_LOCAL off): https only, public addresses only."""
    monkeypatch.setenv("HUB_LOCAL", "false")
    settings.load.cache_clear()
    yield
    settings.load.cache_clear()


@pytest.fixture(autouse=True)
def fresh_pools():
    sender._pools.clear()
    yield
    sender._pools.clear()


class FakeResolver:
    """socket.getaddrinfo with scripted answers per name, in turn (the last one repeats).

    Like the real resolver, a non-ASCII name is encoded with Python's own IDNA 2003 codec, and an
    IP literal answers itself.
    """

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        name = host if host.isascii() else host.encode("idna").decode("ascii")
        self.asked.append(name)
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            script = self.answers.get(name)
            if not script:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            address = ipaddress.ip_address(script.pop(0) if len(script) > 1 else script[0])
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (str(address), port or 0))]


class RecordingSocket(socket.socket):
    """A socket that records where it connects; connections to `unreachable` addresses are refused."""

    connected: ClassVar[list[str]] = []
    unreachable: ClassVar[set[str]] = set()

    def connect(self, address):
        RecordingSocket.connected.append(address[0])
        if address[0] in RecordingSocket.unreachable:
            raise ConnectionRefusedError(111, "Connection refused")
        return super().connect(address)


@pytest.fixture
def sockets(monkeypatch):
    RecordingSocket.connected, RecordingSocket.unreachable = [], set()
    monkeypatch.setattr(socket, "socket", RecordingSocket)
    return RecordingSocket


@pytest.fixture
def listener():
    server = Subscriber().start()
    yield server
    server.close()


# --- every address is vetted, including the ranges `is_global` lets through -------------------

REFUSED = {
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "ff02::1": "multicast",
    "ff0e::1": "multicast",
    "64:ff9b::7f00:1": "embeds 127.0.0.1",
    "64:ff9b::a00:5": "embeds 10.0.0.5",
    "64:ff9b::a9fe:a9fe": "embeds 169.254.169.254",
    "64:ff9b:1::5db8:d822": "local-use NAT64",
    "::7f00:1": "embeds 127.0.0.1",
    "::a00:1": "embeds 10.0.0.1",
    "::ffff:169.254.169.254": "embeds 169.254.169.254",
    "::ffff:192.168.0.1": "embeds 192.168.0.1",
    "2002:7f00:1::1": "embeds 127.0.0.1",
    "2002:a9fe:a9fe::": "embeds 169.254.169.254",
    "2002:c0a8:101::1": "embeds 192.168.1.1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo",
    "240.0.0.1": "reserved",
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    "fd00:ec2::254": "cloud metadata",
    "fe80::1": "link-local",
    "100.64.0.1": "private",
}
ALLOWED = ["93.184.216.34", "2606:4700:4700::1111", "64:ff9b::5db8:d822", "2002:5db8:d822::1", "::ffff:93.184.216.34"]


@pytest.mark.parametrize("address, reason", REFUSED.items())
def test_special_ranges_are_refused(address, reason):
    assert reason in (urls.refusal(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_pass_including_translations_of_public_ipv4(address):
    assert urls.refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", list(REFUSED))
def test_a_name_resolving_to_a_special_address_is_refused(monkeypatch, cloud, address):
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver({"hooks.example.com": [address]}))
    with pytest.raises(urls.UnsafeUrl, match="non-public"):
        urls.check_subscriber_url("https://hooks.example.com/x", local=False)


def test_one_internal_address_among_public_ones_refuses_the_name(monkeypatch, cloud):
    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("64:ff9b::7f00:1", port, 0, 0)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(urls.UnsafeUrl, match="64:ff9b::7f00:1"):
        urls.check_subscriber_url("https://hooks.example.com/x", local=False)


@pytest.mark.parametrize("url", ["https://[64:ff9b::7f00:1]/x", "https://[::ffff:10.0.0.1]/x", "https://224.0.0.1/x"])
def test_ip_literals_are_vetted_without_a_lookup(monkeypatch, cloud, url):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("an IP literal is not looked up"))
    with pytest.raises(urls.UnsafeUrl):
        urls.check_subscriber_url(url, local=False)


# --- DNS rebinding: the connection goes to the vetted address ---------------------------------


def test_a_rebinding_name_is_connected_at_the_vetted_address_only(monkeypatch, cloud, sockets, listener):
    """First answer public, every later answer loopback (where a server listens): the sender must
    connect to the public address it vetted (refused here: no network), never to loopback."""
    resolver = FakeResolver({"rebind.example.com": ["93.184.216.34", "127.0.0.1"]})
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    sockets.unreachable.add("93.184.216.34")

    result = sender.post(f"https://rebind.example.com:{listener.port}/hook", b"{}", {})

    assert resolver.asked == ["rebind.example.com"]
    assert sockets.connected == ["93.184.216.34"]
    assert listener.hosts == [] and not result.ok and "connection error" in (result.error or "")


def test_a_name_that_rebinds_to_loopback_before_the_check_is_refused(monkeypatch, cloud, sockets):
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver({"rebind.example.com": ["127.0.0.1", "93.184.216.34"]}))
    result = sender.post("https://rebind.example.com/hook", b"{}", {})
    assert result.permanent and "refused" in (result.error or "") and sockets.connected == []


def test_the_next_vetted_address_is_tried_when_one_refuses_the_connection(monkeypatch, sockets, listener):
    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    sockets.unreachable.add("127.0.0.2")
    result = sender.post(f"http://hooks.localhost:{listener.port}/hook", b"{}", {})
    assert result.ok and sockets.connected == ["127.0.0.2", "127.0.0.1"]
    assert listener.hosts == [f"hooks.localhost:{listener.port}"]


# --- one IDNA implementation for checking and connecting --------------------------------------


def test_an_internationalized_name_is_checked_and_sent_in_the_same_form(monkeypatch, sockets, listener):
    """`straße` is `xn--strae-oqa` in IDNA 2008 (what requests sends) but `strasse` in Python's
    IDNA 2003 codec: only the IDNA 2008 name is looked up, connected to and sent as Host."""
    resolver = FakeResolver({"xn--strae-oqa.example": ["127.0.0.1"], "strasse.example": ["10.9.9.9"]})
    monkeypatch.setattr(socket, "getaddrinfo", resolver)

    result = sender.post(f"http://Straße.example:{listener.port}/hook", b"{}", {})

    assert result.ok, result.error
    assert resolver.asked == ["xn--strae-oqa.example"]
    assert sockets.connected == ["127.0.0.1"]
    assert listener.hosts == [f"xn--strae-oqa.example:{listener.port}"]


@pytest.mark.parametrize(
    "name, ascii_name",
    [
        ("straße.de", "xn--strae-oqa.de"),
        ("ＥＸＡＭＰＬＥ.com", "example.com"),  # noqa: RUF001 - full-width letters on purpose
        ("bücher.example", "xn--bcher-kva.example"),
        ("HOOKS.Example.COM", "hooks.example.com"),
    ],
)
def test_ascii_host_follows_uts46(name, ascii_name):
    assert urls.ascii_host(name) == ascii_name


@pytest.mark.parametrize("url", ["https://exa\u200dmple.com/x", "https://☃\u0301.example/x", "https://-bad-.例え.jp/x"])
def test_names_that_are_not_valid_idna_are_refused(monkeypatch, url):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("an invalid name is not looked up"))
    with pytest.raises(urls.UnsafeUrl, match="internationalized domain name"):
        urls.check_subscriber_url(url, local=False)


# --- TLS: SNI and the certificate check use the name, not the address -------------------------


def _certificates(tmp_path, name: str) -> tuple[str, ssl.SSLContext]:
    """(CA bundle path, server context) for a certificate of `name` signed by a fresh CA."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return str(ca_path), context


@pytest.fixture
def tls_listener(tmp_path, monkeypatch):
    ca_bundle, context = _certificates(tmp_path, "hooks.example.test")
    monkeypatch.setattr(sender, "CA_BUNDLE", ca_bundle)
    server = Subscriber(context).start()
    yield server
    server.close()


def test_tls_to_the_vetted_address_carries_and_verifies_the_name(monkeypatch, sockets, tls_listener):
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver({"hooks.example.test": ["127.0.0.1"]}))
    result = sender.post(f"https://hooks.example.test:{tls_listener.port}/hook", b"{}", {})
    assert result.ok, result.error
    assert sockets.connected == ["127.0.0.1"]
    assert tls_listener.server_names == ["hooks.example.test"]
    assert tls_listener.hosts == [f"hooks.example.test:{tls_listener.port}"]


def test_a_certificate_for_another_name_is_refused(monkeypatch, sockets, tls_listener):
    monkeypatch.setattr(socket, "getaddrinfo", FakeResolver({"other.example.test": ["127.0.0.1"]}))
    result = sender.post(f"https://other.example.test:{tls_listener.port}/hook", b"{}", {})
    assert not result.ok and "SSLError" in (result.error or "") and tls_listener.hosts == []

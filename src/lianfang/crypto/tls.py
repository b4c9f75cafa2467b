"""TLS material for serving HTTPS: a private certificate authority, a server and a client certificate.

``make_tls(folder)`` writes ``ca.pem`` (the authority clients trust), ``server.pem`` /
``server.key`` (for ``lianfang serve --tls``; names localhost, 127.0.0.1, ::1 and any
extra host names) and ``client.pem`` / ``client.key`` (for client-certificate mode,
system-to-system). Keys are ECDSA P-256 and written with mode 0600; certificates last
one year. This serves the demo and tests; production installs its own certificates
(the same file names, or ``--cert``/``--key``).

(The national-algorithm TLCP / SM2 certificates are not offered by Python's ``ssl``;
transport stays standard TLS 1.2+ with strong suites.)
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 365


def _name(cn: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lianfang"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])  # fmt: skip


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _cert(subject: x509.Name, issuer: x509.Name, public: ec.EllipticCurvePublicKey,
          signer: ec.EllipticCurvePrivateKey, *, ca: bool, usage: list[x509.ObjectIdentifier],
          names: list[x509.GeneralName]) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
    )  # fmt: skip
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )  # fmt: skip
    return builder.sign(signer, hashes.SHA256())


def make_tls(folder: Path, hosts: list[str] | None = None) -> dict[str, Path]:
    """Create the authority, server and client certificates in ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("lianfang demo CA")
    ca = _cert(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True, usage=[], names=[])
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                     x509.IPAddress(ipaddress.ip_address("::1"))]
    for host in hosts or []:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _cert(_name("lianfang server"), ca_name, server_key.public_key(), ca_key, ca=False,
                   usage=[ExtendedKeyUsageOID.SERVER_AUTH], names=names)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _cert(_name("lianfang client"), ca_name, client_key.public_key(), ca_key, ca=False,
                   usage=[ExtendedKeyUsageOID.CLIENT_AUTH], names=[])
    paths = {name: folder / name for name in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}
    pem = serialization.Encoding.PEM
    paths["ca.pem"].write_bytes(ca.public_bytes(pem))
    paths["server.pem"].write_bytes(server.public_bytes(pem))
    paths["client.pem"].write_bytes(client.public_bytes(pem))
    _write_key(paths["server.key"], server_key)
    _write_key(paths["client.key"], client_key)
    return paths


__all__ = ["VALID_DAYS", "make_tls"]

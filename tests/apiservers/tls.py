"""A test certificate authority and a server certificate for 127.0.0.1 and localhost.

Made once per test session (``session_pki()``) with the ``cryptography`` package:
the appliance test servers present the server certificate, and the drivers
under test trust it only through ``[<section>] cacert`` = the CA file.  A
second, unrelated CA (``other_ca``) is for the "unknown CA is refused" tests.
"""
from __future__ import annotations

import datetime
import ipaddress
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Pki:
    ca_file: Path           # the CA certificate (what ``cacert`` names)
    cert_file: Path         # the server certificate
    key_file: Path          # its private key
    other_ca_file: Path     # a CA that signed nothing the servers present


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "oracle-imagecopy-backup tests")])


def _ca(common: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(_name(common))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _server(ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate) -> tuple[ec.EllipticCurvePrivateKey,
                                                                               x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_pki(directory: Path) -> Pki:
    """Write a CA, a server certificate and key signed by it, and another CA, into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca = _ca("oib test CA")
    key, cert = _server(ca_key, ca)
    _, other = _ca("oib unrelated CA")
    pki = Pki(directory / "ca.pem", directory / "server.pem", directory / "server.key", directory / "other-ca.pem")
    pki.ca_file.write_bytes(_pem(ca))
    pki.cert_file.write_bytes(_pem(cert))
    pki.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    pki.key_file.chmod(0o600)
    pki.other_ca_file.write_bytes(_pem(other))
    return pki


@cache
def session_pki() -> Pki:
    """The session's PKI (made on first use, in a temporary directory)."""
    return make_pki(Path(tempfile.mkdtemp(prefix="oib-pki-")))

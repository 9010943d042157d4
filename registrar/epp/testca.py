"""Throw-away PKI for tests: CA, server/client certificates, and an unrelated CA.

``create_test_pki(directory)`` writes PEM files and returns their paths:

* ``ca`` -- the test CA (trusted by the registry for client certs and by the
  client for the server cert);
* ``server`` -- server cert for ``localhost`` / ``127.0.0.1`` / ``::1``;
* ``clients`` -- one client cert per registrar id (CN = id), issued by ``ca``;
* ``other_ca`` + ``other_server`` + ``other_client`` -- an unrelated CA and
  certs it issued (wrong-server-certificate / wrong-client-certificate tests).
"""

from __future__ import annotations

import hashlib
import ipaddress
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class CertPair:
    """Paths of a PEM certificate and its unencrypted PEM private key."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class TestPKI:
    """Paths produced by :func:`create_test_pki`."""

    __test__ = False  # not a pytest test class

    directory: Path
    ca: CertPair
    server: CertPair
    clients: dict[str, CertPair] = field(default_factory=dict)
    other_ca: CertPair | None = None
    other_server: CertPair | None = None
    other_client: CertPair | None = None

    def client(self, cl_id: str) -> CertPair:
        """The client cert/key for registrar ``cl_id``."""
        return self.clients[cl_id]


def _name(cn: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "registrar-rdds tests"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _write(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> CertPair:
    cert_path = directory / f"{stem}.crt"
    key_path = directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_path.chmod(0o600)
    return CertPair(cert_path, key_path)


def _ca(cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(cn: str, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, *,
          server: bool) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
    )
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def create_test_pki(directory: Path | None = None, *,
                    client_ids: tuple[str, ...] = ("registrar-a", "registrar-b")) -> TestPKI:
    """Create the test PKI in ``directory`` (a new temp dir if None) and return the paths."""
    d = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="epp-pki-"))
    d.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _ca("registrar-rdds test CA")
    ca = _write(d, "ca", ca_cert, ca_key)
    server = _write(d, "server", *_leaf("localhost", ca_cert, ca_key, server=True))
    clients = {cid: _write(d, f"client-{cid}", *_leaf(cid, ca_cert, ca_key, server=False))
               for cid in client_ids}
    other_cert, other_key = _ca("unrelated test CA")
    other_ca = _write(d, "other-ca", other_cert, other_key)
    other_server = _write(d, "other-server", *_leaf("localhost", other_cert, other_key, server=True))
    other_client = _write(d, "other-client", *_leaf(client_ids[0], other_cert, other_key, server=False))
    return TestPKI(d, ca, server, clients, other_ca, other_server, other_client)


def cert_fingerprint(cert: Path | bytes) -> str:
    """SHA-256 fingerprint (lower-case hex) of a PEM file path or of DER bytes."""
    if isinstance(cert, Path):
        der = x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(serialization.Encoding.DER)
    else:
        der = cert
    return hashlib.sha256(der).hexdigest()

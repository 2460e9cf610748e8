"""`wfctl dpop`: keys kept safely, proofs as RFC 9449 section 4.2 defines them, and the
thumbprint a bound token's `cnf.jkt` carries (RFC 7638)."""

from __future__ import annotations

import os
from pathlib import Path

import jwt
import pytest

from wfctl import cli, dpop


def _verified(proof: str, algorithm: str) -> tuple[dict[str, object], dict[str, object]]:
    """The proof's header and claims, its signature checked with the key in its own header."""
    header = jwt.get_unverified_header(proof)
    public = jwt.PyJWK(header["jwk"], algorithm=algorithm)
    claims = jwt.decode(proof, public.key, algorithms=[algorithm])
    return header, claims


def test_rfc_7638_thumbprint_example() -> None:
    """The worked example of RFC 7638 section 3.1."""
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6t"
        "Soc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_F"
        "DW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
        "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert dpop.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.parametrize("algorithm", dpop.ALGORITHMS)
def test_a_proof_is_a_signed_dpop_jwt_with_a_public_jwk(tmp_path: Path, algorithm: str) -> None:
    path = tmp_path / "key.pem"
    dpop.generate_key(path, algorithm)
    key = dpop.load_key(path, algorithm if algorithm == "RS256" else None)
    proof = key.proof("get", "https://api.example.com/v1/api/automate?page=2#top", None, now=1000)

    header, claims = _verified(proof, algorithm)
    assert header["typ"] == "dpop+jwt"
    assert header["alg"] == algorithm
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(header["jwk"])  # type: ignore[arg-type]
    assert dpop.thumbprint(header["jwk"]) == key.thumbprint  # type: ignore[arg-type]
    assert set(claims) == {"jti", "htm", "htu", "iat"}  # no ath without a token
    assert claims["htm"] == "GET"
    assert claims["htu"] == "https://api.example.com/v1/api/automate"  # no query, no fragment
    assert claims["iat"] == 1000


def test_every_proof_has_a_fresh_jti_and_ath_binds_the_token(tmp_path: Path) -> None:
    key = dpop.generate_key(tmp_path / "key.pem")
    token = "eyJhbGciOiJFUzI1NiJ9.e30.sig"
    first = _verified(key.proof("GET", "https://api.example.com/x", token), "ES256")[1]
    second = _verified(key.proof("GET", "https://api.example.com/x", token), "ES256")[1]
    assert first["jti"] != second["jti"]
    # RFC 9449 section 4.2: base64url(SHA-256(ASCII(token))).
    assert first["ath"] == dpop.access_token_hash(token)
    assert dpop.access_token_hash("abc") == "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"


def test_the_key_file_is_created_for_its_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "wfctl" / "dpop-key.pem"
    first = dpop.generate_key(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    with pytest.raises(dpop.DpopKeyError, match="exists"):
        dpop.generate_key(path)
    assert dpop.load_key(path).thumbprint == first.thumbprint
    assert dpop.generate_key(path, force=True).thumbprint != first.thumbprint


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620])
def test_a_key_others_can_read_or_write_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "key.pem"
    dpop.generate_key(path)
    path.chmod(mode)
    with pytest.raises(dpop.DpopKeyError, match="chmod 600"):
        dpop.load_key(path)


def test_a_linked_missing_or_foreign_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    dpop.generate_key(path)
    link = tmp_path / "link.pem"
    link.symlink_to(path)
    with pytest.raises(dpop.DpopKeyError, match="not a regular file"):
        dpop.load_key(link)
    with pytest.raises(dpop.DpopKeyError, match="keygen"):
        dpop.load_key(tmp_path / "none.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    garbage.chmod(0o600)
    with pytest.raises(dpop.DpopKeyError, match="no unencrypted PEM"):
        dpop.load_key(garbage)


def test_an_algorithm_that_does_not_fit_the_key_is_refused(tmp_path: Path) -> None:
    dpop.generate_key(tmp_path / "ec.pem")
    with pytest.raises(dpop.DpopKeyError, match="cannot be signed"):
        dpop.load_key(tmp_path / "ec.pem", "RS256")


@pytest.mark.parametrize("url", ["/api/automate", "ftp://api.example.com/x", "https://"])
def test_a_proof_needs_an_absolute_http_url(tmp_path: Path, url: str) -> None:
    key = dpop.generate_key(tmp_path / "key.pem")
    with pytest.raises(dpop.DpopKeyError, match="absolute"):
        key.proof("GET", url)


def test_the_command_line_makes_a_key_and_prints_a_proof(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "key.pem"
    assert cli.main(["dpop", "keygen", "--key", str(path)]) == 0
    made = capsys.readouterr().out
    assert '"alg": "ES256"' in made
    url = "https://api.example.com/api/trigger"
    argv = ["dpop", "proof", "--key", str(path), "--method", "POST", "--url", url, "--token", "t"]
    assert cli.main(argv) == 0
    proof = capsys.readouterr().out.strip()
    claims = _verified(proof, "ES256")[1]
    assert (claims["htm"], claims["ath"]) == ("POST", dpop.access_token_hash("t"))
    # A second keygen on the same file is refused, with exit code 2 and no traceback.
    assert cli.main(["dpop", "keygen", "--key", str(path)]) == cli.EXIT_REFUSED
    assert "exists" in capsys.readouterr().err

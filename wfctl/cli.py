"""The command line of `wfctl` (docs/wfctl.md): argument parsing and one function per command.

Output: one JSON document on stdout, in the API's camelCase (a token or a new secret is printed
there once, and nowhere else); audit and log lines go to stderr. Every command that changes
something writes the API's audit line (`shared.http_api.audit`) with actor `operator:<user>`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from shared import aws
from shared.api_errors import ApiError
from shared.api_keys import (
    DEFAULT_ROTATE_AFTER_DAYS,
    AdminSettings,
    ApiKeyAdmin,
    parse_issue_request,
    parse_key_id,
)
from shared.caller import Caller
from shared.clients import ClientAdmin, ClientAdminSettings, parse_client_id, parse_register_request
from shared.http_api import audit, parse_page
from shared.observability import logger
from shared.revocations import DEFAULT_PAGE_SIZE, RevocationStore
from shared.revocations.store import new_client as new_dynamodb_client
from shared.scopes import ADMIN
from shared.secret_formats import SecretFormatError
from shared.settings import (
    DEFAULT_API_KEY_PREFIX,
    DEFAULT_CLIENT_PREFIX,
    AuthorizerSettings,
    ConfigurationError,
)
from wfctl import __version__, api_keys, clients, dpop, session, tokens
from wfctl.login import LoginRequest, call, login
from wfctl.oauth import LoginError

#: Exit codes: 0 done, 1 our side or AWS failed, 2 the request was refused or is invalid.
EXIT_REFUSED = 2
EXIT_FAILED = 1

DEFAULT_LOGIN_SCOPES = ("openid", "offline_access", "workflow:read")


def _env(name: str, fallback: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or fallback


def _token_endpoint() -> str | None:
    explicit = _env("WFCTL_TOKEN_ENDPOINT")
    if explicit:
        return explicit
    base = (_env("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/oauth/token" if base else None


def _dpop_key_path() -> Path:
    explicit = _env("WFCTL_DPOP_KEY")
    return Path(explicit) if explicit else dpop.default_key_path(session.config_dir())


_DPOP_KEY_HELP = "the private key file (default: $WFCTL_DPOP_KEY, else " + (
    f"$XDG_CONFIG_HOME/wfctl/{dpop.KEY_FILE_NAME})"
)


def _from(name: str, fallback: str | None = None) -> str:
    """Help text telling where an option's default comes from."""
    if fallback is None:
        return f"(default: ${name})"
    return f"(default: ${name}, else {fallback})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wfctl",
        description="Operator command of the workflow API: token-service clients, service "
        "tokens, API keys, token revocations, and signing a person in with the OAuth provider "
        "to call the API. AWS access uses boto3's configuration (AWS_PROFILE, AWS_REGION, "
        "AWS_ENDPOINT_URL). Reference: docs/wfctl.md.",
    )
    parser.add_argument("--version", action="version", version=f"wfctl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # -- service tokens ------------------------------------------------------------------
    token = commands.add_parser("token", help="get a service token from the token endpoint")
    token.add_argument("--client-id", required=True, help="the registered client's id")
    token.add_argument(
        "--client-secret-stdin",
        action="store_true",
        help="read the client secret from stdin (default: $WFCTL_CLIENT_SECRET; never an "
        "argument, which other users of the machine can see)",
    )
    token.add_argument(
        "--scope",
        action="append",
        default=[],
        help="a scope to ask for, repeatable (default: all the client's allowed scopes)",
    )
    token.add_argument(
        "--token-endpoint",
        default=_token_endpoint(),
        help=_from("WFCTL_TOKEN_ENDPOINT", "$PUBLIC_BASE_URL/oauth/token"),
    )
    token.add_argument(
        "--dpop-key",
        type=Path,
        help="get a token bound to this key (DPoP, RFC 9449; made by `wfctl dpop keygen`): "
        "it then works only with a fresh proof signed by the key",
    )

    # -- DPoP ----------------------------------------------------------------------------
    dpop_command = commands.add_parser(
        "dpop", help="DPoP keys and proofs, for tokens bound to a key (docs/wfctl.md)"
    )
    dpop_actions = dpop_command.add_subparsers(dest="action", required=True, metavar="ACTION")
    keygen = dpop_actions.add_parser("keygen", help="make a key pair (private key file 0600)")
    keygen.add_argument("--key", type=Path, default=_dpop_key_path(), help=_DPOP_KEY_HELP)
    keygen.add_argument(
        "--alg",
        choices=dpop.ALGORITHMS,
        default=dpop.DEFAULT_ALGORITHM,
        help=f"the proofs' algorithm (default: {dpop.DEFAULT_ALGORITHM}, an EC P-256 key)",
    )
    keygen.add_argument(
        "--force", action="store_true", help="replace an existing key (its tokens stop working)"
    )
    proof = dpop_actions.add_parser("proof", help="print a fresh proof for one request")
    proof.add_argument("--key", type=Path, default=_dpop_key_path(), help=_DPOP_KEY_HELP)
    proof.add_argument("--method", required=True, help="the request's method, e.g. GET")
    proof.add_argument("--url", required=True, help="the request's full URL (query ignored)")
    presented = proof.add_mutually_exclusive_group()
    presented.add_argument(
        "--token", help="the access token the request carries (its hash goes into `ath`)"
    )
    presented.add_argument(
        "--token-stdin", action="store_true", help="read that access token from stdin instead"
    )
    proof.add_argument(
        "--alg", choices=("PS256", "RS256"), help="for an RSA key: the algorithm (default PS256)"
    )

    mint = commands.add_parser(
        "mint-token",
        help="BREAK-GLASS: sign a service token with the signing key itself",
        description="Break-glass only: signs with the signing secret, which only the "
        "authorizer, the token function, the rotation function and the template's "
        "BreakGlassRoleArn may read. Everyone else uses `wfctl token`.",
    )
    mint.add_argument("--subject", required=True, help="the calling service (sub claim)")
    mint.add_argument("--scope", action="append", default=[], help="a scope, repeatable")
    mint.add_argument("--lifetime", type=int, default=900, help="seconds (default: 900)")
    mint.add_argument(
        "--secret-id",
        default=_env("JWT_SECRET_ID"),
        help="signing secret " + _from("JWT_SECRET_ID"),
    )
    mint.add_argument(
        "--issuer", default=_env("JWT_ISSUER"), help="iss claim " + _from("JWT_ISSUER")
    )
    mint.add_argument(
        "--audience", default=_env("JWT_AUDIENCE"), help="aud claim " + _from("JWT_AUDIENCE")
    )

    # -- clients -------------------------------------------------------------------------
    registered = commands.add_parser("clients", help="register, list, rotate or revoke clients")
    registered.add_argument(
        "--prefix",
        default=_env("CLIENT_SECRET_PREFIX", DEFAULT_CLIENT_PREFIX),
        help="name prefix of client secrets "
        + _from("CLIENT_SECRET_PREFIX", DEFAULT_CLIENT_PREFIX),
    )
    client_actions = registered.add_subparsers(dest="action", required=True, metavar="ACTION")
    register = client_actions.add_parser("create", help="register a client (secret printed once)")
    register.add_argument("--client-id", required=True, help="[a-z0-9][a-z0-9-]{2,63}")
    register.add_argument(
        "--scope", action="append", default=[], required=True, help="allowed scope, repeatable"
    )
    register.add_argument(
        "--jwks", type=argparse.FileType("r"), help="public keys for private_key_jwt (JSON file)"
    )
    register.add_argument(
        "--no-secret", action="store_true", help="keys only (private_key_jwt; needs --jwks)"
    )
    register.add_argument(
        "--lifetime", type=int, help="its tokens' lifetime in seconds (default: the service's)"
    )
    register.add_argument(
        "--rotation-function-arn",
        default=_env("ROTATION_FUNCTION_ARN"),
        help="schedule the secret's rotation with this function, as the admin API does "
        + _from("ROTATION_FUNCTION_ARN"),
    )
    register.add_argument(
        "--token-endpoint",
        default=_token_endpoint(),
        help="printed in the answer "
        + _from("WFCTL_TOKEN_ENDPOINT", "$PUBLIC_BASE_URL/oauth/token"),
    )
    client_actions.add_parser("list", help="list clients (never their secrets)")
    for name, text in (("rotate", "give a client a new secret now"), ("revoke", "revoke it")):
        client_actions.add_parser(name, help=text).add_argument("client_id", help="the client")

    # -- API keys ------------------------------------------------------------------------
    keys = commands.add_parser("api-keys", help="create, list, show, rotate or revoke API keys")
    keys.add_argument(
        "--prefix",
        default=_env("API_KEY_SECRET_PREFIX", DEFAULT_API_KEY_PREFIX),
        help="name prefix of API key secrets "
        + _from("API_KEY_SECRET_PREFIX", DEFAULT_API_KEY_PREFIX),
    )
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="issue a key (printed once)")
    create.add_argument("--principal", required=True, help="who calls with the key")
    create.add_argument("--scope", action="append", default=[], help="a scope, repeatable")
    create.add_argument(
        "--rotation-function-arn",
        default=_env("ROTATION_FUNCTION_ARN"),
        help="schedule rotation with this function, as the admin API does "
        + _from("ROTATION_FUNCTION_ARN"),
    )
    create.add_argument(
        "--rotate-after-days",
        type=int,
        default=DEFAULT_ROTATE_AFTER_DAYS,
        help=f"rotation schedule in days (default: {DEFAULT_ROTATE_AFTER_DAYS})",
    )
    actions.add_parser("list", help="list keys (never their values)")
    show = actions.add_parser("show", help="one key: principal, scopes, rotation schedule")
    show.add_argument("key_id", help="the key id")
    for name, text in (("rotate", "give a key a new value now"), ("revoke", "revoke a key")):
        actions.add_parser(name, help=text).add_argument("key_id", help="the key id")

    # -- revocations ---------------------------------------------------------------------
    revocations = commands.add_parser("revocations", help="revoke tokens, list revocations")
    revocations.add_argument(
        "--table",
        default=_env("SECURITY_TABLE_NAME"),
        help="the security table " + _from("SECURITY_TABLE_NAME"),
    )
    revocation_actions = revocations.add_subparsers(dest="action", required=True, metavar="ACTION")
    revoke = revocation_actions.add_parser(
        "create", help="revoke one token (--jti) or every token of a subject so far (--sub)"
    )
    target = revoke.add_mutually_exclusive_group(required=True)
    target.add_argument("--jti", help="the token's jti claim")
    target.add_argument("--sub", help="the subject whose tokens issued until now are revoked")
    revoke.add_argument(
        "--scheme",
        choices=("jwt", "oauth"),
        help="with --sub: whose subject it is (internal service tokens, or the OAuth provider's)",
    )
    revoke.add_argument(
        "--expires-at",
        type=int,
        help="with --jti: the token's exp (unix seconds; default: the longest token lifetime)",
    )
    listing = revocation_actions.add_parser("list", help="active revocations")
    listing.add_argument("--limit", type=int, default=50, help="page size (default: 50)")
    listing.add_argument("--next-token", help="the nextToken of the previous page")

    # -- a person signed in --------------------------------------------------------------
    signin = commands.add_parser(
        "login", help="sign in with the OAuth provider (authorization code + PKCE)"
    )
    signin.add_argument(
        "--issuer", default=_env("OAUTH_ISSUER"), help="the provider " + _from("OAUTH_ISSUER")
    )
    signin.add_argument(
        "--client-id",
        default=_env("WFCTL_OAUTH_CLIENT_ID", "wfctl"),
        help="the provider's public client for wfctl " + _from("WFCTL_OAUTH_CLIENT_ID", "wfctl"),
    )
    signin.add_argument(
        "--scope",
        action="append",
        default=None,
        help="a scope to ask for, repeatable (default: $WFCTL_OAUTH_SCOPES, space-separated, "
        f"else {' '.join(DEFAULT_LOGIN_SCOPES)})",
    )
    signin.add_argument(
        "--resource",
        default=_env("WFCTL_OAUTH_RESOURCE"),
        help="RFC 8707 resource indicator of the API " + _from("WFCTL_OAUTH_RESOURCE", "none"),
    )
    signin.add_argument(
        "--no-browser",
        action="store_true",
        help="print the sign-in URL instead of opening a browser",
    )
    signin.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds to wait for the browser's answer (default: 300)",
    )
    calling = commands.add_parser("call", help="call the API with the signed-in person's token")
    calling.add_argument("method", metavar="METHOD", help="GET, POST, PUT, PATCH or DELETE")
    calling.add_argument(
        "path", metavar="PATH", help="a path on the API, e.g. /api/secure-automate"
    )
    calling.add_argument("--data", help="a JSON request body")
    calling.add_argument(
        "--api-url",
        default=_env("WFCTL_API_URL", _env("PUBLIC_BASE_URL")),
        help="the API's base URL " + _from("WFCTL_API_URL", "$PUBLIC_BASE_URL"),
    )
    commands.add_parser("logout", help="delete the stored tokens")
    return parser


def _operator() -> Caller:
    """Who the audit line names: the operator's login, as an admin."""
    return Caller(principal=f"operator:{getpass.getuser()}", scheme="operator", scopes=(ADMIN,))


def _audit(action: str, **fields: Any) -> None:
    audit(action, _operator(), "wfctl", **fields)


def _secrets_manager() -> Any:
    return aws.client("secretsmanager")


def _client_secret(args: argparse.Namespace) -> str:
    secret = sys.stdin.readline().strip() if args.client_secret_stdin else None
    secret = secret or os.environ.get("WFCTL_CLIENT_SECRET", "").strip()
    if not secret:
        raise clients.ClientError("give the secret on stdin (--client-secret-stdin) or in "
                                  "WFCTL_CLIENT_SECRET")  # fmt: skip
    return secret


def _print(output: Any) -> int:
    print(json.dumps(output, indent=2))
    return 0


# -- commands --------------------------------------------------------------------------------


def cmd_token(args: argparse.Namespace) -> int:
    if not args.token_endpoint:
        raise clients.ClientError("set PUBLIC_BASE_URL or WFCTL_TOKEN_ENDPOINT")
    key = dpop.load_key(args.dpop_key) if args.dpop_key is not None else None
    answer = clients.request_token(
        args.token_endpoint, args.client_id, _client_secret(args), tuple(args.scope), key
    )
    print(answer["access_token"])
    return 0


def cmd_dpop(args: argparse.Namespace) -> int:
    if args.action == "keygen":
        key = dpop.generate_key(args.key, args.alg, force=args.force)
        return _print(
            {
                "key": str(args.key),
                "alg": key.algorithm,
                "jkt": key.thumbprint,
                "jwk": key.public_jwk,
            }
        )
    token = sys.stdin.readline().strip() if args.token_stdin else args.token
    print(dpop.load_key(args.key, args.alg).proof(args.method, args.url, token or None))
    return 0


def cmd_mint_token(args: argparse.Namespace) -> int:
    print(
        "wfctl: BREAK-GLASS: signing with the signing key itself; services get tokens from "
        "the token endpoint (wfctl token)",
        file=sys.stderr,
    )
    if not args.secret_id:
        raise tokens.TokenRequestError("set JWT_SECRET_ID or pass --secret-id")
    raw = _env("JWT_MAX_LIFETIME_SECONDS", "")
    request = tokens.TokenRequest(
        subject=args.subject,
        scopes=tuple(args.scope),
        lifetime_seconds=args.lifetime,
        issuer=args.issuer,
        audience=args.audience,
        max_lifetime_seconds=int(raw) if raw and raw.isdigit() else tokens.DEFAULT_MAX_LIFETIME,
    )
    request.check()  # before any AWS call
    secret = tokens.current_signing_secret(_secrets_manager(), args.secret_id)
    token = tokens.mint_token(secret, request)
    _audit(
        "token.minted_break_glass",
        subject=request.subject,
        scopes=list(request.scopes),
        lifetime_seconds=request.lifetime_seconds,
    )
    print(token)
    return 0


def cmd_clients(args: argparse.Namespace) -> int:
    client = _secrets_manager()
    settings = ClientAdminSettings(
        client_secret_prefix=args.prefix,
        rotation_function_arn=getattr(args, "rotation_function_arn", None),
    )
    admin = ClientAdmin(settings, client)
    output: Any
    if args.action == "create":
        jwks = json.load(args.jwks) if args.jwks else None
        body: dict[str, Any] = {"clientId": args.client_id, "scopes": args.scope}
        if jwks is not None:
            body["jwks"] = jwks
        if args.no_secret:
            body["noSecret"] = True
        if args.lifetime is not None:
            body["tokenLifetimeSeconds"] = args.lifetime
        # The admin API's own validation of id, scopes, keys and lifetime.
        request = parse_register_request(body, ClientAdminSettings.from_env())
        schedule = settings.rotation_function_arn is not None
        if request.with_secret and not schedule:
            print("wfctl: no rotation function given: the secret has no rotation schedule",
                  file=sys.stderr)  # fmt: skip
        registered = admin.register(request, schedule_rotation=schedule)
        _audit(
            "client.registered",
            registered_client_id=registered.client_id,
            allowed_scopes=list(registered.allowed_scopes),
            has_secret=registered.client_secret is not None,
        )
        output = registered.as_json(args.token_endpoint)
    elif args.action == "list":
        output, token = [], None
        while True:
            page, token = admin.list(100, token)
            output.extend(summary.as_json() for summary in page)
            if not token:
                break
    elif args.action == "rotate":
        record = clients.rotate(client, args.prefix, args.client_id)
        _audit("client.rotated", rotated_client_id=record.client_id)
        output = {"clientId": record.client_id, "clientSecret": record.client_secret}
    else:
        revoked = admin.revoke(parse_client_id(args.client_id))
        _audit(
            "client.revoked",
            revoked_client_id=revoked.client_id,
            deletion_date=revoked.deletion_date,
        )
        output = {
            "clientId": revoked.client_id,
            "revoked": True,
            "deletionDate": revoked.deletion_date,
        }
    return _print(output)


def cmd_api_keys(args: argparse.Namespace) -> int:
    client = _secrets_manager()
    output: Any
    if args.action == "create" and args.rotation_function_arn:
        admin = ApiKeyAdmin(
            AdminSettings(
                api_key_secret_prefix=args.prefix, rotation_function_arn=args.rotation_function_arn
            ),
            client,
        )
        # The admin API's own validation of principal, scopes and schedule.
        issue_request = parse_issue_request(
            {
                "principal": args.principal,
                "scopes": args.scope,
                "rotateAfterDays": args.rotate_after_days,
            },
            DEFAULT_ROTATE_AFTER_DAYS,
        )
        issued = admin.issue(issue_request)
        _audit(
            "api_key.issued",
            api_key_id=issued.key_id,
            api_key_principal=issued.principal,
            api_key_scopes=list(issued.scopes),
            rotate_after_days=issued.rotate_after_days,
        )
        output = {
            "keyId": issued.key_id,
            "apiKey": issued.api_key,
            "principal": issued.principal,
            "scopes": list(issued.scopes),
            "rotateAfterDays": issued.rotate_after_days,
        }
    elif args.action == "create":
        print(
            "wfctl: no rotation function given: the key has no rotation schedule", file=sys.stderr
        )
        record = api_keys.create(client, args.prefix, args.principal, args.scope)
        _audit(
            "api_key.issued",
            api_key_id=record.key_id,
            api_key_principal=record.principal,
            api_key_scopes=list(record.scopes),
            rotate_after_days=None,
        )
        output = {
            "keyId": record.key_id,
            "apiKey": record.api_key,
            "principal": record.principal,
            "scopes": list(record.scopes),
            "rotateAfterDays": None,
        }
    elif args.action == "list":
        output = [key.as_json() for key in api_keys.list_keys(client, args.prefix)]
    elif args.action == "show":
        output = api_keys.show(client, args.prefix, args.key_id).as_json()
    elif args.action == "rotate":
        rotated, version_id = api_keys.rotate(client, args.prefix, args.key_id)
        _audit("api_key.rotated", api_key_id=rotated.key_id, version_id=version_id)
        output = {"keyId": rotated.key_id, "apiKey": rotated.api_key, "versionId": version_id}
    else:
        admin = ApiKeyAdmin(AdminSettings(api_key_secret_prefix=args.prefix), client)
        revoked = admin.revoke(parse_key_id(args.key_id))
        deletion = revoked.deletion_date.isoformat() if revoked.deletion_date else None
        _audit("api_key.revoked", api_key_id=revoked.key_id, deletion_date=deletion)
        output = {"keyId": revoked.key_id, "revoked": True, "deletionDate": deletion}
    return _print(output)


def cmd_revocations(args: argparse.Namespace) -> int:

    # The authorizer's own settings (issuers, lifetimes, skew): a revocation follows its rules.
    settings = AuthorizerSettings.from_env(os.environ)
    if args.table:
        settings = replace(settings, security=replace(settings.security, table_name=args.table))
    store = RevocationStore(settings, new_dynamodb_client())
    if args.action == "create":
        body: dict[str, Any] = (
            {"jti": args.jti} if args.jti is not None else {"sub": args.sub, "scheme": args.scheme}
        )
        if args.expires_at is not None:
            body["expiresAt"] = args.expires_at
        operator = _operator()
        # The API's own parser and store (the request is refused here as it would be there).
        revocation = store.revoke(body, revoked_by=operator.principal)
        _audit("revoke_token", target=revocation.kind, value=revocation.value)
        return _print(revocation.as_json())
    query = {"limit": str(args.limit)}
    if args.next_token:
        query["nextToken"] = args.next_token
    page = parse_page(query, default_limit=DEFAULT_PAGE_SIZE)
    active, next_token = store.active(page)
    return _print({"revocations": [r.as_json() for r in active], "nextToken": next_token})


def cmd_login(args: argparse.Namespace) -> int:
    if not args.issuer:
        raise LoginError("set OAUTH_ISSUER or pass --issuer")
    scopes = args.scope
    if scopes is None:
        scopes = (_env("WFCTL_OAUTH_SCOPES") or " ".join(DEFAULT_LOGIN_SCOPES)).split()
    login(
        LoginRequest(
            issuer=args.issuer,
            client_id=args.client_id,
            scopes=tuple(scopes),
            timeout_seconds=args.timeout,
            open_browser=not args.no_browser,
            resource=args.resource,
        )
    )
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    if not args.api_url:
        raise LoginError("set WFCTL_API_URL or pass --api-url")
    answer = call(args.method, args.api_url, args.path, args.data)
    sys.stdout.write(answer.body.decode("utf-8", errors="replace"))
    if answer.body and not answer.body.endswith(b"\n"):
        sys.stdout.write("\n")
    if answer.status >= 400:
        print(f"wfctl: the API answered {answer.status}", file=sys.stderr)
        return EXIT_REFUSED
    return 0


def cmd_logout(_: argparse.Namespace) -> int:
    path = session.session_path()
    if session.delete(path):
        print(f"wfctl: signed out; {path} deleted", file=sys.stderr)
    else:
        print("wfctl: not logged in", file=sys.stderr)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "token": cmd_token,
    "dpop": cmd_dpop,
    "mint-token": cmd_mint_token,
    "clients": cmd_clients,
    "api-keys": cmd_api_keys,
    "revocations": cmd_revocations,
    "login": cmd_login,
    "call": cmd_call,
    "logout": cmd_logout,
}


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return COMMANDS[args.command](args)


def main(argv: list[str] | None = None) -> int:
    # Audit and log lines go to stderr: stdout carries only the command's result.
    handler = logger.registered_handler
    previous = handler.setStream(sys.stderr) if isinstance(handler, logging.StreamHandler) else None
    try:
        return _run_reporting(argv)
    finally:
        if previous is not None and isinstance(handler, logging.StreamHandler):
            handler.setStream(previous)


def _run_reporting(argv: list[str] | None) -> int:
    """`run`, with every refusal or failure turned into one line on stderr and an exit code."""
    try:
        return run(argv)
    except ApiError as error:
        print(f"wfctl: {error.code}: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except (
        tokens.TokenRequestError,
        api_keys.ApiKeyError,
        clients.ClientError,
        dpop.DpopKeyError,
        ConfigurationError,
        SecretFormatError,
        LoginError,
    ) as error:
        print(f"wfctl: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("wfctl: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # botocore errors: say what failed, never a secret value
        print(f"wfctl: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED

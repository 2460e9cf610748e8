"""Operator command for the workflow API.

  python -m wfctl clients create --client-id reports-service --scope workflow:read
      [--scope ...] [--jwks FILE] [--no-secret] [--lifetime SECONDS]
  python -m wfctl clients list | rotate <clientId> | revoke <clientId>
  WFCTL_CLIENT_SECRET=... python -m wfctl token --client-id reports-service [--scope S]
  python -m wfctl mint-token --subject ... --scope ...     (break-glass: needs the signing key)
  python -m wfctl api-keys create --principal billing-batch [--scope workflow:read]
      [--rotation-function-arn ARN --rotate-after-days 90]
  python -m wfctl api-keys list
  python -m wfctl api-keys rotate <keyId>
  python -m wfctl api-keys revoke <keyId>

AWS access comes from boto3's usual configuration (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL
for the local run). Defaults come from the same variables the functions read: JWT_SECRET_ID,
JWT_ISSUER, JWT_AUDIENCE, JWT_MAX_LIFETIME_SECONDS, API_KEY_SECRET_PREFIX, CLIENT_SECRET_PREFIX,
ROTATION_FUNCTION_ARN, PUBLIC_BASE_URL (the token endpoint is PUBLIC_BASE_URL + /oauth/token,
or WFCTL_TOKEN_ENDPOINT).

`token` gets a token the way every service does: from the token endpoint, with the client's
id and secret (read from stdin with --client-secret-stdin, or from WFCTL_CLIENT_SECRET; never a
command-line argument, which other users of the machine can see). `mint-token` signs a token
with the signing key itself: a break-glass command for an operator whose IAM role may read the
signing secret (the template's BreakGlassRoleArn), audited as such.

Issuing (with a rotation function) and revoking go through `shared.api_keys`, the code of
the admin endpoints, so a key handled here is handled exactly as through the API, with the same
audit line (actor `operator:<user>`, on stderr). `rotate` writes the new value itself rather
than starting the rotation function, so it also works where that function cannot run (the
local run); the previous value stays valid for API_KEY_GRACE_SECONDS.

A token or a new key is printed once, on stdout, and nowhere else.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
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
from shared.http_api import audit
from shared.observability import logger
from shared.scopes import ADMIN
from shared.secret_formats import SecretFormatError
from shared.settings import DEFAULT_API_KEY_PREFIX, DEFAULT_CLIENT_PREFIX, ConfigurationError
from wfctl import api_keys, clients, tokens


def _client() -> Any:
    return aws.client("secretsmanager")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wfctl",
        description="Manage token-service clients and API keys of the workflow API, and get "
        "service tokens from its token endpoint.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    token = commands.add_parser("token", help="get a service token from the token endpoint")
    token.add_argument("--client-id", required=True, help="the registered client")
    token.add_argument(
        "--client-secret-stdin",
        action="store_true",
        help="read the client secret from stdin (else WFCTL_CLIENT_SECRET)",
    )
    token.add_argument(
        "--scope", action="append", default=[], help="repeatable (default: all allowed)"
    )
    token.add_argument(
        "--token-endpoint", default=_token_endpoint(), help="default: $PUBLIC_BASE_URL/oauth/token"
    )

    mint = commands.add_parser(
        "mint-token",
        help="BREAK-GLASS: sign a service token with the signing key itself",
        description="Break-glass only: signs with the signing secret, which only the "
        "authorizer, the token function, the rotation function and the template's "
        "BreakGlassRoleArn may read. Everyone else uses `wfctl token`.",
    )
    mint.add_argument("--subject", required=True, help="the calling service (sub claim)")
    mint.add_argument("--scope", action="append", default=[], help="repeatable")
    mint.add_argument("--lifetime", type=int, default=900, help="seconds (default 900)")
    mint.add_argument("--secret-id", default=os.environ.get("JWT_SECRET_ID"), help="signing secret")
    mint.add_argument("--issuer", default=os.environ.get("JWT_ISSUER") or None, help="iss claim")
    mint.add_argument("--audience", default=os.environ.get("JWT_AUDIENCE") or None, help="aud")

    registered = commands.add_parser("clients", help="register, list, rotate or revoke clients")
    registered.add_argument(
        "--prefix",
        default=os.environ.get("CLIENT_SECRET_PREFIX") or DEFAULT_CLIENT_PREFIX,
        help="name prefix of client secrets",
    )
    client_actions = registered.add_subparsers(dest="action", required=True)
    register = client_actions.add_parser("create", help="register a client (secret printed once)")
    register.add_argument("--client-id", required=True, help="[a-z0-9][a-z0-9-]{2,63}")
    register.add_argument(
        "--scope", action="append", default=[], required=True, help="allowed scope, repeatable"
    )
    register.add_argument("--jwks", type=argparse.FileType("r"), help="public keys (JSON file)")
    register.add_argument(
        "--no-secret", action="store_true", help="keys only (private_key_jwt; needs --jwks)"
    )
    register.add_argument("--lifetime", type=int, help="its tokens' lifetime in seconds")
    register.add_argument(
        "--rotation-function-arn",
        default=os.environ.get("ROTATION_FUNCTION_ARN") or None,
        help="schedule the secret's rotation with this function (as the admin API does)",
    )
    register.add_argument(
        "--token-endpoint", default=_token_endpoint(), help="printed in the answer"
    )
    client_actions.add_parser("list", help="list clients (never their secrets)")
    for name, text in (("rotate", "give a client a new secret now"), ("revoke", "revoke it")):
        client_actions.add_parser(name, help=text).add_argument("client_id")

    keys = commands.add_parser("api-keys", help="create, list, rotate or revoke API keys")
    keys.add_argument(
        "--prefix", default=os.environ.get("API_KEY_SECRET_PREFIX") or DEFAULT_API_KEY_PREFIX
    )
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="issue a key (printed once)")
    create.add_argument("--principal", required=True)
    create.add_argument("--scope", action="append", default=[], help="repeatable")
    create.add_argument(
        "--rotation-function-arn",
        default=os.environ.get("ROTATION_FUNCTION_ARN") or None,
        help="schedule rotation with this function (as the admin API does)",
    )
    create.add_argument("--rotate-after-days", type=int, default=DEFAULT_ROTATE_AFTER_DAYS)
    actions.add_parser("list", help="list keys (never their values)")
    for name, text in (("rotate", "give a key a new value now"), ("revoke", "revoke a key")):
        actions.add_parser(name, help=text).add_argument("key_id")
    return parser


def _operator() -> Caller:
    """Who the audit line names: the operator's login, as an admin."""
    return Caller(principal=f"operator:{getpass.getuser()}", scheme="operator", scopes=(ADMIN,))


def _max_lifetime() -> int:
    raw = os.environ.get("JWT_MAX_LIFETIME_SECONDS", "").strip()
    return int(raw) if raw.isdigit() else tokens.DEFAULT_MAX_LIFETIME


def _token_endpoint() -> str | None:
    explicit = os.environ.get("WFCTL_TOKEN_ENDPOINT", "").strip()
    if explicit:
        return explicit
    base = os.environ.get("PUBLIC_BASE_URL", "").strip().rstrip("/")
    return f"{base}/oauth/token" if base else None


def _client_secret(args: argparse.Namespace) -> str:
    secret = sys.stdin.readline().strip() if args.client_secret_stdin else None
    secret = secret or os.environ.get("WFCTL_CLIENT_SECRET", "").strip()
    if not secret:
        raise clients.ClientError("give the secret on stdin (--client-secret-stdin) or in "
                                  "WFCTL_CLIENT_SECRET")  # fmt: skip
    return secret


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "token":
        if not args.token_endpoint:
            raise clients.ClientError("set PUBLIC_BASE_URL or WFCTL_TOKEN_ENDPOINT")
        answer = clients.request_token(
            args.token_endpoint, args.client_id, _client_secret(args), tuple(args.scope)
        )
        print(answer["access_token"])
        return 0
    if args.command == "clients":
        return _clients(args)
    if args.command == "mint-token":
        print(
            "wfctl: BREAK-GLASS: signing with the signing key itself; services get tokens from "
            "the token endpoint (wfctl token)",
            file=sys.stderr,
        )
        if not args.secret_id:
            raise tokens.TokenRequestError("set JWT_SECRET_ID or pass --secret-id")
        request = tokens.TokenRequest(
            subject=args.subject,
            scopes=tuple(args.scope),
            lifetime_seconds=args.lifetime,
            issuer=args.issuer,
            audience=args.audience,
            max_lifetime_seconds=_max_lifetime(),
        )
        request.check()  # before any AWS call
        secret = tokens.current_signing_secret(_client(), args.secret_id)
        token = tokens.mint_token(secret, request)
        audit(
            "token.minted_break_glass",
            _operator(),
            "wfctl",
            subject=request.subject,
            scopes=list(request.scopes),
            lifetime_seconds=request.lifetime_seconds,
        )
        print(token)
        return 0
    client = _client()
    admin = ApiKeyAdmin(
        AdminSettings(
            api_key_secret_prefix=args.prefix,
            rotation_function_arn=getattr(args, "rotation_function_arn", None),
        ),
        client,
    )
    if args.action == "create" and args.rotation_function_arn:
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
        audit(
            "api_key.issued",
            _operator(),
            "wfctl",
            api_key_id=issued.key_id,
            api_key_principal=issued.principal,
            api_key_scopes=list(issued.scopes),
            rotate_after_days=issued.rotate_after_days,
        )
        output: Any = {
            "key_id": issued.key_id,
            "api_key": issued.api_key,
            "principal": issued.principal,
            "scopes": list(issued.scopes),
            "rotate_after_days": issued.rotate_after_days,
        }
    elif args.action == "create":
        print(
            "wfctl: no rotation function given: the key has no rotation schedule", file=sys.stderr
        )
        record = api_keys.create(client, args.prefix, args.principal, args.scope)
        output = {
            "key_id": record.key_id,
            "api_key": record.api_key,
            "principal": record.principal,
            "scopes": list(record.scopes),
        }
    elif args.action == "list":
        output = [key.as_json() for key in api_keys.list_keys(client, args.prefix)]
    elif args.action == "rotate":
        record = api_keys.rotate(client, args.prefix, args.key_id)
        output = {"key_id": record.key_id, "api_key": record.api_key}
    else:
        revoked = admin.revoke(parse_key_id(args.key_id))
        deletion = revoked.deletion_date
        audit(
            "api_key.revoked",
            _operator(),
            "wfctl",
            api_key_id=revoked.key_id,
            deletion_date=deletion.isoformat() if deletion else None,
        )
        output = {
            "key_id": revoked.key_id,
            "revoked": True,
            "deletion_date": deletion.isoformat() if deletion else None,
        }
    print(json.dumps(output, indent=2))
    return 0


def _clients(args: argparse.Namespace) -> int:
    client = _client()
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
        audit(
            "client.registered",
            _operator(),
            "wfctl",
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
        audit("client.rotated", _operator(), "wfctl", rotated_client_id=record.client_id)
        output = {"clientId": record.client_id, "clientSecret": record.client_secret}
    else:
        revoked = admin.revoke(parse_client_id(args.client_id))
        audit(
            "client.revoked",
            _operator(),
            "wfctl",
            revoked_client_id=revoked.client_id,
            deletion_date=revoked.deletion_date,
        )
        output = {
            "clientId": revoked.client_id,
            "revoked": True,
            "deletionDate": revoked.deletion_date,
        }
    print(json.dumps(output, indent=2))
    return 0


def main() -> int:
    # Audit and log lines go to stderr: stdout carries only the command's result.
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)
    try:
        return run()
    except ApiError as error:
        print(f"wfctl: {error.code}: {error}", file=sys.stderr)
        return 2
    except (
        tokens.TokenRequestError,
        api_keys.ApiKeyError,
        clients.ClientError,
        ConfigurationError,
        SecretFormatError,
    ) as error:
        print(f"wfctl: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # botocore errors: say what failed, never a secret value
        print(f"wfctl: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

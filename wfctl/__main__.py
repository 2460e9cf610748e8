"""Operator command for the workflow API.

  python -m wfctl token --subject reports-service --scope workflow:read [--lifetime 900]
  python -m wfctl api-keys create --principal billing-batch [--scope workflow:read]
      [--rotation-function-arn ARN --rotate-after-days 90]
  python -m wfctl api-keys list
  python -m wfctl api-keys rotate <keyId>
  python -m wfctl api-keys revoke <keyId>

AWS access comes from boto3's usual configuration (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL
for the local run). Defaults come from the same variables the functions read: JWT_SECRET_ID,
JWT_ISSUER, JWT_AUDIENCE, JWT_MAX_LIFETIME_SECONDS, API_KEY_SECRET_PREFIX, ROTATION_FUNCTION_ARN.

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
from shared.http_api import audit
from shared.observability import logger
from shared.scopes import ADMIN
from shared.secret_formats import SecretFormatError
from shared.settings import DEFAULT_API_KEY_PREFIX, ConfigurationError
from wfctl import api_keys, tokens


def _client() -> Any:
    return aws.client("secretsmanager")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wfctl",
        description="Mint service tokens and manage API keys of the workflow API.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    token = commands.add_parser("token", help="mint an internal service token (jwt scheme)")
    token.add_argument("--subject", required=True, help="the calling service (sub claim)")
    token.add_argument("--scope", action="append", default=[], help="repeatable")
    token.add_argument("--lifetime", type=int, default=900, help="seconds (default 900)")
    token.add_argument("--secret-id", default=os.environ.get("JWT_SECRET_ID"))
    token.add_argument("--issuer", default=os.environ.get("JWT_ISSUER") or None)
    token.add_argument("--audience", default=os.environ.get("JWT_AUDIENCE") or None)

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


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "token":
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
        print(tokens.mint_token(secret, request))
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

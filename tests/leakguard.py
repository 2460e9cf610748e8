"""Proof that no secret leaks: every log line, metric blob and error body written during the
whole test session is kept, and at the end searched for every token, API key and signing key
the tests created (and for their base64url forms).

Secrets are registered where they are made: `jwt.encode` (each token and the key that signed
it) and the project's own generators in `shared.secret_formats` (signing keys, API keys, client
secrets); and where they arrive: every client secret and client assertion presented to the token
service (`shared.clients.form`), whoever signed it (authlib's assertions are not PyJWT's).
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from typing import Any

_RUN = re.compile(r"[A-Za-z0-9_\-.~+/=]{16,}")


class LeakGuard:
    def __init__(self) -> None:
        self.secrets: set[str] = set()
        # Only the distinct credential-shaped runs of the output are kept: the whole output of
        # a session (100,000s of lines in the flood tests) would be tens of MB.
        self.runs: set[str] = set()
        self._undo: list[Callable[[], None]] = []

    def register(self, value: object) -> None:
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                return
        if not isinstance(value, str) or len(value) < 16 or value.startswith("-----BEGIN"):
            return
        self.secrets.add(value)
        self.secrets.add(base64.urlsafe_b64encode(value.encode()).rstrip(b"=").decode())
        if value.startswith("wfk_"):
            self.secrets.add(value.split("_", 2)[-1])  # the key's secret part alone

    def write(self, text: str) -> None:
        self.runs.update(_RUN.findall(text))

    def patch(self, owner: Any, name: str, wrapper: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        setattr(owner, name, wrapper(original))
        self._undo.append(lambda: setattr(owner, name, original))

    def undo(self) -> None:
        while self._undo:
            self._undo.pop()()

    def leaks(self) -> list[str]:
        runs = "\n".join(self.runs)
        return sorted(
            secret[:12] + "..." for secret in self.secrets if len(secret) >= 16 and secret in runs
        )


class Tee(io.TextIOBase):
    """A stream that writes to the original stream and to the guard."""

    def __init__(self, original: Any, guard: LeakGuard) -> None:
        self.original, self.guard = original, guard

    def write(self, text: str) -> int:
        self.guard.write(text)
        return int(self.original.write(text))

    def flush(self) -> None:
        self.original.flush()


def install(guard: LeakGuard) -> None:
    import jwt  # noqa: PLC0415
    from aws_lambda_powertools.event_handler import api_gateway  # noqa: PLC0415
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch  # noqa: PLC0415

    import shared.secret_formats as formats  # noqa: PLC0415
    from shared.observability import logger  # noqa: PLC0415

    def registering(original: Callable[..., Any], key_arg: int | None = None) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            guard.register(result)
            if key_arg is not None:
                guard.register(kwargs.get("key", args[key_arg] if len(args) > key_arg else None))
            if isinstance(result, str) and result.startswith("{"):
                import json  # noqa: PLC0415

                for value in json.loads(result).values():
                    guard.register(value)
            return result

        return wrapper

    guard.patch(jwt, "encode", lambda f: registering(f, key_arg=1))
    guard.patch(formats, "new_api_key", registering)
    guard.patch(formats, "new_signing_secret", registering)
    guard.patch(formats, "new_client_secret", registering)

    from shared.clients import form  # noqa: PLC0415

    def registering_form(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            guard.register(result.client_secret)
            guard.register(result.client_assertion)
            return result

        return wrapper

    def registering_basic(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for arg in args:
                guard.register(arg.split(" ", 1)[-1] if isinstance(arg, str) else arg)
            client_id, secret = original(*args, **kwargs)
            guard.register(secret)
            return client_id, secret

        return wrapper

    from shared import dpop  # noqa: PLC0415

    def registering_proof(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(proof: Any, /, **kwargs: Any) -> Any:
            guard.register(proof)
            return original(proof, **kwargs)

        return wrapper

    guard.patch(dpop, "verify_proof", registering_proof)
    guard.patch(form, "read_form", registering_form)
    guard.patch(form, "parse_basic", registering_basic)

    handler = logger.registered_handler
    previous = handler.setStream(Tee(handler.stream, guard))  # type: ignore[attr-defined]
    guard._undo.append(lambda: handler.setStream(previous))  # type: ignore[attr-defined]

    # Powertools prints EMF blobs; a module-level `print` shadows the builtin for that module.
    def emf_print(*args: Any, **_: Any) -> None:
        text = " ".join(str(arg) for arg in args)
        guard.write(text)
        builtin_print(text)

    import builtins  # noqa: PLC0415

    builtin_print = builtins.print
    cloudwatch.print = emf_print  # type: ignore[attr-defined]
    guard._undo.append(lambda: delattr(cloudwatch, "print"))

    def recording_resolve(original: Callable[..., Any]) -> Callable[..., Any]:
        def resolve(self: Any, event: Any, context: Any) -> Any:
            response = original(self, event, context)
            if isinstance(response, dict) and int(response.get("statusCode", 200)) >= 400:
                guard.write(str(response.get("body")))
                guard.write(str(response.get("headers")))
            return response

        return resolve

    guard.patch(api_gateway.ApiGatewayResolver, "resolve", recording_resolve)

"""`make run`: the whole secured API on loopback, with no AWS account and no Docker.

Starts moto's server (the local AWS, Step Functions really executing), the local OAuth provider
(when Node.js is present) and the local gateway; creates the template's resources and the demo
credentials: two token-service clients (`demo`: read and trigger; `admin`: admin), an API key
and the OAuth provider's client. Prints how to get a token from the token endpoint and one
ready-to-paste `curl` per route, writes the credentials for scripts to
`local/.run/credentials.json` (mode 0600, removed when the run stops), and stops every child
on Ctrl-C. Nothing here holds or prints the signing key: tokens come from the token endpoint.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import IO, Any

from local import oidc_provider
from local.cfn import TemplateError, load_template
from local.deployment import ALL_FUNCTIONS, Deployment
from local.seed import (
    create_ip_sets,
    create_secrets,
    create_state_machines,
    create_tables,
    register_functions,
)
from local.template import ApiSpec, read_api
from shared.clients import ClientAdmin, ClientAdminSettings, RegisterRequest
from shared.scopes import ADMIN, READ, TRIGGER
from shared.settings import DEFAULT_API_KEY_PREFIX, DEFAULT_CLIENT_PREFIX
from wfctl import api_keys, clients
from wfctl.dpop import DpopKey, generate_key

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
#: The two demo clients of the token service: id -> allowed scopes.
DEMO_CLIENTS: dict[str, tuple[str, ...]] = {"demo": (READ, TRIGGER), "admin": (ADMIN,)}
TOKEN_PATH = "/oauth/token"
CREDENTIALS_FILE = ROOT / "local" / ".run" / "credentials.json"
DEMO_KEY_PRINCIPAL = "demo-internal-client"
DEMO_IDEMPOTENCY_KEY = "demo-run-1"
#: The template parameter choosing the DPoP mode (docs/configuration.md), and its values.
DPOP_PARAMETER = "DpopMode"
DPOP_MODES = ("off", "optional", "required")
STARTUP_TIMEOUT = 30.0


class StartupError(RuntimeError):
    """A child process did not come up, or the template could not be deployed locally."""


def aws_environment(moto_port: int) -> dict[str, str]:
    """boto3 settings pointing every client at moto (fake credentials are still required)."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN")}
    env.update(
        {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def port_in_use(port: int) -> bool:
    with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


def wait_for_port(port: int, process: subprocess.Popen[Any], name: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartupError(f"{name} exited with status {process.returncode}")
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise StartupError(f"{name} did not listen on port {port} within {STARTUP_TIMEOUT:.0f} s")


@dataclass
class Children:
    """Every process this run started, stopped in reverse order."""

    processes: list[tuple[str, subprocess.Popen[Any]]] = field(default_factory=list)

    def start(
        self, name: str, argv: list[str], env: Mapping[str, str], output: IO[Any] | None
    ) -> subprocess.Popen[Any]:
        process = subprocess.Popen(
            argv,
            env=dict(env),
            cwd=ROOT,
            stdout=output,
            stderr=output,
            stdin=subprocess.DEVNULL,
            # Own process group: Ctrl-C reaches this run only, which then stops the children
            # in order (gateway first, moto last) instead of all of them racing.
            process_group=0,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - this process starts no threads
        )
        self.processes.append((name, process))
        return process

    def stop(self, name: str) -> None:
        for index, (child, process) in enumerate(self.processes):
            if child == name:
                _terminate(process)
                del self.processes[index]
                return

    def stop_all(self) -> None:
        while self.processes:
            _, process = self.processes.pop()
            _terminate(process)


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if this run dies without stopping it (Linux)."""
    with suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def _terminate(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def children() -> Iterator[Children]:
    started = Children()

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield started
    finally:
        started.stop_all()
        signal.signal(signal.SIGTERM, previous)


def start_moto(kids: Children, port: int, env: Mapping[str, str], log: IO[Any]) -> None:
    import requests  # noqa: PLC0415

    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    wait_for_port(port, kids.start("moto", argv, env, log), "moto server")
    # Without this, executions stay RUNNING forever: moto runs state machines only when its
    # config says so.
    response = requests.post(
        f"http://127.0.0.1:{port}/moto-api/config",
        json={
            "stepfunctions": {"execute_state_machine": True},
            "lambda": {"use_docker": False},
        },
        timeout=5,
    )
    response.raise_for_status()


@dataclass(frozen=True)
class LocalStack:
    """What was deployed locally: the API, the resources, and each function's environment."""

    api: ApiSpec
    deployment: Deployment

    def env_of(self, logical_id: str) -> dict[str, str]:
        spec = self.api.functions[logical_id]
        return {
            **spec.environment,
            **self.deployment.environment.get(ALL_FUNCTIONS, {}),
            **self.deployment.environment.get(logical_id, {}),
        }

    @property
    def authorizer_functions(self) -> set[str]:
        return {a.function for a in self.api.authorizers.values()}

    def function_for(self, method: str, path: str) -> str | None:
        for route in self.api.routes:
            if route.method == method and route.path == path:
                return route.function
        return None


#: Template parameters the local run overrides: it has no AWS-made Lambda layers, so the
#: authorizer reads secrets through boto3 rather than the Parameters and Secrets Extension.
LOCAL_PARAMETERS: Mapping[str, str] = {"SecretsExtension": "off"}


def deploy(
    template_path: Path,
    env: Mapping[str, str],
    moto_port: int,
    parameters: Mapping[str, str] | None = None,
) -> LocalStack:
    """Create the template's secrets, tables and state machines in moto, for these parameter
    values (the others take the template's defaults, as on deploy)."""
    import boto3  # noqa: PLC0415

    endpoint = f"http://127.0.0.1:{moto_port}"
    session = boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    template = load_template(template_path)
    deployment = Deployment(parameters={**LOCAL_PARAMETERS, **(parameters or {})}, region=REGION)
    resolver = deployment.resolver(template)
    created = create_secrets(
        template, resolver, session.client("secretsmanager", endpoint_url=endpoint)
    )
    resolver.resources.update(created)
    tables = create_tables(template, resolver, session.client("dynamodb", endpoint_url=endpoint))
    resolver.resources.update(tables)
    ip_sets = create_ip_sets(template, resolver, session.client("wafv2", endpoint_url=endpoint))
    resolver.resources.update(ip_sets)
    functions = register_functions(
        template,
        resolver,
        session.client("iam", endpoint_url=endpoint),
        session.client("lambda", endpoint_url=endpoint),
    )
    resolver.resources.update(functions)
    machines = create_state_machines(
        template,
        resolver,
        session.client("stepfunctions", endpoint_url=endpoint),
        template_path.resolve().parent,
    )
    deployment = Deployment(
        parameters=deployment.parameters,
        resources={**created, **tables, **ip_sets, **functions, **machines},
        region=REGION,
    )
    api = read_api(template, deployment.resolver(template), template_path.resolve().parent)
    return LocalStack(api, deployment)


def with_environment(stack: LocalStack, overrides: Mapping[str, Mapping[str, str]]) -> LocalStack:
    merged = {k: dict(v) for k, v in stack.deployment.environment.items()}
    for logical_id, env in overrides.items():
        merged.setdefault(logical_id, {}).update(env)
    deployment = Deployment(
        parameters=stack.deployment.parameters,
        resources=stack.deployment.resources,
        environment=merged,
        region=stack.deployment.region,
    )
    return LocalStack(stack.api, deployment)


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Credentials:
    clients: Mapping[str, DemoClient]
    token_endpoint: str
    api_key: str
    api_key_id: str
    oauth: oidc_provider.OidcConfig | None
    tokens: dict[str, str] = field(default_factory=dict, repr=False)
    """A first token per demo client, from the token endpoint (set once the API answers)."""


def token_function_env(stack: LocalStack) -> dict[str, str]:
    function = stack.function_for("POST", TOKEN_PATH)
    if function is None:
        raise StartupError(f"template.yaml serves no POST {TOKEN_PATH}")
    return stack.env_of(function)


def demo_credentials(
    stack: LocalStack,
    env: Mapping[str, str],
    moto_port: int,
    base: str,
    oauth: oidc_provider.OidcConfig | None,
) -> Credentials:
    """Register the demo clients (as `POST /api/admin/clients` does) and the demo API key."""
    import boto3  # noqa: PLC0415

    client = boto3.client(
        "secretsmanager",
        endpoint_url=f"http://127.0.0.1:{moto_port}",
        region_name=REGION,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    prefix = token_function_env(stack).get("CLIENT_SECRET_PREFIX") or DEFAULT_CLIENT_PREFIX
    admin = ClientAdmin(ClientAdminSettings(client_secret_prefix=prefix), client)
    registered: dict[str, DemoClient] = {}
    for client_id, scopes in DEMO_CLIENTS.items():
        # No rotation schedule: Secrets Manager cannot run the rotation function locally
        # (`wfctl clients rotate` writes a new secret itself).
        made = admin.register(RegisterRequest(client_id, scopes), schedule_rotation=False)
        registered[client_id] = DemoClient(client_id, str(made.client_secret), scopes)
    authorizer_env = stack.env_of(sorted(stack.authorizer_functions)[0])
    key_prefix = authorizer_env.get("API_KEY_SECRET_PREFIX") or DEFAULT_API_KEY_PREFIX
    record = api_keys.create(client, key_prefix, DEMO_KEY_PRINCIPAL, [READ])
    return Credentials(registered, base + TOKEN_PATH, record.api_key, record.key_id, oauth)


def fetch_demo_tokens(creds: Credentials, dpop_key: DpopKey | None = None) -> None:
    """A first token per demo client, from the token endpoint (also proves it answers); bound
    to `dpop_key` when given (`DPOP_MODE=required`: the token service issues no bearer token)."""
    for name, demo in creds.clients.items():
        answer = clients.request_token(
            creds.token_endpoint, demo.client_id, demo.client_secret, dpop_key=dpop_key
        )
        creds.tokens[name] = str(answer["access_token"])


def demo_workflow(stack: LocalStack) -> str:
    """A workflow id the template configures (`WORKFLOWS` of the run functions), else `demo`."""
    function = stack.function_for("POST", "/api/workflows/{workflowId}/runs")
    raw = stack.env_of(function).get("WORKFLOWS") if function else None
    with suppress(ValueError, AttributeError):
        workflows = json.loads(raw or "")
        if isinstance(workflows, dict) and workflows:
            return str(sorted(workflows)[0])
    return "demo"


def start_demo_run(
    base: str, token: str, workflow: str, dpop_key: DpopKey | None = None
) -> dict[str, Any] | None:
    """Start the demo run once, so the printed status command names a real run."""
    import requests  # noqa: PLC0415

    url = f"{base}/api/workflows/{workflow}/runs"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": DEMO_IDEMPOTENCY_KEY}
    if dpop_key is not None:
        headers["Authorization"] = f"DPoP {token}"
        headers["DPoP"] = dpop_key.proof("POST", url, access_token=token)
    response = requests.post(
        url,
        headers=headers,
        json={"input": {"hello": "world"}},
        timeout=10,
    )
    if response.status_code not in (200, 201, 202):
        print(f"warning: starting the demo run answered {response.status_code}", file=sys.stderr)
        return None
    data: dict[str, Any] = response.json()
    return data


def _token_curl(creds: Credentials, name: str) -> str:
    demo = creds.clients[name]
    return (
        f"curl -s -u {demo.client_id}:{demo.client_secret} "
        f"-d grant_type=client_credentials {creds.token_endpoint}"
    )


_ACCESS_TOKEN = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"


def _shown(path: Path) -> str:
    """A path relative to the repository when it is inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def instructions(
    base: str,
    creds: Credentials,
    stack: LocalStack,
    moto_port: int,
    run: dict[str, Any] | None,
    workflow: str,
    node_missing: str | None,
    credentials_file: Path = CREDENTIALS_FILE,
) -> str:
    aws = " ".join(f"{name}={value}" for name, value in operator_env(stack, moto_port).items())
    bearer = '-H "Authorization: Bearer $TOKEN"'
    admin = '-H "Authorization: Bearer $ADMIN_TOKEN"'
    json_type = "-H 'Content-Type: application/json'"
    demo, admin_client = creds.clients["demo"], creds.clients["admin"]
    lines = [
        "",
        f"Local workflow API: {base}   (stage {stack.api.stage} in method ARNs; Ctrl-C stops)",
        f"Credentials for scripts: {_shown(credentials_file)} (mode 0600)",
        "",
        f"# Token service clients: {demo.client_id} ({' '.join(demo.scopes)}), "
        f"{admin_client.client_id} ({' '.join(admin_client.scopes)})",
        "# A token (client credentials, RFC 6749 section 4.4; the answer is JSON):",
        _token_curl(creds, "demo"),
        f"export TOKEN=$({_token_curl(creds, 'demo')} | {_ACCESS_TOKEN})",
        f"export ADMIN_TOKEN=$({_token_curl(creds, 'admin')} | {_ACCESS_TOKEN})",
        "# or with the operator command (the secret from the environment, never an argument):",
        f"WFCTL_CLIENT_SECRET='{demo.client_secret}' .venv/bin/python -m wfctl token "
        f"--client-id {demo.client_id} --token-endpoint {creds.token_endpoint}",
        f"curl -s {base}/.well-known/oauth-authorization-server",
        "",
        f"# Demo API key (principal {DEMO_KEY_PRINCIPAL}, key id {creds.api_key_id}):",
        f"export API_KEY='{creds.api_key}'",
        "",
    ]
    lines += dpop_instructions(base, creds, stack)
    if creds.oauth is not None:
        client = creds.oauth.clients[0]
        token_curl = (
            f"curl -s -u {client.client_id}:{client.client_secret} "
            f"-d grant_type=client_credentials -d 'scope={client.scope}' "
            f"{creds.oauth.token_endpoint}"
        )
        lines += [
            "# OAuth access token from the local oidc-provider (client_credentials grant):",
            token_curl,
            f"export OAUTH_TOKEN=$({token_curl} | python3 -c "
            "'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
            "",
        ]
        if creds.oauth.login_client is not None:
            lines += [
                "# Sign a person in (authorization code + PKCE, docs/wfctl.md); the demo user is "
                f"{oidc_provider.DEMO_USER} / {oidc_provider.DEMO_PASSWORD}:",
                f"export OAUTH_ISSUER={creds.oauth.issuer} WFCTL_API_URL={base}",
                ".venv/bin/python -m wfctl login            # or --no-browser to print the URL",
                ".venv/bin/python -m wfctl call GET /api/secure-automate",
                "",
            ]
    else:
        lines += [f"# OAuth demo disabled: {node_missing}", ""]
    lines += [
        "# Clients (workflow:admin), and a client of your own:",
        f"curl -s {base}/api/admin/clients {admin}",
        f"curl -s -X POST {base}/api/admin/clients {admin} {json_type} "
        '-d \'{"clientId": "my-service", "scopes": ["workflow:read"]}\'',
        f"curl -s -X POST {base}/api/admin/clients/my-service/rotate {admin}",
        f"curl -s -X DELETE {base}/api/admin/clients/my-service {admin}",
        f"{aws} .venv/bin/python -m wfctl clients list",
        "",
        "# API keys and revocations (workflow:admin):",
        f"curl -s -X POST {base}/api/admin/api-keys {admin} {json_type} "
        '-d \'{"principal": "my-batch", "scopes": ["workflow:read"]}\'',
        f"curl -s -X POST {base}/api/admin/api-keys/<keyId>/rotate {admin}",
        f"curl -s -X DELETE {base}/api/admin/api-keys/<keyId> {admin}",
        f"curl -s -X POST {base}/api/admin/revocations {admin} {json_type} "
        '-d \'{"sub": "some-client"}\'',
        f"curl -s {base}/api/admin/revocations {admin}",
        "",
        "# One call per seed route:",
        f"curl -s {base}/api/automate {bearer}",
        f'curl -s {base}/api/secure-automate -H "Authorization: Bearer $OAUTH_TOKEN"',
        f"curl -s -X POST {base}/api/trigger {bearer} {json_type} "
        f'-d \'{{"workflowId": "{workflow}", "input": {{"hello": "world"}}}}\'',
        f'curl -s {base}/api/internal -H "X-Api-Key: $API_KEY"',
        "",
        "# A workflow run (the same Idempotency-Key returns the same run) and its status:",
        f"curl -s -X POST {base}/api/workflows/{workflow}/runs {bearer} {json_type} "
        f'-H \'Idempotency-Key: {DEMO_IDEMPOTENCY_KEY}\' -d \'{{"input": {{"hello": "world"}}}}\'',
    ]
    run_id = (run or {}).get("runId")
    lines.append(f"curl -s {base}/api/workflows/{workflow}/runs {bearer}")
    if run_id:
        lines.append(f"curl -s {base}/api/workflows/{workflow}/runs/{run_id} {bearer}")
        lines.append(
            f"curl -s -X POST {base}/api/workflows/{workflow}/runs/{run_id}/cancel {admin}"
        )
    lines += [
        "",
        "# The `wait` workflow runs five minutes: start it, poll it, cancel it (workflow:admin):",
        f"WAIT=$(curl -s -X POST {base}/api/workflows/wait/runs {bearer} {json_type} -d '{{}}' "
        "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"runId\"])')",
        f"curl -s {base}/v1/api/workflows/wait/runs/$WAIT {bearer}",
        f"curl -s -X POST {base}/v1/api/workflows/wait/runs/$WAIT/cancel {admin}",
        "",
        "# A workflow:read token is refused on a trigger route (403):",
        f'curl -s -X POST {base}/api/trigger -H "Authorization: Bearer $('
        f"curl -s -u {demo.client_id}:{demo.client_secret} -d grant_type=client_credentials "
        f'-d scope=workflow:read {creds.token_endpoint} | {_ACCESS_TOKEN})" {json_type} '
        f'-d \'{{"workflowId": "{workflow}", "input": {{}}}}\'',
    ]
    lines += [
        "",
        f"# The OpenAPI document: curl -s {base}/openapi.json   (reference: docs/api.md)",
        f"# Gateway counters: curl -s {base}/__local/stats",
        "",
    ]
    return "\n".join(lines)


def dpop_mode(stack: LocalStack) -> str:
    """The DPoP mode this run deployed (the template's parameter, resolved)."""
    return str(stack.deployment.parameters.get(DPOP_PARAMETER, "off"))


def dpop_instructions(base: str, creds: Credentials, stack: LocalStack) -> list[str]:
    """How to call with a DPoP-bound token: a key, a bound token, a fresh proof per request."""
    mode = dpop_mode(stack)
    bearer = stack.api.authorizers.get("BearerAuthorizer")
    cache = f"{bearer.ttl_seconds} s" if bearer else "none"
    sources = ", ".join(bearer.identity_headers) if bearer else "-"
    lines = [f"# DPoP mode: {mode} (bearer authorizer: identity {sources}, cache {cache})"]
    if mode == "off":
        return [
            *lines,
            "# (make run DPOP_MODE=optional or required for sender-constrained tokens)",
            "",
        ]
    demo = creds.clients["demo"]
    wfctl = ".venv/bin/python -m wfctl"
    url = f"{base}/api/automate"
    return [
        *lines,
        "# A key (EC P-256, file mode 0600), a token bound to it, and a fresh proof per request:",
        f"{wfctl} dpop keygen --key local/.run/dpop-key.pem",
        f"export DPOP_TOKEN=$(WFCTL_CLIENT_SECRET='{demo.client_secret}' {wfctl} token "
        f"--client-id {demo.client_id} --token-endpoint {creds.token_endpoint} "
        "--dpop-key local/.run/dpop-key.pem)",
        f'curl -s {url} -H "Authorization: DPoP $DPOP_TOKEN" -H "DPoP: $({wfctl} dpop proof '
        f'--key local/.run/dpop-key.pem --method GET --url {url} --token "$DPOP_TOKEN")"',
        "# The same proof twice is a replay (401); so is the bound token sent as Bearer.",
        "",
    ]


def start_oidc(
    kids: Children, oauth: oidc_provider.OidcConfig, workdir: Path, env: Mapping[str, str]
) -> None:
    config_file = workdir / "oidc.json"
    config_file.touch(mode=0o600)  # holds the provider's private key and client secrets
    config_file.write_text(json.dumps(oauth.to_json()))
    log = open(workdir / "oidc.log", "a")  # noqa: SIM115 - the child keeps it open
    process = kids.start("oidc", oidc_provider.command(config_file), env, log)
    log.close()  # the child has its own descriptor
    wait_for_port(oauth.port, process, "oidc-provider")


def _on_signal(signum: int) -> threading.Event:
    event = threading.Event()
    signal.signal(signum, lambda _signum, _frame: event.set())
    return event


def _parse_env(items: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--authorizer-env and --env want NAME=VALUE, got {item!r}")
        env[name] = value
    return env


def progress(message: str) -> None:
    """One line on stderr per startup step, so a first start is never silent."""
    print(f"make run: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.run", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    parser.add_argument("--oidc-port", type=int, default=int(os.environ.get("OIDC_PORT", "3001")))
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument(
        "--dpop-mode",
        choices=DPOP_MODES,
        default=os.environ.get("DPOP_MODE") or "off",
        help="the template's DpopMode for this run: the bearer authorizer's identity sources "
        "and TTL, and the functions' DPOP_MODE, as deployed with it (default: $DPOP_MODE, "
        "else off)",
    )
    parser.add_argument("--no-oidc", action="store_true", help="do not start the OAuth provider")
    parser.add_argument(
        "--authorizer-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra authorizer setting for this run (tests use JWKS_CACHE_SECONDS=1)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra setting for every function of this run (tests: CLOCK_SKEW_SECONDS=0)",
    )
    parser.add_argument("--state-file", type=Path, help="write credentials as JSON (for tests)")
    parser.add_argument(
        "--credentials-file",
        type=Path,
        default=CREDENTIALS_FILE,
        help="where the demo credentials for scripts go (mode 0600, removed on stop)",
    )
    parser.add_argument("--workdir", type=Path, help="where logs and config go (default: temp)")
    parser.add_argument(
        "--login-token-ttl",
        type=int,
        default=300,
        help="access-token lifetime of the `wfctl login` client, in seconds (tests shorten it "
        "to see the refresh)",
    )
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="workflow-api-local-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = aws_environment(args.moto_port)
    base = f"http://127.0.0.1:{args.port}"
    busy = [p for p in (args.port, args.moto_port, args.oidc_port) if port_in_use(p)]
    if busy:
        # Never talk to someone else's server by mistake (an old run still holding a port).
        print(
            f"make run: port(s) {busy} already in use; set PORT, MOTO_PORT, OIDC_PORT",
            file=sys.stderr,
        )
        return 1
    try:
        with children() as kids, open(workdir / "moto.log", "w") as moto_log:
            progress(f"starting the local AWS (moto) on port {args.moto_port}")
            start_moto(kids, args.moto_port, env, moto_log)
            progress("creating the template's secrets, tables, functions and state machines")
            stack = deploy(args.template, env, args.moto_port, {DPOP_PARAMETER: args.dpop_mode})

            oauth: oidc_provider.OidcConfig | None = None
            node_missing: str | None = None
            provider_env: dict[str, str] = {}
            if args.no_oidc:
                node_missing = "started with --no-oidc"
            elif oidc_provider.node_binary() is None:
                node_missing = "Node.js not found; install Node.js 20+ and run `make run` again"
            elif not oidc_provider.is_installed():
                node_missing = "run `npm ci --prefix local/oidc` (make run does it when npm exists)"
            else:
                first = sorted(stack.authorizer_functions)[0]
                audience = stack.env_of(first).get("OAUTH_AUDIENCE") or "workflow-api"
                oauth = oidc_provider.OidcConfig(
                    port=args.oidc_port,
                    audience=audience,
                    clients=[oidc_provider.demo_client(), oidc_provider.short_lived_client()],
                    login_client=oidc_provider.LoginClient(access_token_ttl=args.login_token_ttl),
                )
                progress(f"starting the local OAuth provider on port {args.oidc_port}")
                start_oidc(kids, oauth, workdir, env)
                provider_env = {
                    "OAUTH_ISSUER": oauth.issuer,
                    "OAUTH_AUDIENCE": audience,
                    "OAUTH_JWKS_URI": oauth.jwks_uri,
                }
            # The provider's settings go to every function the template gives them to (the
            # authorizer, and the revocation functions, which key OAuth subjects by issuer).
            overrides: dict[str, Mapping[str, str]] = {
                logical_id: {k: v for k, v in provider_env.items() if k in stack.env_of(logical_id)}
                for logical_id in stack.api.functions
            }
            for logical_id in stack.authorizer_functions:
                overrides[logical_id] = provider_env | _parse_env(args.authorizer_env)
            # The token service's URLs (metadata, assertion audience) are the local ones.
            overrides[ALL_FUNCTIONS] = {"PUBLIC_BASE_URL": base, **_parse_env(args.env)}
            stack = with_environment(stack, overrides)
            deployment_file = workdir / "deployment.json"
            deployment_file.write_text(json.dumps(stack.deployment.to_json(), indent=2))

            gateway_argv = [
                sys.executable, "-m", "local.gateway", "--template", str(args.template),
                "--deployment", str(deployment_file), "--port", str(args.port),
            ]  # fmt: skip
            progress(f"starting the local gateway on port {args.port}")
            gateway = kids.start("gateway", gateway_argv, env, None)
            wait_for_port(args.port, gateway, "local gateway")

            progress("registering the demo clients and API key, fetching first tokens")
            creds = demo_credentials(stack, env, args.moto_port, base, oauth)
            # In `required` mode the demo's first tokens are bound to a key of the run's own.
            demo_key = (
                generate_key(workdir / "dpop-demo-key.pem")
                if dpop_mode(stack) == "required"
                else None
            )
            fetch_demo_tokens(creds, demo_key)
            workflow = demo_workflow(stack)
            run = start_demo_run(base, creds.tokens["demo"], workflow, demo_key)
            print(
                instructions(
                    base, creds, stack, args.moto_port, run, workflow, node_missing,
                    args.credentials_file,
                )
            )  # fmt: skip
            write_credentials(
                args.credentials_file,
                base,
                operator_env(stack, args.moto_port),
                creds,
                dpop_settings(stack, creds),
            )
            if args.state_file:
                write_state(args.state_file, args, stack, creds, workflow, workdir)
            sys.stdout.flush()
            rotate = _on_signal(signal.SIGHUP)
            while gateway.poll() is None:
                if rotate.is_set() and oauth is not None:
                    rotate.clear()
                    # Restart the provider with a brand-new key: tokens signed with the old
                    # key are from a rotated-away key (tests and demos of JWKS rotation).
                    kids.stop("oidc")
                    oauth = replace(oauth, keys=[oidc_provider.new_signing_key()])
                    start_oidc(kids, oauth, workdir, env)
                    print("OAuth provider restarted with a new signing key", file=sys.stderr)
                time.sleep(0.1)
            print(f"local gateway exited with status {gateway.returncode}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("\nstopped.", file=sys.stderr)
        return 0
    except (StartupError, TemplateError, clients.ClientError) as error:
        print(f"make run: {error} (logs in {workdir})", file=sys.stderr)
        return 1
    finally:
        # The credentials die with the run that made them.
        with suppress(FileNotFoundError):
            args.credentials_file.unlink()


def operator_env(stack: LocalStack, moto_port: int) -> dict[str, str]:
    """What `wfctl` and boto3 need against this run: the local AWS, and where this stack keeps
    its secrets and revocations (the template's defaults are per stack)."""
    authorizer_env = stack.env_of(sorted(stack.authorizer_functions)[0])
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "API_KEY_SECRET_PREFIX": authorizer_env.get("API_KEY_SECRET_PREFIX")
        or DEFAULT_API_KEY_PREFIX,
        "CLIENT_SECRET_PREFIX": token_function_env(stack).get("CLIENT_SECRET_PREFIX")
        or DEFAULT_CLIENT_PREFIX,
    }
    table = authorizer_env.get("SECURITY_TABLE_NAME")
    if table:
        env["SECURITY_TABLE_NAME"] = table
    return env


def write_credentials(
    path: Path,
    base: str,
    aws_env: Mapping[str, str],
    creds: Credentials,
    dpop: Mapping[str, Any] | None = None,
) -> None:
    """The demo credentials for scripts (local/README.md): readable by the user only.

    `dpop` says how this run treats DPoP: `{"mode", "tokenUrl", "proofUrlBase"}` (a proof's
    `htu` is `proofUrlBase` + the request path).
    """
    data: dict[str, Any] = {
        "baseUrl": base,
        "awsEnv": dict(aws_env),
        "clients": {
            name: {
                "clientId": demo.client_id,
                "clientSecret": demo.client_secret,
                "scopes": list(demo.scopes),
            }
            for name, demo in creds.clients.items()
        },
        "apiKey": creds.api_key,
        "oauth": None,
        "dpop": dpop,
    }
    if creds.oauth is not None:
        oauth_client = creds.oauth.clients[0]
        data["oauth"] = {
            "issuer": creds.oauth.issuer,
            "tokenUrl": creds.oauth.token_endpoint,
            "clientId": oauth_client.client_id,
            "clientSecret": oauth_client.client_secret,
            "scopes": oauth_client.scope.split(),
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with suppress(FileNotFoundError):
        tmp.unlink()
    # Created 0600 before anything is written (never world-readable, not even briefly).
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle, indent=2)
    tmp.replace(path)


def dpop_settings(stack: LocalStack, creds: Credentials) -> dict[str, Any]:
    """What a script needs to make proofs against this run."""
    authorizer_env = stack.env_of(sorted(stack.authorizer_functions)[0])
    return {
        "mode": dpop_mode(stack),
        "tokenUrl": creds.token_endpoint,
        "proofUrlBase": authorizer_env.get("PUBLIC_BASE_URL", ""),
    }


def _rotation_function_arn(stack: LocalStack) -> str | None:
    function = stack.function_for("POST", "/api/admin/api-keys")
    return stack.env_of(function).get("ROTATION_FUNCTION_ARN") if function else None


def write_state(
    path: Path,
    args: argparse.Namespace,
    stack: LocalStack,
    creds: Credentials,
    workflow: str,
    workdir: Path,
) -> None:
    """Machine-readable credentials for the end-to-end tests (written last: it means ready)."""
    authorizer_env = stack.env_of(sorted(stack.authorizer_functions)[0])
    state: dict[str, Any] = {
        "base_url": f"http://127.0.0.1:{args.port}",
        "moto_endpoint": f"http://127.0.0.1:{args.moto_port}",
        "token_endpoint": creds.token_endpoint,
        "clients": {
            name: {
                "client_id": c.client_id,
                "client_secret": c.client_secret,
                "scopes": list(c.scopes),
            }
            for name, c in creds.clients.items()
        },
        "client_secret_prefix": token_function_env(stack).get("CLIENT_SECRET_PREFIX")
        or DEFAULT_CLIENT_PREFIX,
        "credentials_file": str(args.credentials_file),
        "api_key": creds.api_key,
        "api_key_id": creds.api_key_id,
        "jwt_secret_id": authorizer_env.get("JWT_SECRET_ID"),
        "security_table_name": authorizer_env.get("SECURITY_TABLE_NAME"),
        "api_key_prefix": authorizer_env.get("API_KEY_SECRET_PREFIX") or DEFAULT_API_KEY_PREFIX,
        "jwt_issuer": authorizer_env.get("JWT_ISSUER"),
        "jwt_audience": authorizer_env.get("JWT_AUDIENCE"),
        "workflow": workflow,
        "rotation_function_arn": _rotation_function_arn(stack),
        "stage": stack.api.stage,
        "dpop_mode": dpop_mode(stack),
        "bearer_identity_headers": list(stack.api.authorizers["BearerAuthorizer"].identity_headers)
        if "BearerAuthorizer" in stack.api.authorizers
        else [],
        "workdir": str(workdir),
        "oauth": None,
    }
    if creds.oauth is not None:
        state["oauth"] = {
            "issuer": creds.oauth.issuer,
            "token_endpoint": creds.oauth.token_endpoint,
            "audience": creds.oauth.audience,
            "jwks_uri": creds.oauth.jwks_uri,
            "login": None
            if creds.oauth.login_client is None
            else {
                "client_id": creds.oauth.login_client.client_id,
                "ttl": creds.oauth.login_client.access_token_ttl,
                "user": oidc_provider.DEMO_USER,
                "password": oidc_provider.DEMO_PASSWORD,
            },
            "clients": [
                {
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "scope": c.scope,
                    "ttl": c.access_token_ttl,
                }
                for c in creds.oauth.clients
            ],
        }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())

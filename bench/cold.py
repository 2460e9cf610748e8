"""Figure 4: cold start. Fresh interpreters import the handler (and make a first call against
moto's Secrets Manager and DynamoDB and a loopback JWKS endpoint), contenders alternating.

`import` is the wall time of a process that only imports the handler minus that of a bare
interpreter (both medians): what Lambda's init phase adds. A first call is timed inside the
child.

Two configurations of ours:

- **as deployed** (`template.yaml`): the security table on, secrets read through AWS's
  Parameters and Secrets Lambda Extension (a loopback stand-in with its cache off, as the
  template configures it, in front of moto), the table through the light DynamoDB client. The
  first call includes loading the security snapshot (a `Query` of the `RevocationsByKind`
  index and one of `LockedSources`, through the guard's own client).
- **boto3, table off** (tests, the local run, or `SecretsExtension=off` without the table):
  secrets through boto3; the time spent creating the Secrets Manager client (boto3's import
  and client creation) is reported apart.

The naive reference has no security table and reads secrets through Powertools and boto3.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import fixtures
from bench.servers import Loopback

ROOT = Path(__file__).resolve().parent.parent
MODULES = {"ours": "authorizer.app", "naive": "bench.naive_authorizer"}
SCHEMES = ("oauth", "jwt", "api_key")
DEPLOYED = "deployed_"

_CHILD = """
import time
T0 = time.perf_counter()
{pre}
import {module} as m
T1 = time.perf_counter()
import json, os, sys
out = {{"import_s": T1 - T0{pre_out}}}
mode = os.environ["BENCH_MODE"]
if mode != "import":
    sdk = [0.0]
    def timing(make):
        def timed():
            start = time.perf_counter()
            try:
                return make()
            finally:
                sdk[0] += time.perf_counter() - start
        return timed
    if hasattr(m, "AUTHORIZER"):
        m.AUTHORIZER.store._client_factory = timing(m.AUTHORIZER.store._client_factory)
    event = json.loads(os.environ["BENCH_EVENT"])
    start = time.perf_counter()
    result = m.lambda_handler(event, None)
    if mode.startswith("{deployed}"):
        client = m.AUTHORIZER.guard._dynamodb()
        out["snapshot_loaded"] = m.AUTHORIZER.guard.snapshot is not None
        out["clients"] = [type(m.AUTHORIZER.store._client).__name__, type(client).__name__]
    out["first_call_s"] = time.perf_counter() - start
    out["client_s"] = sdk[0]
    out["boto3_imported"] = "boto3" in sys.modules
    out["effect"] = result["policyDocument"]["Statement"][0]["Effect"]
print("BENCH" + json.dumps(out))
"""

_SDK_CHILD = """
import time
T0 = time.perf_counter()
import boto3
T1 = time.perf_counter()
boto3.client("secretsmanager")
T2 = time.perf_counter()
import json
print("BENCH" + json.dumps({"import_s": T1 - T0, "client_s": T2 - T1}))
"""


def _code(contender: str) -> str:
    if contender == "bare":
        return "import time\nprint('BENCH{}')"
    if contender == "sdk":
        return _SDK_CHILD
    pre, pre_out = "", ""
    if contender == "naive":  # boto3 is its first import: time it apart
        pre, pre_out = "import boto3\nTB = time.perf_counter()", ', "boto3_import_s": TB - T0'
    return _CHILD.format(module=MODULES[contender], pre=pre, pre_out=pre_out, deployed=DEPLOYED)


def _run(code: str, env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"cold-start child failed: {done.stderr[-2000:]}")
    return wall, json.loads(lines[-1][len("BENCH") :])


def deployed_env(loop: Loopback) -> dict[str, str]:
    """What template.yaml adds to a child: the table, the extension (its cache off)."""
    return {
        "SECURITY_TABLE_NAME": fixtures.SECURITY_TABLE,
        "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(loop.extension_port),
        "SECRETS_MANAGER_TTL": "0",
    }


def run(loop: Loopback, factory: fixtures.TokenFactory, processes: int) -> dict[str, Any]:
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "authorizer", "shared", "bench"],
        cwd=ROOT,
        check=True,
    )
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "OAUTH", "JWT_", "SECURITY_", "SECRETS_", "PARAMETERS_"))
        },
        **fixtures.BASE_ENV,
        "AWS_ENDPOINT_URL": loop.moto_url,
        "OAUTH_JWKS_URI": loop.jwks_url,
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    events = {
        "oauth": fixtures.event_for("RS256", factory.token("RS256")),
        "jwt": fixtures.event_for("HS256", factory.token("HS256")),
        "api_key": fixtures.event_for("api_key", loop.api_key),
    }
    combos: list[tuple[str, str]] = [("bare", "import"), ("sdk", "import")]
    for contender in ("ours", "naive"):
        combos += [(contender, mode) for mode in ("import", *SCHEMES)]
    combos += [("ours", DEPLOYED + scheme) for scheme in SCHEMES]
    walls: dict[tuple[str, str], list[float]] = {c: [] for c in combos}
    inner: dict[tuple[str, str], list[dict[str, Any]]] = {c: [] for c in combos}
    for number in range(processes + 1):  # round 0 warms the page cache and is dropped
        shift = number % len(combos)
        for contender, mode in combos[shift:] + combos[:shift]:
            scheme = mode.removeprefix(DEPLOYED)
            child_env = {**env, "BENCH_MODE": mode}
            if mode.startswith(DEPLOYED):
                child_env.update(deployed_env(loop))
                child_env.update(fixtures.DEPLOYED_SECURITY_ENV)
            if scheme in events:
                child_env["BENCH_EVENT"] = json.dumps(events[scheme])
            wall, out = _run(_code(contender), child_env)
            if "effect" in out and out["effect"] != "Allow":
                raise RuntimeError(f"{contender} {mode}: first call did not allow")
            if mode.startswith(DEPLOYED) and out["clients"][1] != "LightDynamoDB":
                raise RuntimeError(f"{mode}: the guard did not use the light client")
            if number:
                walls[(contender, mode)].append(wall)
                inner[(contender, mode)].append(out)
    return _summarize(walls, inner, processes)


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def _summarize(
    walls: dict[tuple[str, str], list[float]],
    inner: dict[tuple[str, str], list[dict[str, Any]]],
    processes: int,
) -> dict[str, Any]:
    bare = _ms(walls[("bare", "import")])
    result: dict[str, Any] = {"processes": processes, "bare_interpreter_ms": bare}
    for contender in ("ours", "naive"):
        entry: dict[str, Any] = {
            "import_ms": _ms(walls[(contender, "import")]) - bare,
            "import_in_process_ms": _ms([o["import_s"] for o in inner[(contender, "import")]]),
        }
        for scheme in SCHEMES:
            outs = inner[(contender, scheme)]
            first = _ms([o["first_call_s"] for o in outs])
            entry[f"{scheme}_first_call_ms"] = first
            entry[f"{scheme}_import_plus_first_ms"] = entry["import_ms"] + first
            if contender == "ours":
                entry[f"{scheme}_client_ms"] = _ms([o["client_s"] for o in outs])
        if contender == "naive":
            boto = [o["boto3_import_s"] for o in inner[("naive", "import")]]
            entry["boto3_import_ms"] = _ms(boto)
        result[contender] = entry
    ours, naive = result["ours"], result["naive"]
    deployed: dict[str, Any] = {"boto3_imported": False}
    for scheme in SCHEMES:
        outs = inner[("ours", DEPLOYED + scheme)]
        first = _ms([o["first_call_s"] for o in outs])
        deployed[f"{scheme}_first_call_ms"] = first
        if not all(o["snapshot_loaded"] for o in outs):
            raise RuntimeError(f"{scheme}: the first call did not load the security snapshot")
        deployed[f"{scheme}_import_plus_first_ms"] = ours["import_ms"] + first
        deployed[f"{scheme}_clients"] = outs[-1]["clients"]
        deployed["boto3_imported"] |= any(o["boto3_imported"] for o in outs)
        ratio = deployed[f"{scheme}_import_plus_first_ms"] / naive[f"{scheme}_import_plus_first_ms"]
        result[f"{scheme}_deployed_import_plus_first_x_naive"] = ratio
    result["deployed"] = deployed
    sdk = inner[("sdk", "import")]
    result["sdk"] = {
        "boto3_import_ms": _ms([o["import_s"] for o in sdk]),
        "client_creation_ms": _ms([o["client_s"] for o in sdk]),
    }
    result["import_x_naive"] = ours["import_ms"] / naive["import_ms"]
    for scheme in SCHEMES:
        key = f"{scheme}_import_plus_first_ms"
        result[f"{scheme}_import_plus_first_x_naive"] = ours[key] / naive[key]
    return result

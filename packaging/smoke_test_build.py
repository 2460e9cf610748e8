"""Check what `sam build` produced, the way Lambda will load it, without Docker.

For each built handler function, a fresh interpreter with no site-packages (and writing no
`__pycache__` into the build) gets exactly what Lambda would put on `sys.path` (the function's
folder, then the layer's `python/`), imports `app` and checks `lambda_handler`. The echo
functions, which need no AWS service, are also invoked with their sample event and must answer
as `events/<function>/*.expected.json` says. This catches a function importing a sibling
module, or the layer missing a package.

Limits: the interpreter here is not python3.13/arm64; compiled wheels of the layer
(cryptography) cannot load, so the authorizer is not imported, and the rotation and admin
functions are only imported.

Usage: python packaging/smoke_test_build.py .aws-sam/build
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Built function folder -> its events folder, for functions that need no AWS service.
INVOKED = {
    "GetAutomateFunction": "get_automate",
    "GetSecureAutomateFunction": "get_secure_automate",
    "GetInternalFunction": "get_internal",
}

_PROBE = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
assert callable(app.lambda_handler)
if len(sys.argv) > 3:
    class Context:
        function_name = "smoke"; memory_limit_in_mb = 128; aws_request_id = "smoke"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:smoke"
    event = json.loads(open(sys.argv[3]).read())
    print(json.dumps(app.lambda_handler(event, Context())))
"""


def main(build_dir: Path) -> int:
    layer = build_dir / "SharedLayer" / "python"
    functions = sorted(
        path
        for path in build_dir.iterdir()
        if path.is_dir() and path.name.endswith("Function") and path.name != "AuthorizerFunction"
    )
    if not functions or not layer.is_dir():
        print(f"nothing built in {build_dir}", file=sys.stderr)
        return 1
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "Smoke",
        "POWERTOOLS_SERVICE_NAME": "smoke",
    }
    failures = 0
    for function in functions:
        events = (
            sorted((ROOT / "events" / INVOKED[function.name]).glob("*.json"))
            if (function.name in INVOKED)
            else []
        )
        cases = [e for e in events if not e.name.endswith(".expected.json")] or [None]
        for event in cases:
            args = [sys.executable, "-I", "-S", "-B", "-c", _PROBE, str(function), str(layer)]
            if event is not None:
                args.append(str(event))
            done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
            ok = done.returncode == 0
            if ok and event is not None:
                response = json.loads(done.stdout.strip().splitlines()[-1])
                expected = json.loads(event.with_suffix(".expected.json").read_text())
                ok = response["statusCode"] == expected["status"]
            label = function.name + (f" < {event.parent.name}/{event.name}" if event else "")
            print(("ok   " if ok else "FAIL ") + label)
            if not ok:
                failures += 1
                print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build")))

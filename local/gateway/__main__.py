"""`python -m local.gateway`: serve the API of `template.yaml` on loopback.

Usually started by `python -m local.run` (`make run`), which creates the AWS resources in moto
first and passes what it created in `--deployment`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from local.deployment import Deployment, build_gateway
from local.gateway.server import make_server

ROOT = Path(__file__).resolve().parent.parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.gateway", description=__doc__)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--deployment", type=Path, required=True, help="JSON from local.run")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument(
        "--openapi",
        type=Path,
        default=ROOT / "docs" / "openapi.json",
        help="the OpenAPI document served at /openapi.json (its first server: this gateway)",
    )
    args = parser.parse_args(argv)

    deployment = Deployment.from_json(json.loads(args.deployment.read_text()))
    gateway = build_gateway(args.template, deployment, warm=True)
    server = make_server(gateway, args.host, args.port)
    if args.openapi.exists():
        document = json.loads(args.openapi.read_text(encoding="utf-8"))
        local = {"url": f"http://{args.host}:{server.server_port}", "description": "this run"}
        others = [s for s in document.get("servers", []) if "127.0.0.1" not in s.get("url", "")]
        document["servers"] = [local, *others]
        gateway.openapi = json.dumps(document, indent=2).encode("utf-8")
    print(f"local gateway ready on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

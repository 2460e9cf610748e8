"""`wfctl`: the operator command of the workflow API (docs/wfctl.md).

Installed as a console script by `pip install .`; `python -m wfctl` runs the same command. It
uses boto3's normal configuration (profile, region, `AWS_ENDPOINT_URL`), so the same command
works against the local run (moto) and a real AWS account; secret formats, request parsing and
the audit line come from `shared`, the code of the API itself, never re-implemented here.
"""

__version__ = "0.1.0"

"""`python -m wfctl`: the operator command for this API (service tokens and API keys).

It only uses boto3's normal configuration (profile, region, `AWS_ENDPOINT_URL`), so the same
command works against the local run (moto) and a real AWS account. Secret formats come from
`shared.secret_formats`; nothing here re-implements them.
"""

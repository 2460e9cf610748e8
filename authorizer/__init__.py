"""The Lambda authorizer: verifies credentials and answers with scoped IAM policies."""

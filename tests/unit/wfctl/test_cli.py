"""The command line itself: `--version`, help text on every option, camelCase output."""

from __future__ import annotations

import argparse

import pytest

from wfctl import __version__, cli


def _all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found.extend(_all_parsers(child))
    return found


def test_every_option_and_argument_has_help_text() -> None:
    missing = [
        f"{parser.prog} {action.dest}"
        for parser in _all_parsers(cli._parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]
    assert missing == []


def test_options_read_from_the_environment_name_their_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OAUTH_ISSUER", "https://login.example.com")
    monkeypatch.setenv("WFCTL_API_URL", "https://api.example.com")
    parser = cli._parser()
    assert parser.parse_args(["login"]).issuer == "https://login.example.com"
    assert parser.parse_args(["call", "GET", "/x"]).api_url == "https://api.example.com"
    texts = {action.dest: action.help or "" for p in _all_parsers(parser) for action in p._actions}
    assert "$OAUTH_ISSUER" in texts["issuer"]
    assert "$WFCTL_API_URL" in texts["api_url"]
    assert "$SECURITY_TABLE_NAME" in texts["table"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.run(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"wfctl {__version__}"


def test_call_refuses_a_path_that_leaves_the_api(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for path in ("http://evil.example/x", "//evil.example/x", "@evil.example", "/a b"):
        code = cli.main(["call", "GET", path, "--api-url", "https://api.example.com"])
        assert code == cli.EXIT_REFUSED
        assert "PATH must" in capsys.readouterr().err


def test_revocations_go_through_the_apis_parser(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class NoDynamo:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"DynamoDB was called: {name}")

    monkeypatch.setattr(cli, "new_dynamodb_client", NoDynamo)
    code = cli.main(["revocations", "--table", "t", "create", "--jti", "bad jti"])
    assert code == cli.EXIT_REFUSED
    assert "invalid_revocation" in capsys.readouterr().err

"""The command line: flags, their validation, and what the parser builds."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from mockserver.cli import build_parser, config_from_args, main
from mockserver.config import ServerConfig
from mockserver.domain import Limits
from mockserver.http import connections
from mockserver.http.body import DEFAULT_MAX_BODY_BYTES
from mockserver.http.connections import ConnectionLimits


def _config(*argv: str) -> ServerConfig:
    return config_from_args(build_parser().parse_args(list(argv)))


def test_cli_defaults() -> None:
    config = _config()
    assert config == ServerConfig()
    assert (config.host, config.port, config.clock) == ("127.0.0.1", 8080, "real")
    assert (config.pending_delay, config.step_duration) == (1.0, 2.0)
    assert config.max_body_bytes == DEFAULT_MAX_BODY_BYTES == 4 * 1024 * 1024
    assert config.url == "http://127.0.0.1:8080"


def test_cli_every_flag(tmp_path: Path) -> None:
    config = _config(
        "--host", "0.0.0.0", "--port", "0", "--clock", "manual",
        "--pending-delay", "0", "--step-duration", "0.5",
        "--scenario", str(tmp_path / "s.yaml"), "--state", str(tmp_path / "state.json"),
        "--token", "a", "--token", "b", "--strict", "--max-body-bytes", "1024",
        "--log-level", "debug", "--max-tenants", "3", "--max-tasks", "4",
        "--max-executions", "5", "--max-objects", "6",
    )  # fmt: skip
    assert config == ServerConfig(
        host="0.0.0.0",
        port=0,
        clock="manual",
        pending_delay=0.0,
        step_duration=0.5,
        scenario_path=tmp_path / "s.yaml",
        state_path=tmp_path / "state.json",
        tokens=frozenset({"a", "b"}),
        strict=True,
        max_body_bytes=1024,
        log_level="debug",
        limits=Limits(max_tenants=3, max_tasks=4, max_executions=5, max_objects=6),
    )


def test_cli_bounds_of_work_memory_and_connections() -> None:
    config = _config(
        "--max-plan-steps", "7", "--max-page-bytes", "8000", "--max-log-bytes", "900",
        "--max-cache-bytes", "0", "--header-timeout", "2.5", "--idle-timeout", "3",
        "--max-connections", "40", "--write-timeout", "4", "--max-buffered-bytes", "5000",
    )  # fmt: skip
    assert config.limits == Limits(max_plan_steps=7, max_page_bytes=8000, max_log_bytes=900)
    assert config.max_cache_bytes == 0
    assert config.connections == ConnectionLimits(
        header_timeout=2.5,
        idle_timeout=3.0,
        max_connections=40,
        write_timeout=4.0,
        max_buffered_bytes=5000,
    )


def test_cli_connection_bound_stays_below_the_open_file_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1024, 4096))
    assert connections.default_max_connections() == 1024 - 64
    monkeypatch.setattr(resource, "getrlimit", lambda _: (65536, 65536))
    assert connections.default_max_connections() == 1000


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--max-plan-steps", "0"], "--max-plan-steps: 0 must be at least 1"),
        (["--max-cache-bytes", "-1"], "--max-cache-bytes: -1 must be at least 0"),
        (["--header-timeout", "0"], "--header-timeout: '0' must be more than 0 seconds"),
        (["--max-connections", "0"], "--max-connections: 0 must be at least 1"),
        (["--port", "70000"], "--port: 70000 is not between 0 and 65535"),
        (["--port", "http"], "--port: 'http' is not a port number"),
        (["--clock", "fast"], "--clock: invalid choice: 'fast'"),
        (
            ["--pending-delay", "-1"],
            "--pending-delay: '-1' must be a number between 0 and 1000000000",
        ),
        (["--step-duration", "soon"], "--step-duration: 'soon' is not a number of seconds"),
        (
            ["--step-duration", "inf"],
            "--step-duration: 'inf' must be a number between 0 and 1000000000",
        ),
        (["--max-body-bytes", "0"], "--max-body-bytes: 0 must be at least 1"),
        (["--token", ""], "--token: a token must be non-empty"),
        (["--log-level", "loud"], "--log-level: invalid choice"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_cli_bad_flag_values_exit_2_with_a_message(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: mockserver")
    assert fragment in err


def test_cli_bad_scenario_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("rules: [{outcome: explode}]")
    assert main(["--scenario", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mockserver: error: --scenario {scenario}: "), err
    assert "usage:" not in err  # the message first, and alone


def test_cli_missing_scenario_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--scenario", str(tmp_path / "absent.yaml")]) == 2
    err = capsys.readouterr().err
    assert "No such file" in err
    assert len(err.splitlines()) == 1 and "usage:" not in err


def test_cli_help_names_the_codecs_the_web_view_and_the_control_api(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in ("JSON and binary protobuf", "web view at /_mock/ui", "control API under /_mock/"):
        assert words in text


def test_cli_bad_state_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.json"
    state.write_text("{broken")
    assert main(["--port", "0", "--state", str(state)]) == 1
    assert "cannot load state" in capsys.readouterr().err


def test_cli_port_in_use_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    from mockserver.cli import bind_socket

    with bind_socket("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        # SO_REUSEADDR does not allow two listeners on one port.
        assert main(["--port", str(port)]) == 1
    assert "cannot listen" in capsys.readouterr().err

"""Settings load in the documented order, and unsafe production settings are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.settings import ConfigError, load_settings, validate

SAFE_PRODUCTION = {
    "VM_ENV": "production",
    "VM_SECRET_KEY": "s" * 48,
    "VM_SECRETS_KEY": "1KJD8NJcx9T3Qm0fUpLHRWD8d0I6kVc5Xc2c4tq9y4U=",
    "VM_DATABASE_URL": "postgresql://vm@127.0.0.1/vm",
    "VM_BROKER_URL": "redis://127.0.0.1:6379/0",
    "VM_LTI_EMBEDDED_PLATFORM": "false",
    "VM_DEMO_CLOCK": "false",
    "VM_XAPI_TOOL_URL": "https://mentor.example.org",
}


def test_defaults_are_the_embedded_setup() -> None:
    settings = load_settings(environ={})
    assert settings["ENV"] == "development"
    assert settings["DATABASE_URL"].startswith("sqlite:///")
    assert settings["BROKER_URL"].startswith("filesystem://")
    assert settings["LTI_EMBEDDED_PLATFORM"] is True


def test_load_order_file_then_environment_then_test_overrides(tmp_path: Path) -> None:
    config_file = tmp_path / "site.toml"
    config_file.write_text(
        '[database]\nurl = "postgresql://file/db"\npool_size = 9\n[broker]\nqueue = "from-file"\n'
    )
    environ = {"VM_CONFIG_FILE": str(config_file), "VM_DATABASE_URL": "postgresql://env/db"}
    settings = load_settings({"BROKER_QUEUE": "from-test"}, environ=environ)
    assert settings["DATABASE_URL"] == "postgresql://env/db"  # environment beats file
    assert settings["DATABASE_POOL_SIZE"] == 9  # file beats defaults
    assert settings["BROKER_QUEUE"] == "from-test"  # test overrides beat everything


@pytest.mark.parametrize(
    ("variable", "raw", "name", "expected"),
    [
        ("VM_DEMO_CLOCK", "off", "DEMO_CLOCK", False),
        ("VM_DEMO_CLOCK", "YES", "DEMO_CLOCK", True),
        ("VM_DATABASE_POOL_SIZE", "12", "DATABASE_POOL_SIZE", 12),
        ("VM_LOG_LEVEL", "debug", "LOG_LEVEL", "debug"),
        (
            "VM_MENTORING_EMBED_HOSTS",
            " youtu.be, .example.org ,",
            "MENTORING_EMBED_HOSTS",
            ["youtu.be", ".example.org"],
        ),
        ("VM_MENTORING_EMBED_HOSTS", "", "MENTORING_EMBED_HOSTS", []),
    ],
)
def test_environment_values_take_the_type_of_the_setting(
    variable: str, raw: str, name: str, expected: object
) -> None:
    assert load_settings(environ={variable: raw})[name] == expected


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"VM_DATABSE_URL": "x"}, "VM_DATABSE_URL is not a Virtual Mentor setting"),
        ({"VM_DEMO_CLOCK": "maybe"}, "VM_DEMO_CLOCK must be true or false, not 'maybe'"),
        ({"VM_DATABASE_POOL_SIZE": "ten"}, "VM_DATABASE_POOL_SIZE must be a whole number"),
        ({"VM_CONFIG_FILE": "/nonexistent/vm.toml"}, "/nonexistent/vm.toml does not exist"),
    ],
)
def test_bad_settings_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=environ)


def test_a_typo_in_the_config_file_is_named(tmp_path: Path) -> None:
    config_file = tmp_path / "site.toml"
    config_file.write_text("[database]\nurll = 'x'\n")
    with pytest.raises(ConfigError, match="DATABASE_URLL is not a Virtual Mentor setting"):
        load_settings(environ={"VM_CONFIG_FILE": str(config_file)})


def test_invalid_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    config_file = tmp_path / "broken.toml"
    config_file.write_text("env = \n")
    with pytest.raises(ConfigError, match=r"broken\.toml is not valid TOML"):
        load_settings(environ={"VM_CONFIG_FILE": str(config_file)})


@pytest.mark.parametrize("variable", ["VM_TEST_DATABASE_URL", "VM_BENCH_DATABASE_URL"])
def test_test_and_bench_variables_are_not_settings(variable: str) -> None:
    settings = load_settings(environ={variable: "postgresql://x"})
    assert variable.removeprefix("VM_") not in settings


def test_a_safe_production_configuration_is_accepted() -> None:
    validate(load_settings(environ=SAFE_PRODUCTION))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"VM_SECRET_KEY": ""}, "VM_SECRET_KEY is missing"),
        ({"VM_SECRET_KEY": "short"}, "VM_SECRET_KEY is missing or shorter than 32"),
        ({"VM_DATABASE_URL": "sqlite:///vm.db"}, "VM_DATABASE_URL points at SQLite"),
        ({"VM_BROKER_URL": ""}, "VM_BROKER_URL is not set to a real broker"),
        ({"VM_BROKER_URL": "filesystem://localhost/"}, "VM_BROKER_URL is not set to a real broker"),
        ({"VM_BROKER_URL": "memory://"}, "VM_BROKER_URL is not set to a real broker"),
        ({"VM_LTI_EMBEDDED_PLATFORM": "true"}, "VM_LTI_EMBEDDED_PLATFORM is on"),
        ({"VM_DEMO_CLOCK": "true"}, "VM_DEMO_CLOCK is on"),
        ({"VM_SECRETS_KEY": ""}, "VM_SECRETS_KEY is missing"),
        ({"VM_XAPI_TOOL_URL": ""}, "VM_XAPI_TOOL_URL is not the tool's public address"),
        ({"VM_XAPI_TOOL_URL": "mentor.example.org"}, "VM_XAPI_TOOL_URL is not the tool's"),
    ],
)
def test_unsafe_production_settings_are_refused_by_name(change: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        validate(load_settings(environ={**SAFE_PRODUCTION, **change}))


def test_every_production_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        validate(load_settings(environ={"VM_ENV": "production"}))
    for setting in (
        "VM_SECRET_KEY",
        "VM_DATABASE_URL",
        "VM_BROKER_URL",
        "VM_LTI_EMBEDDED_PLATFORM",
        "VM_DEMO_CLOCK",
        "VM_XAPI_TOOL_URL",
    ):
        assert setting in str(error.value)


@pytest.mark.parametrize(
    ("hosts", "named"),
    [
        ("https://youtube.com", "VM_MENTORING_EMBED_HOSTS has 'https://youtube.com', which is not"),
        ("youtube.com,*.example.org", r"has '\*\.example\.org'"),
        (".org", "has '.org'"),
    ],
)
def test_embed_hosts_that_are_not_hosts_are_refused(hosts: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        validate(load_settings(environ={"VM_MENTORING_EMBED_HOSTS": hosts}))


def test_embed_hosts_from_a_file_must_be_a_list(tmp_path: Path) -> None:
    config_file = tmp_path / "site.toml"
    config_file.write_text('[mentoring]\nembed_hosts = "youtube.com"\n')
    with pytest.raises(ConfigError, match="VM_MENTORING_EMBED_HOSTS must be a list of hosts"):
        validate(load_settings(environ={"VM_CONFIG_FILE": str(config_file)}))


def test_unknown_environment_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="VM_ENV is 'staging'"):
        validate(load_settings(environ={"VM_ENV": "staging"}))


def test_example_env_documents_every_setting() -> None:
    example = (Path(__file__).parent.parent / "config" / "example.env").read_text()
    documented = {
        line.split("=")[0].lstrip("# ")
        for line in example.splitlines()
        if line.lstrip("# ").startswith("VM_") and "=" in line
    }
    expected = {f"VM_{name}" for name in load_settings(environ={})} | {"VM_CONFIG_FILE"}
    assert expected - documented == set(), "settings missing from config/example.env"
    assert documented - expected == set(), "config/example.env names settings that do not exist"

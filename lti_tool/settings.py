"""Settings: config/default.toml, then VM_CONFIG_FILE, then VM_* variables, then test overrides.

Keys are flattened to upper case: ``[database] url`` becomes ``DATABASE_URL`` in
``app.config`` and ``VM_DATABASE_URL`` in the environment.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import parse as parse_rate_limit

from lti_tool import http_safety
from lti_tool.mentoring import embeds

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = ROOT / "config" / "default.toml"
ENV_PREFIX = "VM_"
CONFIG_FILE_VAR = "VM_CONFIG_FILE"
#: Variables the test suite and the benchmarks read for themselves; they are not settings.
TOOLING_VAR_PREFIXES = ("VM_TEST_", "VM_BENCH_")
ENVIRONMENTS = ("development", "production", "testing")
MIN_SECRET_KEY_LENGTH = 32
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
#: Where rate-limit counts may live: this process's memory, or a Redis every process shares.
RATE_LIMIT_STORAGE_SCHEMES = ("memory", "redis", "rediss")


class ConfigError(Exception):
    """The configuration cannot be used; the message names the setting."""


def load_settings(
    test_config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the merged settings, in the documented load order."""
    environ = os.environ if environ is None else environ
    settings = _read_toml(DEFAULTS_FILE)
    if config_file := environ.get(CONFIG_FILE_VAR):
        _merge(settings, _read_toml(Path(config_file)), source=config_file)
    for var, raw in sorted(environ.items()):
        if not var.startswith(ENV_PREFIX) or var.startswith(TOOLING_VAR_PREFIXES):
            continue
        if var == CONFIG_FILE_VAR:
            continue
        name = var.removeprefix(ENV_PREFIX)
        if name not in settings:
            raise ConfigError(f"{var} is not a Virtual Mentor setting (see config/example.env).")
        settings[name] = _coerce(raw, settings[name], var)
    if test_config:
        _merge(settings, dict(test_config), source="test_config")
    return settings


def validate(settings: Mapping[str, Any]) -> None:
    """Raise ConfigError naming every unsafe or impossible setting."""
    problems = []
    env = settings["ENV"]
    if env not in ENVIRONMENTS:
        problems.append(f"VM_ENV is {env!r}; it must be one of {', '.join(ENVIRONMENTS)}.")
    if settings["LOG_FORMAT"] not in ("auto", "json", "text"):
        problems.append("VM_LOG_FORMAT must be auto, json or text.")
    if env == "production":
        problems.extend(_production_problems(settings))
    problems.extend(_smtp_problems(settings, production=env == "production"))
    problems.extend(_embed_host_problems(settings["MENTORING_EMBED_HOSTS"]))
    problems.extend(http_safety.setting_problems(settings))
    problems.extend(_rate_limit_problems(settings))
    if not _whole_number(settings["MENTORING_SESSION_REMINDER_HOURS"]):
        problems.append("VM_MENTORING_SESSION_REMINDER_HOURS must be a whole number of hours "
                        "(0 switches the automatic session reminder off).")  # fmt: skip
    problems.extend(_retention_problems(settings))
    if problems:
        raise ConfigError("Virtual Mentor cannot start: " + " ".join(problems))


def _production_problems(settings: Mapping[str, Any]) -> list[str]:
    problems = []
    if len(settings["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"VM_SECRET_KEY is missing or shorter than {MIN_SECRET_KEY_LENGTH} characters; "
            'set it to a long random value (python -c "import secrets; '
            'print(secrets.token_urlsafe(48))").'
        )
    if settings["DATABASE_URL"].startswith("sqlite"):
        problems.append("VM_DATABASE_URL points at SQLite; production needs PostgreSQL.")
    broker = settings["BROKER_URL"]
    if not broker or broker.split(":", 1)[0] in ("filesystem", "memory"):
        problems.append(
            "VM_BROKER_URL is not set to a real broker; production needs redis://… or amqp://…."
        )
    if not settings["SECRETS_KEY"]:
        problems.append(
            "VM_SECRETS_KEY is missing; it encrypts private keys at rest (see config/example.env)."
        )
    if not _public_address(settings["XAPI_TOOL_URL"]):
        problems.append(
            "VM_XAPI_TOOL_URL is not the tool's public address (https://mentor.example.org); "
            "workers need it for the links in emails and the activities of xAPI statements."
        )
    if settings["LTI_EMBEDDED_PLATFORM"]:
        problems.append("VM_LTI_EMBEDDED_PLATFORM is on; the embedded platform is for demos only.")
    if settings["DEMO_CLOCK"]:
        problems.append("VM_DEMO_CLOCK is on; the demo clock is for demos only.")
    return problems


def _public_address(url: Any) -> bool:
    parts = urlsplit(str(url).strip())
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _retention_problems(settings: Mapping[str, Any]) -> list[str]:
    return [
        f"VM_{name} is {settings[name]}; it must be a number of days, 0 to keep for ever."
        for name in ("XAPI_RETENTION_DAYS", "XAPI_OUTBOX_RETENTION_DAYS")
        if not _whole_number(settings[name])
    ]


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _smtp_problems(settings: Mapping[str, Any], *, production: bool) -> list[str]:
    problems = []
    if settings["SMTP_SECURITY"] not in ("none", "starttls", "ssl"):
        problems.append("VM_SMTP_SECURITY must be none, starttls or ssl.")
    if settings["SMTP_HOST"] and "@" not in settings["SMTP_FROM"]:
        problems.append("VM_SMTP_HOST is set but VM_SMTP_FROM is not an email address.")
    if production and settings["SMTP_USERNAME"] and settings["SMTP_SECURITY"] == "none":
        problems.append(
            "VM_SMTP_SECURITY is none while VM_SMTP_USERNAME is set; the password would "
            "travel in clear (use starttls or ssl)."
        )
    return problems


def _embed_host_problems(hosts: Any) -> list[str]:
    if not isinstance(hosts, list) or not all(isinstance(host, str) for host in hosts):
        return ["VM_MENTORING_EMBED_HOSTS must be a list of hosts (comma-separated in the "
                "environment)."]  # fmt: skip
    return [
        f"VM_MENTORING_EMBED_HOSTS has {host!r}, which is not a host: write youtube.com, "
        ".example.org (it and its subdomains) or host:port."
        for host in hosts
        if embeds.parse_host(host) is None
    ]


def _rate_limit_problems(settings: Mapping[str, Any]) -> list[str]:
    problems = []
    for name, value in settings.items():
        if not name.startswith("RATE_LIMITS_") or name == "RATE_LIMITS_STORAGE_URL":
            continue
        try:
            if not isinstance(value, str):
                raise TypeError(value)
            if value.strip():
                parse_rate_limit(value)
        except (TypeError, ValueError):
            problems.append(f"VM_{name} is {value!r}, which is not a rate limit: write e.g. "
                            '60/minute, 10/hour or nothing for no limit.')  # fmt: skip
    scheme = settings["RATE_LIMITS_STORAGE_URL"].split("://", 1)[0]
    if scheme and scheme not in RATE_LIMIT_STORAGE_SCHEMES:
        problems.append("VM_RATE_LIMITS_STORAGE_URL must be memory://, redis://… or rediss://….")
    return problems


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"Configuration file {path} does not exist.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Configuration file {path} is not valid TOML: {exc}.") from exc
    return _flatten(data)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}".upper()
        if isinstance(value, dict):
            flat.update(_flatten(value, prefix=f"{name}_"))
        else:
            flat[name] = value
    return flat


def _merge(settings: dict[str, Any], overrides: Mapping[str, Any], source: str) -> None:
    for name, value in overrides.items():
        if name not in settings:
            raise ConfigError(f"{source}: {name} is not a Virtual Mentor setting.")
        settings[name] = value


def _coerce(raw: str, default: Any, var: str) -> Any:
    """Read an environment string as the type of the setting's default (a list: comma-separated)."""
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ConfigError(f"{var} must be true or false, not {raw!r}.")
    if isinstance(default, int | float):
        try:
            return type(default)(raw)
        except ValueError:
            kind = "a whole number" if isinstance(default, int) else "a number"
            raise ConfigError(f"{var} must be {kind}, not {raw!r}.") from None
    if isinstance(default, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw

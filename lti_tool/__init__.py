"""Virtual Mentor: an LTI 1.3 tool that brings mentoring into the course."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lti_tool import cli, errors, extensions, i18n, logs, rate_limits, security
from lti_tool.console.views import bp as console_bp
from lti_tool.database import engine_options, normalise_database_url
from lti_tool.devplatform.api import bp as devplatform_api_bp
from lti_tool.devplatform.registration import bp as devplatform_registration_bp
from lti_tool.devplatform.views import bp as devplatform_bp
from lti_tool.events import handoff
from lti_tool.lti.deep_linking_views import bp as deep_linking_bp
from lti_tool.lti.registration_views import bp as lti_registration_bp
from lti_tool.lti.storage import init_storage
from lti_tool.lti.views import bp as lti_bp
from lti_tool.mentoring import answers
from lti_tool.mentoring import rules as mentoring_rules
from lti_tool.mentoring.views import bp as mentoring_bp
from lti_tool.ops.services import make_clock
from lti_tool.ops.views import bp as ops_bp
from lti_tool.panel.cache import init_panel_cache
from lti_tool.panel.views import bp as panel_bp
from lti_tool.settings import ROOT, load_settings, validate
from lti_tool.threads import services as thread_services
from xapi.views import bp as xapi_bp


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the WSGI app: settings, then extensions, then blueprints, then the CLI."""
    settings = load_settings(test_config)
    validate(settings)
    app = Flask(
        __name__,
        instance_path=str(ROOT / settings["INSTANCE_PATH"]),
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_mapping(settings)
    _derive_flask_settings(app)

    logs.configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"], app.config["ENV"])
    logs.init_request_logging(app)
    extensions.init_database(app)
    extensions.init_celery(app)
    i18n.init_i18n(app)
    app.extensions["clock"] = make_clock(app)
    init_storage(app)
    init_panel_cache(app)
    rate_limits.init_rate_limits(app)
    errors.register_error_handlers(app)
    security.init_security_headers(app)
    if hops := app.config["HTTP_PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    blueprints = (ops_bp, lti_bp, lti_registration_bp, deep_linking_bp, panel_bp, console_bp,
                  xapi_bp, mentoring_bp)  # fmt: skip
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    if app.config["LTI_EMBEDDED_PLATFORM"] and app.config["ENV"] != "production":
        app.register_blueprint(devplatform_bp)
        app.register_blueprint(devplatform_api_bp)
        app.register_blueprint(devplatform_registration_bp)
    handoff.register(mentoring_rules.on_events)  # the engine receives learning events
    answers.on_escalation(thread_services.ask_for_help)  # "need help" opens a thread
    cli.register_cli(app)
    return app


def _derive_flask_settings(app: Flask) -> None:
    """Fill in what Flask and its extensions read from our settings."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    config = app.config
    config["SECRET_KEY"] = config["SECRET_KEY"] or _development_secret(app, "secret_key")
    config["SECRETS_KEY"] = config["SECRETS_KEY"] or _development_secret(app, "secrets_key")
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["DATABASE_URL"])
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        config["SQLALCHEMY_DATABASE_URI"],
        config["DATABASE_POOL_SIZE"],
        config["DATABASE_CONNECT_TIMEOUT"],
    )
    config["MAX_CONTENT_LENGTH"] = config["HTTP_MAX_CONTENT_LENGTH"]
    config["TESTING"] = config["ENV"] == "testing"
    production = config["ENV"] == "production"
    config["SESSION_COOKIE_SECURE"] = production
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["PREFERRED_URL_SCHEME"] = "https" if production else "http"


def _development_secret(app: Flask, name: str) -> str:
    """Outside production a missing key is made once and kept in the instance folder."""
    key_file = Path(app.instance_path) / name
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(Fernet.generate_key().decode())
    return key_file.read_text().strip()

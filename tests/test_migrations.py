"""Migrations bring any database to head, and head matches the models."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import create_engine, inspect, text

from lti_tool.database import Base
from lti_tool.extensions import db
from lti_tool.settings import ROOT


def test_head_matches_the_models(app: Flask) -> None:
    """A model change without its migration fails here."""
    with app.app_context(), db.engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes, so Alembic leaves them out (and says so);
        # on PostgreSQL they are compared like the rest.
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_back(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert inspect(db.engine).get_table_names() == ["alembic_version"]
        flask_migrate.upgrade()
        assert "enrollments" in inspect(db.engine).get_table_names()


def _flask(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "VM_INSTANCE_PATH": str(database.parent),
             "VM_DATABASE_URL": f"sqlite:///{database}"},
    )  # fmt: skip


def test_flask_db_upgrade_brings_a_new_database_to_head(tmp_path: Path) -> None:
    database = tmp_path / "cli.sqlite3"
    upgrade = _flask(database, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    head = _flask(database, "db", "heads").stdout.split()[0]
    with create_engine(f"sqlite:///{database}").connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_upgrading_a_database_that_holds_data(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """New NOT NULL columns need defaults for the rows already there."""
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'old.sqlite3'}")
    with app.app_context():
        flask_migrate.upgrade(revision="862fe2efb6d1")  # before the course service endpoints
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO platform_registrations (issuer, client_id, name, auth_login_url, "
                    "auth_token_url, key_set_url, status, auto_activate_deployments, created_at, "
                    "updated_at) VALUES ('https://lms', 'c', 'LMS', 'a', 't', 'k', 'active', 0, "
                    "'2026-11-24 09:00:00', '2026-11-24 09:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO deployments (registration_id, deployment_id, status, created_at, "
                    "updated_at) VALUES (1, 'd', 'active', '2026-11-24 09:00:00', "
                    "'2026-11-24 09:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO courses (deployment_id, context_id, title, label, created_at, "
                    "updated_at) VALUES (1, 'c-1', 'Old course', 'OC', '2026-11-24 09:00:00', "
                    "'2026-11-24 09:00:00')"
                )
            )
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            row = connection.execute(text("SELECT title, ags_scopes FROM courses")).one()
    assert row[0] == "Old course"
    assert row[1] in ("[]", [])

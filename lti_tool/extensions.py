"""Extensions: the database, migrations and the Celery app, bound to a Flask app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery, Task
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession

from lti_tool import models, redis_transport  # noqa: F401 (models: registers every table)
from lti_tool.database import Base, ping_postgresql, tune_sqlite


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, but one bound to a connection uses that connection.

    Flask-SQLAlchemy always picks its engine; honouring an explicit bind lets a caller run a
    session inside a transaction it owns (the tests roll each test back this way).
    """

    def get_bind(
        self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any
    ) -> Any:
        """The explicit bind if there is one, else Flask-SQLAlchemy's choice."""
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


# Objects stay loaded after commit: a request goes on using what it read (no reload per
# attribute); each request gets a fresh session, so nothing stale outlives it.
db = SQLAlchemy(model_class=Base, session_options={"class_": Session, "expire_on_commit": False})


def close_connections() -> None:
    """Give back this context's session and close every pooled connection (app context).

    The session goes first: a connection still checked out when a pool is disposed is later
    returned to the discarded pool and never closed.
    """
    db.session.remove()
    for engine in db.engines.values():
        engine.dispose()


migrate = Migrate(
    directory=str(Path(__file__).parent / "migrations"),
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)

#: Modules whose tasks the workers must know.
TASK_MODULES = [
    "lti_tool.ops.tasks",
    "lti_tool.lti.tasks",
    "lti_tool.courses.tasks",
    "lti_tool.roster.tasks",
    "lti_tool.grades.tasks",
    "lti_tool.lms.tasks",
    "lti_tool.events.tasks",
    "lti_tool.mentoring.tasks",
    "lti_tool.threads.tasks",
    "lti_tool.privacy.tasks",
    "xapi.tasks",
]


def init_database(app: Flask) -> None:
    """Bind Flask-SQLAlchemy and Flask-Migrate to the app."""
    db.init_app(app)
    migrate.init_app(app, db)
    with app.app_context():
        tune_sqlite(db.engine)
        ping_postgresql(db.engine)


def init_celery(app: Flask) -> Celery[Any]:
    """Create the Celery app whose tasks run inside this Flask app's context."""

    class FlaskTask(Task[Any, Any]):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    redis_transport.install()  # a worker survives Redis going away with tasks in flight
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_settings(app.config, Path(app.instance_path)))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def celery_settings(config: Any, instance_path: Path) -> dict[str, Any]:
    """Translate our settings into Celery's."""
    broker_url = config["BROKER_URL"]
    settings: dict[str, Any] = {
        "broker_url": broker_url,
        "result_backend": config["BROKER_RESULT_BACKEND"] or None,
        "task_ignore_result": not config["BROKER_RESULT_BACKEND"],
        "task_default_queue": config["BROKER_QUEUE"],
        "include": TASK_MODULES,
        # A task survives a worker killed mid-run: it is acknowledged only when done,
        # so every task must be safe to run twice.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "broker_connection_timeout": config["BROKER_CONNECT_TIMEOUT"],
        "broker_connection_retry_on_startup": True,
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
        "worker_hijack_root_logger": False,  # our logging (JSON in production) stays in charge
        # Our handler writes to sys.stderr; a worker that swapped it for Celery's logging
        # proxy would drop every record (the proxy refuses to log what comes back to it).
        "worker_redirect_stdouts": False,
        "beat_schedule": {
            "heartbeat": {"task": "ops.heartbeat", "schedule": config["JOBS_HEARTBEAT_SECONDS"]},
            "purge-launch-storage": {"task": "lti.purge_storage", "schedule": 600},
            "sync-due-courses": {"task": "courses.sync_due", "schedule": 300},
            "resolve-event-actors": {"task": "events.resolve_actors", "schedule": 60},
            "hand-off-events": {
                "task": "events.hand_off",
                "schedule": config["JOBS_HANDOFF_SECONDS"],
            },
            "dispatch-mentoring": {
                "task": "mentoring.dispatch",
                "schedule": config["MENTORING_DISPATCH_SECONDS"],
            },
            "send-due-copies": {
                "task": "mentoring.send_due_copies",
                "schedule": config["CHANNELS_SWEEP_SECONDS"],
            },
            "send-due-thread-emails": {
                "task": "threads.send_due_emails",
                "schedule": config["CHANNELS_SWEEP_SECONDS"],
            },
            "inactive-learners": {
                "task": "mentoring.inactivity",
                "schedule": config["MENTORING_INACTIVITY_SECONDS"],
            },
            "remind-sessions": {
                "task": "mentoring.session_reminders",
                "schedule": config["MENTORING_SESSION_REMINDER_SWEEP_SECONDS"],
            },
            "pull-due-lrs-sources": {"task": "xapi.pull_due", "schedule": 60},
            "escalate-due-threads": {"task": "threads.escalate_due", "schedule": 300},
            "deliver-xapi-outbox": {
                "task": "xapi.deliver_outbox",
                "schedule": config["XAPI_OUTBOX_SWEEP_SECONDS"],
            },
            "purge-expired-statements": {
                "task": "privacy.purge_expired",
                "schedule": config["XAPI_RETENTION_SWEEP_SECONDS"],
            },
        },
        "beat_schedule_filename": str(instance_path / "celerybeat-schedule"),
    }
    if broker_url.startswith("filesystem://"):
        settings["broker_transport_options"] = filesystem_broker_folders(instance_path)
    return settings


def filesystem_broker_folders(instance_path: Path) -> dict[str, Any]:
    """Folders of the embedded broker: one queue folder shared by producers and consumers."""
    root = instance_path / "broker"
    queue, control = root / "queue", root / "control"
    for folder in (queue, control):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "control_folder": str(control),
        "store_processed": False,
    }

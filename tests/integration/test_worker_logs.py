"""A real worker's log shows what its tasks log, with the task's id: an operator reading a
worker's output sees the work it did (Celery's stdout proxy used to swallow every record)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask

from lti_tool.extensions import db
from lti_tool.jobs import enqueue_after_commit
from lti_tool.ops.tasks import heartbeat
from tests.helpers.processes import celery_command, running, wait_for
from tests.integration.conftest import read_heartbeat

SUCCEEDED = re.compile(r"Task ops\.heartbeat\[([\w-]+)\] succeeded")


@pytest.mark.slow
def test_a_workers_log_shows_its_tasks_records_with_their_task_id(
    make_app: Callable[..., Flask],
    worker_env: Callable[..., dict[str, str]],
    queue_name: str,
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'logs.sqlite3'}"
    app = make_app(DATABASE_URL=database, BROKER_URL="filesystem://localhost/",
                   INSTANCE_PATH=str(tmp_path), BROKER_QUEUE=queue_name)  # fmt: skip
    with app.app_context():
        flask_migrate.upgrade()
    app.extensions["celery"].set_current()  # the task is sent through this app's broker
    # The production log format: one JSON object a line, with the task id.
    env = worker_env(
        database, "filesystem://localhost/", queue_name, VM_LOG_LEVEL="INFO", VM_LOG_FORMAT="json"
    )
    log = tmp_path / "worker.log"
    worker = celery_command("worker", "--pool", "solo", "--without-mingle", "--without-gossip",
                            "--without-heartbeat", "--loglevel", "INFO")  # fmt: skip
    with running(worker, env, log):
        with app.app_context():
            enqueue_after_commit(heartbeat, "logged")
            db.session.commit()
        wait_for(lambda: read_heartbeat(app, "logged"), 60, "the worker to run the task", log)
        wait_for(lambda: "succeeded" in log.read_text(), 10, "the task's end in the log", log)
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    ran = [record for record in records if record["message"] == "Heartbeat logged recorded"]
    ended = [found.group(1) for record in records
             if (found := SUCCEEDED.match(record["message"]))]  # fmt: skip
    assert len(ran) == 1, records
    assert ended == [ran[0]["task_id"]]

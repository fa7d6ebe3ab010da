"""Entry points: ``gunicorn wsgi:app``, ``celery -A wsgi:celery worker|beat``, ``flask --app wsgi``.

An unsafe configuration stops every one of them with a sentence naming the setting.
"""

from __future__ import annotations

import gc
import sys

from lti_tool import create_app
from lti_tool.settings import ConfigError

CONFIG_REFUSED = 3

try:
    app = create_app()
except ConfigError as error:
    # One plain sentence, not a traceback, for whoever starts the tool. Exit status 3 is
    # gunicorn's "worker failed to boot": its master then stops instead of respawning.
    sys.stderr.write(f"{error}\n")
    sys.exit(CONFIG_REFUSED)

celery = app.extensions["celery"]

# Everything made at start-up lives as long as the process: keep the garbage collector from
# rescanning it on every full collection (shorter pauses on the request path).
gc.collect()
gc.freeze()

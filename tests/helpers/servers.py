"""Real HTTP servers for tests: on 127.0.0.1, in a thread, stopped by the fixture that made them."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


def serve(app: Any, port: int = 0) -> tuple[BaseWSGIServer, str]:
    """Serve ``app`` on 127.0.0.1 (on ``port``, else any free one) in a thread; returns the
    server and its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"

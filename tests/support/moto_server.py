"""A moto server that handles one request at a time, for concurrency tests.

Real AWS makes each request atomic; in-process moto does not guard its tables against threads.
Serialising requests at the server gives exactly AWS's model: concurrent clients whose requests
interleave, each one atomic.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


@contextmanager
def serial_moto_server() -> Iterator[str]:
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)

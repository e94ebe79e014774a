"""Prefect's API for one broadsheet process, ending with it: ``python -m broadsheet.flows.temporary_api FD PARENT``.

A run with no Prefect server to report to needs a temporary one. Prefect starts its own as a uvicorn
child that outlives a parent killed with SIGKILL (listening, about 230 MB, for good), so broadsheet
starts the same application here instead (:func:`broadsheet.flows.prefect_server.start_temporary_api`):
it serves on the listening socket FD its parent bound (the port is known before the server starts, and
no other process can take it meanwhile), and exits once PARENT is no longer its parent.
"""

from __future__ import annotations

import socket
import sys

from broadsheet.config.processes import exit_with_parent

APP = "prefect.server.api.server:create_app"


def serve(listening_fd: int, parent: int) -> None:
    exit_with_parent(parent)  # before the seconds of importing Prefect's server
    import uvicorn

    config = uvicorn.Config(APP, factory=True, log_level="error", lifespan="on")
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=listening_fd)])


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))

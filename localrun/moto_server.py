"""moto's server in a process of its own: the AWS of a local stack run with moto as a server.

`python -m localrun.moto_server [PORT]` serves on 127.0.0.1 (PORT 0 or none: a free one), prints
`{"port": N}` on one line, and serves until its stdin closes: its parent closed it, or died. In its own
process moto shares no GIL with the sandboxes or with a worker under measurement, as a real DynamoDB would not.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys

from moto.server import ThreadedMotoServer


def main() -> None:
    # Ctrl+C reaches the whole process group: the parent stops this server when it is done with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request; errors still show
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    sys.stdin.read()  # until EOF
    os._exit(0)  # nothing to keep; a server thread busy with a request must not hold the exit up


if __name__ == "__main__":
    main()

"""moto's ThreadedMotoServer in a process of its own, for the benchmark.

`python -m bench.moto_process` starts the server on a free port of 127.0.0.1, prints `{"port": N}` on one
line, and serves until its stdin closes (the benchmark closes it, or dies). In its own process moto does
not share a GIL with the sandboxes or with the worker under measurement, as a real DynamoDB would not.
"""

from __future__ import annotations

import json
import os
import sys

from moto.server import ThreadedMotoServer


def main() -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(json.dumps({"port": port}), flush=True)
    sys.stdin.read()  # until EOF: the benchmark is done with it, or gone
    os._exit(0)  # nothing to keep; a server thread busy with a request must not hold the exit up


if __name__ == "__main__":
    main()

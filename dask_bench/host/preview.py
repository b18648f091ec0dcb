"""`make preview`: serve the published report on 127.0.0.1 only (asv's own preview listens on every
interface).

    python -m dask_bench.host.preview [--html html] [--port 8080]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
from pathlib import Path

from .asv_config import REPO_ROOT
from .cli import ToolError, command


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory: Path, port: int) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_Quiet, directory=str(directory))
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


@command("preview")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.preview", description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=REPO_ROOT / "html")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    args = parser.parse_args(argv)
    if not (args.html / "index.html").exists():
        raise ToolError(f"no report in {args.html}; run: make publish")
    try:
        server = serve(args.html, args.port)
    except (OSError, OverflowError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ToolError(f"cannot listen on 127.0.0.1:{args.port} ({reason}); choose another: make preview PORT=8081") from None
    print(f"Serving {args.html} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())

"""``deepsteg serve``: the web page and its HTTP API, served by uvicorn."""

from __future__ import annotations

import argparse
import sys

from deepsteg.cli.options import add_passphrase, add_refine, read_passphrase
from deepsteg.errors import DeepStegError
from deepsteg.registry import DEFAULT_MODEL
from deepsteg.web import MAX_PIXELS

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve a web page to hide and reveal images (needs the 'web' extra)",
                       description="Serve the DeepSteg web page and its HTTP API (/api/hide, /api/reveal, "
                                   "/api/models, /healthz; documented at /docs).")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; the server has no login)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--model", help="registered model name or .safetensors file (default: "
                                   f"{DEFAULT_MODEL or 'none ships yet, so --model is required'})")
    p.add_argument("--max-pixels", type=int, default=MAX_PIXELS,
                   help=f"refuse larger uploaded images (default {MAX_PIXELS:,})")
    add_refine(p)
    add_passphrase(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from deepsteg.web.app import create_app
    except ImportError as e:
        raise DeepStegError(f"`deepsteg serve` needs the web extra ({e.name} is not installed): "
                            "pip install 'deepsteg[web]'") from None
    if args.model is None and DEFAULT_MODEL is None:
        raise DeepStegError("no trained default model ships with this version: choose one with --model, "
                            "e.g. --model lsb4 or --model my-model.safetensors (see `deepsteg models`)")
    if not 0 <= args.port <= 65535:
        raise DeepStegError(f"--port {args.port}: not a port number (0-65535)")
    app = create_app(args.model, max_pixels=args.max_pixels, refine=args.refine, passphrase=read_passphrase(args))
    if args.host not in LOOPBACK:
        print(f"warning: listening on {args.host}: anyone who can reach this address can use the server",
              file=sys.stderr)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"deepsteg: serving model {app.state.model.name} on http://{shown}:{args.port}/ "
          "(API docs at /docs); Ctrl-C stops", file=sys.stderr, flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    except SystemExit as e:
        if e.code:
            raise DeepStegError(f"could not serve on {args.host}:{args.port} (see the message above)") from None
    return 0

"""``deepsteg serve``: the web page and its HTTP API, served by uvicorn."""

from __future__ import annotations

import argparse
import sys

from deepsteg.cli.commands import help_of
from deepsteg.cli.options import add_passphrase, add_refine, read_passphrase
from deepsteg.errors import DeepStegError
from deepsteg.malloc import limit_arenas
from deepsteg.registry import DEFAULT_MODEL
from deepsteg.web import BODY_TIMEOUT, HEADER_TIMEOUT, MAX_PIXELS

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help=help_of("serve"),
                       description="Serve the DeepSteg web page and its HTTP API (/api/hide, /api/reveal, "
                                   "/api/models, /healthz; described at /openapi.json).")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; the server has no login)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--model", help="registered model name or .safetensors file (default: "
                                   f"{DEFAULT_MODEL})")
    p.add_argument("--max-pixels", type=int, default=MAX_PIXELS,
                   help=f"refuse larger uploaded images (default {MAX_PIXELS:,})")
    p.add_argument("--allowed-hosts", metavar="HOST[,HOST...]",
                   help="the only Host headers answered (default: the loopback names when listening on "
                        "loopback, else any); guards against DNS rebinding")
    p.add_argument("--body-timeout", type=float, default=BODY_TIMEOUT, metavar="S",
                   help=f"an upload's body must arrive within S seconds, else 408 (default {BODY_TIMEOUT:g})")
    p.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT, metavar="S",
                   help="close a connection whose request headers take more than S seconds "
                        f"(default {HEADER_TIMEOUT:g})")
    add_refine(p)
    add_passphrase(p)
    p.set_defaults(func=run)


#: Host headers a loopback server answers to by default.
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]


def allowed_hosts(host: str, option: str | None) -> list[str] | None:
    """``--allowed-hosts`` as a list; by default the loopback names for a loopback server."""
    if option:
        return [h.strip() for h in option.split(",") if h.strip()]
    return LOOPBACK_HOSTS if host in LOOPBACK else None


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from deepsteg.web.app import create_app
        from deepsteg.web.guard import header_deadline_protocol
    except ImportError as e:
        raise DeepStegError(f"`deepsteg serve` needs the web extra ({e.name} is not installed): "
                            "pip install 'deepsteg[web]'") from None
    if not 0 <= args.port <= 65535:
        raise DeepStegError(f"--port {args.port}: not a port number (0-65535)")
    for name in ("body_timeout", "header_timeout"):
        if not 0 < getattr(args, name) < 86400:
            raise DeepStegError(f"--{name.replace('_', '-')} must be between 0 and 86400 seconds, "
                                f"got {getattr(args, name):g}")
    hosts = allowed_hosts(args.host, args.allowed_hosts)
    limit_arenas()
    app = create_app(args.model, max_pixels=args.max_pixels, refine=args.refine, passphrase=read_passphrase(args),
                     allowed_hosts=hosts, body_timeout=args.body_timeout)
    if args.host not in LOOPBACK:
        print(f"warning: listening on {args.host}: anyone who can reach this address can use the server"
              + ("" if hosts else " (name its host names with --allowed-hosts)"), file=sys.stderr)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"deepsteg: serving model {app.state.model.name} on http://{shown}:{args.port}/ "
          "(API description at /openapi.json); Ctrl-C stops", file=sys.stderr, flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info",
                    http=header_deadline_protocol(args.header_timeout))
    except SystemExit as e:
        if e.code:
            raise DeepStegError(f"could not serve on {args.host}:{args.port} (see the message above)") from None
    return 0

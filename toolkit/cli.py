"""The `toolkit` command: one entry point, one module per sub-command under `toolkit.commands`."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading

from toolkit import __version__
from toolkit.errors import UserError

# Order is the order shown by `toolkit --help`. Each module exposes add_parser(subparsers) and run(args).
COMMANDS = ("world", "prepare", "train", "generate", "evaluate", "sweep", "report", "list")


class Terminated(KeyboardInterrupt):
    """SIGTERM (scancel, `timeout`, `docker stop`) raised as an interrupt, so every cleanup handler runs."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command attached."""
    parser = argparse.ArgumentParser(
        prog="toolkit",
        description="Video-to-music research on a frozen text-to-music backbone: build the micro world, "
        "prepare features, train conditioners, generate, evaluate, sweep and report.",
    )
    parser.add_argument("--version", action="version", version=f"v2m-toolkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        # No try: a command module that fails to import is a bug, and must not silently take its command away.
        importlib.import_module(f"toolkit.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; bad input or config exits 2 with one line on stderr and no traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    # Signal handlers can only be set from the main thread (tests may call main() from another).
    catch_term = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if catch_term else None
    try:
        return int(args.run(args) or 0)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Terminated:
        print("terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    finally:
        if catch_term:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


if __name__ == "__main__":
    sys.exit(main())

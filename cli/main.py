"""`emosync`: the command line. Bad input exits 2 with one line; an internal fault exits 1."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from emosync import __version__
from emosync.cli.progress import end_line
from emosync.errors import InputError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one `emosync: error:` line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(message)


def build_parser() -> argparse.ArgumentParser:
    from emosync.cli import animate, batch, emotion, evaluate, live, preview, render

    parser = _Parser(prog="emosync", description=__doc__)
    parser.add_argument("--version", action="version", version=f"emosync {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    animate.add_parser(sub)
    batch.add_parser(sub)
    emotion.add_parser(sub)
    evaluate.add_parser(sub)
    live.add_parser(sub)
    preview.add_parser(sub)
    render.add_parser(sub)
    from emosync.cli import convert

    convert.add_parser(sub)
    return parser


class _WarningLines(logging.Handler):
    """Our modules' logged warnings as `emosync: warning: …` lines on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"emosync: warning: {record.getMessage()}", file=sys.stderr)


def warnings_to_stderr() -> None:
    """Route the `emosync` loggers' warnings to stderr in the CLI's format (once per process)."""
    logger = logging.getLogger("emosync")
    if not any(isinstance(h, _WarningLines) for h in logger.handlers):
        logger.addHandler(_WarningLines(logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    warnings_to_stderr()
    try:
        args = build_parser().parse_args(argv)
        try:
            return int(args.run(args) or 0)
        finally:
            end_line()  # a half-drawn progress bar: what follows gets its own line
    except InputError as exc:
        print(f"emosync: error: {exc}", file=sys.stderr)
        return 2
    except PermissionError as exc:  # Python 3.11's Path.exists() raises in an unreadable folder
        what = exc.filename or "a file or folder"
        print(f"emosync: error: cannot access {what}: permission denied", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("emosync: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal fault: say so plainly, trace only when asked
        if os.environ.get("EMOSYNC_DEBUG"):
            traceback.print_exc()
        print(f"emosync: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

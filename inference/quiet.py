"""Keep native libraries' own log lines off the user's terminal.

mediapipe/TFLite (glog, absl) and the MP3 decoder write straight to file descriptor 2, past
Python's sys.stderr, so the only way to keep the CLI's promise of one `emosync:` line per cause is
to point fd 2 at /dev/null around their calls. Python-level errors are raised, not printed, so
nothing of ours is lost; set EMOSYNC_DEBUG=1 to see the libraries' lines again.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

_LOCK = threading.RLock()


def quiet_native_logging() -> None:
    """Ask glog/absl and TensorFlow Lite to log errors only (read when they first load)."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """For the block, whatever is written to fd 2 (by C code or Python) goes to /dev/null."""
    if os.environ.get("EMOSYNC_DEBUG"):
        yield
        return
    with _LOCK:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            sys.stderr.flush()
        try:
            saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
        except OSError:  # no fd 2 to redirect (a daemon): nothing to silence
            yield
            return
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            with contextlib.suppress(AttributeError, ValueError, OSError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)

"""A child process for work another core can do: forked, bound to its parent, never returning.

The composer's helper (:mod:`outreach.composer`) and the contacts reader
(:mod:`outreach.readahead`) are such children. A child dies with its parent (the kernel's
parent-death signal, so a kill -9 of the night ends it too), leaves Ctrl-C to its parent (which
ends it), runs its work and ends with ``os._exit``: no exit handler of the parent's runs, nothing
the parent had buffered is written twice, and no connection of the parent's (the ledger, a
mailbox) is closed or used by it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence


def fork(
    work: Callable[[], None], *, child_fds: Sequence[int], parent_fds: Sequence[int]
) -> int | None:
    """Fork a child that runs ``work`` and exits; its pid, or None when none could be forked.
    ``child_fds`` are the pipe ends the child keeps (closed here once it is forked),
    ``parent_fds`` those this process keeps (closed in the child); all are closed when the
    fork fails."""
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:
        for fd in (*child_fds, *parent_fds):
            os.close(fd)
        return None
    if pid == 0:  # the child: never returns
        code = 0
        try:
            for fd in parent_fds:
                os.close(fd)
            _bind(parent)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            work()
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    for fd in child_fds:
        os.close(fd)
    return pid


def end(pid: int, fds: Sequence[int]) -> None:
    """Close this process's ends ``fds`` of the child's pipes, kill the child (whether it has
    finished or not: a night that ended early does not wait for it) and reap it."""
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.waitpid(pid, 0)


def _bind(parent: int) -> None:
    """SIGKILL from the kernel when the parent dies (PR_SET_PDEATHSIG); an end at once when it
    died before we asked."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)

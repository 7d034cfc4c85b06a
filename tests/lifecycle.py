"""The context-manager half of the test servers and the browser: ``with X() as x`` starts it and
closes it, whatever the test did; ``with serving(server) as port`` does it for a socketserver."""

from __future__ import annotations

import contextlib
import socketserver
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Self


class Started:
    """``start()`` on entering, ``close()`` on leaving; subclasses define both."""

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


@contextlib.contextmanager
def serving(server: socketserver.BaseServer, poll: float = 0.02) -> Iterator[int]:
    """``server`` answering from a thread (a short ``poll`` makes shutdown quick) while the
    block runs: its port; then shut down, closed and joined, whatever the block did."""
    thread = threading.Thread(target=server.serve_forever, args=(poll,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]  # type: ignore[index]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

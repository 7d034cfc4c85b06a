"""The context-manager half of the test servers and the browser: ``with X() as x`` starts it and
closes it, whatever the test did."""

from __future__ import annotations

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

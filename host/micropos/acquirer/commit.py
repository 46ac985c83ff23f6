"""Group commit: many requests' ledger changes under one commit, and no answer before its change is on disk.

A commit to disk (an fsync) costs far more than applying a request, so the
requests that arrive together are applied one after another in one
transaction and committed once; should one of them fail, the batch is
applied again with each request in a savepoint of its own, so that the
failing one is undone alone. The commit's fsync runs on a worker thread, so
the event loop goes on reading and checking the next requests meanwhile;
they wait for the following batch. Only when the commit has returned are
the batch's answers released: an answer the terminal receives is never
lost, even to a ``kill -9``.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from micropos.acquirer.ledger import Ledger

log = logging.getLogger(__name__)


#: Told a piece of work's result, or what it raised, once its batch is on disk (or failed to get there).
Done = Callable[[Any, BaseException | None], None]


class GroupCommit:
    """Runs ledger work in batches, one commit each.

    Attributes:
        batches: commits so far; ``applied`` the pieces of work they held.
    """

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._waiting: list[tuple[Callable[[], Any], Done]] = []
        self._drainer: asyncio.Task[None] | None = None
        self.batches = 0
        self.applied = 0

    def submit(self, work: Callable[[], Any], done: Done) -> None:
        """Queues ``work()`` for the next batch; ``done(result, error)`` is called once the batch is committed.

        A callback rather than a future: the server answers thousands of
        requests a second, and a coroutine each costs more than the rules.
        """
        self._waiting.append((work, done))
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())

    async def close(self) -> None:
        """Stops: work not yet committed is dropped, and nobody is told (the server is closing)."""
        self._waiting = []
        if self._drainer is not None:
            self._drainer.cancel()
            await asyncio.gather(self._drainer, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(0)  # requests ready in this turn of the loop join the batch
                batch, self._waiting = self._waiting, []
                await self._commit(batch)
        finally:
            self._drainer = None

    async def _commit(self, batch: list[tuple[Callable[[], Any], Done]]) -> None:
        outcomes: list[tuple[Any, BaseException | None]] = []
        ledger = self._ledger
        try:
            ledger.begin()
            try:  # the common case, every request applies: no savepoint each (two statements a request)
                with ledger.unguarded():
                    outcomes = [(work(), None) for work, _ in batch]
            except Exception:  # one failed: the batch again, each request in a savepoint of its own
                ledger.rollback()
                ledger.begin()
                outcomes = []
                for work, _ in batch:
                    try:
                        with ledger.atomic():
                            outcomes.append((work(), None))
                    except Exception as exc:  # this request's changes are undone; the batch goes on
                        outcomes.append((None, exc))
            committing = asyncio.ensure_future(asyncio.to_thread(ledger.commit))
            try:
                await asyncio.shield(committing)
            except asyncio.CancelledError:  # the commit's thread holds the ledger: let it finish first
                await asyncio.gather(committing, return_exceptions=True)
                raise
        except BaseException as exc:  # the commit itself failed: nothing of the batch stands
            if ledger.in_transaction:
                ledger.rollback()
            if not isinstance(exc, Exception):
                raise  # cancelled: the server is closing, and its connections with it
            for _, done in batch:
                _tell(done, None, exc)
            return
        self.batches += 1
        self.applied += len(batch)
        for (_, done), (value, error) in zip(batch, outcomes, strict=True):
            _tell(done, value, error)


def _tell(done: Done, value: Any, error: BaseException | None) -> None:
    """Calls back; a callback that raises is logged and does not stop the rest of the batch."""
    try:
        done(value, error)
    except Exception:
        log.exception("a group commit callback failed")

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
from collections.abc import Callable
from typing import Any

from micropos.acquirer.ledger import Ledger


class GroupCommit:
    """Runs ledger work in batches, one commit each.

    Attributes:
        batches: commits so far; ``applied`` the pieces of work they held.
    """

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._waiting: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self.batches = 0
        self.applied = 0

    async def run(self, work: Callable[[], Any]) -> Any:
        """``work()`` applied to the ledger and committed; its result, or what it raised."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(0)  # requests ready in this turn of the loop join the batch
                batch, self._waiting = self._waiting, []
                await self._commit(batch)
        finally:
            self._drainer = None

    async def _commit(self, batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]]) -> None:
        done: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        ledger = self._ledger
        try:
            ledger.begin()
            try:  # the common case, every request applies: no savepoint each (two statements a request)
                with ledger.unguarded():
                    for work, future in batch:
                        done.append((future, work(), None))
            except Exception:  # one failed: the batch again, each request in a savepoint of its own
                ledger.rollback()
                ledger.begin()
                done = []
                for work, future in batch:
                    try:
                        with ledger.atomic():
                            done.append((future, work(), None))
                    except Exception as exc:  # this request's changes are undone; the batch goes on
                        done.append((future, None, exc))
            await asyncio.to_thread(ledger.commit)
        except BaseException as exc:  # the commit itself failed: nothing of the batch stands
            if ledger.in_transaction:
                ledger.rollback()
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("commit cancelled"))
            if not isinstance(exc, Exception):
                raise
            return
        self.batches += 1
        self.applied += len(batch)
        for future, value, error in done:
            if future.done():
                continue
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)

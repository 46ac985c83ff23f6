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

When other worker processes write the same ledger (``micropos.acquirer.
workers``), a batch waits for this worker's turn, takes in whatever
arrived meanwhile, and is applied and committed on the loop itself, with
nothing else in between: the others wait for every microsecond of it.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from micropos.acquirer.ledger import Ledger
from micropos.acquirer.workers import WriterLock

log = logging.getLogger(__name__)


#: Each piece of work's result, or what it raised.
Outcomes = list[tuple[Any, BaseException | None]]

#: Told a piece of work's result, or what it raised, once its batch is on disk (or failed to get there).
Done = Callable[[Any, BaseException | None], None]

#: Pieces of work and whom to tell, in the order they came.
Batch = list[tuple[Callable[[], Any], Done]]


class GroupCommit:
    """Runs ledger work in batches, one commit each.

    Attributes:
        batches: commits so far; ``applied`` the pieces of work they held.
    """

    def __init__(self, ledger: Ledger, lock: WriterLock | None = None) -> None:
        self._ledger = ledger
        self._lock = lock  # taken around each transaction when other processes write the same ledger
        self._waiting: Batch = []
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
        lock = self._lock
        try:
            while self._waiting:
                await asyncio.sleep(0)  # requests ready in this turn of the loop join the batch
                if lock is None:
                    batch = self._take()
                    self._report(batch, await self._commit(batch, on_loop=False))  # the loop reads on meanwhile
                    continue
                # other workers share the ledger: the batch is taken once it is this worker's turn (what
                # arrived while it waited joins it), and the ledger held the shortest time, nothing in between
                await lock.acquire()
                try:
                    batch = self._take()
                    outcomes = await self._commit(batch, on_loop=True)
                finally:
                    lock.release()
                self._report(batch, outcomes)
        finally:
            self._drainer = None

    def _take(self) -> Batch:
        batch, self._waiting = self._waiting, []
        return batch

    async def _commit(self, batch: Batch, *, on_loop: bool) -> Outcomes | BaseException:
        """Applies and commits the batch (on a thread unless ``on_loop``); the outcomes, or why none stand."""
        ledger = self._ledger
        try:
            outcomes = self._apply(batch)
            if on_loop:
                ledger.commit()
            else:
                await on_thread(ledger.commit)
        except BaseException as exc:  # the commit itself failed: nothing of the batch stands
            if ledger.in_transaction:
                ledger.rollback()
            if not isinstance(exc, Exception):
                raise  # cancelled: the server is closing, and its connections with it
            return exc
        self.batches += 1
        self.applied += len(batch)
        return outcomes

    @staticmethod
    def _report(batch: Batch, outcomes: Outcomes | BaseException) -> None:
        """Tells each piece of work its outcome, or, when the commit failed, why none stands."""
        if isinstance(outcomes, BaseException):
            for _, done in batch:
                _tell(done, None, outcomes)
            return
        for (_, done), (value, error) in zip(batch, outcomes, strict=True):
            _tell(done, value, error)

    def _apply(self, batch: Batch) -> Outcomes:
        """The batch's work in one open transaction: each result, or what it raised (its changes undone)."""
        ledger = self._ledger
        ledger.begin()
        try:  # the common case, every request applies: no savepoint each (two statements a request)
            with ledger.unguarded():
                return [(work(), None) for work, _ in batch]
        except Exception:  # one failed: the batch again, each request in a savepoint of its own
            ledger.rollback()
        ledger.begin()
        outcomes: list[tuple[Any, BaseException | None]] = []
        for work, _ in batch:
            try:
                with ledger.atomic():
                    outcomes.append((work(), None))
            except Exception as exc:  # this request's changes are undone; the batch goes on
                outcomes.append((None, exc))
        return outcomes


async def on_thread(call: Callable[[], None]) -> None:
    """``call()`` on a worker thread; cancelled meanwhile, it waits for the thread to finish, then is cancelled.

    A thread cannot be stopped, and one at work holds the ledger (a commit,
    a checkpoint): closing the ledger under it would crash the process.
    """
    running = asyncio.ensure_future(asyncio.to_thread(call))
    try:
        await asyncio.shield(running)
    except asyncio.CancelledError:
        await asyncio.gather(running, return_exceptions=True)
        raise


def _tell(done: Done, value: Any, error: BaseException | None) -> None:
    """Calls back; a callback that raises is logged and does not stop the rest of the batch."""
    try:
        done(value, error)
    except Exception:
        log.exception("a group commit callback failed")

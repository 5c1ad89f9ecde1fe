"""The service that posts queued outbound events.

One asyncio task per recipient with pending events sends that
recipient's queue head, waits for its answer, records the outcome and
moves on; a slow or dead receiver holds up only its own queue, never a
session nor another receiver. Every database step runs in a worker
thread in a transaction of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from sqlalchemy.exc import SQLAlchemyError

from supportbox import __version__
from supportbox.logs import log
from supportbox.runtime import Runtime
from supportbox.webhooks import queue, signing
from supportbox.webhooks.observer import WebhookObserver

T = TypeVar("T")

#: How often delivered rows older than queue.KEEP_DELIVERED are deleted.
PRUNE_EVERY = 3600.0


def install(runtime: Runtime) -> None:
    """Register the worker as a service and its observer on the hub."""
    worker = WebhookWorker(runtime)
    runtime.services["webhooks"] = worker
    runtime.observers.append(WebhookObserver(runtime.appliance_id, worker.notify))


class WebhookWorker:
    """Delivers every recipient's queue in order, at least once.

    ``owner`` names this worker in the lease column; it is unique per
    process, so workers of several nodes sharing one database never send
    the same delivery at the same time.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.timeout = float(settings.webhook_timeout)
        self.poll = float(settings.webhook_poll_interval)
        # A lease outlives the longest possible attempt by a wide margin.
        self.lease = 2 * self.timeout + 30
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._generation = 0
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._pruned_at = 0.0
        self._db_steps: set[asyncio.Future[Any]] = set()

    async def start(self) -> None:
        """Pick up whatever is pending, including what a previous run left."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            headers={"User-Agent": f"supportbox/{__version__}"},
        )
        # The first look is done before start returns, so the server is
        # up only once what a previous run left is being sent.
        await self._look_for_work()
        self._supervisor = asyncio.create_task(self._supervise(), name="webhooks")
        log.info("webhook delivery started")

    async def stop(self) -> None:
        """Cancel every attempt in flight and give up this worker's leases."""
        self._loop = None
        tasks = [*self._tasks.values()]
        if self._supervisor is not None:
            tasks.append(self._supervisor)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._supervisor = None

        # A claim already running in its thread still commits; wait for it,
        # or its lease would outlive this worker.
        await asyncio.gather(*self._db_steps, return_exceptions=True)

        if self._client is not None:
            await self._client.aclose()
            self._client = None
        try:
            await self._in_transaction(queue.release, self.owner)
        except SQLAlchemyError as exc:
            log.warning("webhook leases not released: %s", exc.__class__.__name__)
        log.info("webhook delivery stopped")

    def notify(self) -> None:
        """Look for new deliveries now; safe to call from any thread."""
        loop = self._loop
        if loop is None:
            return
        # If the loop closed meanwhile, the next start picks the rows up.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._poke)

    def _poke(self) -> None:
        self._generation += 1
        self._wake.set()

    async def _in_transaction(
        self, step: Callable[..., T], *args: Any, write: bool = True
    ) -> T:
        def run() -> T:
            db = self.runtime.write_db() if write else self.runtime.db()
            with db, db.begin():
                return step(db, *args)

        # Shielded: cancelling the caller must not orphan a running step.
        future = asyncio.ensure_future(asyncio.to_thread(run))
        self._db_steps.add(future)
        future.add_done_callback(self._db_steps.discard)
        return await asyncio.shield(future)

    # supervision

    async def _supervise(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            await self._look_for_work()

    async def _look_for_work(self) -> None:
        try:
            await self._start_busy_recipients()
        except SQLAlchemyError as exc:
            log.warning("webhook queue unreadable: %s", exc.__class__.__name__)

    async def _start_busy_recipients(self) -> None:
        now = time.time()
        if now - self._pruned_at > PRUNE_EVERY:
            await self._in_transaction(queue.prune, now)
            self._pruned_at = now
        for recipient_id in await self._in_transaction(
            queue.busy_recipients, write=False
        ):
            if recipient_id not in self._tasks:
                self._tasks[recipient_id] = asyncio.create_task(
                    self._serve(recipient_id), name=f"webhook-{recipient_id}"
                )

    # one recipient

    async def _serve(self, recipient_id: int) -> None:
        try:
            while True:
                generation = self._generation
                try:
                    job = await self._in_transaction(
                        queue.claim_head,
                        recipient_id,
                        self.owner,
                        time.time(),
                        self.lease,
                    )
                except SQLAlchemyError as exc:
                    log.warning("webhook queue unreadable: %s", exc.__class__.__name__)
                    await asyncio.sleep(self.poll)
                    continue
                if job is None:
                    # Stop when idle, unless events were committed meanwhile.
                    if generation == self._generation:
                        return
                elif isinstance(job, float):
                    await asyncio.sleep(min(job, self.poll))
                else:
                    await self._deliver(job)
        except Exception:
            log.exception("webhook delivery to recipient %s failed", recipient_id)
        finally:
            if self._tasks.get(recipient_id) is asyncio.current_task():
                del self._tasks[recipient_id]

    async def _deliver(self, claim: queue.Claim) -> None:
        error = await self._post(claim)
        now = time.time()
        try:
            if error is None:
                await self._in_transaction(queue.record_delivered, claim, now)
                log.debug(
                    "webhook %s: %s %s delivered",
                    claim.recipient,
                    claim.event,
                    claim.event_id,
                )
                return
            failure = await self._in_transaction(
                queue.record_failed, claim, self.owner, now, error
            )
        except SQLAlchemyError as exc:
            # The lease runs out and the event is sent again: at least once.
            log.warning("webhook outcome not stored: %s", exc.__class__.__name__)
            await asyncio.sleep(self.poll)
            return
        if failure is None:
            return
        if failure.dead:
            log.warning(
                "webhook %s: %s %s is a dead letter after %d attempts: %s",
                claim.recipient,
                claim.event,
                claim.event_id,
                claim.attempt,
                error,
            )
        else:
            log.info(
                "webhook %s: %s %s attempt %d failed: %s; retry in %.1fs",
                claim.recipient,
                claim.event,
                claim.event_id,
                claim.attempt,
                error,
                failure.retry_at - now,
            )

    async def _post(self, claim: queue.Claim) -> str | None:
        """Post one event; ``None`` on HTTP 200, else why it failed."""
        assert self._client is not None
        body = claim.body.encode()
        headers = signing.headers(claim.secret, body, claim.event_id, time.time())
        try:
            async with asyncio.timeout(self.timeout):
                request = self._client.stream(
                    "POST", claim.url, content=body, headers=headers
                )
                async with request as response:
                    status = response.status_code
        except TimeoutError:
            return f"no answer within {self.timeout:g}s"
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            return f"{exc.__class__.__name__}: {exc}"[:300]
        return None if status == 200 else f"HTTP {status}"

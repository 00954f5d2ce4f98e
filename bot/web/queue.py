"""Gradio's event queue, woken when something happens instead of polling.

Gradio 6's queue loop sleeps 1 ms and looks again whenever nothing can start (no event waiting, or
every worker busy), and its progress loop does the same every 10 ms: with the two Blocks serve()
mounts, about 2 200 wake-ups a second. Each takes the GIL from the threads answering questions, and
an idle app used 6.6 % of a core doing it. Here the loop sleeps until an event joins or a job ends,
and the progress loop until a job starts; a 50 ms timeout keeps any state change Gradio makes
elsewhere (a cancelled or expired event) from being missed for longer than that.

The loop bodies are Gradio's own (gradio/queueing.py, Queue.start_processing and
start_progress_updates, 6.31) with their sleeps replaced. A queue is adopted only while the installed
Gradio's two loops are the ones copied (their source's digest); after an upgrade that changes them the
app keeps Gradio's own queue and logs a warning, and a test fails until this copy is brought up to
date. Every kind of event the app has runs through it in the web tests (endpoints on both mounts,
streamed chat, the admin tab's progress bar, 20 concurrent callers); tests/web/test_queue.py checks
that an idle queue sleeps, and that Gradio's own still polls (when it stops, this module can go).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import time

from gradio import queueing
from gradio.utils import run_coro_in_background, set_task_name

IDLE_TIMEOUT = 0.05  # seconds: the longest a state change made outside push/process_events goes unseen
COPIED = {"start_processing": "d65be5a5cbed97d7", "start_progress_updates": "7cbbec1cf932324c"}

log = logging.getLogger(__name__)


class WakingQueue(queueing.Queue):
    """A gradio Queue whose loops wait on events rather than polling (see the module docstring)."""

    _changed: asyncio.Event  # an event joined or a job ended
    _started: asyncio.Event  # a job started

    @classmethod
    def adopt(cls, blocks) -> bool:
        """Make a Blocks' queue (made by blocks.queue(), not yet started) one of these, if the installed
        Gradio's loops are the ones copied here; whether it was."""
        changed = [name for name, digest in COPIED.items() if _digest(getattr(queueing.Queue, name)) != digest]
        if changed:
            log.warning("Gradio's queue loops (%s) differ from the copy in bot/web/queue.py: Gradio's own "
                        "queue is kept", ", ".join(changed))
            return False
        queue = blocks._queue
        queue.__class__ = cls
        queue._changed, queue._started = asyncio.Event(), asyncio.Event()
        return True

    async def push(self, *args, **kwargs):
        try:
            return await super().push(*args, **kwargs)
        finally:
            self._changed.set()

    async def process_events(self, *args, **kwargs):
        try:
            return await super().process_events(*args, **kwargs)
        finally:
            self._changed.set()

    async def start_processing(self) -> None:
        try:
            while not self.stopped:
                if len(self) == 0 or None not in self.active_jobs:
                    await _until(self._changed)
                    continue
                async with self.delete_lock:
                    event_batch = self.get_events()
                if not event_batch:
                    await _until(self._changed)
                    continue
                events, batch, concurrency_id = event_batch
                self.active_jobs[self.active_jobs.index(None)] = events
                event_queue = self.event_queue_per_concurrency_id[concurrency_id]
                event_queue.current_concurrency += 1
                start_time = time.time()
                fn = events[0].fn
                event_queue.start_times_per_fn[fn].add(start_time)
                for event in events:
                    if (record := self.event_analytics.get(event._id)) is not None:
                        record["status"] = "processing"
                task = run_coro_in_background(self.process_events, events, batch, start_time, fn)
                set_task_name(task, events[0].session_hash, fn._id, events[0]._id, batch)
                self._asyncio_tasks.add(task)
                task.add_done_callback(self._asyncio_tasks.discard)
                self._started.set()
                if self.live_updates:
                    self.broadcast_estimations(concurrency_id)
        finally:
            self.stopped = True
            self._cancel_asyncio_tasks()

    async def start_progress_updates(self) -> None:
        while not self.stopped:
            events = [event for job in self.active_jobs if job is not None for event in job]
            if not events:
                await _until(self._started)
                continue
            for event in events:
                if event.progress_pending and event.progress:
                    event.progress_pending = False
                    self.send_message(event, event.progress)
            await asyncio.sleep(self.progress_update_sleep_when_free)


def _digest(function) -> str:
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):  # no source installed: cannot tell, so do not replace
        return ""
    return hashlib.sha256(source.encode()).hexdigest()[:16]


async def _until(flag: asyncio.Event) -> None:
    """Until `flag` is set or IDLE_TIMEOUT passes; then clear it. The caller looks at the queue again
    either way, so a change made between the wake-up and the clear is not lost."""
    try:
        await asyncio.wait_for(flag.wait(), IDLE_TIMEOUT)
    except TimeoutError:
        pass
    flag.clear()

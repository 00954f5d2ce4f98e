"""bot/webqueue.py: an idle app's event queue sleeps instead of looking every millisecond.

The queue serving real events is tested end to end by the web tests (every endpoint on both mounts,
streamed chat, the admin tab's progress bar, 20 concurrent callers)."""

from __future__ import annotations

import asyncio

import gradio as gr
from gradio import queueing

from bot.web.queue import WakingQueue


def echo(text: str) -> str:
    return text


def looks_while_idle(queue_class: type, seconds: float = 0.5) -> int:
    """How many times a started, empty queue of `queue_class` checks for events in `seconds`."""
    looks = 0

    class Counting(queue_class):
        def __len__(self) -> int:
            nonlocal looks
            looks += 1
            return super().__len__()

    with gr.Blocks(analytics_enabled=False) as blocks:
        gr.api(echo, api_name="echo")
    blocks.queue()
    if issubclass(queue_class, WakingQueue):
        assert Counting.adopt(blocks)
    else:
        blocks._queue.__class__ = Counting

    async def idle() -> None:
        blocks._queue.start()
        await asyncio.sleep(seconds)
        blocks._queue.close()
        await asyncio.sleep(0.1)  # the loops see `stopped` and end

    asyncio.run(idle())
    return looks


def test_an_idle_queue_sleeps_until_something_happens():
    assert looks_while_idle(WakingQueue) <= 20  # one look per 50 ms timeout


def test_gradios_own_queue_polls_every_millisecond_which_is_why_this_exists():
    # If this fails, Gradio stopped polling and bot/webqueue.py can go.
    assert looks_while_idle(queueing.Queue) >= 100


def test_the_installed_gradios_loops_are_the_ones_webqueue_copies(monkeypatch):
    """After a Gradio upgrade that changes them, the app keeps Gradio's own queue (and warns); this
    fails so that bot/webqueue.py is brought up to date."""
    from bot.web import queue as webqueue

    with gr.Blocks(analytics_enabled=False) as blocks:
        gr.api(echo, api_name="echo")
    blocks.queue()
    monkeypatch.setitem(webqueue.COPIED, "start_processing", "0" * 16)  # as if Gradio's loop had changed
    assert WakingQueue.adopt(blocks) is False and type(blocks._queue) is queueing.Queue
    monkeypatch.undo()
    assert WakingQueue.adopt(blocks) is True and type(blocks._queue) is WakingQueue

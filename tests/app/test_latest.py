"""demo.ui.latest: the newest numbered request of a page wins, and no more requests compute at
once than the queue would run."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import gradio as gr

from demo.ui.latest import Latest

SKIP = gr.skip()  # every output keeps its value

PAGE, OTHER = SimpleNamespace(session_hash="a"), SimpleNamespace(session_hash="b")


def test_an_older_number_gets_nothing_and_pages_are_apart():
    latest = Latest()
    assert latest.run(PAGE, 2, lambda: {"x": 2}) == {"x": 2}
    assert latest.run(PAGE, 1, lambda: {"x": 1}) == SKIP  # overtaken before it started
    assert latest.run(OTHER, 1, lambda: {"x": 1}) == {"x": 1}
    assert latest.run(None, "3", lambda: {"x": 3}) == {"x": 3}  # no session: one shared page; a string number
    for odd in (None, "abc", float("inf"), float("nan")):  # counts as 0, the oldest: never an error
        assert latest.run(None, odd, lambda: {"x": 0}) == SKIP


def test_overtaken_while_waiting_for_a_slot_computes_nothing():
    latest, started, release, computed = Latest(at_once=1), threading.Event(), threading.Event(), []

    def holding():
        started.set()
        release.wait(10)
        return {"x": 1}

    first = threading.Thread(target=lambda: computed.append(latest.run(OTHER, 1, holding)))
    first.start()
    started.wait(10)
    answers = {}
    waiting = threading.Thread(target=lambda: answers.update(b=latest.run(PAGE, 1, lambda: computed.append("b") or {"x": 2})))
    waiting.start()
    while latest.is_newest("a", 0):  # until it has arrived: past the first check, it waits for the one slot
        threading.Event().wait(0.01)
    latest.arrive("a", 2)  # a newer request of page a arrives meanwhile
    release.set()
    first.join(10)
    waiting.join(10)
    assert answers["b"] == SKIP and "b" not in computed and computed == [{"x": 1}]


def test_overtaken_while_computing_sends_nothing():
    latest = Latest()

    def overtaken():
        latest.arrive("a", 9)
        return {"x": 8}

    assert latest.run(PAGE, 8, overtaken) == SKIP

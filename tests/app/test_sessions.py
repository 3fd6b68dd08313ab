"""Per-session state bounded and freed (docs/architecture.md, "Bounds per session"): uploaded runs
count against a byte budget per session and in all; 200 sessions that end or idle past the time
to live leave nothing held; the runs state carries Gradio's time to live and delete callback."""
from __future__ import annotations

import gc
import time
import tracemalloc

import pytest

from demo.data.sources import open_source
from demo.errors import UserError
from demo.runs import load_bytes
from demo.ui.sessions import UploadBudget, run_bytes

MB = 2**20


def a_run(tiny, name="r"):
    _, bench = open_source(str(tiny))
    text = "".join(f"{q} Q0 {d} {r} {1.0 / r!r} t\n" for q in bench.instances for r, d in enumerate(bench.docs, 1))
    return load_bytes(text.encode(), bench, f"{name}.trec")


def test_a_session_and_the_server_have_byte_budgets(tiny):
    run = a_run(tiny)
    size = run_bytes(run)
    budget = UploadBudget(per_session=2 * size, total=3 * size, ttl=60)
    budget.admit("s1", run, {"r": run})
    other = a_run(tiny, "q")
    budget.admit("s1", other, {"r": run, "q": other})
    with pytest.raises(UserError, match="per session"):
        budget.admit("s1", a_run(tiny, "z"), None)
    budget.admit("s2", a_run(tiny), None)
    with pytest.raises(UserError, match="uploaded runs, its limit"):
        budget.admit("s3", a_run(tiny), None)
    replaced = a_run(tiny)  # the same name again replaces the old run: no double count
    budget.admit("s1", replaced, {"r": replaced, "q": other})
    assert budget.held("s1") == 2 * size


def test_200_sessions_are_freed_when_they_end_or_idle(tiny):
    """200 sessions each upload one run, held as Gradio holds session state (one dict per session);
    ended sessions are released by the unload hook, idle ones by expiry and Gradio's delete
    callback: afterwards nothing is counted and the runs' memory is returned."""
    budget = UploadBudget(per_session=64 * MB, total=512 * MB, ttl=0.5)
    gc.collect()
    tracemalloc.start()
    states = {}
    for i in range(200):
        run = a_run(tiny)
        states[f"s{i}"] = {"r": run}
        budget.admit(f"s{i}", run, states[f"s{i}"])
    held = tracemalloc.get_traced_memory()[0]
    assert budget.sessions() == 200 and budget.held() > 0
    for i in range(100):  # these pages were closed: app.unload
        budget.release_session(f"s{i}")
        del states[f"s{i}"]
    assert budget.sessions() == 100
    time.sleep(0.6)  # the rest idle past the time to live: the sweep expires them, Gradio drops the state
    assert len(budget.expire()) == 100
    for sid in list(states):
        budget.release_runs(states.pop(sid))  # Gradio's delete_callback
    gc.collect()
    left = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert budget.sessions() == 0 and budget.held() == 0
    assert left < held / 10, (held, left)


def test_the_runs_state_expires_and_calls_back():
    from demo.ui.app import build_page
    from demo.service import Explorer
    from demo.ui.sessions import uploads
    page = build_page(Explorer())
    states = [b for b in page.app.blocks.values() if type(b).__name__ == "State" and b.time_to_live]
    assert any(s.delete_callback == uploads().release_runs for s in states)
    assert any(t[1] == "unload" for fn in page.app.fns.values() for t in fn.targets)

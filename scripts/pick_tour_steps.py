"""Propose instances for the guided tour (demo/tour.py): for each kind of step, the instances of
the bundled dataset where every claim of the step holds, most striking first.

Usage: python scripts/pick_tour_steps.py [KIND ...]   (kinds: ignores worst paraphrase bigger switched hybrid)

The tour's steps are then written into demo/tour.py by hand: a lecturer wants fixed views, and
tests/service/test_tour.py checks that each still shows what its narrative says.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demo import tour  # noqa: E402
from demo.service import Explorer  # noqa: E402

KINDS = {
    "ignores": (tour.ignores_instruction, ("minilm@query", "minilm"), "original"),
    "worst": (tour.worst_user, ("minilm", "minilm@query"), "original"),
    "paraphrase": (tour.paraphrase_moves, ("minilm",), "paraphrase"),
    "bigger": (tour.bigger_model, ("minilm", "mpnet"), "original"),
    "switched": (tour.switched_user, ("minilm", "minilm@query"), "other"),
    "hybrid": (tour.hybrid, ("bm25", "minilm", "rrf(bm25,minilm)"), "original"),
}


def candidates(explorer, kind: str):
    facts, retrievers, variant = KINDS[kind]
    bench = explorer.benchmark(tour.TOUR_DATASET)
    for iid, inst in bench.instances.items():
        if variant == "paraphrase":
            options = [f"paraphrase:{j}" for j in range(1, len(bench.paraphrases.get(iid, ())) + 1)]
        elif variant == "other":
            options = [f"other:{o}" for o in bench.groups[inst.query_id] if o != iid]
        else:
            options = ["original"]
        for v in options:
            step = tour.Step(kind, iid, retrievers, facts, variant=v)
            try:
                found = facts(step, explorer)
            except Exception as e:  # a model that is unavailable here: say so once
                print(f"{kind}: {type(e).__name__}: {e}")
                return
            if all(ok for _, ok in found["claims"]):
                yield iid, v, found["text"]


def main(kinds: list[str]) -> int:
    explorer = Explorer()
    for kind in kinds or list(KINDS):
        print(f"== {kind}")
        for n, (iid, v, text) in enumerate(candidates(explorer, kind)):
            print(f"{iid} {v}: {text}\n")
            if n >= 4:
                break
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

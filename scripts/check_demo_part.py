"""Check one source file of the bundled dataset while writing it.

Usage: python scripts/check_demo_part.py assets/demo/src/part1.json

Prints word counts out of bounds and the lexical control per instance: the share of the
instruction's content words found in its own target versus the mean over its siblings'
targets, and the words the instruction shares with its own target only.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from demo.data.lexical import content_words, overlap  # noqa: E402


def n_words(text: str) -> int:
    return len(text.split())


def check(path: str) -> int:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    problems = 0
    own_all, sib_all = [], []
    for q in data["queries"]:
        qid, insts = q["id"], q["instances"]
        if not 2 <= n_words(q["query"]) <= 10:
            print(f"{qid}: query has {n_words(q['query'])} words"); problems += 1
        if not 6 <= len(insts) <= 8:
            print(f"{qid}: {len(insts)} instances"); problems += 1
        if len(q.get("paraphrases", [])) != 5:
            print(f"{qid}: needs 5 paraphrases"); problems += 1
        for j, p in enumerate(q.get("paraphrases", [])):
            if not 25 <= n_words(p) <= 90:
                print(f"{qid} paraphrase {j+1}: {n_words(p)} words (25-90)"); problems += 1
        for i, inst in enumerate(insts, 1):
            ni, nt = n_words(inst["instruction"]), n_words(inst["target"])
            if not 25 <= ni <= 90:
                print(f"{qid}_{i}: instruction {ni} words (25-90)"); problems += 1
            if not 60 <= nt <= 160:
                print(f"{qid}_{i}: target {nt} words (60-160)"); problems += 1
            own = overlap(inst["instruction"], inst["target"])
            sibs = [overlap(inst["instruction"], s["target"]) for s in insts if s is not inst]
            sib = sum(sibs) / len(sibs)
            own_all.append(own); sib_all.append(sib)
            only_own = (content_words(inst["instruction"]) & content_words(inst["target"])) - set().union(
                *(content_words(s["target"]) for s in insts if s is not inst))
            flag = "  <-- not tailored (no more shared words than the siblings)" if own <= sib else ""
            print(f"{qid}_{i}: own {own:.2f} vs siblings {sib:.2f}  shared only with own: {sorted(only_own)}{flag}")
        nb = n_words(q["base_passage"])
        if not 60 <= nb <= 160:
            print(f"{qid}: base passage {nb} words"); problems += 1
        for j, d in enumerate(q.get("distractors", [])):
            if not 40 <= n_words(d) <= 160:
                print(f"{qid} distractor {j+1}: {n_words(d)} words"); problems += 1
    if own_all:
        print(f"MEAN overlap own {sum(own_all)/len(own_all):.3f} vs siblings {sum(sib_all)/len(sib_all):.3f}")
    print(f"{problems} length/structure problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(check(sys.argv[1]))

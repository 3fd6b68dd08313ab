"""Build the bundled `demo` dataset (assets/demo, release layout) from its sources.

The sources, assets/demo/src/part*.json, hold per base query: the query, its unrevised base
passage, its instances (persona, instruction, revised target), five paraphrases of one
instance's instruction and distractor passages. Ids follow InstructIR: base query `101`,
instances `101_1`..; base passage `p101`, the revised targets `p101_1`.. (same k);
distractors `x101_1`..; paraphrases `101_2.1`..`101_2.5`.

Usage: python scripts/build_demo_dataset.py   (deterministic; tests check it is in sync)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "assets" / "demo"


def records(sources: list[dict]) -> dict[str, list]:
    corpus, queries, qrels, paraphrases = [], [], [], []
    for q in sources:
        qid, query = q["id"], q["query"]
        meta = {"origin_query": query, "domain": q["domain"]}
        corpus.append({"_id": f"p{qid}", "title": "", "text": q["base_passage"], "metadata": {"kind": "base"}})
        for k, inst in enumerate(q["instances"], 1):
            iid = f"{qid}_{k}"
            corpus.append({"_id": f"p{qid}_{k}", "title": "", "text": inst["target"], "metadata": {"kind": "target"}})
            queries.append({"_id": iid, "text": f"{inst['instruction']} [SEP] {query}",
                            "metadata": {**meta, "persona": inst["persona"]}})
            qrels.append((iid, f"p{qid}_{k}", 1))
        parent = f"{qid}_{q['paraphrase_of']}"
        persona = q["instances"][q["paraphrase_of"] - 1]["persona"]
        for j, text in enumerate(q["paraphrases"], 1):
            paraphrases.append({"_id": f"{parent}.{j}", "text": f"{text} [SEP] {query}",
                                "metadata": {**meta, "persona": persona}})
        for j, text in enumerate(q["distractors"], 1):
            corpus.append({"_id": f"x{qid}_{j}", "title": "", "text": text, "metadata": {"kind": "distractor"}})
    return {"corpus": corpus, "queries": queries, "qrels": qrels, "paraphrases": paraphrases}


def load_sources(src: Path) -> list[dict]:
    out = []
    for part in sorted(src.glob("part*.json")):
        out.extend(json.loads(part.read_text(encoding="utf-8"))["queries"])
    return sorted(out, key=lambda q: int(q["id"]))


def render(recs: dict[str, list]) -> dict[str, str]:
    """File name -> exact file content."""
    def jsonl(rows):
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return {
        "corpus.jsonl": jsonl(recs["corpus"]),
        "queries.jsonl": jsonl(recs["queries"]),
        "qrels/test.tsv": "qid\tpid\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in recs["qrels"]),
        "paraphrases.jsonl": jsonl(recs["paraphrases"]),
    }


def build(folder: Path = DEMO) -> dict[str, str]:
    return render(records(load_sources(folder / "src")))


def main() -> int:
    files = build()
    for name, content in files.items():
        path = DEMO / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)} ({content.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The release-format loader (demo.data.release): the tiny fixture, the real InstructIR release
files, and every kind of bad data, the latter checked through `python -m demo validate`."""
from __future__ import annotations

import json
import math
import subprocess
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from demo.data.records import split_query_text
from demo.data.release import load_folder
from demo.evaluation import blind_floor
from helpers import SHARED, TINY, assert_one_line_error, real_release_folder, run_cli, write_release

ROOT = Path(__file__).resolve().parents[2]


def validate(dataset, *extra: str) -> subprocess.CompletedProcess:
    return run_cli("validate", "--dataset", dataset, *extra, timeout=120)


def rewrite_line(path: Path, line: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def append_line(path: Path, text: str) -> int:
    """Append a line; returns its 1-based line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines + [text]) + "\n", encoding="utf-8")
    return len(lines) + 1


# ---------------------------------------------------------------- the tiny fixture

def test_tiny_counts_and_groups(tiny):
    b = load_folder(tiny)
    assert len(b.docs) == len(TINY["corpus"]) == 8
    assert len(b.instances) == 6
    assert {g: list(ids) for g, ids in b.groups.items()} == {"a": ["a_1", "a_2", "a_3"], "b": ["b_1", "b_2", "b_3"]}
    assert all(b.instances[i].query_id == g for g, ids in b.groups.items() for i in ids)
    assert b.paraphrases == {}
    assert b.name == "tiny"


def test_tiny_instruction_query_split_and_targets(tiny):
    b = load_folder(tiny)
    for qid, instruction, query in TINY["queries"]:
        inst = b.instances[qid]
        assert inst.instruction == instruction
        assert inst.query == query
        assert inst.targets == (qid,)
        assert dict(inst.qrels) == {qid: 1}
        assert inst.text == f"{instruction} [SEP] {query}"
    assert b.docs["a_2"].text == dict(TINY["corpus"])["a_2"]


def test_tiny_siblings(tiny):
    b = load_folder(tiny)
    assert b.siblings("a_1") == ("a_2", "a_3")
    assert b.siblings("b_2") == ("b_1", "b_3")


def test_paraphrases_attach_to_parent_with_parents_qrels(tmp_path):
    paraphrases = [("a_2.1", "A mother wants a mild evening drink for small children.", "how to brew tea"),
                   ("a_2.2", "Someone preparing something warm and gentle for their kids at night.", "how to brew tea"),
                   ("b_3.1", "A year-round commuter on winter roads asks for upkeep steps.", "when to replace bike chain")]
    b = load_folder(write_release(tmp_path / "d", paraphrases=paraphrases))
    assert sorted(b.paraphrases) == ["a_2", "b_3"]
    a2 = b.paraphrases["a_2"]
    assert [p.instance_id for p in a2] == ["a_2.1", "a_2.2"]
    assert a2[0].instruction == paraphrases[0][1] and a2[0].query == "how to brew tea"
    assert all(p.query_id == "a" and dict(p.qrels) == {"a_2": 1} and p.targets == ("a_2",) for p in a2)
    assert b.paraphrases["b_3"][0].targets == ("b_3",) and b.paraphrases["b_3"][0].query_id == "b"
    assert "a_2.1" not in b.instances  # paraphrases are variants, not extra instances


def test_grouping_follows_origin_query_not_id_prefix(tmp_path):
    queries = [("q_1", "Instruction one for a user.", "first query"),
               ("q_2", "Instruction two for a user.", "second query"),   # same prefix, other query
               ("r_1", "Instruction three for a user.", "first query")]  # other prefix, same query
    corpus = [(d, f"passage {d} text") for d in ("d1", "d2", "d3")]
    qrels = [("q_1", "d1", 1), ("q_2", "d2", 1), ("r_1", "d3", 1)]
    b = load_folder(write_release(tmp_path / "d", corpus, queries, qrels))
    assert sorted(map(sorted, b.groups.values())) == [["q_1", "r_1"], ["q_2"]]
    assert len(set(b.groups)) == 2


def test_grouping_without_metadata_uses_text_after_sep(tmp_path):
    folder = write_release(tmp_path / "d")
    rows = [{"_id": q, "text": f"{i} [SEP] {o}"} for q, i, o in TINY["queries"]]
    (folder / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    b = load_folder(folder)
    assert sorted(map(sorted, b.groups.values())) == [["a_1", "a_2", "a_3"], ["b_1", "b_2", "b_3"]]
    assert b.instances["b_2"].query == "when to replace bike chain"


def test_graded_and_multiple_targets(tmp_path):
    qrels = [(q, q, 1) for q, _, _ in TINY["queries"]] + [("a_1", "x_1", 2), ("a_1", "b_1", 0)]
    b = load_folder(write_release(tmp_path / "d", qrels=qrels))
    inst = b.instances["a_1"]
    assert inst.targets == ("a_1", "x_1")  # grade 0 is judged, not relevant
    assert dict(inst.qrels) == {"a_1": 1, "x_1": 2, "b_1": 0}


def test_split_query_text_rules():
    assert split_query_text("be brief [SEP] tea", "tea") == ("be brief", "tea")
    assert split_query_text("  be brief  [SEP]  tea ", None) == ("be brief", "tea")
    assert split_query_text("only the instruction", "tea") == ("only the instruction", "tea")
    assert split_query_text("tea", "tea") == ("", "tea")
    assert split_query_text("tea", None) == ("", "tea")


def test_loaded_benchmark_is_read_only(tiny):
    b = load_folder(tiny)
    with pytest.raises(TypeError):
        b.instances["zz"] = b.instances["a_1"]  # type: ignore[index]


def test_valid_dataset_passes_validate(tiny):
    proc = validate(tiny)
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stdout and proc.stderr.strip() == ""


# ---------------------------------------------------------------- bad data, through the CLI

def test_bad_malformed_json_line(tiny):
    rewrite_line(tiny / "corpus.jsonl", 3, '{"_id": "a_3", "text": "unterminated')
    assert_one_line_error(validate(tiny), f"{tiny / 'corpus.jsonl'}:3", "JSON")


def test_bad_json_line_that_is_not_an_object(tiny):
    rewrite_line(tiny / "queries.jsonl", 2, '["a_2", "text"]')
    assert_one_line_error(validate(tiny), f"{tiny / 'queries.jsonl'}:2")


@pytest.mark.parametrize("name", ["corpus.jsonl", "queries.jsonl", "qrels/test.tsv"])
def test_bad_missing_file(tiny, name):
    (tiny / name).unlink()
    assert_one_line_error(validate(tiny), str(tiny / name), "not found")


def test_bad_missing_folder(tmp_path):
    missing = tmp_path / "no-such-dataset"
    assert_one_line_error(validate(missing), str(missing), "not found")


def test_bad_duplicate_doc_id(tiny):
    n = append_line(tiny / "corpus.jsonl", json.dumps({"_id": "b_2", "title": "", "text": "another passage"}))
    assert_one_line_error(validate(tiny), f"{tiny / 'corpus.jsonl'}:{n}", "duplicate", "b_2")


def test_bad_duplicate_query_id(tiny):
    n = append_line(tiny / "queries.jsonl", json.dumps(
        {"_id": "a_1", "text": "Another person. [SEP] how to brew tea", "metadata": {"origin_query": "how to brew tea"}}))
    assert_one_line_error(validate(tiny), f"{tiny / 'queries.jsonl'}:{n}", "duplicate", "a_1")


def test_bad_qrels_unknown_doc(tiny):
    n = append_line(tiny / "qrels" / "test.tsv", "a_1\tghost_doc\t1")
    assert_one_line_error(validate(tiny), f"{tiny / 'qrels' / 'test.tsv'}:{n}", "ghost_doc")


def test_bad_qrels_unknown_query(tiny):
    n = append_line(tiny / "qrels" / "test.tsv", "ghost_7\ta_1\t1")
    assert_one_line_error(validate(tiny), f"{tiny / 'qrels' / 'test.tsv'}:{n}", "ghost_7")


def test_bad_qrels_score_not_a_number(tiny):
    n = append_line(tiny / "qrels" / "test.tsv", "a_1\tx_1\thigh")
    assert_one_line_error(validate(tiny), f"{tiny / 'qrels' / 'test.tsv'}:{n}")


def test_bad_instance_without_target(tmp_path):
    qrels = [(q, q, 1) for q, _, _ in TINY["queries"] if q != "b_2"]
    folder = write_release(tmp_path / "d", qrels=qrels)
    line = [q for q, _, _ in TINY["queries"]].index("b_2") + 1
    assert_one_line_error(validate(folder), f"{folder / 'queries.jsonl'}:{line}", "b_2")


def test_bad_instance_with_only_non_relevant_judgements(tmp_path):
    qrels = [(q, q, 0 if q == "a_1" else 1) for q, _, _ in TINY["queries"]]
    folder = write_release(tmp_path / "d", qrels=qrels)
    assert_one_line_error(validate(folder), f"{folder / 'queries.jsonl'}:1", "a_1")


def test_bad_empty_doc_text(tiny):
    rewrite_line(tiny / "corpus.jsonl", 2, json.dumps({"_id": "a_2", "title": "t", "text": "   "}))
    assert_one_line_error(validate(tiny), f"{tiny / 'corpus.jsonl'}:2", "empty")


def test_bad_empty_query_text(tiny):
    rewrite_line(tiny / "queries.jsonl", 4, json.dumps({"_id": "b_1", "text": "", "metadata": {}}))
    assert_one_line_error(validate(tiny), f"{tiny / 'queries.jsonl'}:4", "empty")


def test_bad_bytes_not_utf8(tiny):
    path = tiny / "corpus.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[3] = b'{"_id": "b_1", "title": "", "text": "caf\xe9 \xff\xfe chain"}\n'
    path.write_bytes(b"".join(lines))
    assert_one_line_error(validate(tiny), f"{path}:4", "UTF-8")


def test_bad_paraphrase_naming_no_instance(tmp_path):
    paraphrases = [("a_1.1", "A tea fan who cannot stand bitterness.", "how to brew tea"),
                   ("zz_4.1", "Nobody's instruction.", "how to brew tea")]
    folder = write_release(tmp_path / "d", paraphrases=paraphrases)
    assert_one_line_error(validate(folder), f"{folder / 'paraphrases.jsonl'}:2", "zz_4.1")


# ---------------------------------------------------------------- the real release files

@pytest.fixture(scope="module")
def real(tmp_path_factory):
    if not (SHARED / "queries.jsonl").exists():
        pytest.skip("../shared/instructir is absent")
    folder = real_release_folder(tmp_path_factory.mktemp("real"), with_paraphrases=True)
    return folder, load_folder(folder)


def test_real_counts(shared_instructir, real):
    _, b = real
    assert len(b.instances) == 9906
    assert len(b.groups) == 1267
    sizes = Counter(len(ids) for ids in b.groups.values())
    assert min(sizes) == 6 and max(sizes) == 10
    assert sum(n * c for n, c in sizes.items()) == 9906
    assert all(len(i.targets) == 1 for i in b.instances.values())


def test_real_paraphrases(shared_instructir, real):
    _, b = real
    assert sum(len(p) for p in b.paraphrases.values()) == 6335
    for parent_id, variants in b.paraphrases.items():
        parent = b.instances[parent_id]
        for p in variants:
            assert p.instance_id.rpartition(".")[0] == parent_id
            assert p.targets == parent.targets and p.query_id == parent.query_id
            assert p.query == parent.query and p.instruction


def test_real_grouping_by_origin_query_equals_id_prefix(shared_instructir, real):
    _, b = real
    by_prefix = defaultdict(set)
    for line in (SHARED / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        qid = json.loads(line)["_id"]
        by_prefix[qid.split("_")[0]].add(qid)
    assert {g: set(ids) for g, ids in b.groups.items()} == dict(by_prefix)


def test_real_instruction_blind_floor(shared_instructir, real):
    _, b = real
    floor = blind_floor(b, 10)
    assert abs(floor["ndcg@10"] - 0.497) < 0.001 and round(100 * floor["ndcg@10"], 1) == 49.7
    assert abs(floor["robustness@10"] - 0.321) < 0.001 and round(100 * floor["robustness@10"], 1) == 32.1
    # independent check: one target per instance, the family of n docs fills ranks 1..n
    sizes = [len(ids) for ids in b.groups.values()]
    gain = [1 / math.log2(r + 1) for r in range(1, 11)]
    assert floor["ndcg@10"] == pytest.approx(sum(sum(gain[:n]) for n in sizes) / sum(sizes), abs=1e-9)
    assert floor["robustness@10"] == pytest.approx(sum(gain[n - 1] for n in sizes) / len(sizes), abs=1e-9)


def test_real_validate_json_counts(shared_instructir, real, tmp_path):
    folder, _ = real
    out = tmp_path / "stats.json"
    proc = validate(folder, "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(out.read_text())
    assert (stats["base_queries"], stats["instances"], stats["docs"], stats["paraphrases"]) == (1267, 9906, 9906, 6335)
    assert "49.7" in proc.stdout and "32.1" in proc.stdout

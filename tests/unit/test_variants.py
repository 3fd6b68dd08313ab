"""Variants of an instruction: the perturbations are deterministic and do what their
names say; split_variant reads the `[SEP]` forms the editor can hold."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from demo.data.records import SEP
from demo.data.sources import load_source
from demo.data.variants import (add_typos, drop_persona, perturbations, sentences, shuffle_sentences, split_variant,
                                variants)
from demo.data.variants import GENERIC_INSTRUCTION

ROOT = Path(__file__).resolve().parents[2]
MULTI = ("I am a night-shift nurse. I sleep during the day and need blackout curtains. "
         "Budget matters more than style! Which fabrics work best?")
KINDS = ["query-only", "instruction-only", "generic", "swap", "repeated-query", "query-first", "lowercase",
         "shuffled", "no-persona", "typos"]


@pytest.fixture(scope="module")
def bench():
    return load_source("demo")


@pytest.fixture(scope="module")
def multi_sentence(bench):
    return [i for i in bench.instances.values() if len(set(sentences(i.instruction))) >= 2]


def by_kind(b, inst):
    return {v["kind"]: v["text"] for v in perturbations(b, inst)}


# ---- determinism ---------------------------------------------------------------------------------
def test_perturbations_are_deterministic_within_a_process(bench):
    for inst in bench.instances.values():
        assert perturbations(bench, inst) == perturbations(bench, inst)
        assert variants(bench, inst) == variants(bench, inst)


def test_perturbations_are_the_same_in_another_process_with_another_hash_seed(bench):
    code = ("import json, demo; from demo.data.sources import load_source; from demo.data.variants import perturbations;"
            "b = load_source('demo'); print(json.dumps({i: perturbations(b, x) for i, x in b.instances.items()}))")
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        outs.append(json.loads(proc.stdout))
    here = {i: perturbations(bench, x) for i, x in bench.instances.items()}
    assert outs[0] == outs[1] == here


def test_seeded_helpers_depend_on_the_seed_only():
    assert shuffle_sentences(MULTI, "a") == shuffle_sentences(MULTI, "a")
    assert add_typos(MULTI, "a", 0.5) == add_typos(MULTI, "a", 0.5)
    assert len({add_typos(MULTI, s, 0.5) for s in "abcdef"}) > 1  # the seed matters


def test_perturbation_kinds_and_fixed_texts(bench):
    for inst in list(bench.instances.values())[:30]:
        vs = perturbations(bench, inst)
        assert [v["kind"] for v in vs if v["kind"] != "synonyms"] == KINDS  # WordNet synonyms come last
        assert {v["kind"] for v in vs[len(KINDS):]} <= {"synonyms"}
        assert all(v["label"] for v in vs)
        t = by_kind(bench, inst)
        assert t["query-only"] == ""
        assert t["generic"] == GENERIC_INSTRUCTION
        assert t["repeated-query"] == inst.query
        assert t["lowercase"] == inst.instruction.lower()
        assert split_variant(t["instruction-only"], inst.query) == (inst.instruction, "", False)
        assert split_variant(t["query-first"], inst.query) == (inst.instruction, inst.query, True)
        swap = [o for o in bench.instances.values() if o.instruction == t["swap"]]
        assert swap and all(o.query_id != inst.query_id for o in swap)


def test_variants_list_original_siblings_and_paraphrases_first(bench):
    inst = next(i for i in bench.instances.values() if i.instance_id in bench.paraphrases)
    vs = variants(bench, inst)
    assert vs[0] == {"kind": "original", "label": f"Original ({inst.instance_id})", "text": inst.instruction}
    siblings = [bench.instances[s].instruction for s in bench.groups[inst.query_id] if s != inst.instance_id]
    assert [v["text"] for v in vs if v["kind"] == "other-instruction"] == siblings
    assert [v["text"] for v in vs if v["kind"] == "paraphrase"] == \
           [p.instruction for p in bench.paraphrases[inst.instance_id]]
    assert [v["kind"] for v in vs if v["kind"] != "synonyms"][-len(KINDS):] == KINDS


# ---- shuffled --------------------------------------------------------------------------------------
def test_shuffled_differs_and_keeps_the_same_sentences(bench, multi_sentence):
    assert len(multi_sentence) > 100
    for inst in multi_sentence:
        out = by_kind(bench, inst)["shuffled"]
        assert out != inst.instruction, inst.instance_id
        assert Counter(sentences(out)) == Counter(sentences(inst.instruction)), inst.instance_id
    assert shuffle_sentences(MULTI, "x") != MULTI
    assert sorted(sentences(shuffle_sentences(MULTI, "x"))) == sorted(sentences(MULTI))


def test_shuffle_of_a_single_sentence_is_the_text():
    assert shuffle_sentences("Only one sentence here.", "x") == "Only one sentence here."


# ---- no persona -----------------------------------------------------------------------------------
def test_no_persona_drops_exactly_one_sentence(bench, multi_sentence):
    for inst in multi_sentence:
        before = sentences(inst.instruction)
        after = sentences(by_kind(bench, inst)["no-persona"])
        assert len(after) == len(before) - 1, inst.instance_id
        assert any(before[:i] + before[i + 1:] == after for i in range(len(before))), inst.instance_id


def test_no_persona_drops_the_persona_sentence():
    assert drop_persona(MULTI) == ("I sleep during the day and need blackout curtains. "
                                   "Budget matters more than style! Which fabrics work best?")
    text = "Cheap options please. As a teacher I buy supplies myself. What lasts longest?"
    assert drop_persona(text) == "Cheap options please. What lasts longest?"
    assert drop_persona("No persona here. Just needs.") == "Just needs."  # else the first sentence
    assert drop_persona("One sentence only.") == "One sentence only."


# ---- typos -------------------------------------------------------------------------------------------
def test_typos_change_some_words_but_keep_the_word_count(bench):
    changed_texts = 0
    for inst in bench.instances.values():
        out = by_kind(bench, inst)["typos"]
        a, b = inst.instruction.split(" "), out.split(" ")
        assert len(a) == len(b), inst.instance_id
        diff = [(x, y) for x, y in zip(a, b) if x != y]
        for x, y in diff:  # a swap of two adjacent inner letters: same letters, same ends
            assert sorted(x) == sorted(y) and x[0] == y[0] and x[-1] == y[-1], (x, y)
            assert sum(p != q for p, q in zip(x, y)) == 2
        assert len(diff) < len(a)  # some words, not all
        changed_texts += bool(diff)
    assert changed_texts >= 0.9 * len(bench.instances)


# ---- split_variant -----------------------------------------------------------------------------------
Q = "how to treat a minor burn"


@pytest.mark.parametrize("text, expected", [
    ("plain instruction", ("plain instruction", Q, False)),
    ("  padded  ", ("padded", Q, False)),
    ("", ("", Q, False)),
    (f"my instruction {SEP} ", ("my instruction", "", False)),  # instruction only
    (f"{Q} {SEP} my instruction", ("my instruction", Q, True)),  # query first
    (f"my instruction {SEP} another query", ("my instruction", "another query", False)),
    (f"a {SEP} b {SEP} c", (f"a {SEP} b", "c", False)),  # the last [SEP] splits
    (f"{SEP} {Q}", ("", Q, False)),  # query only, release form
    (f"{Q} {SEP} {Q}", (Q, Q, False)),  # repeated query is not the query-first order
])
def test_split_variant(text, expected):
    assert split_variant(text, Q) == expected

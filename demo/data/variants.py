"""Variants of an instance's instruction: its siblings' instructions, the dataset's
paraphrases, and the perturbations of the literature's ablations, computed offline.

A variant is {"kind", "label", "text"}; the text goes into the instruction editor. Texts that
must change the query side use the release form `instruction [SEP] query` (see
split_variant): the part after the last [SEP] replaces the base query.
"""
from __future__ import annotations

import re

from demo.data.records import SEP, Benchmark, Instance
from demo.data.seeded import seeded_rng
from demo.data.synonyms import synonym_variants
from demo.data.wordnet import WordNetUnavailable, unavailable_reason

SENTENCE = re.compile(r"(?<=[.!?])\s+")
PERSONA = re.compile(r"^(i am|i'm|i've been|as an?|my name|i work|i teach|i run|i manage|i own|we are|we're)\b", re.I)
GENERIC_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
PARAPHRASE_MODEL_REASON = "need a paraphrasing model, and none is available offline"


def split_variant(text: str, query: str) -> tuple[str, str, bool]:
    """Editor text -> (instruction, query, query_first). Without [SEP] the text is the
    instruction. `query [SEP] instruction` (the base query before [SEP]) is the query-first
    order: the template puts the query first, and modes still drop the right part."""
    if SEP in text:
        before, _, after = text.rpartition(SEP)
        before, after = before.strip(), after.strip()
        if before == query.strip() and after and after != query.strip():
            return after, query, True
        return before, after, False
    return text.strip(), query, False


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE.split(text.strip()) if s]


def shuffle_sentences(text: str, seed: str) -> str:
    parts = sentences(text)
    if len(parts) < 2:
        return text
    rng = seeded_rng("shuffle", seed)
    order = list(range(len(parts)))
    while order == sorted(order):
        rng.shuffle(order)
    return " ".join(parts[i] for i in order)


def drop_persona(text: str) -> str:
    """Drop the sentence that says who the user is (the first that opens like one, else the first)."""
    parts = sentences(text)
    if len(parts) < 2:
        return text
    idx = next((i for i, s in enumerate(parts) if PERSONA.match(s)), 0)
    return " ".join(p for i, p in enumerate(parts) if i != idx)


def add_typos(text: str, seed: str, rate: float = 0.15) -> str:
    """Swap two inner letters in about `rate` of the words longer than three letters."""
    rng = seeded_rng("typos", seed)
    words = text.split(" ")
    for i, w in enumerate(words):
        letters = [j for j in range(1, len(w) - 2) if w[j].isalpha() and w[j + 1].isalpha()]
        if len(w) > 3 and letters and rng.random() < rate:
            j = rng.choice(letters)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def swap_source(b: Benchmark, inst: Instance) -> Instance | None:
    """Another base query's instance, chosen deterministically, for the swap perturbation."""
    others = [g for g in b.groups if g != inst.query_id]
    if not others:
        return None
    group = seeded_rng("swap", inst.instance_id).choice(sorted(others))
    ids = b.groups[group]
    return b.instances[ids[seeded_rng("swap-i", inst.instance_id).randrange(len(ids))]]


def perturbations(b: Benchmark, inst: Instance) -> list[dict]:
    instr, q = inst.instruction, inst.query
    out = [
        ("query-only", "Query only (no instruction)", ""),
        ("instruction-only", "Instruction only (no query)", f"{instr} {SEP} "),
        ("generic", "Generic instruction", GENERIC_INSTRUCTION),
    ]
    other = swap_source(b, inst)
    if other is not None:
        out.append(("swap", f"Another query's instruction ({other.instance_id})", other.instruction))
    out += [
        ("repeated-query", "Repeated query (the query in place of the instruction)", q),
        ("query-first", "Query first, then instruction", f"{q} {SEP} {instr}"),
        ("lowercase", "Lower-cased", instr.lower()),
        ("shuffled", "Sentences shuffled", shuffle_sentences(instr, inst.instance_id)),
        ("no-persona", "Persona sentence dropped", drop_persona(instr)),
        ("typos", "Typos", add_typos(instr, inst.instance_id)),
    ]
    return [{"kind": k, "label": label, "text": text} for k, label, text in out] + synonym_perturbations(inst)


def synonym_perturbations(inst: Instance) -> list[dict]:
    """WordNet synonym variants (demo.data.synonyms); none where WordNet is missing (see unavailable_variants)."""
    try:
        return synonym_variants(inst.instruction, inst.instance_id)
    except WordNetUnavailable:
        return []


def unavailable_variants() -> list[dict]:
    """Kinds of variant this machine cannot make, each with the reason."""
    out = [{"kind": "model-paraphrase", "reason": PARAPHRASE_MODEL_REASON}]
    reason = unavailable_reason()
    if reason:
        out.append({"kind": "synonyms", "reason": reason})
    return out


def variants(b: Benchmark, inst: Instance) -> list[dict]:
    """Everything one click can put into the editor, original first."""
    out = [{"kind": "original", "label": f"Original ({inst.instance_id})", "text": inst.instruction}]
    for iid in b.groups[inst.query_id]:
        if iid != inst.instance_id:
            other = b.instances[iid]
            label = f"Other user: {other.persona}" if other.persona else f"Other user ({iid})"
            out.append({"kind": "other-instruction", "label": label, "text": other.instruction})
    for p in b.paraphrases.get(inst.instance_id, ()):
        out.append({"kind": "paraphrase", "label": f"Paraphrase {p.instance_id.rpartition('.')[2]}", "text": p.instruction})
    return out + perturbations(b, inst)

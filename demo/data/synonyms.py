"""The "synonyms" perturbation: content words of the instruction replaced by WordNet synonyms,
a query-variation generator of the robustness literature (e.g. Penha et al., 2022).

For each instance, a few seeded variants; each replaces about a third of the replaceable words
(at least one). A word is replaceable when it is a content word in its base form or a regular
-s form (so that the swap keeps the grammar: "children" is left alone, "cheap" may become
"inexpensive", "phases" "stages") and one of its two most frequent senses (by WordNet's
tagged-sense counts) has a one-word synonym that is not just another spelling of it.
Deterministic per instance and seed.
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache

from demo.data.lexical import STOP_WORDS
from demo.data.seeded import seeded_rng
from demo.data.wordnet import wordnet

SEEDS = (1, 2, 3)
RATE = 0.35
WORD = re.compile(r"[A-Za-z]+")
# nltk's WordNet reader seeks and reads one shared file handle per part of speech: two threads (two
# visitors' sweeps) reading at once got each other's lines ("No WordNet synset found for pos=a at
# offset=1640850", an offset that is there) and could return wrong synonyms. One reader at a time.
_READING = threading.Lock()


@lru_cache(maxsize=20000)
def synonyms(word: str) -> tuple[str, ...]:
    """One-word synonyms of the word's most frequent sense that has one (of its two most frequent),
    sorted; () when it has none. A regular plural (or third person) -s form gets -s synonyms."""
    word = word.lower()
    if len(word) < 3 or word in STOP_WORDS:
        return ()
    wn = wordnet()
    with _READING:
        return _synonyms(wn, word)


def _synonyms(wn, word: str) -> tuple[str, ...]:
    if wn.morphy(word, "v") not in (None, word) and not word.endswith("s"):
        return ()  # also an inflected verb ("saw" of "see"): which word it is, is a guess
    base = wn.morphy(word)
    if base == word:
        return _base_synonyms(wn, word)
    if base and word == base + "s":  # "phases" -> "stages"
        return tuple(s + "s" for s in _base_synonyms(wn, base) if not s.endswith(("s", "x", "z", "ch", "sh", "y")))
    return ()  # other inflections: a base-form synonym would break the grammar


def _base_synonyms(wn, word: str) -> tuple[str, ...]:
    senses = wn.synsets(word)
    counts = _tag_counts(wn)

    def count(synset) -> int:
        return max((counts.get(lemma.key(), 0) if counts is not None else lemma.count()
                    for lemma in synset.lemmas() if lemma.name().lower() == word), default=0)
    for sense in sorted(senses, key=lambda s: (-count(s), senses.index(s)))[:2]:
        found = sorted({n for n in (lemma.name() for lemma in sense.lemmas())
                        if n.isalpha() and n.islower() and n != word  # one word, not a name, not itself
                        and not n.startswith(word[:5]) and not word.startswith(n[:5])})  # not another spelling
        if found:
            return tuple(found)
    return ()


@lru_cache(maxsize=4)
def _tag_counts(wn) -> dict[str, int] | None:
    """WordNet's tagged-sense counts (cntlist.rev) by lemma key, read once: the counts
    `Lemma.count()` gives, which nltk finds by a binary search on disk per lemma (about half of a
    new query's sweep at InstructIR's size, benchmarks/RESULTS-api.md). None without the file
    (then `Lemma.count()` answers, as before)."""
    try:
        with wn.open("cntlist.rev") as f:
            lines = f.read().splitlines()
    except (OSError, LookupError):
        return None
    return {line.split(" ", 1)[0]: int(line.rsplit(" ", 1)[-1]) for line in lines if line.strip()}


def replace_synonyms(text: str, seed, rate: float = RATE) -> str:
    """The text with about `rate` of its replaceable words swapped for a synonym."""
    matches = [m for m in WORD.finditer(text) if synonyms(m.group())]
    if not matches:
        return text
    rng = seeded_rng("synonyms", str(seed))
    chosen = sorted(rng.sample(range(len(matches)), max(1, round(rate * len(matches)))))
    out, last = [], 0
    for i in chosen:
        m = matches[i]
        new = rng.choice(synonyms(m.group()))
        if m.group()[0].isupper():
            new = new[0].upper() + new[1:]
        out += [text[last:m.start()], new]
        last = m.end()
    return "".join(out) + text[last:]


def synonym_variants(instruction: str, instance_id: str) -> list[dict]:
    """The seeded variants of one instance (distinct, and different from the original).
    Raises WordNetUnavailable where there is no WordNet."""
    wordnet()
    return [dict(v) for v in _variants(instruction, instance_id)]


@lru_cache(maxsize=4096)  # the sweep asks again on every edit
def _variants(instruction: str, instance_id: str) -> tuple[dict, ...]:
    out, seen = [], {instruction}
    for seed in SEEDS:
        text = replace_synonyms(instruction, f"{instance_id}|{seed}")
        if text not in seen:
            seen.add(text)
            out.append({"kind": "synonyms", "label": f"Synonyms (WordNet, seed {seed})", "text": text})
    return tuple(out)

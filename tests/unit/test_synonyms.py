"""Synonym variants from WordNet (Debian wordnet-base read by nltk): the lexnames file derived from
the man page, the nltk folder, the perturbation itself (deterministic, real synonyms, offered for
every instance of the bundled data) and the reason given where WordNet is missing."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from demo.data import wordnet as wn_mod
from demo.data.synonyms import WORD, replace_synonyms, synonym_variants, synonyms
from demo.data.variants import perturbations, synonym_perturbations, unavailable_variants
from demo.service import Explorer

needs_wordnet = pytest.mark.skipif(wn_mod.unavailable_reason() is not None,
                                   reason="Debian's wordnet-base is not installed")
needs_man_page = pytest.mark.skipif(not wn_mod.LEXNAMES_MAN.is_file(), reason="the lexnames(5WN) man page is absent")


@needs_man_page
def test_the_carried_lexnames_table_is_the_man_pages():
    assert wn_mod.lexnames_from_man(gzip.decompress(wn_mod.LEXNAMES_MAN.read_bytes()).decode()) == wn_mod.LEXNAMES


def test_the_carried_lexnames_table_is_what_nltk_reads():
    """nltk splits each line in three and asserts the number equals the line's index."""
    lines = wn_mod.LEXNAMES.splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3" and lines[3] == "03\tnoun.Tops\t1"
    assert lines[29] == "29\tverb.body\t2" and lines[44] == "44\tadj.ppl\t3" and lines[2] == "02\tadv.all\t4"
    assert [int(line.split("\t")[0]) for line in lines] == list(range(45))
    assert all(len(line.split()) == 3 for line in lines) and wn_mod.LEXNAMES.endswith("\n")
    assert {line.split("\t")[2] for line in lines} == {"1", "2", "3", "4"}


@needs_wordnet
def test_wordnet_works_without_the_man_page(tmp_path, monkeypatch):
    """A machine (or a slim Space image) without /usr/share/man: the folder is built from the carried
    table and nltk reads it, lexicographer file names included."""
    monkeypatch.setattr(wn_mod, "LEXNAMES_MAN", tmp_path / "absent" / "lexnames.5WN.gz")

    def no_man_page(*args, **kwargs):
        raise AssertionError("the man page was read")
    monkeypatch.setattr(wn_mod, "man_page_text", no_man_page)
    monkeypatch.setattr(wn_mod.gzip, "decompress", no_man_page)
    target = wn_mod.nltk_data_dir(target=tmp_path / "nltk")
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    monkeypatch.setattr(nltk.data, "path", nltk.data.path + [str(target)])  # nltk reads only under its path
    reader = WordNetCorpusReader(str(target / "corpora" / "wordnet"), None)
    assert reader.synset("dog.n.01").lexname() == "noun.animal"
    assert reader.synset("run.v.01").lexname() == "verb.motion"
    assert reader.synsets("cheap", pos="a")[0].lexname() == "adj.all"


def test_a_truncated_man_page_is_refused():
    with pytest.raises(wn_mod.WordNetUnavailable, match="lists 2 lexicographer files, expected 45"):
        wn_mod.lexnames_from_man("00\tadj.all\tall adjective clusters\n01\tadj.pert\trelational\n")


@needs_wordnet
def test_nltk_folder_is_built_once_and_nltk_data_reads_it(tmp_path):
    target = wn_mod.nltk_data_dir(target=tmp_path / "nltk")
    folder = target / "corpora" / "wordnet"
    assert (folder / "lexnames").read_text().count("\n") == 45
    before = (folder / "data.noun").stat().st_mtime_ns
    assert wn_mod.nltk_data_dir(target=tmp_path / "nltk") == target
    assert (folder / "data.noun").stat().st_mtime_ns == before  # reused, not copied again
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".wordnet-")]


@needs_wordnet
def test_synonyms_are_real_wordnet_synonyms():
    assert "inexpensive" in synonyms("cheap")
    assert synonyms("the") == () and synonyms("children") == ()  # a stop word; an irregular form
    assert "stages" in synonyms("phases")  # a regular plural keeps its -s
    assert "caffein" not in synonyms("caffeine")  # another spelling is not a synonym
    wn = wn_mod.wordnet()
    for word in ("cheap", "doctor", "explain", "history"):
        assert synonyms(word), word
        for s in synonyms(word):
            assert any(word in [l.name() for l in syn.lemmas()] for syn in wn.synsets(s))


@needs_wordnet
def test_replacement_is_deterministic_and_swaps_only_replaceable_words():
    text = "I run a cheap office kitchen and explain the phases of each history lesson every evening."
    a, b = replace_synonyms(text, "x|1"), replace_synonyms(text, "x|1")
    assert a == b and a != text
    old, new = WORD.findall(text), WORD.findall(a)
    assert len(old) == len(new)
    changed = [(o, n) for o, n in zip(old, new) if o != n]
    assert changed and all(n.lower() in synonyms(o) for o, n in changed)
    assert replace_synonyms(text, "x|2") != a or replace_synonyms(text, "x|3") != a  # seeds differ


@needs_wordnet
def test_offered_for_every_instance_of_the_bundled_data():
    explorer = Explorer()
    bench = explorer.benchmark("demo")
    for inst in bench.instances.values():
        found = synonym_variants(inst.instruction, inst.instance_id)
        assert found and all(v["text"] != inst.instruction for v in found), inst.instance_id
        assert found == synonym_variants(inst.instruction, inst.instance_id)
    inst = next(iter(bench.instances.values()))
    kinds = [v["kind"] for v in explorer.instance("demo", inst.instance_id)["variants"]]
    assert "synonyms" in kinds
    sweep = explorer.sweep("demo", inst.query_id, ["bm25"], 10, inst.instance_id)
    assert "synonyms" in [v["kind"] for v in sweep["variants"]]


def test_without_wordnet_it_is_unavailable_with_the_reason(tiny, monkeypatch, tmp_path):
    monkeypatch.setenv("INSTRUCTIR_EXPLORER_WORDNET", str(tmp_path / "no-wordnet"))
    reason = wn_mod.unavailable_reason()
    assert "wordnet-base" in reason and "no-wordnet" in reason
    with pytest.raises(wn_mod.WordNetUnavailable, match="wordnet-base"):
        wn_mod.wordnet()
    explorer = Explorer()
    inst = explorer.benchmark(str(tiny)).instances["a_1"]
    assert synonym_perturbations(inst) == []
    assert "synonyms" not in [v["kind"] for v in perturbations(explorer.benchmark(str(tiny)), inst)]
    info = explorer.instance(str(tiny), "a_1")
    assert {"kind": "synonyms", "reason": reason} in info["unavailable_variants"]
    assert {v["kind"] for v in unavailable_variants()} == {"model-paraphrase", "synonyms"}


@needs_wordnet
def test_synonyms_from_many_threads_equal_the_ones_read_alone():
    """Sweeps of several visitors look synonyms up at once; nltk's reader shares one file handle
    per part of speech, so unguarded threads read each other's lines (wrong or missing senses)."""
    from concurrent.futures import ThreadPoolExecutor

    from demo.data.sources import open_source
    _, bench = open_source("demo")
    words = sorted({w.lower() for i in bench.instances.values() for w in WORD.findall(i.instruction)})[:1500]
    synonyms.cache_clear()
    alone = [synonyms(w) for w in words]
    for _ in range(3):
        synonyms.cache_clear()
        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(synonyms, words)) == alone

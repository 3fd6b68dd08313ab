"""Builders for test data: release-layout folders and a tiny offline sentence-transformers model."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from demo.engine import DocOrder, scored
from demo.metrics import ranked
from demo.retrievers.templates import query_input

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "instructir"


def run_cli(*args, timeout: int = 300) -> subprocess.CompletedProcess:
    """`python -m demo ARGS` in a subprocess, offline."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "demo", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit code 2, exactly one stderr line holding every fragment, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]

# A small original dataset: two base queries, three instances each, plus distractors.
TINY = {
    "corpus": [
        ("a_1", "Steep green tea leaves at a lower temperature, around eighty degrees, for two minutes to avoid bitterness."),
        ("a_2", "Children can enjoy a weak, caffeine-free herbal infusion instead; steep it briefly and let it cool well."),
        ("a_3", "For a large office urn, scale the leaves by weight and hold the water below boiling for a smooth brew."),
        ("b_1", "Replace a bicycle chain when it stretches past half a percent, measured with a simple gauge tool."),
        ("b_2", "On a racing bike with eleven speeds, use the narrow chain and a master link made for that drivetrain."),
        ("b_3", "Commuters riding through winter salt should clean and oil the chain weekly and swap it each spring."),
        ("x_1", "Black tea originated in China and later became popular in Britain during the seventeenth century."),
        ("x_2", "Tyre pressure for road bicycles usually sits between eighty and one hundred and ten psi."),
    ],
    "queries": [
        ("a_1", "I am a tea lover who hates bitter cups and wants the exact temperature and time.", "how to brew tea"),
        ("a_2", "I am a parent making a warm drink for my young kids in the evening.", "how to brew tea"),
        ("a_3", "I manage a busy office kitchen and make tea for forty colleagues each morning.", "how to brew tea"),
        ("b_1", "I want a precise rule for when a worn chain must be swapped out.", "when to replace bike chain"),
        ("b_2", "I ride a lightweight race bike with a modern drivetrain and need compatible parts.", "when to replace bike chain"),
        ("b_3", "I cycle to work all year on salty roads and want a maintenance routine.", "when to replace bike chain"),
    ],
}


def write_release(folder: Path, corpus=None, queries=None, qrels=None, paraphrases=None) -> Path:
    """Write a dataset folder in the release layout; defaults to the TINY dataset."""
    folder.mkdir(parents=True, exist_ok=True)
    corpus = TINY["corpus"] if corpus is None else corpus
    queries = TINY["queries"] if queries is None else queries
    if qrels is None:
        qrels = [(qid, qid, 1) for qid, _, _ in queries]  # instance a_1 -> doc a_1
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": d, "title": "", "text": t}) + "\n" for d, t in corpus), encoding="utf-8")
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": f"{i} [SEP] {o}", "metadata": {"origin_query": o}}) + "\n"
                for q, i, o in queries), encoding="utf-8")
    (folder / "qrels").mkdir(exist_ok=True)
    (folder / "qrels" / "test.tsv").write_text(
        "qid\tpid\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels), encoding="utf-8")
    if paraphrases is not None:
        (folder / "paraphrases.jsonl").write_text(
            "".join(json.dumps({"_id": p, "text": f"{i} [SEP] {o}", "metadata": {"origin_query": o}}) + "\n"
                    for p, i, o in paraphrases), encoding="utf-8")
    return folder


def tiny_sentence_transformer(folder: Path) -> Path:
    """A 2-layer random BERT with a hand-written vocab, saved as a sentence-transformers model."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = sorted({w for _, t in TINY["corpus"] for w in t.lower().replace(",", " ").replace(".", " ").split()}
                   | {w for _, i, o in TINY["queries"] for w in (i + " " + o).lower().replace(".", " ").split()})
    hf = folder / "hf"
    hf.mkdir(parents=True, exist_ok=True)
    (hf / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    tokenizer = BertTokenizerFast(vocab=str(hf / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(words) + 5, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(hf)
    tokenizer.save_pretrained(hf)
    word = models.Transformer(str(hf), max_seq_length=128)
    st = SentenceTransformer(modules=[word, models.Pooling(_dimension(word), "mean")], device="cpu")
    st.save(str(folder / "st"))
    return folder / "st"


def _dimension(module) -> int:  # renamed in sentence-transformers 6
    return module.get_embedding_dimension() if hasattr(module, "get_embedding_dimension") else \
        module.get_word_embedding_dimension()


def real_release_folder(tmp: Path, with_paraphrases: bool = False) -> Path:
    """The official release files plus a placeholder corpus made from the qrels' doc ids."""
    import shutil
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copy(SHARED / "queries.jsonl", tmp / "queries.jsonl")
    (tmp / "qrels").mkdir(exist_ok=True)
    shutil.copy(SHARED / "qrels" / "test.tsv", tmp / "qrels" / "test.tsv")
    docs = sorted({line.split("\t")[1] for line in (SHARED / "qrels" / "test.tsv").read_text().splitlines()[1:]})
    (tmp / "corpus.jsonl").write_text("".join(json.dumps({"_id": d, "title": "", "text": f"passage {d}"}) + "\n"
                                              for d in docs))
    if with_paraphrases:
        shutil.copy(SHARED / "paraphrases" / "5new_queries.jsonl", tmp / "paraphrases.jsonl")
    return tmp


def _tiny_words() -> list[str]:
    import re
    from demo.retrievers.rerank import FOLLOWIR_PROMPT
    text = " ".join([t for _, t in TINY["corpus"]] + [f"{i} {o}" for _, i, o in TINY["queries"]] + [FOLLOWIR_PROMPT])
    return sorted(set(re.findall(r"\w+|[^\w\s]+", text.lower())))


def tiny_cross_encoder(folder: Path) -> Path:
    """A 1-layer random BERT with one output label, saved as a sentence-transformers CrossEncoder."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *_tiny_words()]) + "\n")
    tokenizer = BertTokenizerFast(vocab=str(folder / "vocab.txt"))
    torch.manual_seed(1)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=256, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_causal_lm(folder: Path) -> Path:
    """A 1-layer random Llama with a word-level tokenizer that knows "true" and "false" (FollowIR's answers)."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {w: i for i, w in enumerate(["<unk>", "<s>", "</s>", *[w for w in _tiny_words() if w not in ("<s>", "</s>")]])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    torch.manual_seed(2)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512)
    LlamaForCausalLM(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def engine_run(model, doc_ids, inputs, depth: int | None = None) -> list[dict[str, float]]:
    """What `model.score(inputs, depth)` used to give, now through the engine: per input, the run
    dict {doc id: score} of its first `depth` retrieved docs (None: every retrieved doc), in rank
    order. doc_ids: the ids of the docs the model indexed, in that order."""
    docs = DocOrder(doc_ids)
    rows = model.score_all(list(inputs))
    depth = len(docs) if depth is None else depth
    return [docs.as_run(docs.ranking(scored(inp.encoded, row, model.lexical), depth)) for inp, row in zip(inputs, rows)]


def write_bm25_run(ex, path, qids, depth=100):
    """A TREC run of BM25 (the service's own model) for the given instance/paraphrase ids."""
    bench = ex.benchmark("demo")
    texts = {i.instance_id: i for i in bench.instances.values()}
    texts.update({p.instance_id: p for ps in bench.paraphrases.values() for p in ps})
    corpus = ex.corpus("demo", "bm25")
    model = corpus.model
    runs = engine_run(model, corpus.doc_ids,
                      [query_input(model.template, "full", texts[q].instruction, texts[q].query) for q in qids], depth)
    lines = [f"{q} Q0 {d} {n} {scores[d]!r} bm25\n" for q, scores in zip(qids, runs)
             for n, d in enumerate(ranked(scores), 1)]
    path.write_text("".join(lines))
    return path


# ---- what a tour step's figure shows (the tour's tests in service/ and browser/) ----
def _numbers(value) -> set[int]:
    """Every number in a plotted value (a figure's numbers, its labels and hover texts), rounded
    as the narrative prints them."""
    if value is None:
        return set()
    if isinstance(value, (int, float)):
        return {round(value)}
    if isinstance(value, str):
        return {round(float(x)) for x in re.findall(r"\d+(?:\.\d+)?", value)}
    if isinstance(value, (list, tuple)):
        return set().union(*(_numbers(v) for v in value)) if value else set()
    return set()


def plotted_for(fig, rid: str) -> set[int]:
    """What the figure shows for retriever `rid`: its bars, its line and the top-k movement (the
    rank-shift plot), its row of the sweep (every cell's hover names the target's rank), or its
    point on the dataset chart."""
    out = set()
    for t in fig.data:
        if t.type == "heatmap":
            for label, row in zip(t.y, t.customdata):
                if label.split("<br>")[0] == rid:
                    out |= _numbers(label.split("<br>")[1]) | _numbers(list(row))
        elif t.type == "bar" and t.x is not None and rid in t.x:
            out |= _numbers(t.y[list(t.x).index(rid)])
        elif t.type == "scatter" and t.name == rid:
            out |= _numbers(list(t.y))
        elif t.type == "scatter" and t.name == "measured here" and rid in t.text:
            i = list(t.text).index(rid)
            out |= _numbers(t.x[i]) | _numbers(t.y[i])
        elif t.type == "scatter" and t.xaxis == "x2" and t.customdata is not None and t.showlegend is False:
            out |= {n for n in _numbers(list(t.customdata)) if n < 1000}  # the focus's top-k movement
    return out

"""Rerankers: a first-stage retriever, then a scorer over its top N (id `FIRST>RERANKER[@MODE]`).

Two kinds, declared in registry.RERANKERS with pinned revisions:
- a sentence-transformers CrossEncoder (cross-encoder/ms-marco-MiniLM-L-6-v2, trained on
  MS MARCO, not instruction-tuned): it reads the pair (query text, passage);
- FollowIR-7B (jhu-clsp/FollowIR-7B, Mistral-7B-Instruct fine-tuned to follow instructions):
  the model card's prompt, and the score is P(true) from the last position's logits of the
  tokens "true" and "false" (softmax over the two).
The query text is `{query} {instruction}` (the order FollowIR and MTEB's instruction-retrieval
rerankers use); mode `query` drops the instruction, `instruction` the query. Docs below the
top N are not reranked and not retrieved.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from demo.data.records import Document
from demo.devices import dtype_for, select_device
from demo.hubaccess import resolve
from demo.engine import DocOrder, Query, Scored

FOLLOWIR_PROMPT = ("<s> [INST] You are an expert Google searcher, whose job is to determine if the following "
                   "document is relevant to the query (true/false). Answer using only one word, one of those two "
                   "choices.\n\nQuery: {query}\nDocument: {text}\nRelevant (only output one word, either \"true\" "
                   "or \"false\"): [/INST] ")


def rerank_query(mode: str, instruction: str, query: str) -> str:
    instruction = "" if mode == "query" else instruction.strip()
    query = "" if mode == "instruction" else query.strip()
    return " ".join(p for p in (query, instruction) if p)


def doc_text(doc: Document) -> str:
    return f"{doc.title} {doc.text}".strip()


class CrossEncoderScorer:
    def __init__(self, model, batch_size: int = 32):
        self.model, self.batch_size = model, batch_size

    def inputs(self, query: str, docs: Sequence[str]) -> list[tuple[str, str]]:
        """What the model reads: (query text, passage) pairs."""
        return [(query, d) for d in docs]

    def describe(self, query: str) -> str:
        return f"cross-encoder pair ({query!r}, <passage>)"

    def score(self, query: str, docs: Sequence[str]) -> np.ndarray:
        if not docs:
            return np.zeros(0)
        return np.asarray(self.model.predict(self.inputs(query, docs), batch_size=self.batch_size,
                                             show_progress_bar=False), dtype=np.float64).reshape(len(docs))


class FollowIRScorer:
    def __init__(self, model, tokenizer, batch_size: int = 8, max_length: int = 2048):
        self.model, self.tokenizer, self.batch_size, self.max_length = model, tokenizer, batch_size, max_length
        tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
        tokenizer.padding_side = "left"  # the last position is the answer's for every row
        vocab = tokenizer.get_vocab()
        self.true_id, self.false_id = vocab["true"], vocab["false"]

    def inputs(self, query: str, docs: Sequence[str]) -> list[str]:
        return [FOLLOWIR_PROMPT.format(query=query, text=d) for d in docs]

    def describe(self, query: str) -> str:
        return self.inputs(query, ["<passage>"])[0]

    def score(self, query: str, docs: Sequence[str]) -> np.ndarray:
        import torch  # heavy: only when a 7B reranker scores
        prompts, out = self.inputs(query, docs), []
        for start in range(0, len(prompts), self.batch_size):
            batch = self.tokenizer(prompts[start:start + self.batch_size], padding=True, truncation=True,
                                   max_length=self.max_length, return_tensors="pt")
            batch.pop("token_type_ids", None)
            batch = batch.to(self.model.device)
            with torch.no_grad():
                logits = self.model(**batch).logits[:, -1, :]
            pair = torch.stack([logits[:, self.false_id], logits[:, self.true_id]], dim=1).float()
            out.append(torch.log_softmax(pair, dim=1)[:, 1].exp().cpu().numpy())
        return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def load_scorer(spec):
    """Instantiate the reranker of a RerankerSpec (availability already checked), on the device
    demo.devices selects; half precision on a GPU for the 7B model."""
    path = spec.local_path or resolve(spec.hub_id, spec.revision)  # seconds, not minutes, when the hub is down
    revision = spec.revision if path == spec.hub_id else None
    device = select_device()
    if spec.kind == "cross-encoder":
        from sentence_transformers import CrossEncoder  # heavy (torch): only when a reranker loads
        return CrossEncoderScorer(CrossEncoder(path, revision=revision, device=device))
    from transformers import AutoModelForCausalLM, AutoTokenizer  # heavy: only for the 7B reranker
    tokenizer = AutoTokenizer.from_pretrained(path, revision=revision)
    dtype = dtype_for(spec.params, device)
    model = AutoModelForCausalLM.from_pretrained(path, revision=revision, **({"torch_dtype": dtype} if dtype else {}))
    return FollowIRScorer(model.to(device).eval(), tokenizer)


def rerank(first: Scored, docs: DocOrder, records: Mapping[str, Document], scorer, depth: int, mode: str,
           q: Query) -> Scored:
    """first>reranker over the whole corpus: the first stage's top `depth` docs rescored by the
    reranker; the other docs are not retrieved (score -inf)."""
    text = rerank_query(mode, q.instruction, q.query)
    scores = np.full(len(docs), -np.inf)
    if not first.retrieved or not text:
        return Scored("", scores, 0)
    top = docs.ranking(first, min(depth, first.retrieved)).head
    scores[top] = scorer.score(text, [doc_text(records[docs.doc_ids[i]]) for i in top])
    return Scored(f"{first.encoded}\n> {scorer.describe(text)}", scores, len(top))

"""Published InstructIR figures (nDCG@10 and Robustness@10, ×100), each with its source.

Only figures that were published go here; what this project computes (the instruction-blind
floor, demo.metrics.floor) never does. The rows come from the project brief's transcription of
the Promptriever paper (Weller et al., 2024, arXiv 2409.11136); its abstract's "+12.9
Robustness@10 on InstructIR" agrees with Promptriever 63.1 against RepLLaMA 50.2, but the tables
themselves were not re-read here (`verified` says so per row).
"""
from __future__ import annotations

from dataclasses import dataclass

PAPER = "Promptriever paper (Weller et al., 2024)"


@dataclass(frozen=True)
class PublishedRow:
    label: str  # as the paper's table names it
    model: str  # the exact model (hub id where there is one)
    size: str  # backbone parameters; "" for BM25
    ndcg10: float
    robustness10: float
    source: str
    verified: str  # how the figure was checked
    model_id: str = ""  # this app's registry id when it runs the same model
    reranker: bool = False

    @property
    def title(self) -> str:
        size = f", {self.size}" if self.size else ""
        return f"{self.model}{size}; {self.source} ({self.verified})"


BRIEF = "from the project brief, not re-read"
TABLE_2 = f"{PAPER}, Table 2"

ROWS: tuple[PublishedRow, ...] = (
    PublishedRow("BM25", "BM25", "", 76.0, 26.9, TABLE_2, BRIEF, "bm25"),
    PublishedRow("TART-Contriever", "TART-Contriever (Asai et al., 2022)", "110M", 84.8, 47.5, TABLE_2, BRIEF),
    PublishedRow("Instructor-XL", "hkunlp/instructor-xl", "1.5B", 48.6, 21.5, TABLE_2, BRIEF),
    PublishedRow("E5-Mistral", "intfloat/e5-mistral-7b-instruct", "7B", 86.3, 55.4, TABLE_2, BRIEF,
                 "e5-mistral-7b-instruct"),
    PublishedRow("RepLLaMA", "RepLLaMA (Llama-2-7B)", "7B", 85.7, 50.2, TABLE_2, BRIEF),
    PublishedRow("Promptriever (Llama-2-7B)", "samaya-ai/promptriever-llama2-7b-v1", "7B", 92.1, 63.1, TABLE_2,
                 f"{BRIEF}; +12.9 over RepLLaMA as the abstract says"),
    PublishedRow("FollowIR-7B (reranker)", "jhu-clsp/FollowIR-7B", "7B", 81.3, 71.5, TABLE_2, BRIEF, reranker=True),
    PublishedRow("Mistral-7B-instruct", "Mistral-7B-Instruct", "7B", 63.1, 35.3, TABLE_2, BRIEF),
    PublishedRow("Promptriever (Llama-3.1-8B-Instruct)", "samaya-ai/promptriever-llama3.1-8b-instruct-v1", "8B",
                 89.9, 57.8, f"{PAPER}, Table 7", BRIEF, "promptriever-llama3.1-8b-instruct"),
)


def for_model(model_id: str) -> PublishedRow | None:
    """The published row of the model this app runs as `model_id` (a bare model id, full mode)."""
    return next((r for r in ROWS if r.model_id and r.model_id == model_id), None)

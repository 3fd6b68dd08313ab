"""What each model family is given, as the official InstructIR evaluation encodes it.

A template turns (instruction, query) into an EncodeInput for the query side and a Document
into one for the document side. Modes drop a part: `query` passes an empty instruction,
`instruction` an empty query; each template joins only the parts it has.
"""
from __future__ import annotations

from dataclasses import dataclass

from demo.data.records import SEP, Document

MODES = ("full", "query", "instruction")
INSTRUCTOR_DOC_PROMPT = "Represent the document for retrieval: "


@dataclass(frozen=True)
class EncodeInput:
    """A text and an optional prompt. The prompt is prepended to the text by the encoder;
    INSTRUCTOR excludes it from pooling."""

    text: str
    prompt: str = ""

    @property
    def encoded(self) -> str:
        """The exact string the model reads (prompt and text), as the app shows it."""
        return self.prompt + self.text


def _sep_join(instruction: str, query: str) -> str:
    return f" {SEP} ".join(p for p in (instruction.strip(), query.strip()) if p)


class SepTemplate:
    """`instr [SEP] q` (BM25, GTR, Contriever, TART-dual, all-MiniLM-L6-v2, BGE)."""

    def __init__(self, doc_with_title: bool = False):
        self.doc_with_title = doc_with_title

    def query(self, instruction: str, query: str) -> EncodeInput:
        return EncodeInput(_sep_join(instruction, query))

    def document(self, doc: Document) -> EncodeInput:
        text = f"{doc.title} {doc.text}".strip() if self.doc_with_title else doc.text
        return EncodeInput(text)


class InstructorTemplate:
    """INSTRUCTOR: the instruction is the prompt (excluded from pooling), the query the text."""

    def query(self, instruction: str, query: str) -> EncodeInput:
        instruction, query = instruction.strip(), query.strip()
        if not query:  # instruction mode: nothing left to pool but the instruction itself
            return EncodeInput(instruction)
        return EncodeInput(query, f"{instruction} " if instruction else "")

    def document(self, doc: Document) -> EncodeInput:
        return EncodeInput(doc.text, INSTRUCTOR_DOC_PROMPT)


class E5Template:
    """E5-mistral-instruct: `Instruct: {instr}\\nQuery: {q}`; documents as plain text."""

    def query(self, instruction: str, query: str) -> EncodeInput:
        instruction, query = instruction.strip(), query.strip()
        if not instruction:
            return EncodeInput(query)
        return EncodeInput(f"Instruct: {instruction}\nQuery: {query}")

    def document(self, doc: Document) -> EncodeInput:
        return EncodeInput(doc.text)


class PromptrieverTemplate:
    """Promptriever (model card): `query:  {q} {instr}` and `passage:  {text}`; the encoder
    appends the tokenizer's EOS token and pools the last token."""

    def query(self, instruction: str, query: str) -> EncodeInput:
        return EncodeInput(f"query:  {query.strip()} {instruction.strip()}".strip())

    def document(self, doc: Document) -> EncodeInput:
        return EncodeInput(f"passage:  {doc.text}")


TEMPLATES = {
    "sep": SepTemplate(),
    "sep+title": SepTemplate(doc_with_title=True),
    "instructor": InstructorTemplate(),
    "e5": E5Template(),
    "promptriever": PromptrieverTemplate(),
}


def query_input(template, mode: str, instruction: str, query: str, query_first: bool = False) -> EncodeInput:
    """The query-side input of a retriever in `mode`. query_first swaps the two parts' places
    in the full template (the "query first" perturbation); the other modes are unaffected."""
    if mode == "full" and query_first:
        return template.query(query, instruction)
    if mode == "query":
        return template.query("", query)
    if mode == "instruction":
        return template.query(instruction, "")
    return template.query(instruction, query)

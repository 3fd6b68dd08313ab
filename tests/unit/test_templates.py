"""Query and document templates, string for string against docs/architecture.md, in every mode."""
from __future__ import annotations

import pytest

from demo.data.records import Document, Instance
from demo.retrievers.registry import MODELS
from demo.retrievers.templates import TEMPLATES, EncodeInput, query_input

INSTR = "I am a night-shift nurse who needs something calming after work."
Q = "herbal tea for sleep"
DOC = Document("d1", "Chamomile and lemon balm are mild choices.", "Bedtime teas")


def encoded(template: str, mode: str, instruction: str = INSTR, query: str = Q) -> EncodeInput:
    return query_input(TEMPLATES[template], mode, instruction, query)


@pytest.mark.parametrize("template", ["sep", "sep+title"])
def test_sep_family(template):
    assert encoded(template, "full") == EncodeInput(f"{INSTR} [SEP] {Q}", "")
    assert encoded(template, "full").encoded == f"{INSTR} [SEP] {Q}"
    assert encoded(template, "query").encoded == Q
    assert encoded(template, "instruction").encoded == INSTR


def test_sep_strips_parts():
    assert encoded("sep", "full", f"  {INSTR} ", f" {Q}  ").encoded == f"{INSTR} [SEP] {Q}"
    assert encoded("sep", "full", "", Q).encoded == Q  # no dangling [SEP]


def test_sep_documents_without_and_with_title():
    assert TEMPLATES["sep"].document(DOC) == EncodeInput(DOC.text)
    assert TEMPLATES["sep+title"].document(DOC).encoded == f"Bedtime teas {DOC.text}"
    assert TEMPLATES["sep+title"].document(Document("d2", " plain text ", "")).encoded == "plain text"


def test_instructor_prompt_and_text():
    full = encoded("instructor", "full")
    assert full.prompt == f"{INSTR} " and full.text == Q
    assert full.encoded == f"{INSTR} {Q}"
    q = encoded("instructor", "query")
    assert q.prompt == "" and q.text == Q
    i = encoded("instructor", "instruction")
    assert i.encoded == INSTR and i.text == INSTR and i.prompt == ""


def test_instructor_document_prompt():
    doc = TEMPLATES["instructor"].document(DOC)
    assert doc.prompt == "Represent the document for retrieval: "
    assert doc.text == DOC.text
    assert doc.encoded == "Represent the document for retrieval: " + DOC.text


def test_e5_mistral():
    assert encoded("e5", "full").encoded == f"Instruct: {INSTR}\nQuery: {Q}"
    assert encoded("e5", "full").prompt == ""
    assert encoded("e5", "query").encoded == Q
    assert encoded("e5", "instruction").encoded == f"Instruct: {INSTR}\nQuery: "
    assert TEMPLATES["e5"].document(DOC).encoded == DOC.text


def test_promptriever():
    assert encoded("promptriever", "full").encoded == f"query:  {Q} {INSTR}"
    assert encoded("promptriever", "query").encoded == f"query:  {Q}"
    assert encoded("promptriever", "instruction").encoded == f"query:   {INSTR}"
    assert TEMPLATES["promptriever"].document(DOC).encoded == f"passage:  {DOC.text}"


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_modes_drop_the_other_part(template):
    query_only = encoded(template, "query").encoded
    instruction_only = encoded(template, "instruction").encoded
    full = encoded(template, "full").encoded
    assert Q in query_only and "night-shift" not in query_only
    assert INSTR in instruction_only and Q not in instruction_only
    assert Q in full and INSTR in full


def test_unknown_mode_is_not_silently_full():
    # query_input treats modes other than query/instruction as full; the registry rejects them
    from demo.errors import UserError
    from demo.retrievers.registry import parse_retriever_id
    with pytest.raises(UserError):
        parse_retriever_id("bm25@both")


@pytest.mark.parametrize("model_id, template, similarity", [
    ("bm25", "sep", "bm25"),
    ("minilm", "sep", "cosine"),
    ("gtr-t5-base", "sep+title", "cosine"),
    ("contriever-msmarco", "sep", "dot"),
    ("instructor-base", "instructor", "cosine"),
    ("e5-mistral-7b-instruct", "e5", "cosine"),
    ("promptriever-llama3.1-8b-instruct", "promptriever", "cosine"),
])
def test_registry_families_use_their_template(model_id, template, similarity):
    spec = MODELS[model_id]
    assert (spec.template, spec.similarity) == (template, similarity)


def test_retriever_encodes_release_text_for_sep_models():
    inst = Instance("t_1", "t", Q, INSTR, {"d1": 1})
    for mode, expected in [("full", inst.text), ("query", Q), ("instruction", INSTR)]:
        model = type("M", (), {"template": TEMPLATES["sep"]})()  # what a retriever in `mode` gives its model
        assert query_input(model.template, mode, inst.instruction, inst.query).encoded == expected
    assert inst.text == f"{INSTR} [SEP] {Q}"

"""The compare view: one instance, one (edited) instruction, every selected retriever side by side
(the `/rank` API). Typed here; `Comparison.as_dict()` is the JSON the API serves and the page renders."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Mapping

from demo import inputs
from demo.data.records import Instance
from demo.data.sources import open_source
from demo.data.variants import split_variant
from demo.engine import DocOrder, Query, Ranking
from demo.errors import UserError
from demo.metrics import p_mrr, rank_shift, robustness
from demo.retrievers import ids
from demo.retrievers.registry import label, parse_retriever_list
from demo.service.checks import check, instance
from demo.service.grading import graded_instance, ndcg_of, relevance_lost, target_rank
from demo.service.rankings import Rankers, Runs

NO_EDIT_RANKING = "a run file has no ranking for edited text: showing the original instruction's ranking"


@dataclass(frozen=True)
class Card:
    """One result: its rank now and under the instance's original instruction (shift = old - new)."""
    doc_id: str
    score: float
    rank: int | None
    shift: int | str | None
    original_rank: int | None
    is_target: bool
    is_sibling: bool
    sibling_of: str | None


@dataclass(frozen=True)
class LostTarget:
    """Where this instance's own target went when the text asks for something else (p-MRR)."""
    doc_ids: list[str]
    original_rank: int
    rank: int
    regraded: bool


@dataclass(frozen=True)
class Column:
    label: str
    encoded: str
    original_encoded: str
    ranking: list[Card]
    target_rank: int | None
    ndcg: float
    original_target_rank: int | None  # the graded target under the instance's original instruction
    original_ndcg: float
    original_top: list[str]
    note: str | None = None
    p_mrr: float | None = None
    lost_target: LostTarget | None = None

    def as_dict(self) -> dict:
        out = asdict(self)
        return {key: value for key, value in out.items() if value is not None or key not in ("note", "p_mrr", "lost_target")}


@dataclass(frozen=True)
class FailedColumn:
    label: str
    error: str

    def as_dict(self) -> dict:
        return {"error": self.error, "label": self.label}


@dataclass(frozen=True)
class Comparison:
    instance_id: str
    query_id: str
    k: int
    retrievers: dict[str, Column | FailedColumn]
    relevance_lost: str | None
    graded_against: str
    graded_persona: str
    graded_chosen: bool  # graded against an instance chosen explicitly (not followed from the text)
    changed: bool  # the text differs from the instance's original instruction and query
    robustness: dict[str, float] = field(default_factory=dict)  # the query's, with this text in the graded instance's place
    original_robustness: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out["retrievers"] = {rid: c.as_dict() for rid, c in self.retrievers.items()}
        return out


def compare(rankers: Rankers, source: str, instance_id: str, instruction: str | None, retrievers, k=10,
            grade_against: str | None = None, runs: Runs = None) -> Comparison:
    """Compare retrievers on one instance with an edited instruction. Grading follows the text:
    when the editor holds another instance's own instruction, the view is graded against THAT
    instance's target, and `lost_target` says where this instance's target went (p-MRR).
    `grade_against` (an instance of the same base query) chooses the target for any text."""
    k = check(instruction, k)
    source, bench = open_source(source)
    inst = instance(bench, instance_id)
    rids = parse_retriever_list(inputs.string_list(retrievers, "retrievers"))
    edited = Query(*split_variant(instruction if instruction is not None else inst.instruction, inst.query))
    group = [bench.instances[i] for i in bench.groups[inst.query_id]]
    graded = graded_instance(bench, inst, edited, grade_against)
    chosen = bool(grade_against) and graded is not inst
    lost = relevance_lost(bench, inst, edited) if graded is inst else \
        f"text graded against {graded.instance_id}" if chosen else f"another user's instruction ({graded.instance_id})"
    columns, rob, rob_orig, errors = {}, {}, {}, {}
    for rid in rids:
        try:
            columns[rid], rob[rid], rob_orig[rid] = _column(rankers, source, rid, inst, group, edited, graded, lost, k, runs)
        except UserError as e:
            errors[rid] = str(e)
            columns[rid] = FailedColumn(label(rid), str(e))
    return Comparison(inst.instance_id, inst.query_id, k, columns, lost, graded.instance_id, graded.persona, chosen,
                      edited != Query(inst.instruction, inst.query), rob, rob_orig, errors)


def _column(rankers: Rankers, source: str, rid: str, inst: Instance, group: list[Instance], edited: Query,
            graded: Instance, lost: str | None, k: int, runs: Runs) -> tuple[Column, float, float]:
    docs = rankers.corpora.docs(source)
    targets = docs.indices(t for g in group for t in g.targets)
    _, (new, *originals) = rankers.rankings(source, rid, [edited] + [Query(g.instruction, g.query) for g in group],
                                            targets, runs=runs)
    # the shown cards' original ranks (their shift), even from deep in the original ranking
    shown = [int(i) for i in new.top(k)] if new is not None else []
    _, (orig,) = rankers.rankings(source, rid, [Query(inst.instruction, inst.query)], targets + shown, runs=runs)
    if orig is None:
        run = rankers.corpora.run(source, ids.Run(rid[len(ids.RUN_PREFIX):]).name, runs)
        raise UserError(f"{rid} has no ranking for {inst.instance_id} ({run.describe(rankers.corpora.benchmark(source))})")
    note = None
    if new is None:  # a run file covers only the dataset's own texts
        new, note = orig, NO_EDIT_RANKING
    group_ndcg = {g.instance_id: ndcg_of(docs, g, r, k) for g, r in zip(group, originals)}
    ndcg = ndcg_of(docs, graded, new, k)
    owners = {t: (g.persona or g.instance_id) for g in group if g is not graded for t in g.targets
              if graded.qrels.get(t, 0) <= 0}
    p_mrr = lost_target = None
    if lost and not note:  # FollowIR: this instance's target lost its relevance under this text; it should move down
        p_mrr, lost_target = _lost_target(docs, inst, orig, new, graded is not inst)
    column = Column(
        label(rid), new.encoded, orig.encoded, [_card(docs, new, orig, i, graded, owners) for i in new.top(k)],
        target_rank(docs, graded, new), ndcg, target_rank(docs, graded, orig), ndcg_of(docs, graded, orig, k),
        [docs.doc_ids[i] for i in orig.top(k)], note, p_mrr, lost_target)
    rob = robustness({**group_ndcg, graded.instance_id: ndcg}, {inst.query_id: group_ndcg})
    return column, rob, robustness(group_ndcg, {inst.query_id: group_ndcg})


def _lost_target(docs: DocOrder, inst: Instance, orig: Ranking, new: Ranking, regraded: bool) -> tuple[float, LostTarget]:
    """p-MRR over the instance's targets: the library's p_mrr (the mean per target, as FollowIR and
    MTEB), over the two rankings read as ranked lists; a doc outside a retrieved list takes rank
    len(list) + 1."""
    q = inst.instance_id
    lost = [docs.doc_ids[i] for i in docs.indices(inst.targets)]
    score = p_mrr({q: RankedIds(docs, orig)}, {q: RankedIds(docs, new)}, {q: lost})
    best_old, best_new = (target_rank(docs, inst, r) or r.retrieved + 1 for r in (orig, new))
    return score, LostTarget(list(inst.targets), best_old, best_new, regraded)


class RankedIds:
    """A Ranking read as the ranked list of doc ids that demo.metrics.p_mrr takes (its len and
    index), without listing the corpus: a tracked doc's rank is exact however deep."""

    def __init__(self, docs: DocOrder, ranking: Ranking):
        self.docs, self.ranking = docs, ranking

    def __len__(self) -> int:
        return self.ranking.retrieved

    def index(self, doc_id: str) -> int:
        rank = self.ranking.rank(self.docs.index[doc_id])
        if rank is None:
            raise ValueError(f"{doc_id} is not retrieved")
        return rank - 1


def _card(docs: DocOrder, new: Ranking, orig: Ranking, i: int, graded: Instance, owners: Mapping[str, str]) -> Card:
    """One result; `owners` maps each sibling target to its user (persona, else instance id)."""
    doc = docs.doc_ids[i]
    return Card(doc, new.score(i), new.rank(i), rank_shift(orig.rank(i), new.rank(i)), orig.rank(i),
                graded.qrels.get(doc, 0) > 0, doc in owners, owners.get(doc))

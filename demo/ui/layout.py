"""Static parts of the page: CSS, the hover-sync script and the explainers."""

CSS = """
.gradio-container { max-width: 100% !important; }
#app-header h1 { margin: 0; font-size: 1.5rem; }
#app-header p { margin: 2px 0 0; color: #475569; }
.summary { font-size: 1.02rem; padding: 8px 12px; border-left: 4px solid #2563eb; background: #eff6ff; border-radius: 6px; }
.app-error { padding: 8px 12px; border-left: 4px solid #dc2626; background: #fef2f2; border-radius: 6px; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(290px, 1fr)); gap: 12px; }
.col { border: 1px solid #e2e8f0; border-radius: 10px; padding: 8px; background: #fff; min-width: 0; }
.col.error { background: #fef2f2; }
.col-title { font-weight: 700; font-size: 1rem; }
.col-title code { font-weight: 400; font-size: .8rem; color: #475569; }
.col-metrics { display: flex; gap: 14px; font-size: .9rem; margin: 4px 0; }
.col-metrics .was { color: #64748b; }
.encoded summary { font-size: .8rem; color: #475569; cursor: pointer; }
.encoded pre { white-space: pre-wrap; word-break: break-word; font-size: .75rem; background: #f8fafc; padding: 6px; border-radius: 6px; max-height: 160px; overflow: auto; }
.card { border: 1px solid #e2e8f0; border-radius: 8px; padding: 6px 8px; margin: 6px 0; transition: box-shadow .1s; }
.card.is-target { border: 2px solid #16a34a; background: #f0fdf4; }
.card.is-sibling { border-color: #f59e0b; background: #fffbeb; }
.card.hl { box-shadow: 0 0 0 3px #6366f1; }
.card-head { display: flex; align-items: center; gap: 6px; font-size: .85rem; }
.rank { font-weight: 700; }
.doc-id { font-family: ui-monospace, monospace; color: #334155; }
.score { margin-left: auto; color: #64748b; font-family: ui-monospace, monospace; }
.shift { font-size: .75rem; padding: 0 5px; border-radius: 8px; font-weight: 700; }
.shift.up { background: #dcfce7; color: #166534; } .shift.down { background: #fee2e2; color: #991b1b; }
.shift.new { background: #e0e7ff; color: #3730a3; } .shift.same { background: #f1f5f9; color: #64748b; }
.badge { font-size: .68rem; font-weight: 700; padding: 1px 6px; border-radius: 6px; color: #fff; }
.badge.target { background: #16a34a; } .badge.sibling { background: #d97706; }
.snippet { font-size: .82rem; line-height: 1.35; margin-top: 3px; color: #1e293b; }
.full summary { font-size: .75rem; color: #475569; cursor: pointer; }
.full div { font-size: .82rem; }
mark.hq { background: #bfdbfe; padding: 0 1px; } mark.hi { background: #fde68a; padding: 0 1px; }
.pmrr.up { color: #166534; } .pmrr.down { color: #991b1b; }
.below { font-size: .85rem; color: #991b1b; margin-top: 6px; }
.col-error { color: #991b1b; font-size: .9rem; }
.legend { font-size: .82rem; color: #475569; }
.scoreboard { border-collapse: collapse; font-size: .9rem; }
.scoreboard td, .scoreboard th { padding: 3px 10px; border-bottom: 1px solid #e2e8f0; text-align: right; }
.scoreboard td:first-child, .scoreboard th:first-child { text-align: left; }
.scoreboard tr.floor td { color: #64748b; font-style: italic; }
.unavailable-list { font-size: .8rem; color: #64748b; }
.unavailable-list summary { cursor: pointer; }
.unavailable { display: block; color: #94a3b8; }
.unavailable small { color: #94a3b8; }
.snippet { display: -webkit-box; -webkit-line-clamp: 4; -webkit-box-orient: vertical; overflow: hidden; }
"""

HOVER_JS = """
<script>
document.addEventListener('mouseover', (e) => {
  const card = e.target.closest ? e.target.closest('.card[data-doc]') : null;
  document.querySelectorAll('.card.hl').forEach((c) => c.classList.remove('hl'));
  if (!card) return;
  document.querySelectorAll('.card[data-doc="' + CSS.escape(card.dataset.doc) + '"]').forEach((c) => c.classList.add('hl'));
});
</script>
"""

COPY_LINK_JS = """
(link) => {
  const url = window.location.origin + window.location.pathname + (link || '');
  if (navigator.clipboard) { navigator.clipboard.writeText(url).catch(() => {}); }
  return link;
}
"""

HEADER = """
<div id="app-header"><h1>InstructIR Explorer</h1>
<p>Pick a query, edit or perturb the user's instruction, and watch retrievers re-rank side by side.
<span class="legend"><mark class="hq">query terms</mark> <mark class="hi">instruction terms</mark>
· green = the instance's target · amber = a sibling's target (same query, other user)</span></p></div>
"""

EXPLAINER = """
**Instance.** One user instruction with one base query, and exactly one relevant passage, its *target*.
The other instances of the same query have their own targets, the *siblings*: right topic, wrong user.

**nDCG@10** (as trec_eval's `ndcg_cut.10`). With one relevant passage at rank *r*, nDCG@10 = 1/log2(r+1) if r ≤ 10,
else 0: rank 1 → 1.00, rank 2 → 0.63, rank 3 → 0.50, rank 10 → 0.29, rank 11 → 0.

**Robustness@10** (InstructIR). For each base query take the *worst* nDCG@10 over its instances (its users), then
average over queries. A retriever that ignores the instruction puts the same passage first for every user, so
at most one user is served well and the worst case is poor. Over a set of variants (paraphrases, your edits) the
same min-then-mean applies.

**p-MRR** (FollowIR). When an instruction change takes away a document's relevance, a good retriever moves it
*down*. For ranks R_og before and R_new after: if R_og > R_new (moved up, wrong) the score is R_new/R_og − 1, otherwise
1 − R_og/R_new; averaged per query, ×100. *Worked example:* the old target was #2 and after swapping in another
user's instruction it is #8: 1 − 2/8 = +0.75 (good). Had it risen from #8 to #2: 2/8 − 1 = −0.75 (bad).

**Modes.** `MODEL` encodes the instruction and the query in the model's own template (as the official evaluation);
`MODEL@query` drops the instruction (it cannot follow one); `MODEL@instruction` drops the query.
Open *encoded text* in a column to see the exact string the model read.

**Instruction-blind floor.** The best score possible while ignoring the instruction but ranking the query's
sibling family first: about 49.7 nDCG@10 / 32.1 Robustness@10 on InstructIR.

**Published InstructIR figures** (nDCG@10 / Robustness@10, Promptriever paper, Table 2): BM25 76.0/26.9,
TART-Contriever 84.8/47.5, Instructor-XL 48.6/21.5, E5-Mistral 86.3/55.4, RepLLaMA 85.7/50.2,
Promptriever 92.1/63.1, FollowIR-7B reranker 81.3/71.5. Reproduce any number shown here with
`python -m demo evaluate --dataset … --retrievers …`.
"""

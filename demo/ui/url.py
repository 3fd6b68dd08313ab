"""The address bar is the state: every view change writes it, so that a reload, Back/Forward
and a copied address restore exactly what was shown.

The server already writes the view's query string into the share box (columns.make_link:
dataset, order, instance, instruction when edited, retrievers, k, tab, grade; a variant is its
instruction text); URL_SYNC_JS, run in the page on every change of that box and after the
tour's buttons, adds what only the page knows (the open tour step, presenter mode, a forced
theme) and writes the address: pushState for a new view, replaceState for an edit of the text
(one history entry per view, not per keystroke) and for the first write after a load. Back and
Forward reload the page at the older address, which the load event restores
(editor.restore_link, then tour_bar.on_load for `tour=N`)."""

URL_HEAD_JS = """
<script>
(() => {
  window.__ixUrlWritten = false;
  window.__ixUrlReady = false;  // not before the load has restored the address (and opened its tour step)
  window.__ixSyncUrl = (link, ready) => {
    if (ready) window.__ixUrlReady = true;
    if (!window.__ixUrlReady) return;
    const params = new URLSearchParams(link || '');
    if (![...params.keys()].length || !params.get('retrievers')) return;  // nothing (whole) on screen yet
    // a link computed from values the page has since replaced (a tab event racing the load) is not the view
    const area = document.querySelector('#instruction textarea');
    if (area && params.has('instruction') && params.get('instruction') !== area.value) return;
    const tour = document.getElementById('tour'), step = tour && tour.querySelector('.tour-step[data-n]');
    if (step && tour.offsetParent !== null) params.set('tour', step.dataset.n);
    if (document.body.classList.contains('present')) params.set('present', '1');
    const theme = new URLSearchParams(window.location.search).get('__theme');
    if (theme) params.set('__theme', theme);
    const query = params.toString(), next = window.location.pathname + (query ? '?' + query : '');
    if (next === window.location.pathname + window.location.search) { window.__ixUrlWritten = true; return; }
    const without = (q) => { const p = new URLSearchParams(q); p.delete('instruction'); p.sort(); return p.toString(); };
    const onlyText = without(window.location.search) === without(query);
    if (!window.__ixUrlWritten || onlyText) window.history.replaceState({ix: 1}, '', next);
    else window.history.pushState({ix: 1}, '', next);
    window.__ixUrlWritten = true;
  };
  // Back / Forward: the older address is restored by the load event, as a copied link is
  window.addEventListener('popstate', () => window.location.reload());
})();
</script>
"""

URL_SYNC_JS = "(link) => { if (window.__ixSyncUrl) window.__ixSyncUrl(link); return link; }"
# at the end of the load chain: from now on the address follows the view
URL_READY_JS = "(link) => { if (window.__ixSyncUrl) window.__ixSyncUrl(link, true); return link; }"

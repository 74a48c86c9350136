"""The page's style sheet and the small scripts behind clickable quotes, copy buttons and the
scroll to a highlighted passage. Colours come from Gradio's theme variables (light and dark)."""

from __future__ import annotations

# Clicks inside an HTML result: [data-copy] copies its text, [data-open] asks Python to open the
# document (a "select" event whose value is {doc_id, start, end}). Selecting text is not a click.
CLICKABLE_JS = r"""
element.addEventListener('click', async (ev) => {
  const copy = ev.target.closest('[data-copy]');
  if (copy && element.contains(copy)) {
    ev.preventDefault();
    const text = copy.getAttribute('data-copy');
    let ok = false;
    try { await navigator.clipboard.writeText(text); ok = true; } catch (e) {
      const ta = document.createElement('textarea');
      ta.value = text; ta.style.position = 'fixed'; ta.style.opacity = '0';
      document.body.appendChild(ta); ta.select();
      try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
      ta.remove();
    }
    const label = copy.dataset.label || copy.textContent;
    copy.dataset.label = label;
    copy.textContent = ok ? 'Copied ✓' : 'Copy failed: select the text';
    copy.classList.toggle('done', ok);
    setTimeout(() => { copy.textContent = label; copy.classList.remove('done'); }, 1600);
    return;
  }
  if (ev.target.closest('a.src-link')) return;
  const open = ev.target.closest('[data-open]');
  if (!open || !element.contains(open)) return;
  const sel = window.getSelection();
  if (sel && String(sel).trim().length > 2 && !ev.target.closest('button, a')) return;
  ev.preventDefault();
  trigger('select', {index: 0, value: {doc_id: open.dataset.open,
                                       start: Number(open.dataset.start), end: Number(open.dataset.end)}});
});
"""

# The document view: bring the highlighted passage into view once it is visible (the Read tab
# may still be hidden for a moment when the new document arrives).
DOCUMENT_JS = r"""
const reveal = (tries) => {
  const m = element.querySelector('mark.cited');
  if (!m) return;
  if (m.offsetParent === null) { if (tries > 0) setTimeout(() => reveal(tries - 1), 100); return; }
  m.scrollIntoView({block: 'center'});
};
watch('value', () => setTimeout(() => reveal(30), 50));
setTimeout(() => reveal(30), 150);
element.addEventListener('click', (ev) => {
  if (ev.target.closest('[data-jump]')) { ev.preventDefault(); reveal(0); }
});
"""

CSS = r"""
.gradio-container { max-width: 1180px !important; margin: 0 auto !important;
                    overflow-x: clip !important; overflow-y: visible !important; }  /* keeps sticky panels */
#app-head { align-items: baseline; gap: 12px; }
#app-head h1 { margin: 0; font-size: 1.55rem; }
#app-head .tagline { color: var(--body-text-color-subdued); margin: 2px 0 0; }
.stats { color: var(--body-text-color-subdued); text-align: right; font-size: .95rem; padding-top: 6px; }
.stats b { color: var(--body-text-color); }
.placeholder { color: var(--body-text-color-subdued); padding: 18px 4px; font-size: 1rem; }
.msg { padding: 10px 14px; border-radius: 8px; margin: 6px 0; font-size: 1rem;
       border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.msg-error { border-color: #e5484d; background: color-mix(in srgb, #e5484d 10%, transparent); }
.hint { color: var(--body-text-color-subdued); font-weight: normal; font-size: .85rem; margin-left: 8px; }

/* answer and citation cards */
.answer { padding: 14px 18px; border-radius: 10px; background: var(--background-fill-secondary);
          border: 1px solid var(--border-color-primary); margin-bottom: 10px; }
.answer-text { font-size: 1.1rem; line-height: 1.65; }
a.cite-ref { font-weight: 600; text-decoration: none; color: var(--color-accent); padding: 0 1px;
             cursor: pointer; font-size: .9em; vertical-align: 1px; }
a.cite-ref:hover { text-decoration: underline; }
details.notes { margin-top: 8px; color: var(--body-text-color-subdued); font-size: .9rem; }
.cards-head { font-size: 1.05rem; margin: 16px 0 8px; }
.cards { display: flex; flex-direction: column; gap: 12px; }
.card { position: relative; padding: 14px 16px 12px 52px; border-radius: 10px;
        border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); }
.card-n { position: absolute; left: 14px; top: 16px; width: 26px; height: 26px; border-radius: 50%;
          background: var(--color-accent); color: white; font-weight: 700; font-size: .85rem;
          display: flex; align-items: center; justify-content: center; }
blockquote.quote { margin: 0 0 8px; padding: 2px 0 2px 14px; border-left: 3px solid var(--color-accent);
                   font-family: Georgia, 'Times New Roman', serif; font-size: 1.22rem; line-height: 1.55;
                   color: var(--body-text-color); cursor: pointer; }
blockquote.quote:hover { background: var(--background-fill-secondary); }
.card-meta, .hit-head { color: var(--body-text-color-subdued); font-size: .92rem; }
.card-meta .who, .hit-head .who { color: var(--body-text-color); font-weight: 600; }
.card-meta .title, .hit-head .title { font-style: italic; }
.sep { margin: 0 6px; opacity: .6; }
.page { margin-left: 8px; }
.card-actions { margin-top: 10px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
button.act { border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
             color: var(--body-text-color); border-radius: 6px; padding: 4px 10px; font-size: .88rem;
             cursor: pointer; }
button.act:hover { border-color: var(--color-accent); }
button.act.done { border-color: #30a46c; color: #30a46c; }
a.src-link { font-size: .88rem; color: var(--color-accent); text-decoration: none; margin-left: 4px; }
a.src-link:hover { text-decoration: underline; }
.abstain { padding: 16px 18px; border-radius: 10px; border: 1px dashed var(--border-color-primary);
           background: var(--background-fill-secondary); font-size: 1.05rem; }
.abstain-head { font-weight: 700; font-size: 1.1rem; margin-bottom: 4px; }

/* ranked passages */
.hits { display: flex; flex-direction: column; gap: 10px; }
.hit { padding: 12px 14px; border-radius: 10px; border: 1px solid var(--border-color-primary);
       cursor: pointer; background: var(--background-fill-primary); }
.hit:hover { border-color: var(--color-accent); }
.hit-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px; }
.rank { font-weight: 700; color: var(--color-accent); margin-right: 8px; }
.score { margin-left: auto; font-variant-numeric: tabular-nums; opacity: .7; }
.hit-title { font-style: italic; color: var(--body-text-color-subdued); font-size: .9rem; margin-top: 1px; }
.hit-text { margin: 6px 0 0; font-size: 1.02rem; line-height: 1.55; color: var(--body-text-color); }
.badge { display: inline-block; font-size: .75rem; padding: 1px 8px; border-radius: 999px; margin-left: 8px;
         border: 1px solid var(--border-color-primary); }
.badge.q { font-style: normal; }
.badge.added, .badge.updated { border-color: #30a46c; color: #30a46c; }
.badge.failed { border-color: #e5484d; color: #e5484d; }
.badge.unchanged { opacity: .8; }

/* a document: the text in a reading column, its metadata in a panel beside it */
.doc { display: grid; grid-template-columns: minmax(0, 78ch) minmax(220px, 1fr); column-gap: 32px;
       align-items: start; }
.doc-title { grid-column: 1 / -1; margin: 4px 0 14px; font-size: 1.4rem; line-height: 1.3; }
.doc-body { grid-column: 1; grid-row: 2; }
.doc-head { grid-column: 2; grid-row: 2; position: sticky; top: 12px; padding: 12px 14px; border-radius: 10px;
            border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.panel-title { font-weight: 600; font-size: .92rem; margin-bottom: 8px; line-height: 1.35; }
.doc-head dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0 0 10px;
               font-size: .9rem; }
.doc-head dt { color: var(--body-text-color-subdued); }
.doc-head dd { margin: 0; overflow-wrap: anywhere; }
.doc-links { display: flex; flex-direction: column; gap: 8px; align-items: flex-start; }
.doc-links a.src-link { margin-left: 0; }
code.doc-id { font-size: .78rem; opacity: .75; overflow-wrap: anywhere; }
.seg { margin: 0 0 14px; white-space: pre-wrap; font-size: 1.03rem; line-height: 1.62; }
.seg.text { color: var(--body-text-color-subdued); }
.seg.turn, .seg.question { padding: 4px 0 4px 14px; border-left: 3px solid var(--border-color-primary); }
.seg.turn { border-left-color: var(--color-accent); }
.seg.question { background: var(--background-fill-secondary); border-radius: 0 8px 8px 0; }
.seg .speaker { font-weight: 700; font-size: .9rem; letter-spacing: .02em; margin-bottom: 2px;
                white-space: normal; }
.seg.question .speaker { color: var(--body-text-color-subdued); }
mark.cited { background: #ffe27a; color: #1a1a1a; padding: 1px 0; border-radius: 3px;
             box-shadow: 0 0 0 2px #ffe27a; scroll-margin: 120px; }

/* upload results */
table.results { width: 100%; border-collapse: collapse; font-size: .95rem; }
table.results th, table.results td { text-align: left; padding: 6px 8px; vertical-align: top;
                                     border-bottom: 1px solid var(--border-color-primary) !important; }
table.results { border: none !important; }
table.results td.file { font-family: var(--font-mono); font-size: .88rem; overflow-wrap: anywhere; min-width: 9em; }

@media (max-width: 960px) {
  .doc { grid-template-columns: minmax(0, 1fr); }
  .doc-head { grid-column: 1; grid-row: 2; position: static; margin-bottom: 14px; }
  .panel-title { display: none; }
  .doc-body { grid-row: 3; }
  .doc-links { flex-direction: row; flex-wrap: wrap; align-items: center; }
  .gradio-container { padding: 0 8px !important; }
  blockquote.quote { font-size: 1.12rem; }
  .stats { text-align: left; }
}
"""

CSS += r"""
/* timeline and library tables: whole rows are clickable */
.tl-scroll { max-height: 430px; overflow-y: auto; border: 1px solid var(--border-color-primary);
             border-radius: 10px; }
.lib-scroll { max-height: 560px; overflow-y: auto; border: 1px solid var(--border-color-primary);
              border-radius: 10px; }
table.tl-rows, table.lib-rows { width: 100%; border-collapse: collapse; font-size: .93rem; }
table.tl-rows th, table.lib-rows th { position: sticky; top: 0; background: var(--background-fill-secondary);
    text-align: left; padding: 6px 8px; font-weight: 600; z-index: 1; }
table.tl-rows td, table.lib-rows td, table.tl-rows th, table.lib-rows th, table.results td,
table.results th { border: none !important; }
table.tl-rows td, table.lib-rows td { padding: 7px 8px; vertical-align: top;
    border-top: 1px solid var(--border-color-primary) !important; }
.tl-scroll table, .lib-scroll table { margin: 0 !important; border: none !important; }
table.tl-rows tr, table.lib-rows tr, table.results tr { border: none !important; }
td.src, td .lt { overflow-wrap: break-word; }
table.tl-rows tbody tr, table.lib-rows tbody tr { cursor: pointer; }
table.tl-rows tbody tr:hover, table.lib-rows tbody tr:hover { background: var(--background-fill-secondary); }
td.d { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.s { font-weight: 600; min-width: 7em; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.src { font-size: .85rem; color: var(--body-text-color-subdued); min-width: 12em; max-width: 18em; }
td .t { font-size: .82rem; color: var(--body-text-color-subdued); font-style: italic; margin-top: 2px; }
td .lt { font-weight: 600; }
.tl-period, .lib-count { font-size: .88rem; color: var(--body-text-color-subdued); margin: 0 0 6px; }
"""

CSS += r"""
/* Compare: one column per speaker */
.cmp-head, .first-summary { margin: 4px 0 12px; font-size: 1rem; }
.cmp-grid { display: grid; grid-template-columns: repeat(var(--cmp-cols, 2), minmax(0, 1fr)); gap: 14px;
            align-items: start; }
.cmp-col { padding: 12px 14px; border-radius: 10px; border: 1px solid var(--border-color-primary);
           background: var(--background-fill-secondary); min-width: 0; }
.cmp-who { margin: 0 0 2px; font-size: 1.15rem; }
.cmp-also { font-size: .82rem; color: var(--body-text-color-subdued); margin-bottom: 6px; }
.cmp-card { margin-top: 10px; padding: 10px 12px; border-radius: 8px; border: 1px solid var(--border-color-primary);
            background: var(--background-fill-primary); }
.cmp-date { font-weight: 700; font-size: .9rem; color: var(--color-accent); margin-bottom: 4px;
            font-variant-numeric: tabular-nums; }
.cmp-card blockquote.quote { font-size: 1.08rem; }
.cmp-none { margin-top: 10px; padding: 12px; border-radius: 8px; border: 1px dashed var(--border-color-primary);
            color: var(--body-text-color-subdued); font-style: italic; }

/* First: occurrences earliest first */
.first-banner { padding: 10px 14px; border-radius: 10px; margin: 0 0 12px; font-size: 1.05rem;
                border: 1px solid #30a46c; background: color-mix(in srgb, #30a46c 10%, transparent); }
.first-banner .title { font-style: italic; color: var(--body-text-color-subdued); margin-left: 6px; }
ol.first-list { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 10px; }
ol.first-list li.occ { padding: 10px 14px; border-radius: 10px; border: 1px solid var(--border-color-primary);
                       background: var(--background-fill-primary); }
ol.first-list li.occ.first { border: 2px solid #30a46c; }
ol.first-list li.occ.asked { background: var(--background-fill-secondary); }
ol.first-list li.occ.asked blockquote.quote { border-left-color: var(--border-color-primary); }
.occ-head { color: var(--body-text-color-subdued); font-size: .92rem; margin-bottom: 6px; }
.occ-head .who { color: var(--body-text-color); font-weight: 600; }
.occ-head .when { font-variant-numeric: tabular-nums; font-weight: 600; color: var(--body-text-color); }
.occ-head .badge { margin: 0 8px 0 0; }
.badge.first { border-color: #30a46c; color: #30a46c; font-weight: 700; }
.badge.undated { border-style: dashed; }
li.occ blockquote.quote { font-size: 1.08rem; }
mark.hit { background: color-mix(in srgb, #ffe27a 70%, transparent); color: inherit; border-radius: 3px; padding: 0 1px; }
ul.first-notes { margin: 12px 0 0; color: var(--body-text-color-subdued); font-size: .9rem; }

@media (max-width: 960px) {
  .cmp-grid { grid-template-columns: minmax(0, 1fr); }
}
"""

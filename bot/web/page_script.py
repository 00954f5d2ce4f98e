"""Browser-side behaviour of the 政策问答 and 条款检索 tabs: the script Gradio runs once on page load
(mounted with `js=PAGE_JS`) and the CSS it relies on (part of layout.CSS).

- A new answer is shown from its start (its lead and ✓/⚠ label), not scrolled to its end.
- An answer's [n] marker opens and shows footnote n of the same message.
- A search result's 复制引用 copies its citation line; the result shown in the clause panel is marked.
- Toasts saying the same thing are shown once, not stacked.
- Status words Gradio's Chinese table lacks (common.complete) are announced in Chinese.
"""

from __future__ import annotations

# The chat keeps pinning a new answer's start while it streams, and for a moment after its last update.
PAGE_JS = r"""() => {
  const PIN_MS = 1500;
  let seen = 0, pinnedUntil = 0;
  const answers = () => document.querySelectorAll('#pb-chat .pb-answer, #pb-chat .pb-no-basis');
  const scroller = (el) => {
    for (let p = el.parentElement; p && p.id !== 'pb-chat'; p = p.parentElement) {
      const s = getComputedStyle(p).overflowY;
      if ((s === 'auto' || s === 'scroll') && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  };
  const showStart = () => {
    const all = answers();
    if (all.length < seen) seen = all.length;  // a new conversation
    if (all.length > seen) { seen = all.length; pinnedUntil = Date.now() + PIN_MS; }
    if (!all.length || Date.now() > pinnedUntil) return;
    pinnedUntil = Date.now() + PIN_MS;
    const last = all[all.length - 1];
    const box = scroller(last);
    if (box) box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 40;  // below the 对话 badge
    const top = last.getBoundingClientRect().top;
    if (top < 0 || top > innerHeight - 80) window.scrollBy(0, top - 8);
  };
  const markSelected = () => {  // the panel moves down beside the result it shows (side by side only)
    const shown = document.querySelector('#pb-clause-view .pb-clause-view');
    const id = shown ? shown.dataset.clause : '';
    const panel = document.querySelector('#pb-clause-panel');
    document.querySelectorAll('#pb-results .pb-hit').forEach((hit) => {
      const on = hit.dataset.clause === id;
      if (on && panel && !hit.classList.contains('pb-hit-selected')) {
        panel.style.marginTop = '0px';
        const beside = panel.getBoundingClientRect().left >= hit.getBoundingClientRect().right - 1;
        const drop = hit.getBoundingClientRect().top - panel.getBoundingClientRect().top;
        panel.style.marginTop = beside ? Math.max(0, drop) + 'px' : '0px';
        if (beside) hit.scrollIntoView({block: 'nearest'});
      }
      hit.classList.toggle('pb-hit-selected', on);
    });
  };
  const oneToastEach = () => {  // the newest of each text stays; hidden, not removed: the nodes are Gradio's
    for (const [sel, part] of [['.toast-message-item', null], ['.toast-body', '.toast-messages']]) {
      const seenText = new Set();
      [...document.querySelectorAll(sel)].reverse().forEach((t) => {
        if (t.style.display === 'none') return;
        const text = (part ? t.querySelector(part) : t)?.innerText.trim();
        if (text && seenText.has(text)) t.style.display = 'none'; else seenText.add(text);
      });
    }
  };
  // Gradio's status tracker announces a finished event to screen readers as i18n("common.complete"),
  // a key its zh-CN table lacks, so the raw key was read out: say it in Chinese.
  const MISSING = {'common.complete': '已完成', 'common.progress': '进度', 'common.loading': '加载中'};
  const translateMissing = () => {
    document.querySelectorAll('[aria-live], .sr-only, .visually-hidden').forEach((el) => {
      const said = el.textContent.trim();
      if (MISSING[said]) el.textContent = MISSING[said];
    });
  };
  new MutationObserver(() => { showStart(); markSelected(); oneToastEach(); translateMissing(); })
    .observe(document.body, {childList: true, subtree: true, characterData: true});
  document.addEventListener('click', (e) => {
    const cite = e.target.closest && e.target.closest('a.pb-cite');
    if (cite) {
      e.preventDefault(); e.stopPropagation();
      let box = cite.parentElement;
      while (box && !box.querySelector('.pb-footnotes')) box = box.parentElement;
      const n = cite.textContent.replace(/\D/g, '');
      const note = box && box.querySelector('.pb-fn-' + n);
      if (note) {
        note.open = true;
        note.scrollIntoView({block: 'nearest'});
        note.classList.add('pb-fn-flash');
        setTimeout(() => note.classList.remove('pb-fn-flash'), 1200);
      }
      return;
    }
    const copy = e.target.closest && e.target.closest('.pb-copy-hit');
    if (copy) {
      const text = copy.dataset.cite || '';
      window.pbCopied = text;
      if (navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
      copy.textContent = '已复制';
    }
  }, true);
}"""

PAGE_CSS = """
#pb-chat a.pb-cite { text-decoration: none; font-weight: bold; color: #2563eb; cursor: pointer; }
.pb-fn-flash { outline: 2px solid #2563eb; }
.pb-related summary, .pb-footnote summary { cursor: pointer; color: #1d4ed8; }
.pb-status { margin-top: .2em; }
.pb-lacking { color: #92400e; background: #fffbeb; padding: .3em .6em; margin: .4em 0; }
.pb-hit { padding: .3em .4em; border-radius: 4px; }
.pb-hit-selected { background: #eff6ff; outline: 1px solid #93c5fd; }
.pb-copy-hit { font-size: .85em; margin-top: .3em; padding: .1em .8em; border: 1px solid #d1d5db; border-radius: 4px; }
.pb-rated { outline: 2px solid #059669; font-weight: bold; }
@media (max-width: 600px) {
  #pb-clause-panel { display: none; }  /* each result carries its own text, status and 复制引用 */
  /* all five tab names fit one line, so Gradio hides none of them in its ⋯ menu (it measures these) */
  .tab-wrapper .tab-container > button { padding: 0 5px !important; font-size: 14px !important; min-width: 0; }
}
"""

// Switchboard's agent UI: the one script of every page (an ES module, served from this
// server; the pages' CSP allows no inline script). Pages work without it; it adds the
// notifier panel, live updates from the server's event stream, and small conveniences.
//
// Live updates: one EventSource on /api/v1/stream (same origin, the session cookie). On an
// event the notifier panel is fetched again, and the page's own live regions (elements with
// `data-live` and an id) are replaced by the same regions of a fresh copy of the page, so
// the server renders (and escapes) everything. Forms are never replaced: a draft survives.

// ---------------------------------------------------------------- notifier

const button = document.getElementById('notifier-button');
const panel = document.getElementById('notifier-panel');
const dot = document.getElementById('notifier-dot');

function selectTab(root, tab) {
  for (const t of root.querySelectorAll('[role=tab]')) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    const section = document.getElementById(t.getAttribute('aria-controls'));
    if (section) section.hidden = !on;
  }
}

function wireTabs(root) {
  const tabs = [...root.querySelectorAll('[role=tab]')];
  if (!tabs.length) return;
  const current = tabs.find((t) => t.getAttribute('aria-selected') === 'true') || tabs[0];
  selectTab(root, current);
  for (const tab of tabs) {
    tab.addEventListener('click', () => selectTab(root, tab));
    tab.addEventListener('keydown', (e) => {
      const i = tabs.indexOf(tab);
      const next = e.key === 'ArrowRight' ? tabs[(i + 1) % tabs.length]
        : e.key === 'ArrowLeft' ? tabs[(i + tabs.length - 1) % tabs.length] : null;
      if (next) { e.preventDefault(); selectTab(root, next); next.focus(); }
    });
  }
}

let notifierTab = 'tab-assigned';

async function refreshNotifier() {
  if (!panel) return;
  const res = await fetch('/notifier?fragment=1', { credentials: 'same-origin' });
  if (!res.ok) return;
  const html = await res.text();
  const selected = panel.querySelector('[role=tab][aria-selected=true]');
  if (selected) notifierTab = selected.id;
  panel.innerHTML = html; // rendered and escaped by the server
  const root = panel.firstElementChild;
  if (dot && root) dot.hidden = root.dataset.waiting !== 'true';
  const tab = document.getElementById(notifierTab);
  wireTabs(panel);
  if (tab) selectTab(panel, tab);
}

function setPanel(open) {
  if (!panel || !button) return;
  panel.hidden = !open;
  button.setAttribute('aria-expanded', String(open));
  if (open) {
    const first = panel.querySelector('[role=tab][aria-selected=true]');
    if (first) first.focus();
  }
}

if (button && panel) {
  button.addEventListener('click', (e) => {
    e.preventDefault();
    setPanel(panel.hidden);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !panel.hidden) { setPanel(false); button.focus(); }
  });
  document.addEventListener('click', (e) => {
    if (!panel.hidden && !panel.contains(e.target) && !button.contains(e.target)) setPanel(false);
  });
  refreshNotifier();
}

// The notifier page itself has tabs too.
for (const root of document.querySelectorAll('#live-notifier')) wireTabs(root);

// ---------------------------------------------------------------- live regions

async function refreshRegions() {
  const regions = [...document.querySelectorAll('[data-live][id]')];
  if (!regions.length) return;
  const res = await fetch(location.href, { credentials: 'same-origin' });
  if (!res.ok) return;
  const fresh = new DOMParser().parseFromString(await res.text(), 'text/html');
  for (const region of regions) {
    const next = fresh.getElementById(region.id);
    if (next) region.replaceWith(document.importNode(next, true));
  }
  for (const root of document.querySelectorAll('#live-notifier')) wireTabs(root);
  // A status shown in the head of a ticket page.
  const status = fresh.getElementById('ticket-status');
  const mine = document.getElementById('ticket-status');
  if (status && mine) mine.replaceWith(document.importNode(status, true));
}

// Several events in a burst cause one refresh, at most one a second; a page in a background
// tab waits until it is looked at again (thousands of open tabs must not each re-render the
// inbox on every customer message).
let pending = null;
let dirty = false;
let last = 0;
function scheduleRefresh() {
  if (document.visibilityState === 'hidden') { dirty = true; return; }
  if (pending) return;
  const wait = Math.max(100, 1000 - (Date.now() - last));
  pending = setTimeout(async () => {
    pending = null;
    last = Date.now();
    try {
      await Promise.all([refreshNotifier(), refreshRegions()]);
    } catch (_) { /* the next event tries again */ }
  }, wait);
}
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && dirty) { dirty = false; scheduleRefresh(); }
});

if (window.EventSource && panel) {
  const stream = new EventSource('/api/v1/stream');
  const ticketPage = document.querySelector('[data-ticket-id]');
  const onEvent = (e) => {
    let data = {};
    try { data = JSON.parse(e.data || '{}'); } catch (_) { /* ignore */ }
    // On a ticket page only that ticket's events change the page; the notifier always.
    if (ticketPage && data.ticket_id && data.ticket_id !== ticketPage.dataset.ticketId) {
      if (document.visibilityState === 'hidden') { dirty = true; } else { refreshNotifier(); }
      return;
    }
    scheduleRefresh();
  };
  // `reset`: events were lost for good (the stream was away too long); everything is refreshed.
  for (const kind of ['ticket_created', 'message_received', 'ticket_updated', 'reset']) {
    stream.addEventListener(kind, onEvent);
  }
  stream.addEventListener('message', onEvent);
  document.documentElement.dataset.live = 'connecting';
  stream.addEventListener('open', () => { document.documentElement.dataset.live = 'open'; });
}

// ---------------------------------------------------------------- forms

// The availability toggle comes back to this page.
for (const input of document.querySelectorAll('[data-current-path]')) {
  input.value = location.pathname + location.search;
}

// Picking a line on the new-ticket page checks it at once.
for (const select of document.querySelectorAll('select[data-autosubmit]')) {
  select.addEventListener('change', () => { if (select.value) select.form.submit(); });
}

// Confirm before merging contacts.
for (const b of document.querySelectorAll('button[data-confirm]')) {
  b.addEventListener('click', (e) => {
    if (!window.confirm(b.dataset.confirm)) e.preventDefault();
  });
}

// The template picker shows the body of the template picked.
for (const picker of document.querySelectorAll('#template-picker')) {
  const select = picker.querySelector('select');
  const bodies = [...picker.querySelectorAll('[data-template]')];
  const show = () => { for (const b of bodies) b.hidden = select.value !== b.dataset.template; };
  if (select) { select.addEventListener('change', show); show(); }
}

// The internal-note switch: the reply box says what it will do.
const replyForm = document.getElementById('reply-form');
if (replyForm) {
  const internal = replyForm.querySelector('#internal');
  const send = replyForm.querySelector('#send-button');
  const picker = replyForm.querySelector('#template-picker');
  const sync = () => {
    replyForm.classList.toggle('internal', internal.checked);
    send.textContent = internal.checked ? 'Add note' : 'Send';
    if (picker) picker.hidden = internal.checked;
  };
  internal.addEventListener('change', sync);
  sync();
  // Ctrl/Cmd+Enter sends.
  replyForm.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); replyForm.requestSubmit(); }
  });
}

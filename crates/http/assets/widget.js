// The messenger panel: Home, Messages and Tickets, drawn from the widget API with DOM calls
// only (text always goes in through textContent, so nothing a customer or agent writes can
// become markup). Live: one EventSource; on each event the panel reads its state again.

const account = document.body.dataset.account;
const storageKey = `switchboard:${account}`;
const $ = (id) => document.getElementById(id);

let token = null;
let overview = null;
let space = "home";
/** The conversation shown: an id, "new" for one being started, or null. */
let open = null;
let thread = null;
let stream = null;
/** Whether the customer can see the panel: framed, only while the site's launcher has it open. */
let shown = window.parent === window;

// Storage can be refused to framed pages (strict privacy settings): then the visitor lasts
// as long as the page.
// Browsers partition or refuse a cross-site frame's storage, so the host page keeps the token
// too (in its own storage, through the embed script): it hands it back in the fragment.
const hosted = new URLSearchParams(location.hash.slice(1)).get("visitor");
const tellHost = (v) => { if (window.parent !== window) window.parent.postMessage({ type: "switchboard:visitor", token: v }, "*"); };
const store = {
  get() { try { return localStorage.getItem(storageKey) || hosted; } catch { return hosted; } },
  set(v) { tellHost(v); try { localStorage.setItem(storageKey, v); } catch { /* kept in memory */ } },
  drop() { tellHost(null); try { localStorage.removeItem(storageKey); } catch { /* nothing kept */ } },
};

async function newVisitor() {
  const res = await fetch("/widget/api/visitors", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ account_id: account }),
  });
  if (!res.ok) throw new Error(`visitor: ${res.status}`);
  token = (await res.json()).token;
  store.set(token);
}

/** A call of the widget API; a token the server no longer knows is replaced once. */
async function api(method, path, body, retried = false) {
  if (!token) await newVisitor();
  const res = await fetch(`/widget/api${path}`, {
    method,
    headers: { "x-widget-token": token, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status === 401 && !retried) {
    token = null;
    store.drop();
    await newVisitor();
    connect();
    return api(method, path, body, true);
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error(data?.error?.message || `HTTP ${res.status}`);
    err.code = data?.error?.code;
    throw err;
  }
  return data;
}

function ago(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  const d = Math.round(s / 86400);
  return d === 1 ? "yesterday" : `${d} days ago`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function stateLabel(state) {
  return state === "resolved" ? "Resolved" : "Active";
}

function ticketRow(ticket, withAction) {
  const li = el("li", `row ticket-row${ticket.unread ? " unread" : ""}`);
  li.dataset.ticket = ticket.id;
  li.dataset.state = ticket.state;
  li.append(el("span", "title", ticket.title));
  li.append(el("span", `state ${ticket.state} ticket-state`, stateLabel(ticket.state)));
  li.append(el("span", "when", `Updated ${ago(ticket.updated_at)}`));
  const action = el(
    "button",
    withAction ? "link ticket-action" : "link ticket-open",
    ticket.action === "view" ? "View the conversation" : "Continue the conversation",
  );
  action.type = "button";
  action.addEventListener("click", () => openThread(ticket.conversation_id));
  li.append(action);
  return li;
}

function setBadge(tab, n) {
  const badge = tab.querySelector(".badge");
  badge.textContent = String(n);
  badge.hidden = !(n > 0);
}

function render() {
  if (!overview) return;
  const showTickets = overview.show_tickets;
  if (space === "tickets" && !showTickets) space = "home";
  $("tab-tickets").hidden = !showTickets;
  setBadge($("tab-messages"), overview.badges.messages);
  setBadge($("tab-tickets"), showTickets ? overview.badges.tickets : 0);
  window.parent.postMessage(
    { type: "switchboard:unread", count: overview.badges.messages + (showTickets ? overview.badges.tickets : 0) },
    "*",
  );
  for (const name of ["home", "messages", "tickets"]) {
    $(`space-${name}`).hidden = open !== null || space !== name;
    $(`tab-${name}`).toggleAttribute("aria-current", open === null && space === name);
    if (open === null && space === name) $(`tab-${name}`).setAttribute("aria-current", "page");
  }
  $("thread").hidden = open === null;

  const recent = $("recent-tickets");
  recent.hidden = !(overview.tickets_space && overview.recent_tickets.length > 0);
  recent.querySelector(".rows").replaceChildren(...overview.recent_tickets.map((t) => ticketRow(t, false)));

  $("tickets").replaceChildren(...overview.tickets.map((t) => ticketRow(t, true)));

  $("no-conversations").hidden = overview.conversations.length > 0;
  $("conversations").replaceChildren(
    ...overview.conversations.map((c) => {
      const li = el("li", `row conversation-row${c.unread > 0 ? " unread" : ""}`);
      li.dataset.conversation = c.id;
      const button = el("button", "open");
      button.type = "button";
      button.append(el("span", "title", c.ticket ? c.ticket.title : "Conversation"));
      if (c.ticket) button.append(el("span", `state ${c.ticket.state}`, stateLabel(c.ticket.state)));
      button.append(el("span", "preview", c.preview || ""));
      button.append(el("span", "when", ago(c.last_activity_at)));
      button.addEventListener("click", () => openThread(c.id));
      li.append(button);
      return li;
    }),
  );
  renderThread();
}

function renderThread() {
  if (open === null) return;
  const conv = thread?.conversation;
  $("thread-title").textContent = conv?.ticket ? conv.ticket.title : "New conversation";
  const state = $("thread-state");
  state.hidden = !conv?.ticket;
  if (conv?.ticket) {
    state.className = `state ${conv.ticket.state}`;
    state.textContent = stateLabel(conv.ticket.state);
  }
  $("messages").replaceChildren(
    ...(thread?.messages || []).map((m) => {
      const li = el("li", `message ${m.from}`);
      if (m.from === "team") li.append(el("span", "who", m.agent_name || "Support"));
      li.append(document.createTextNode(m.body || ""));
      const meta = m.from === "customer" ? ago(m.created_at) : `${ago(m.created_at)}`;
      li.append(el("span", "meta", meta));
      return li;
    }),
  );
  const readOnly = Boolean(conv?.read_only);
  $("composer").hidden = readOnly;
  $("resolved-note").hidden = !readOnly;
  const list = $("main");
  list.scrollTop = list.scrollHeight;
}

async function refresh() {
  overview = await api("GET", "/overview");
  if (open && open !== "new") {
    try {
      thread = await api("GET", `/conversations/${open}`);
    } catch {
      open = null;
      thread = null;
    }
  }
  render();
  await markRead();
}

/** Reading the conversation shown marks its messages and its ticket read — only when the
 * panel is visible and there is something unread, so a read is never announced for nothing. */
async function markRead() {
  if (!thread || !shown || document.visibilityState !== "visible") return;
  const conv = overview?.conversations.find((c) => c.id === thread.conversation.id);
  if (!conv || !(conv.unread > 0 || conv.ticket?.unread)) return;
  await api("POST", `/conversations/${conv.id}/read`);
  overview = await api("GET", "/overview");
  render();
}

async function openThread(id) {
  open = id;
  thread = id === "new" ? null : await api("GET", `/conversations/${id}`);
  $("composer-error").hidden = true;
  render();
  await markRead();
  if (!$("composer").hidden) $("composer-body").focus();
}

async function send(event) {
  event.preventDefault();
  const box = $("composer-body");
  const body = box.value.trim();
  if (!body) return;
  const error = $("composer-error");
  error.hidden = true;
  try {
    thread = open === "new"
      ? await api("POST", "/conversations", { body })
      : await api("POST", `/conversations/${open}/messages`, { body });
    open = thread.conversation.id;
    box.value = "";
    await refresh();
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
  }
}

function connect() {
  if (stream) stream.close();
  stream = new EventSource(`/widget/api/stream?token=${encodeURIComponent(token)}`);
  for (const name of ["ready", "changed", "reset"]) {
    stream.addEventListener(name, () => refresh().catch(() => {}));
  }
}

/** Tells the server who the site's signed-in user is; answers whether the site named one. */
async function identify() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (!hash.get("user_id")) return false;
  history.replaceState(null, "", location.pathname + location.search);
  const who = { user_id: hash.get("user_id") };
  for (const key of ["name", "email", "user_hash"]) if (hash.get(key)) who[key] = hash.get(key);
  try {
    await api("POST", "/identify", who);
  } catch (err) {
    console.warn("Switchboard: the site's user could not be verified:", err.message);
  }
  return true;
}

async function start() {
  token = store.get();
  if (token) tellHost(token);
  if (!token) await newVisitor();
  const named = await identify();
  for (const button of document.querySelectorAll("[data-space]")) {
    button.addEventListener("click", () => {
      space = button.dataset.space;
      open = null;
      thread = null;
      render();
    });
  }
  for (const button of document.querySelectorAll("[data-action=new]")) {
    button.addEventListener("click", () => openThread("new"));
  }
  $("back").addEventListener("click", () => {
    open = null;
    thread = null;
    render();
  });
  $("close").addEventListener("click", () => window.parent.postMessage({ type: "switchboard:close" }, "*"));
  $("composer").addEventListener("submit", send);
  $("composer-body").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  document.addEventListener("visibilitychange", () => markRead().catch(() => {}));
  window.addEventListener("message", (e) => {
    if (e.data?.type === "switchboard:opened") {
      shown = true;
      markRead().catch(() => {});
    }
    if (e.data?.type === "switchboard:closed") shown = false;
  });
  await refresh();
  if (!named && overview.verified) {
    // The site's user signed out (the site names nobody now): whoever uses this browser next
    // must not see their conversations. Start again as a new anonymous visitor.
    store.drop();
    token = null;
    await newVisitor();
    await refresh();
  }
  connect();
}

start().catch((err) => console.error("Switchboard widget:", err));

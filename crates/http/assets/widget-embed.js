// Switchboard website chat: paste <script src="https://YOUR-SWITCHBOARD/widget/ACCOUNT/embed.js" async></script>.
// Adds a launcher button and a panel (an iframe served by Switchboard). A signed-in user is
// passed by setting window.SwitchboardSettings = {user_id, name, email, user_hash} first.
(function () {
  "use strict";
  if (window.__switchboardWidget) return;
  window.__switchboardWidget = true;
  var script = document.currentScript;
  var base = new URL(script ? script.src : "/", location.href).origin;
  var account = "__SWITCHBOARD_ACCOUNT__";
  var settings = window.SwitchboardSettings || {};
  // Who the host says its user is travels in the fragment, which is never sent to a server.
  var fragment = new URLSearchParams();
  ["user_id", "name", "email", "user_hash"].forEach(function (key) {
    if (settings[key]) fragment.set(key, String(settings[key]));
  });

  // The visitor's token, kept here too: a cross-site frame's own storage may be partitioned
  // or refused by the browser, the host page's is not.
  var key = "switchboard:" + account;
  var visitor = null;
  try { visitor = localStorage.getItem(key); } catch (e) { visitor = null; }
  if (visitor) fragment.set("visitor", visitor);

  var frame = document.createElement("iframe");
  frame.id = "switchboard-frame";
  frame.title = "Chat with us";
  frame.src = base + "/widget/" + account + "/panel" + (fragment.toString() ? "#" + fragment.toString() : "");
  var fs = frame.style;
  fs.position = "fixed"; fs.right = "20px"; fs.bottom = "90px"; fs.width = "370px"; fs.height = "560px";
  fs.maxHeight = "calc(100vh - 110px)"; fs.maxWidth = "calc(100vw - 40px)"; fs.border = "0";
  fs.borderRadius = "14px"; fs.boxShadow = "0 8px 30px rgba(0,0,0,.25)"; fs.zIndex = "2147483646";
  fs.background = "#fff"; fs.display = "none";

  var launcher = document.createElement("button");
  launcher.id = "switchboard-launcher";
  launcher.type = "button";
  launcher.setAttribute("aria-label", "Open chat");
  launcher.setAttribute("aria-expanded", "false");
  launcher.textContent = "Chat";
  var ls = launcher.style;
  ls.position = "fixed"; ls.right = "20px"; ls.bottom = "20px"; ls.width = "60px"; ls.height = "60px";
  ls.borderRadius = "30px"; ls.border = "0"; ls.background = "#2457d6"; ls.color = "#fff";
  ls.font = "600 15px system-ui, sans-serif"; ls.cursor = "pointer"; ls.zIndex = "2147483647";
  ls.boxShadow = "0 4px 14px rgba(0,0,0,.25)";
  var dot = document.createElement("span");
  dot.id = "switchboard-unread";
  var ds = dot.style;
  ds.position = "absolute"; ds.top = "-2px"; ds.right = "-2px"; ds.minWidth = "20px"; ds.height = "20px";
  ds.borderRadius = "10px"; ds.background = "#d62424"; ds.color = "#fff"; ds.font = "600 12px/20px system-ui";
  ds.display = "none";
  launcher.appendChild(dot);

  function setOpen(open) {
    fs.display = open ? "block" : "none";
    launcher.setAttribute("aria-expanded", String(open));
    launcher.firstChild.textContent = open ? "×" : "Chat";
    if (frame.contentWindow) frame.contentWindow.postMessage({ type: open ? "switchboard:opened" : "switchboard:closed" }, base);
  }
  launcher.addEventListener("click", function () { setOpen(fs.display === "none"); });
  window.addEventListener("message", function (event) {
    if (event.origin !== base || !event.data) return;
    if (event.data.type === "switchboard:close") setOpen(false);
    if (event.data.type === "switchboard:visitor") {
      try {
        if (event.data.token) localStorage.setItem(key, String(event.data.token));
        else localStorage.removeItem(key);
      } catch (e) { /* the frame keeps it for this page */ }
    }
    if (event.data.type === "switchboard:unread") {
      var n = Number(event.data.count) || 0;
      dot.textContent = String(n);
      ds.display = n > 0 ? "block" : "none";
    }
  });
  function mount() {
    document.body.appendChild(frame);
    document.body.appendChild(launcher);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();

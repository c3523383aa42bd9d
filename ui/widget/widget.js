/* Aisle chat widget: vanilla JS, no dependencies, no CDN.
 * <script src="https://aisle.example/widget.js" data-api-base="https://aisle.example"
 *         data-color="#2563eb" data-greeting="Hi! What are you looking for?"
 *         data-customer-token="<token your backend signed>" defer></script>
 * or: window.AisleWidget.init({apiBase, color, greeting, customerToken}) with data-manual on the tag;
 * AisleWidget.setCustomerToken(t) swaps in a fresh token. The conversation id comes from the server.
 * All shop and user text is set with textContent: nothing from the network becomes markup. */
(function () {
  "use strict";
  var script = document.currentScript;
  var root = null, cfg = null, sid = null, clientKey = null, lastId = 0, pollTimer = null, busy = false;

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = String(text);
    return n;
  }

  function randomKey() {
    var a = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return "k" + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // This browser's key (not a credential): the server does not reuse order facts across clients.
  function browserKey() {
    try {
      var k = localStorage.getItem("aisle-client");
      if (!k) { k = randomKey(); localStorage.setItem("aisle-client", k); }
      return k;
    } catch (e) { return randomKey(); }
  }

  // The conversation id is issued by the server with the first reply and kept for this tab.
  function loadSid() { try { return sessionStorage.getItem("aisle-sid"); } catch (e) { return null; } }
  function saveSid(s) {
    sid = s || null;
    try { if (sid) sessionStorage.setItem("aisle-sid", sid); else sessionStorage.removeItem("aisle-sid"); } catch (e) { /* private mode */ }
  }

  function headers(extra) {
    var h = {"X-Aisle-Client": clientKey};
    if (cfg.customerToken) h["Authorization"] = "Bearer " + cfg.customerToken;
    for (var k in extra) h[k] = extra[k];
    return h;
  }

  function price(c) {
    if (c.price_text) return c.price_text;  // the server formats money as the shop prints it
    if (c.price == null) return "price unknown";
    try { return new Intl.NumberFormat(undefined, {style: "currency", currency: c.currency || "USD"}).format(c.price); }
    catch (e) { return Number(c.price).toFixed(2) + " " + c.currency; }
  }

  function postEvent(kind, pid, value) {
    if (!sid) return;
    fetch(cfg.apiBase + "/api/events", {
      method: "POST", headers: headers({"Content-Type": "application/json"}),
      body: JSON.stringify({kind: kind, session_id: sid, product_id: pid, value: value})
    }).catch(function () {});
  }

  function button(label, aria, onClick) {
    var b = el("button", "aisle-w-btn", label);
    b.type = "button";
    b.setAttribute("aria-label", aria);
    b.addEventListener("click", function () { b.setAttribute("aria-pressed", "true"); onClick(); });
    return b;
  }

  function renderCards(cards, into) {
    var list = el("div", "aisle-w-cards");
    list.setAttribute("role", "list");
    cards.forEach(function (c) {
      var card = el("div", "aisle-w-card");
      card.setAttribute("role", "listitem");
      var img = el("img");
      img.src = cfg.apiBase + "/api/products/" + encodeURIComponent(c.product_id) + "/image.svg";
      img.alt = c.title || "product";
      img.width = 48; img.height = 48;
      var body = el("div", "aisle-w-card-body");
      body.appendChild(el("div", "aisle-w-title", c.title));
      body.appendChild(el("div", "aisle-w-meta", price(c) + " \u00b7 " +
        (c.rating == null ? "no ratings yet" : "\u2605 " + Number(c.rating).toFixed(1))));
      if (c.reason) body.appendChild(el("div", "aisle-w-reason", c.reason));
      var acts = el("div", "aisle-w-actions");
      acts.appendChild(button("Like", "Thumbs up for " + c.title, function () { postEvent("feedback", c.product_id, 1); }));
      acts.appendChild(button("Dislike", "Thumbs down for " + c.title, function () { postEvent("feedback", c.product_id, -1); }));
      acts.appendChild(button("Add to cart", "Add " + c.title + " to cart", function () { postEvent("cart", c.product_id, null); }));
      body.appendChild(acts);
      card.appendChild(img); card.appendChild(body);
      list.appendChild(card);
    });
    into.appendChild(list);
  }

  function addMsg(role, text) {
    var log = root.querySelector(".aisle-w-log");
    var m = el("div", "aisle-w-msg aisle-w-" + role, text);
    log.appendChild(m);
    log.scrollTop = log.scrollHeight;
    return m;
  }

  function handle(type, data, state) {
    var log = root.querySelector(".aisle-w-log");
    if (type === "products" && data.cards && data.cards.length) {
      renderCards(data.cards, log);
      root.setAttribute("data-cards", String(data.cards.length));
    } else if (type === "text") {
      if (!state.bot) state.bot = addMsg("bot", "");
      state.bot.textContent += data.text;
    } else if (type === "done") {
      if (data.text && (!state.bot || state.bot.textContent !== data.text)) {
        if (!state.bot) state.bot = addMsg("bot", "");
        state.bot.textContent = data.text;
      }
      if (data.message_id) lastId = Math.max(lastId, data.message_id);
      if (data.session_id) saveSid(data.session_id);
      var bar = root.querySelector(".aisle-w-rate");
      if (bar && bar.querySelector("button")) bar.hidden = false;
    } else if (type === "error") {
      addMsg("note", data.error === "busy" ? "Busy right now \u2014 please try again in a few seconds." : "Sorry, something went wrong.");
    }
    log.scrollTop = log.scrollHeight;
  }

  function parseSSE(buf, state) {
    var parts = buf.split("\n\n");
    for (var i = 0; i < parts.length - 1; i++) {
      var type = "message", data = "";
      parts[i].split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) type = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
      });
      if (data) { try { handle(type, JSON.parse(data), state); } catch (e) { /* skip a bad frame */ } }
    }
    return parts[parts.length - 1];
  }

  function setBusy(on) {
    busy = on;
    var go = root.querySelector(".aisle-w-send");
    if (go) go.disabled = on;
  }

  function post(text) {
    var body = {message: text};
    if (sid) body.session_id = sid;
    return fetch(cfg.apiBase + "/api/chat", {
      method: "POST", headers: headers({"Content-Type": "application/json", "Accept": "text/event-stream"}),
      body: JSON.stringify(body)
    }).then(function (res) {
      // A conversation the server no longer knows, or one of another sign-in: start a new one.
      if (sid && (res.status === 400 || res.status === 403 || res.status === 404)) {
        saveSid(null); lastId = 0;
        return post(text);
      }
      return res;
    });
  }

  function send(text) {
    if (busy || !text) return;
    setBusy(true);
    addMsg("user", text);
    var state = {bot: null};
    post(text).then(function (res) {
      if (res.headers.get("X-Session-Id")) saveSid(res.headers.get("X-Session-Id"));
      if (res.status === 429) { addMsg("note", "Slow down \u2014 too many messages. Please wait a few seconds and try again."); return; }
      if (res.status === 403) { addMsg("note", "Please sign in again \u2014 your session with the shop has expired."); return; }
      if (res.status === 503) { addMsg("note", "Busy right now \u2014 please try again in a few seconds."); return; }
      if (!res.ok || !res.body) { addMsg("note", "Sorry, I could not answer that (" + res.status + ")."); return; }
      var reader = res.body.getReader(), dec = new TextDecoder(), buf = "";
      function pump() {
        return reader.read().then(function (r) {
          if (r.done) { parseSSE(buf + "\n\n", state); return; }
          buf = parseSSE(buf + dec.decode(r.value, {stream: true}), state);
          return pump();
        });
      }
      return pump();
    }).catch(function () { addMsg("note", "Connection problem \u2014 please try again."); })
      .then(function () { setBusy(false); startPolling(); });
  }

  // Messages from a human agent arrive outside a chat turn: poll for them while the panel is open.
  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(function () {
      if (!root.classList.contains("aisle-w-open") || busy || !sid) return;
      fetch(cfg.apiBase + "/api/sessions/" + encodeURIComponent(sid) + "/messages?after=" + lastId, {headers: headers({})})
        .then(function (r) { return r.ok ? r.json() : {messages: []}; })
        .then(function (d) {
          (d.messages || []).forEach(function (m) {
            lastId = Math.max(lastId, m.id);
            if (m.role === "agent") addMsg("agent", "Support agent: " + m.text);
          });
        }).catch(function () {});
    }, 3000);
  }

  // The shopper's 1-5 rating of the conversation (CSAT by intent and by experiment arm in Insights);
  // hidden until the assistant has answered once.
  function rateBar() {
    var bar = el("div", "aisle-w-rate", "Rate this chat: ");
    bar.hidden = true;
    [1, 2, 3, 4, 5].forEach(function (n) {
      bar.appendChild(button("\u2605" + n, "Rate this conversation " + n + " of 5", function () {
        postEvent("rating", null, n);
        bar.textContent = "Thanks for rating: " + n + " of 5.";
      }));
    });
    return bar;
  }

  function build() {
    root = el("div", "aisle-w");
    root.style.setProperty("--aisle-color", cfg.color);
    var bubble = el("button", "aisle-w-bubble", "Chat");
    bubble.type = "button";
    bubble.setAttribute("aria-label", "Open shopping assistant chat");
    bubble.setAttribute("aria-expanded", "false");
    var panel = el("div", "aisle-w-panel");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", "Shopping assistant");
    var head = el("div", "aisle-w-head", cfg.title);
    var close = el("button", "aisle-w-close", "\u00d7");
    close.type = "button";
    close.setAttribute("aria-label", "Close chat");
    head.appendChild(close);
    var log = el("div", "aisle-w-log");
    log.setAttribute("aria-live", "polite");
    var form = el("form", "aisle-w-form");
    var input = el("input", "aisle-w-input");
    input.type = "text"; input.maxLength = 2000;
    input.placeholder = "Ask about products, orders\u2026";
    input.setAttribute("aria-label", "Message");
    var go = el("button", "aisle-w-send", "Send");
    go.type = "submit";
    form.appendChild(input); form.appendChild(go);
    panel.appendChild(head); panel.appendChild(log); panel.appendChild(rateBar()); panel.appendChild(form);
    root.appendChild(panel); root.appendChild(bubble);
    document.body.appendChild(root);
    if (cfg.greeting) addMsg("bot", cfg.greeting);

    function toggle(open) {
      root.classList.toggle("aisle-w-open", open);
      bubble.setAttribute("aria-expanded", String(open));
      (open ? input : bubble).focus();
    }
    bubble.addEventListener("click", function () { toggle(!root.classList.contains("aisle-w-open")); });
    close.addEventListener("click", function () { toggle(false); });
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var t = input.value.trim();
      if (busy || !t) return;  // keep the text: it is sent once the current answer is done
      input.value = "";
      send(t);
    });
  }

  function init(opts) {
    if (root) return window.AisleWidget;
    opts = opts || {};
    var d = (script && script.dataset) || {};
    var base = opts.apiBase || d.apiBase || (script && script.src ? new URL(script.src, location.href).origin : "");
    cfg = {apiBase: base.replace(/\/+$/, ""), color: opts.color || d.color || "#2563eb",
           greeting: opts.greeting != null ? opts.greeting : (d.greeting || "Hi! What are you looking for today?"),
           title: opts.title || d.title || "Shopping assistant",
           customerToken: opts.customerToken || d.customerToken || null};
    sid = loadSid();
    clientKey = browserKey();
    if (!document.querySelector("link[data-aisle-widget]")) {
      var css = document.createElement("link");
      css.rel = "stylesheet"; css.href = cfg.apiBase + "/widget.css";
      css.setAttribute("data-aisle-widget", "");
      document.head.appendChild(css);
    }
    if (document.body) build(); else document.addEventListener("DOMContentLoaded", build);
    return window.AisleWidget;
  }

  window.AisleWidget = {init: init, send: function (t) { send(t); }, sessionId: function () { return sid; },
                        setCustomerToken: function (t) { cfg.customerToken = t || null; }};
  if (!(script && script.hasAttribute("data-manual"))) init();
})();

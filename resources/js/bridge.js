// Trickle: the page bridge, ISOLATED world (ApplicationWorld), every frame, DocumentCreation.
//
// What this owns: the only JS that can reach QWebChannel for a page. qwebchannel.js is prepended
// to this file by ui/webmonetization/scripts.py. It hands one end of a MessageChannel to the
// main-world façade (webmonetization.js) in a nonce-tagged window message, then relays façade
// calls to the Python bridge object `trickleBridge` and Python's replies/events back.
//
// Invariants:
// * Page scripts cannot see this world's globals (`qt`, `QWebChannel`, the port end we keep).
// * Every relayed call carries this document's random id (made here, at document creation) and
//   `location.href` read here — the page cannot forge either. Python drops calls and pushes
//   that do not match the current document.
// * Messages from the façade are shape- and size-checked before they go to Python; Python
//   checks them again.
// * User activation is re-read here (`navigator.userActivation.isActive`) when a call arrives;
//   Python only sees `activation: true` when both worlds saw it.
(function () {
  "use strict";
  if (window.__trickleBridgeInstalled === true) return; // idempotent (isolated-world global)
  window.__trickleBridgeInstalled = true;

  const NONCE = "__TRICKLE_NONCE__";
  const HANDSHAKE_KEY = "__trickle_wm_handshake";
  const MAX_CALL_JSON = 65536;
  const METHODS = new Set([
    "register",
    "monetize",
    "connection.createStream",
    "connection.close",
    "stream.setReceiveMax",
    "stream.receiveTotal",
    "stream.setSendMax",
    "stream.sendTotal",
    "stream.send",
    "stream.close",
  ]);
  // a random id per document (crypto.randomUUID needs a secure context; this does not)
  const docId = (function () {
    const b = crypto.getRandomValues(new Uint8Array(16));
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  })();
  const channel = new MessageChannel();
  const port = channel.port1;
  let bridge = null;
  let unavailable = false;
  const queue = [];

  function reply(id, ok, payload) {
    const message = { t: "result", id: id, ok: ok };
    if (ok) message.value = payload;
    else message.error = payload;
    port.postMessage(message);
  }

  function toBase64(bytes) {
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  }

  function fromBase64(text) {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function onFacadeMessage(event) {
    const msg = event.data;
    if (msg === null || typeof msg !== "object" || msg.t !== "call") return;
    const id = msg.id;
    if (!Number.isSafeInteger(id) || id < 1) return;
    if (typeof msg.method !== "string" || !METHODS.has(msg.method)) {
      reply(id, false, { name: "TypeError", message: "Unknown method" });
      return;
    }
    if (msg.args === null || typeof msg.args !== "object") {
      reply(id, false, { name: "TypeError", message: "Bad arguments" });
      return;
    }
    const args = Object.assign({}, msg.args);
    if (args.bytes instanceof Uint8Array) args.bytes = toBase64(args.bytes);
    let json;
    try {
      json = JSON.stringify({
        doc: docId,
        url: location.href,
        origin: self.origin,
        id: id,
        method: msg.method,
        args: args,
        activation: msg.activation === true && navigator.userActivation.isActive === true,
      });
    } catch (err) {
      reply(id, false, { name: "TypeError", message: "Arguments are not serialisable" });
      return;
    }
    if (json.length > MAX_CALL_JSON) {
      reply(id, false, { name: "RangeError", message: "Arguments too large" });
      return;
    }
    if (unavailable) {
      reply(id, false, {
        name: "NotAllowedError",
        message: "Web Monetization is not available on this page",
      });
    } else if (bridge === null) {
      queue.push(json);
    } else {
      bridge.call(json);
    }
  }

  function onPush(json) {
    let msg;
    try {
      msg = JSON.parse(json);
    } catch (err) {
      return;
    }
    if (msg === null || typeof msg !== "object" || msg.doc !== docId) return;
    const payload = msg.payload;
    if (payload && payload.t === "link") {
      linkPush(payload);
      return;
    }
    if (payload && payload.t === "event" && typeof payload.data === "string") {
      payload.data = fromBase64(payload.data);
    }
    port.postMessage(payload);
  }

  function markUnavailable() {
    unavailable = true;
    for (const json of queue.splice(0)) {
      reply(JSON.parse(json).id, false, {
        name: "NotAllowedError",
        message: "Web Monetization is not available on this page",
      });
    }
  }

  /*__TRICKLE_LINK_TAGS__*/

  port.onmessage = onFacadeMessage;
  const handshake = {};
  handshake[HANDSHAKE_KEY] = NONCE;
  window.postMessage(handshake, "*", [channel.port2]);

  if (!isTop) {
    markUnavailable(); // the façade's calls are refused in iframes; links go to the top
    if (firstLevel) {
      window.parent.postMessage(frameMessage("hello", {}), "*");
      linksReady();
    }
    return;
  }
  if (typeof qt === "undefined" || !qt.webChannelTransport) {
    markUnavailable();
    return;
  }
  const webChannel = new QWebChannel(qt.webChannelTransport, function (channel) {
    const obj = channel.objects.trickleBridge;
    if (!obj) {
      markUnavailable();
      return;
    }
    obj.toPage.connect(onPush);
    obj.hello(JSON.stringify({ doc: docId, url: location.href }));
    bridge = obj;
    for (const json of queue.splice(0)) bridge.call(json);
    linksReady();
  });
  // A push meant for the previous document of this page can arrive while this one's channel
  // is still initialising; qwebchannel.js would warn "Unhandled signal". It is not ours: drop.
  const handleSignal = webChannel.handleSignal;
  webChannel.handleSignal = function (message) {
    if (webChannel.objects[message.object]) handleSignal.call(webChannel, message);
  };
  // Likewise an answer to a call the previous document made (its callbacks went with it; seen
  // when a page navigates to about:blank or a blob: URL with a call still out).
  const handleResponse = webChannel.handleResponse;
  webChannel.handleResponse = function (message) {
    if (typeof webChannel.execCallbacks[message.id] === "function") {
      handleResponse.call(webChannel, message);
    }
  };
})();

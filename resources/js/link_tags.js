  // ---- today's Web Monetization in the page bridge: <link rel="monetization">, first-level
  // iframes' links, the Coil-era <meta name="monetization"> ------------------------------------
  // A fragment of bridge.js (ui/webmonetization/scripts.py inserts it at the marker there), so it
  // shares that closure: the document id, the Python bridge object, the façade's port.
  // ---- <link rel="monetization"> (WICG Web Monetization) -----------------------------------
  // Links are found here, where page scripts cannot interfere: a MutationObserver sees links
  // added, removed or changed (rel, href, disabled, type, crossorigin) by the parser or by
  // scripts. Each link with a valid https: href gets a payment session in Python (linkStart);
  // a change of href, type or crossorigin starts a new one (WICG: "the appropriate times to
  // fetch and process this type of link"); removal, `disabled` or a type other than
  // application/json stops it (linkStop). `load`/`error` are fired at the link from here; a
  // payment goes to the façade (the page's MonetizationEvent lives in the main world): its
  // fields through the port, the link itself by a nonce-named event that the façade's first
  // capture listener stops.
  //
  // First-level iframes: QWebChannel does not reach subframes, so this script (which runs in
  // every frame) relays an iframe's links to the top-level document's copy in window messages
  // tagged FRAME_KEY; the top-level copy finds the <iframe> whose window sent them, adds its
  // `allow` attribute, its src origin and the sender's origin (which the iframe cannot forge),
  // and Python decides (Permissions Policy, CSP) and pays out of the top-level document's
  // session. Pushes go back to that window, for that frame document only. Deeper frames, and
  // documents that are not secure contexts, monetize nothing.
  //
  // Documents nobody sees: a prerendering document starts nothing until it is activated; a
  // document put in the back/forward cache stops its sessions (pagehide, persisted) and starts
  // new ones when restored (pageshow, persisted) — a session belongs to one showing of one
  // document, so no time is paid twice.
  const LINK_EVENT = "__trickle_link_" + NONCE;
  const FRAME_KEY = "__trickle_wm_frame";
  const MAX_HREF = 2048;
  const MAX_POLICY = 4096;
  const MAX_FRAME_LINKS = 64;
  const isTop = window === window.top;
  const firstLevel = !isTop && window.parent === window.top;
  const sessions = new Map(); // link element -> {id, key, started}
  const elements = new Map(); // session id -> link element
  const frameLinks = new Map(); // (top) session id -> {source, doc, link, origin}
  // (top) iframe window -> its current document: {doc, allow, src} — the container policy as
  // it was when that document came ("The allow attribute only takes effect when the navigable
  // content of the iframe is navigated")
  const frameDocs = new Map();
  const frameQueue = []; // (top) frame messages that came before the channel was up
  // (iframe) proves a push comes from the top-level bridge: the top-level page cannot read it
  // (our capture listener, the first on its window, stops the messages that carry it), so it
  // cannot make this frame's links see payments that were never made
  const frameKey = Array.from(crypto.getRandomValues(new Uint8Array(16)), (x) =>
    x.toString(16).padStart(2, "0")
  ).join("");
  let nextLink = 1;
  let shown = !(document.prerendering === true);

  // The document's own policy headers (Permissions-Policy, Content-Security-Policy), read from
  // the HTTP cache where Chromium stored its response: QtWebEngine reports a main frame's
  // headers only when its load ends (never, for a page with a hanging image), and an iframe's
  // never. `only-if-cached` sends nothing to the network; a response that said no-store is not
  // there (and doomed what was), so what is found is this document's response. null: not
  // known (Python then waits for Qt's, or, for an iframe, knows its meta policies only). Read
  // once, when the document first has a link to decide (most documents never do).
  const docUrl = location.href;
  let headersRead = null;

  function ownHeaders() {
    if (headersRead === null) {
      headersRead = readOwnHeaders();
      if (isTop) headersRead.then(toPython);
    }
    return headersRead;
  }

  function readOwnHeaders() {
    if (!window.isSecureContext || !/^https?:$/.test(location.protocol)) {
      return Promise.resolve(null);
    }
    const request = {
      cache: "only-if-cached",
      mode: "same-origin",
      credentials: "include",
      redirect: "error",
    };
    return fetch(docUrl, request).then(
      function (response) {
        const out = {};
        for (const name of ["permissions-policy", "content-security-policy"]) {
          const value = response.headers.get(name); // (several lines: joined by ", ")
          if (value === null) continue;
          if (value.length > MAX_POLICY) return null; // not all of it: as if unknown
          out[name] = [value];
        }
        return out;
      },
      function () {
        return null;
      }
    );
  }

  function toPython(headers) {
    if (headers !== null && bridge !== null) {
      bridge.documentHeaders(JSON.stringify({ doc: docId, url: docUrl, headers: headers }));
    }
  }

  // (top) a link's session, asked of Python (which decides once the policy is known)
  function linkStartTop(msg) {
    ownHeaders();
    bridge.linkStart(JSON.stringify(msg));
  }

  // (iframe) what goes to the top-level copy, in order, once the headers are known; nothing
  // after the document said it is gone (pagehide)
  let toTop = Promise.resolve(null);
  let gone = false;

  function whenHeadersKnown(op, fields) {
    toTop = toTop.then(ownHeaders).then(function (headers) {
      if (!gone) window.parent.postMessage(frameMessage(op, fields(headers)), "*");
      return headers;
    });
  }

  function linkKey(el) {
    if (!el.isConnected || el.hasAttribute("disabled")) return null;
    if (!el.relList.contains("monetization")) return null;
    const type = el.getAttribute("type");
    // "The default type for resources given by the monetization keyword is application/json"
    if (type !== null && type.trim() !== "") {
      const essence = type.split(";")[0].trim().toLowerCase();
      if (essence !== "application/json") return null; // an unsupported type: not obtained
    }
    return { href: el.getAttribute("href") || "", cors: el.getAttribute("crossorigin"), type: type };
  }

  function sameKey(a, b) {
    return a.href === b.href && a.cors === b.cors && a.type === b.type;
  }

  function httpsUrl(href) {
    if (href.length > MAX_HREF) return null;
    try {
      const url = new URL(href, document.baseURI);
      return url.protocol === "https:" && !url.username && !url.password ? url.href : null;
    } catch (err) {
      return null;
    }
  }

  // <meta http-equiv="Content-Security-Policy"> in the head (HTML: only there does it apply)
  function metaPolicies() {
    const out = [];
    if (!document.head) return out;
    for (const meta of document.head.querySelectorAll("meta[http-equiv]")) {
      const name = (meta.getAttribute("http-equiv") || "").trim().toLowerCase();
      const content = meta.getAttribute("content");
      if (name === "content-security-policy" && content && content.length <= MAX_POLICY) {
        out.push(content);
      }
      if (out.length >= 8) break;
    }
    return out;
  }

  function fireAt(el, type) {
    setTimeout(function () {
      el.dispatchEvent(new Event(type));
    }, 0);
  }

  // Where a link's session is asked for: Python (top-level) or the top-level copy (iframe).
  function sendStart(msg) {
    if (isTop) linkStartTop(msg);
    else {
      whenHeadersKnown("start", function (headers) {
        return Object.assign({ headers: headers }, msg);
      });
    }
  }

  function sendStop(id) {
    if (isTop) bridge.linkStop(JSON.stringify({ doc: docId, link: id }));
    else {
      whenHeadersKnown("stop", function () {
        return { link: id };
      });
    }
  }

  function frameMessage(op, fields) {
    const body = Object.assign({ op: op, doc: docId, key: frameKey }, fields);
    const message = {};
    message[FRAME_KEY] = body;
    return message;
  }

  function stopLink(el) {
    const session = sessions.get(el);
    if (!session) return;
    sessions.delete(el);
    elements.delete(session.id);
    if (session.started) sendStop(session.id);
  }

  function startLink(el, key) {
    const id = "l" + nextLink++;
    const url = httpsUrl(key.href);
    const session = { id: id, key: key, started: url !== null };
    sessions.set(el, session);
    elements.set(id, el);
    if (url === null) {
      fireAt(el, "error"); // not https: nothing is fetched (as the extension does)
      return;
    }
    sendStart({
      doc: docId,
      url: location.href,
      origin: self.origin,
      link: id,
      href: url,
      csp: metaPolicies(),
    });
  }

  function monetizing() {
    if (!shown || !window.isSecureContext) return false;
    return isTop ? bridge !== null && !unavailable : firstLevel;
  }

  function scanLinks() {
    if (isTop) pruneFrames();
    if (!monetizing()) return;
    const live = new Set();
    for (const el of document.querySelectorAll("link")) {
      const key = linkKey(el);
      if (key === null) continue;
      live.add(el);
      const session = sessions.get(el);
      if (session && sameKey(session.key, key)) continue;
      if (session) stopLink(el);
      startLink(el, key);
    }
    for (const el of Array.from(sessions.keys())) if (!live.has(el)) stopLink(el);
    if (isTop) scanMeta();
  }

  function stopAllLinks() {
    stopMeta(false);
    for (const el of Array.from(sessions.keys())) stopLink(el);
    if (isTop) for (const source of Array.from(frameDocs.keys())) stopFrame(source);
  }

  function linkPush(payload) {
    if (isTop && typeof payload.link === "string" && frameLinks.has(payload.link)) {
      const f = frameLinks.get(payload.link);
      const body = { link: f.link, kind: payload.kind };
      if (payload.kind === "monetization") body.fields = payload.fields;
      const message = {};
      message[FRAME_KEY] = Object.assign({ op: "push", doc: f.doc, key: f.key }, body);
      f.source.postMessage(message, f.origin);
      return;
    }
    if (meta !== null && payload.link === meta.id) {
      metaPush(payload);
      return;
    }
    const el = typeof payload.link === "string" ? elements.get(payload.link) : undefined;
    if (el === undefined) return; // stopped meanwhile
    if (payload.kind === "load" || payload.kind === "error") {
      el.dispatchEvent(new Event(payload.kind));
    } else if (payload.kind === "monetization" && payload.fields) {
      port.postMessage({ t: "monetization", fields: payload.fields });
      el.dispatchEvent(new Event(LINK_EVENT)); // the façade queues el for the message above
    }
  }

  // ---- (top-level) the first-level iframes' links --------------------------------------------

  function iframeOf(source) {
    if (source === null || source === window) return null;
    for (const el of document.querySelectorAll("iframe, frame")) {
      if (el.contentWindow === source) return el;
    }
    return null;
  }

  function srcOrigin(el) {
    if (el.hasAttribute("srcdoc")) return self.origin;
    try {
      return new URL(el.getAttribute("src") || "about:blank", document.baseURI).origin;
    } catch (err) {
      return "null";
    }
  }

  function stopFrame(source) {
    frameDocs.delete(source);
    for (const [id, f] of Array.from(frameLinks)) {
      if (f.source !== source) continue;
      frameLinks.delete(id);
      bridge.linkStop(JSON.stringify({ doc: docId, link: id }));
    }
  }

  function pruneFrames() {
    for (const source of Array.from(frameDocs.keys())) {
      if (iframeOf(source) === null) stopFrame(source);
    }
  }

  function strings(list, max, each) {
    if (!Array.isArray(list)) return [];
    return list.filter((v) => typeof v === "string" && v.length <= each).slice(0, max);
  }

  // (top) the policy headers an iframe read from its own response, or null (not known: never
  // a policy with a part left out)
  function frameHeaders(headers) {
    if (headers === null || typeof headers !== "object") return null;
    const out = {};
    for (const name of ["permissions-policy", "content-security-policy"]) {
      if (!(name in headers)) continue;
      const values = headers[name];
      if (!Array.isArray(values) || values.length !== 1) return null;
      if (typeof values[0] !== "string" || values[0].length > MAX_POLICY) return null;
      out[name] = [values[0]];
    }
    return out;
  }

  function onFrameMessage(event) {
    const data = event.data;
    const m = data !== null && typeof data === "object" ? data[FRAME_KEY] : undefined;
    if (m === null || typeof m !== "object" || typeof m.doc !== "string" || m.doc.length > 64) {
      return;
    }
    event.stopImmediatePropagation(); // ours: page listeners need not see it
    if (!isTop) {
      if (event.source === window.parent && m.op === "push" && m.doc === docId && m.key === frameKey) {
        linkPush(m);
      }
      return;
    }
    if (bridge === null && !unavailable) {
      if (frameQueue.length < MAX_FRAME_LINKS) frameQueue.push(event);
      return;
    }
    fromFrame(event, m);
  }

  function fromFrame(event, m) {
    const source = event.source;
    const el = iframeOf(source);
    // an opaque origin (a sandboxed frame) is on no allowlist, and cannot be answered by origin
    if (el === null || event.origin === "null" || !monetizing()) return;
    let current = frameDocs.get(source);
    if (current === undefined || current.doc !== m.doc) {
      if (m.op === "gone" || m.op === "stop") return; // an earlier document of that frame
      stopFrame(source); // the frame navigated: its previous document's sessions end
      current = {
        doc: m.doc,
        allow: (el.getAttribute("allow") || "").slice(0, MAX_POLICY),
        src: srcOrigin(el),
      };
      frameDocs.set(source, current);
    }
    if (m.op === "gone") {
      stopFrame(source);
      return;
    }
    const local = typeof m.link === "string" && /^l[0-9]{1,9}$/.test(m.link) ? m.link : null;
    if (local === null) return;
    if (m.op === "stop") {
      for (const [id, f] of Array.from(frameLinks)) {
        if (f.source === source && f.link === local) {
          frameLinks.delete(id);
          bridge.linkStop(JSON.stringify({ doc: docId, link: id }));
        }
      }
    } else if (m.op === "start" && typeof m.href === "string" && frameLinks.size < MAX_FRAME_LINKS) {
      const id = "l" + nextLink++;
      const key = typeof m.key === "string" ? m.key.slice(0, 64) : "";
      frameLinks.set(id, { source: source, doc: m.doc, link: local, origin: event.origin, key: key });
      linkStartTop({
        doc: docId,
        url: location.href,
        origin: self.origin,
        link: id,
        href: m.href.slice(0, MAX_HREF + 1),
        csp: strings(m.csp, 8, MAX_POLICY),
        frame: {
          origin: event.origin,
          src: current.src,
          allow: current.allow,
          headers: frameHeaders(m.headers),
        },
      });
    }
  }

  // ---- (top-level) <meta name="monetization" content="$pointer">: the Coil-era tag -----------
  // The first such meta in the head is paid over SPSP (a session like a link's, id "m<n>"), and
  // the façade's `document.monetization` (main world) is told each state and event, as Coil's
  // extension did: monetizationpending {paymentPointer, requestId} when a session starts (the
  // site's policy allowing it: a refused meta sees no event at all);
  // monetizationstart before the first monetizationprogress {paymentPointer, requestId, amount,
  // assetCode, assetScale, receipt}; monetizationstop {paymentPointer, requestId, finalized} —
  // finalized when the meta was removed or changed, not when the session stopped otherwise.
  let meta = null; // {id, pointer, requestId, state, paused}

  function metaPointer() {
    const el = document.head ? document.head.querySelector('meta[name="monetization"]') : null;
    const pointer = el ? (el.getAttribute("content") || "").trim() : "";
    return pointer === "" ? null : pointer;
  }

  // "$host/path" -> https://host/path; "$host" -> https://host/.well-known/pay
  function pointerUrl(pointer) {
    if (!/^\$[^\s/?#$]+/.test(pointer) || pointer.length > MAX_HREF) return null;
    const url = httpsUrl("https://" + pointer.slice(1));
    return url === null || url.includes("?") || url.includes("#") ? null : url;
  }

  function coil(type, state, detail) {
    port.postMessage({ t: "coil", type: type, state: state, detail: detail });
  }

  function stopMeta(finalized) {
    if (meta === null) return;
    const m = meta;
    meta = null;
    bridge.linkStop(JSON.stringify({ doc: docId, link: m.id }));
    if (m.state !== "stopped") {
      coil("monetizationstop", "stopped", {
        paymentPointer: m.pointer,
        requestId: m.requestId,
        finalized: finalized,
      });
    }
  }

  function scanMeta() {
    const pointer = monetizing() ? metaPointer() : null;
    if (meta !== null && meta.pointer === pointer) return;
    stopMeta(true); // removed or changed: this request is over for good
    if (pointer === null || pointerUrl(pointer) === null) return;
    // "stopped" until Python starts the session (its "pending": the site's policy allows it)
    meta = { id: "m" + nextLink++, pointer: pointer, requestId: crypto.randomUUID(), state: "stopped" };
    linkStartTop({
      doc: docId,
      url: location.href,
      origin: self.origin,
      link: meta.id,
      href: pointer,
      csp: metaPolicies(),
    });
  }

  function metaPush(payload) {
    const base = { paymentPointer: meta.pointer, requestId: meta.requestId };
    if (payload.kind === "pending" && meta.state === "stopped") {
      meta.state = "pending";
      coil("monetizationpending", "pending", base);
    } else if (payload.kind === "monetization" && payload.units) {
      // (after a stop that was not final — the session restarted — the same request goes on;
      // while hidden, what was in flight still lands and is reported, the state unchanged)
      if (meta.state !== "started" && !meta.paused) {
        meta.state = "started";
        coil("monetizationstart", "started", base);
      }
      coil(
        "monetizationprogress",
        meta.state,
        Object.assign(
          {
            amount: String(payload.units.amount),
            assetCode: String(payload.units.assetCode),
            assetScale: Number(payload.units.assetScale),
            receipt: null,
          },
          base
        )
      );
    } else if (payload.kind === "resumed" && meta.state === "stopped" && meta.paused) {
      meta.paused = false; // shown again: pending until the next payment starts it
      meta.state = "pending";
      coil("monetizationpending", "pending", base);
    } else if (payload.kind === "paused" && meta.state !== "stopped") {
      meta.paused = true; // hidden: nothing is paid meanwhile (not final: the request goes on)
      meta.state = "stopped";
      coil("monetizationstop", "stopped", Object.assign({ finalized: false }, base));
    } else if ((payload.kind === "error" || payload.kind === "stop") && meta.state !== "stopped") {
      meta.state = "stopped"; // not finalized: the same request could go on
      coil("monetizationstop", "stopped", Object.assign({ finalized: false }, base));
    }
  }

  function linksReady() {
    for (const event of frameQueue.splice(0)) fromFrame(event, event.data[FRAME_KEY]);
    scanLinks();
  }

  window.addEventListener("message", onFrameMessage, true);
  new MutationObserver(scanLinks).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["rel", "href", "disabled", "type", "crossorigin", "name", "content"],
  });
  if (!shown) {
    document.addEventListener(
      "prerenderingchange",
      function () {
        shown = true;
        scanLinks();
      },
      { once: true }
    );
  }
  // (Untrusted events are honoured too: a page that fakes them only pauses or restarts its own
  // sessions, never pays twice — the document's rate is shared by all its sessions.)
  window.addEventListener("pagehide", function (event) {
    if (!isTop && firstLevel) {
      gone = true;
      window.parent.postMessage(frameMessage("gone", {}), "*");
    }
    if (event.persisted) {
      shown = false; // into the back/forward cache: nothing is paid for it there
      stopAllLinks();
    }
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    stopAllLinks(); // (none after a pagehide) a session belongs to one showing of the document
    shown = true;
    if (isTop && bridge !== null) bridge.hello(JSON.stringify({ doc: docId, url: location.href }));
    if (!isTop && firstLevel) {
      gone = false;
      window.parent.postMessage(frameMessage("hello", {}), "*");
    }
    scanLinks();
  });

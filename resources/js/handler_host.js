// Trickle: the handler host page (trickle://handler-host/), MAIN world of our own page.
//
// What this owns: one <iframe> per registered handler URL, and postMessage to and from it.
// The page is app-owned and hidden; no site's content ever runs here, and the handler iframe
// loads with referrerpolicy="no-referrer", so the handler learns nothing about which site is
// paid. QWebChannel (`trickleHandlerHost`) is set on this page's main world; the handler is a
// cross-origin subframe and cannot reach it.
//
// Invariants: messages go to the handler with its exact origin as targetOrigin; messages from
// it are accepted only when `event.source` is that iframe's window AND `event.origin` is that
// origin, and only with the spec's shapes ({id, request} | {id, response} | {id, error,
// errorName?}, all strings, bounded); Python checks ids (unguessable, single use) again.
(function () {
  "use strict";
  const MAX_FIELD = 65536;
  const frames = new Map(); // key -> {iframe, origin}

  function isShort(value) {
    return typeof value === "string" && value.length <= MAX_FIELD;
  }

  function sanitize(data) {
    if (data === null || typeof data !== "object" || typeof data.id !== "string") return null;
    if (data.id.length === 0 || data.id.length > 256) return null;
    if (isShort(data.request)) return { id: data.id, request: data.request };
    if (isShort(data.response)) return { id: data.id, response: data.response };
    if (isShort(data.error)) {
      const out = { id: data.id, error: data.error.slice(0, 1000) };
      if (isShort(data.errorName)) out.errorName = data.errorName.slice(0, 100);
      return out;
    }
    return null;
  }

  new QWebChannel(qt.webChannelTransport, function (channel) {
    const host = channel.objects.trickleHandlerHost;

    window.addEventListener("message", function (event) {
      // `source` and `origin` are read before `data`, always: data is deserialised when first
      // read, and Chromium deliberately slows that down for a cross-origin message whose
      // origin was not read first (Blink's MaskDeserializationTimeForCrossOriginMessages;
      // about 1.6 ms a message on a 2-core test machine).
      for (const [key, frame] of frames) {
        if (event.source === frame.iframe.contentWindow && event.origin === frame.origin) {
          const message = sanitize(event.data);
          if (message !== null) host.fromHandler(JSON.stringify({ key: key, message: message }));
          return;
        }
      }
    });

    host.openFrame.connect(function (json) {
      const spec = JSON.parse(json);
      if (frames.has(spec.key)) return;
      const iframe = document.createElement("iframe");
      iframe.name = spec.key;
      iframe.referrerPolicy = "no-referrer";
      iframe.setAttribute("referrerpolicy", "no-referrer");
      iframe.addEventListener("load", function () {
        host.frameLoaded(spec.key);
      });
      iframe.src = spec.url;
      frames.set(spec.key, { iframe: iframe, origin: spec.origin });
      document.body.appendChild(iframe);
    });

    host.closeFrame.connect(function (key) {
      const frame = frames.get(key);
      if (frame === undefined) return;
      frames.delete(key);
      frame.iframe.remove();
    });

    host.toHandler.connect(function (json) {
      const msg = JSON.parse(json);
      const frame = frames.get(msg.key);
      if (frame === undefined || frame.iframe.contentWindow === null) return;
      frame.iframe.contentWindow.postMessage(msg.message, frame.origin);
    });

    host.ready();
  });
})();

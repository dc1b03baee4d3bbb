// Trickle: window.WebMonetization (Web Monetization draft 4), MAIN world, DocumentCreation.
//
// What this owns: the page-facing façade. It holds no authority of its own: every call goes
// through a private MessagePort to the isolated-world bridge (bridge.js), which alone can reach
// QWebChannel, and every call is re-checked in Python.
//
// Invariants:
// * `window.WebMonetization` is a non-writable, non-configurable property holding a frozen
//   object with exactly `register` and `monetize`; IlpConnection/IlpStream prototypes are frozen
//   and their constructors refuse page calls ("Illegal constructor").
// * The port arrives once, in a window `message` carrying the per-profile nonce that Python
//   wrote into this source (the NONCE constant below). Our capture listener is the first one on
//   window (installed before any page script) and stops the event, so no page listener sees the
//   port; after the handshake the listener is removed and nonce messages are ignored.
// * Built-ins are captured here, before page scripts run, and called through `Reflect.apply`, so
//   a page that patches prototypes (MessagePort.prototype.postMessage, Map, Promise...) never
//   receives the port or our internal state as `this`.
// * In subframes the façade exists but both methods reject with NotAllowedError (QWebChannel
//   only reaches the main frame; see ui/webmonetization/scripts.py).
//
// Limits of the user-activation check: `navigator.userActivation.isActive` is *transient*
// activation (Chromium: ~5 s after a click/key press, shared by every script in the frame). It
// proves a recent gesture in this frame, not that the gesture was meant for `register`. The
// isolated world re-reads it when the call arrives; both must be true.
(function () {
  "use strict";
  const NONCE = "__TRICKLE_NONCE__";
  const HANDSHAKE_KEY = "__trickle_wm_handshake";

  const apply = Reflect.apply;
  const defineProperty = Object.defineProperty;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const freeze = Object.freeze;
  const create = Object.create;
  const hasOwn = Object.hasOwn;
  const keys = Object.keys;
  const _Promise = Promise;
  const _Error = Error;
  const _TypeError = TypeError;
  const _RangeError = RangeError;
  const _Event = Event;
  const _Uint8Array = Uint8Array;
  const _ArrayBuffer = ArrayBuffer;
  const _BigInt = BigInt;
  const _isSafeInteger = Number.isSafeInteger;
  const _String = String;
  const _regexTest = RegExp.prototype.test;
  const _addEventListener = EventTarget.prototype.addEventListener;
  const _removeEventListener = EventTarget.prototype.removeEventListener;
  const _dispatchEvent = EventTarget.prototype.dispatchEvent;
  const _stopImmediatePropagation = Event.prototype.stopImmediatePropagation;
  const _portPostMessage = MessagePort.prototype.postMessage;
  const _portStart = MessagePort.prototype.start;
  const _msgData = getOwnPropertyDescriptor(MessageEvent.prototype, "data").get;
  const _msgPorts = getOwnPropertyDescriptor(MessageEvent.prototype, "ports").get;
  const _msgSource = getOwnPropertyDescriptor(MessageEvent.prototype, "source").get;
  const _userActivation = navigator.userActivation;
  const _isActiveGetter = _userActivation
    ? getOwnPropertyDescriptor(Object.getPrototypeOf(_userActivation), "isActive").get
    : null;
  const _setTimeout = setTimeout;
  const _win = window;
  const _top = window.top;

  if (getOwnPropertyDescriptor(_win, "WebMonetization")) {
    return; // idempotent: already installed in this document
  }

  const U64_MAX = _BigInt("18446744073709551615");
  const DIGITS = /^[0-9]{1,20}$/;
  const isTopLevel = _win === _top;
  const KEY = {}; // constructor token: only this closure can build connections and streams

  function makeError(name, message) {
    let err;
    if (name === "TypeError") err = new _TypeError(message);
    else if (name === "RangeError") err = new _RangeError(message);
    else {
      err = new _Error(message);
      defineProperty(err, "name", { value: _String(name), configurable: true, writable: true });
    }
    return err;
  }

  function userActive() {
    return _isActiveGetter ? apply(_isActiveGetter, _userActivation, []) === true : false;
  }

  // ---- the private channel -------------------------------------------------------------------

  let port = null;
  let nextCallId = 1;
  const pending = create(null); // "c<id>" -> {resolve, reject, onValue}
  const connections = create(null); // conn handle -> IlpConnection

  function onHandshake(event) {
    const data = apply(_msgData, event, []);
    if (data === null || typeof data !== "object" || data[HANDSHAKE_KEY] !== NONCE) {
      return;
    }
    apply(_stopImmediatePropagation, event, []);
    const ports = apply(_msgPorts, event, []);
    if (port !== null || apply(_msgSource, event, []) !== _win || ports.length !== 1) {
      return;
    }
    port = ports[0];
    apply(_removeEventListener, _win, ["message", onHandshake, true]);
    apply(_addEventListener, port, ["message", onPortMessage]);
    apply(_portStart, port, []);
    flushEarly();
  }

  // every frame: an iframe's bridge hands over a port too, for its links' monetization events
  apply(_addEventListener, _win, ["message", onHandshake, true]);

  function send(message) {
    apply(_portPostMessage, port, [message]);
  }

  // Calls made before the handshake completes wait here (the handshake is one task away).
  const early = [];

  // No Promise.prototype.then anywhere: a page may patch it (or `constructor`/species).
  function request(method, args, activation, onValue, onError) {
    if (!isTopLevel) {
      onError(
        makeError(
          "NotAllowedError",
          "Web Monetization is only available in the top-level document, not in iframes",
        ),
      );
      return;
    }
    const id = nextCallId++;
    pending["c" + id] = { onValue: onValue, onError: onError };
    const message = { t: "call", id: id, method: method, args: args, activation: activation };
    if (port === null) early[early.length] = message;
    else send(message);
  }

  function call(method, args, activation, transform) {
    return new _Promise(function (resolve, reject) {
      request(
        method,
        args,
        activation,
        function (value) {
          try {
            resolve(transform(value));
          } catch (err) {
            reject(err);
          }
        },
        reject,
      );
    });
  }

  // Fire-and-forget methods (setReceiveMax, close): failures become "error" events.
  function callVoid(target, method, args) {
    request(method, args, false, snapshotOf(target), function (err) {
      fire(target, "error", { error: err });
    });
  }

  // Every stream/connection method answers with fresh snapshots: fields stay current.
  function snapshotOf(target) {
    return function (value) {
      if (isPlainObject(value)) {
        const s = state(target);
        const conn = s.conn === undefined ? target : s.conn;
        if (value.connFields !== undefined) updateFields(conn, value.connFields);
        if (value.fields !== undefined && conn !== target) updateFields(target, value.fields);
      }
      return undefined;
    };
  }

  function flushEarly() {
    for (let i = 0; i < early.length; i++) send(early[i]);
    early.length = 0;
  }

  function onPortMessage(event) {
    const msg = apply(_msgData, event, []);
    if (msg === null || typeof msg !== "object") return;
    if (msg.t === "result") {
      const key = "c" + msg.id;
      const entry = pending[key];
      if (entry === undefined) return;
      delete pending[key];
      if (msg.ok === true) entry.onValue(msg.value);
      else entry.onError(makeError(msg.error.name, msg.error.message));
    } else if (msg.t === "event") {
      const conn = connections[msg.conn];
      if (conn !== undefined) connectionEvent(conn, msg);
    } else if (msg.t === "monetization") {
      monetizationMessage(msg); // a <link rel="monetization"> was paid (monetization_event.js)
    } else if (msg.t === "coil" && isTopLevel) {
      coilMessage(msg); // the Coil-era <meta name="monetization"> (below)
    }
  }

  // ---- document.monetization: the Coil-era API of <meta name="monetization"> (top level) ---------
  // An EventTarget with a read-only `state` ("stopped" | "pending" | "started"), frozen, on a
  // non-writable, non-configurable `document.monetization`. The isolated world decides state and
  // events (bridge.js); here they become CustomEvents whose `detail` holds only known fields,
  // as plain values, dispatched through the captured built-ins.
  const COIL_TYPES = {
    monetizationpending: true,
    monetizationstart: true,
    monetizationprogress: true,
    monetizationstop: true,
  };
  const COIL_STATES = { stopped: true, pending: true, started: true };
  const COIL_FIELDS = {
    paymentPointer: "string",
    requestId: "string",
    amount: "string",
    assetCode: "string",
    assetScale: "number",
    receipt: "string",
    finalized: "boolean",
  };
  const _CustomEvent = CustomEvent;
  let coilState = "stopped";
  let coilTarget = null;
  if (isTopLevel) {
    coilTarget = new EventTarget();
    defineProperty(coilTarget, "state", {
      get: function () {
        return coilState;
      },
      enumerable: true,
    });
    freeze(coilTarget);
    defineProperty(document, "monetization", {
      value: coilTarget,
      writable: false,
      enumerable: true,
      configurable: false,
    });
  }

  function coilMessage(msg) {
    const type = msg.type;
    const detail = msg.detail;
    if (!hasOwn(COIL_TYPES, type) || !hasOwn(COIL_STATES, msg.state) || !isPlainObject(detail)) {
      return;
    }
    const clean = create(null);
    const names = keys(COIL_FIELDS);
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (!hasOwn(detail, name)) continue;
      const value = detail[name];
      if (value === null || typeof value === COIL_FIELDS[name]) clean[name] = value;
    }
    const plain = {};
    const present = keys(clean);
    for (let i = 0; i < present.length; i++) {
      defineProperty(plain, present[i], { value: clean[present[i]], enumerable: true });
    }
    coilState = msg.state;
    apply(_dispatchEvent, coilTarget, [new _CustomEvent(type, { detail: freeze(plain) })]);
  }

  // ---- validation shared by the façade --------------------------------------------------------

  function isPlainObject(v) {
    return v !== null && typeof v === "object";
  }

  function amountArg(value, what) {
    let text;
    if (typeof value === "string") text = value;
    else if (typeof value === "number" && _isSafeInteger(value) && value >= 0) text = _String(value);
    else if (typeof value === "bigint" && value >= 0) text = _String(value);
    else throw makeError("TypeError", what + " must be a non-negative integer amount (string)");
    if (!apply(_regexTest, DIGITS, [text])) {
      throw makeError("TypeError", what + " must be a non-negative integer amount (string)");
    }
    if (_BigInt(text) > U64_MAX) {
      throw makeError("RangeError", what + " exceeds the UInt64 maximum 18446744073709551615");
    }
    return _String(_BigInt(text));
  }

  function timeoutArg(value) {
    if (value === undefined) return null;
    if (typeof value !== "number" || !(value >= 0) || value === Infinity) {
      throw makeError("TypeError", "timeout must be a non-negative number of milliseconds");
    }
    return value;
  }

  function rejected(error) {
    return new _Promise(function (_resolve, reject) {
      reject(error);
    });
  }

  // ---- IlpConnection / IlpStream --------------------------------------------------------------

  function defineHandler(proto, type) {
    defineProperty(proto, "on" + type, {
      get: function () {
        const fn = privateHandlers(state(this).self)[type];
        return typeof fn === "function" ? fn : null;
      },
      set: function (fn) {
        privateHandlers(state(this).self)[type] = typeof fn === "function" ? fn : null;
      },
      enumerable: true,
      configurable: false,
    });
  }

  // on… handlers live in a WeakMap keyed by the object, invoked by an internal listener.
  const handlerStore = new WeakMap();
  const _wmGet = WeakMap.prototype.get;
  const _wmSet = WeakMap.prototype.set;
  function privateHandlers(target) {
    let handlers = apply(_wmGet, handlerStore, [target]);
    if (handlers === undefined) {
      handlers = create(null);
      apply(_wmSet, handlerStore, [target, handlers]);
    }
    return handlers;
  }

  function fire(target, type, props) {
    const event = new _Event(type);
    if (props !== undefined) {
      const names = keys(props);
      for (let i = 0; i < names.length; i++) {
        defineProperty(event, names[i], { value: props[names[i]], enumerable: true });
      }
    }
    const handler = privateHandlers(target)[type];
    apply(_dispatchEvent, target, [event]);
    if (typeof handler === "function") {
      try {
        apply(handler, target, [event]);
      } catch (err) {
        _setTimeout(function () {
          throw err;
        }, 0);
      }
    }
  }

  const STATE = new WeakMap();
  function state(obj) {
    const s = apply(_wmGet, STATE, [obj]);
    if (s === undefined) throw makeError("TypeError", "Illegal invocation");
    return s;
  }

  class IlpConnection extends EventTarget {
    constructor(token, handle, fields) {
      if (token !== KEY) throw makeError("TypeError", "Illegal constructor");
      super();
      apply(_wmSet, STATE, [
        this,
        { self: this, handle: handle, fields: fields, streams: create(null), next: 1 },
      ]);
    }
    get connectionTag() { return state(this).fields.connectionTag; }
    get lastPacketExchangeRate() { return state(this).fields.lastPacketExchangeRate; }
    get minimumAcceptableExchangeRate() { return state(this).fields.minimumAcceptableExchangeRate; }
    get totalDelivered() { return state(this).fields.totalDelivered; }
    get totalSent() { return state(this).fields.totalSent; }
    get totalReceived() { return state(this).fields.totalReceived; }
    get sourceAssetCode() { return state(this).fields.sourceAssetCode; }
    get sourceAssetScale() { return state(this).fields.sourceAssetScale; }
    get destinationAssetCode() { return state(this).fields.destinationAssetCode; }
    get destinationAssetScale() { return state(this).fields.destinationAssetScale; }
    createStream() {
      const s = state(this);
      if (s.fields.closed === true) throw makeError("InvalidStateError", "The connection is closed");
      const handle = "j" + s.next++;
      const stream = new IlpStream(KEY, this, handle, {
        id: "",
        receiveMax: "0",
        sendMax: "0",
        totalReceived: "0",
        totalSent: "0",
        open: true,
      });
      s.streams[handle] = stream;
      request(
        "connection.createStream",
        { conn: s.handle, stream: handle },
        false,
        function (fields) {
          updateFields(stream, fields);
        },
        function (err) {
          fire(stream, "error", { error: err });
        },
      );
      return stream;
    }
    close() {
      callVoid(this, "connection.close", { conn: state(this).handle });
    }
  }

  class IlpStream extends EventTarget {
    constructor(token, connection, handle, fields) {
      if (token !== KEY) throw makeError("TypeError", "Illegal constructor");
      super();
      apply(_wmSet, STATE, [
        this,
        { self: this, conn: connection, handle: handle, fields: fields },
      ]);
    }
    get id() { return state(this).fields.id; }
    get receiveMax() { return state(this).fields.receiveMax; }
    get sendMax() { return state(this).fields.sendMax; }
    get totalReceived() { return state(this).fields.totalReceived; }
    get totalSent() { return state(this).fields.totalSent; }
    isOpen() {
      return state(this).fields.open === true;
    }
    setReceiveMax(amount) {
      callVoid(this, "stream.setReceiveMax", streamArgs(this, { amount: amountArg(amount, "amount") }));
    }
    receiveTotal(amount, timeout) {
      try {
        const args = streamArgs(this, { amount: amountArg(amount, "amount"), timeout: timeoutArg(timeout) });
        return call("stream.receiveTotal", args, false, snapshotOf(this));
      } catch (err) {
        return rejected(err);
      }
    }
    setSendMax(amount) {
      try {
        const args = streamArgs(this, { amount: amountArg(amount, "amount") });
        return call("stream.setSendMax", args, false, snapshotOf(this));
      } catch (err) {
        return rejected(err);
      }
    }
    sendTotal(amount, timeout) {
      try {
        const args = streamArgs(this, { amount: amountArg(amount, "amount"), timeout: timeoutArg(timeout) });
        return call("stream.sendTotal", args, false, snapshotOf(this));
      } catch (err) {
        return rejected(err);
      }
    }
    send(msg) {
      try {
        let data;
        if (typeof msg === "string") data = { text: msg };
        else if (msg instanceof _Uint8Array) data = { bytes: new _Uint8Array(msg) };
        else if (msg instanceof _ArrayBuffer) data = { bytes: new _Uint8Array(msg.slice(0)) };
        else throw makeError("TypeError", "send() takes a Uint8Array or a String");
        return call("stream.send", streamArgs(this, data), false, snapshotOf(this));
      } catch (err) {
        return rejected(err);
      }
    }
    close() {
      callVoid(this, "stream.close", streamArgs(this, {}));
    }
  }

  function streamArgs(stream, extra) {
    const s = state(stream);
    const args = { conn: state(s.conn).handle, stream: s.handle };
    const names = keys(extra);
    for (let i = 0; i < names.length; i++) args[names[i]] = extra[names[i]];
    return args;
  }

  for (const type of ["stream", "close", "error"]) defineHandler(IlpConnection.prototype, type);
  for (const type of ["data", "money", "outgoing_money", "close", "error"]) {
    defineHandler(IlpStream.prototype, type);
  }
  freeze(IlpConnection.prototype);
  freeze(IlpConnection);
  freeze(IlpStream.prototype);
  freeze(IlpStream);

  function updateFields(target, fields) {
    if (!isPlainObject(fields)) return;
    const current = state(target).fields;
    const names = keys(fields);
    for (let i = 0; i < names.length; i++) {
      const key = names[i];
      if (hasOwn(current, key) || key === "closed") current[key] = fields[key];
    }
  }

  function connectionEvent(conn, msg) {
    const s = state(conn);
    let target = conn;
    if (typeof msg.stream === "string") {
      target = s.streams[msg.stream];
      if (target === undefined) {
        if (msg.type !== "stream") return;
        target = new IlpStream(KEY, conn, msg.stream, {
          id: "",
          receiveMax: "0",
          sendMax: "0",
          totalReceived: "0",
          totalSent: "0",
          open: true,
        });
        s.streams[msg.stream] = target;
      }
    }
    if (msg.connFields !== undefined) updateFields(conn, msg.connFields);
    if (msg.fields !== undefined) updateFields(target, msg.fields);
    switch (msg.type) {
      case "stream":
        fire(conn, "stream", { stream: target });
        break;
      case "data":
        fire(target, "data", { data: msg.data instanceof _Uint8Array ? msg.data : new _Uint8Array(0) });
        break;
      case "money":
      case "outgoing_money":
        fire(target, msg.type, { amount: _String(msg.amount) });
        break;
      case "close":
        fire(target, "close");
        if (target === conn) delete connections[s.handle];
        break;
      case "error":
        fire(target, "error", { error: makeError(msg.error.name, msg.error.message) });
        break;
      default:
        break; // "fields": a snapshot update only
    }
  }

  // ---- the façade ----------------------------------------------------------------------------

  function register(opts) {
    const activation = userActive();
    if (!isPlainObject(opts)) {
      return rejected(makeError("TypeError", "register() takes {name: string, handlerUri: string}"));
    }
    const name = opts.name;
    const handlerUri = opts.handlerUri;
    if (typeof name !== "string" || typeof handlerUri !== "string") {
      return rejected(makeError("TypeError", "register(): name and handlerUri must be strings"));
    }
    if (isTopLevel && !activation) {
      return rejected(
        makeError("NotAllowedError", "register() must be called from a user gesture (a click or key press)"),
      );
    }
    return call("register", { name: name, handlerUri: handlerUri }, activation, function (v) {
      return v === true;
    });
  }

  function monetize(opts) {
    if (!isPlainObject(opts)) {
      return rejected(
        makeError("TypeError", "monetize() takes {destinationAccount: string, sharedSecret: string}"),
      );
    }
    const destinationAccount = opts.destinationAccount;
    const sharedSecret = opts.sharedSecret;
    if (typeof destinationAccount !== "string" || typeof sharedSecret !== "string") {
      return rejected(
        makeError("TypeError", "monetize(): destinationAccount and sharedSecret must be strings"),
      );
    }
    const args = { destinationAccount: destinationAccount, sharedSecret: sharedSecret };
    return call("monetize", args, false, function (value) {
      const conn = new IlpConnection(KEY, value.conn, value.fields);
      connections[value.conn] = conn;
      return conn;
    });
  }

  /*__TRICKLE_MONETIZATION_EVENT__*/

  // Method shorthand gives functions without [[Construct]] and without a `prototype`.
  const facade = {
    register(opts) {
      return register(opts);
    },
    monetize(opts) {
      return monetize(opts);
    },
  };
  freeze(facade);
  defineProperty(_win, "WebMonetization", {
    value: facade,
    writable: false,
    enumerable: false,
    configurable: false,
  });
})();

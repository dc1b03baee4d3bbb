  // ---- today's Web Monetization (WICG): MonetizationEvent, onmonetization, relList ----------
  // A fragment of webmonetization.js (ui/webmonetization/scripts.py inserts it at the marker
  // there), so it shares that closure: the captured built-ins, the port and the nonce.
  //
  // * `MonetizationEvent` (constructor; `amountSent` a `MonetizationCurrencyAmount`,
  //   `paymentPointer`, `incomingPayment`; the deprecated `amount`, `assetCode`, `assetScale`,
  //   `receipt` present and null unless given) and `MonetizationCurrencyAmount`: frozen
  //   prototypes and constructors, state in a WeakMap, page text kept as plain strings.
  // * `onmonetization` on elements, `document` and `window`: the IDL attribute, and the content
  //   attribute on elements (compiled when an event reaches the element, as a listener).
  // * `link.relList.supports("monetization") === true`.
  // * A payment: the isolated-world bridge posts `{t: "monetization", fields}` on the port and,
  //   at once, fires a nonce-named event at the link; our first capture listener on window
  //   stops that event and queues its target, which the port message then takes.
  const LINK_EVENT = "__trickle_link_" + NONCE;
  const _WeakMap = WeakMap;
  const _getAttribute = Element.prototype.getAttribute;
  const _hasAttribute = Element.prototype.hasAttribute;
  const _Function = Function;
  const _eventTarget = getOwnPropertyDescriptor(Event.prototype, "target").get;
  const _relListGet = getOwnPropertyDescriptor(HTMLLinkElement.prototype, "relList").get;
  const _supports = DOMTokenList.prototype.supports;
  const _wsHas = WeakSet.prototype.has;
  const _wsAdd = WeakSet.prototype.add;
  const EVENT_STATE = new _WeakMap();
  const AMOUNT_STATE = new _WeakMap();
  const linkRelLists = new WeakSet();
  const linkTargets = []; // links whose payment message is on its way through the port
  let linkHead = 0;
  const MONETIZATION_TOKEN = /^monetization$/i;

  function fieldsOf(map, obj) {
    const s = apply(_wmGet, map, [obj]);
    if (s === undefined) throw makeError("TypeError", "Illegal invocation");
    return s;
  }

  function text(value) {
    return value === null || value === undefined ? null : _String(value);
  }

  function MonetizationCurrencyAmount(key, currency, value) {
    if (key !== KEY) throw makeError("TypeError", "Illegal constructor");
    apply(_wmSet, AMOUNT_STATE, [this, { currency: _String(currency), value: _String(value) }]);
  }
  defineProperty(MonetizationCurrencyAmount.prototype, "currency", {
    get: function () {
      return fieldsOf(AMOUNT_STATE, this).currency;
    },
    enumerable: true,
  });
  defineProperty(MonetizationCurrencyAmount.prototype, "value", {
    get: function () {
      return fieldsOf(AMOUNT_STATE, this).value;
    },
    enumerable: true,
  });

  class MonetizationEvent extends _Event {
    constructor(type, init) {
      if (arguments.length < 2 || !isPlainObject(init)) {
        throw makeError("TypeError", "MonetizationEvent needs a MonetizationEventInit");
      }
      const sent = init.amountSent;
      if (!isPlainObject(sent) || sent.currency === undefined || sent.value === undefined) {
        throw makeError("TypeError", "amountSent must be a {currency, value} amount");
      }
      if (init.paymentPointer === undefined) {
        throw makeError("TypeError", "paymentPointer is required");
      }
      super(_String(type), init);
      apply(_wmSet, EVENT_STATE, [
        this,
        {
          amountSent: new MonetizationCurrencyAmount(KEY, sent.currency, sent.value),
          paymentPointer: _String(init.paymentPointer),
          incomingPayment: text(init.incomingPayment),
          amount: text(init.amount),
          assetCode: text(init.assetCode),
          assetScale: init.assetScale === null || init.assetScale === undefined
            ? null
            : init.assetScale & 255,
          receipt: text(init.receipt),
        },
      ]);
    }
  }
  const EVENT_FIELDS = [
    "amountSent",
    "paymentPointer",
    "incomingPayment",
    "amount",
    "assetCode",
    "assetScale",
    "receipt",
  ];
  for (let i = 0; i < EVENT_FIELDS.length; i++) {
    const name = EVENT_FIELDS[i];
    defineProperty(MonetizationEvent.prototype, name, {
      get: function () {
        return fieldsOf(EVENT_STATE, this)[name];
      },
      enumerable: true,
    });
  }
  freeze(MonetizationCurrencyAmount.prototype);
  freeze(MonetizationCurrencyAmount);
  freeze(MonetizationEvent.prototype);
  freeze(MonetizationEvent);
  defineProperty(_win, "MonetizationEvent", {
    value: MonetizationEvent,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  defineProperty(_win, "MonetizationCurrencyAmount", {
    value: MonetizationCurrencyAmount,
    writable: true,
    enumerable: false,
    configurable: true,
  });

  // onmonetization: the IDL attribute (a listener we own per target), and the content attribute.
  const idlHandlers = new _WeakMap(); // target -> {fn, listener}
  function defineOnMonetization(proto) {
    defineProperty(proto, "onmonetization", {
      get: function () {
        const entry = apply(_wmGet, idlHandlers, [this]);
        return entry === undefined ? null : entry.fn;
      },
      set: function (fn) {
        let entry = apply(_wmGet, idlHandlers, [this]);
        if (entry === undefined) {
          const target = this;
          entry = { fn: null, source: null };
          entry.listener = function (event) {
            if (typeof entry.fn === "function") apply(entry.fn, target, [event]);
          };
          apply(_wmSet, idlHandlers, [this, entry]);
          apply(_addEventListener, this, ["monetization", entry.listener]);
        }
        entry.fn = typeof fn === "function" ? fn : null;
      },
      enumerable: true,
      configurable: true,
    });
  }
  defineOnMonetization(HTMLElement.prototype);
  defineOnMonetization(Document.prototype);
  defineOnMonetization(Window.prototype);

  function compileContentAttributes(target) {
    // the element and its ancestors: where a bubbling event will find content attributes
    for (let node = target; node !== null; node = node.parentNode) {
      if (!(node instanceof HTMLElement) || !apply(_hasAttribute, node, ["onmonetization"])) {
        continue;
      }
      const source = apply(_getAttribute, node, ["onmonetization"]);
      const entry = apply(_wmGet, idlHandlers, [node]);
      if (entry !== undefined && entry.source === source) continue;
      let fn = null;
      try {
        fn = new _Function("event", source);
      } catch (err) {
        _setTimeout(function () {
          throw err;
        }, 0);
      }
      node.onmonetization = fn;
      apply(_wmGet, idlHandlers, [node]).source = source;
    }
  }

  // relList.supports("monetization")
  defineProperty(HTMLLinkElement.prototype, "relList", {
    get: function () {
      const list = apply(_relListGet, this, []);
      apply(_wsAdd, linkRelLists, [list]);
      return list;
    },
    set: getOwnPropertyDescriptor(HTMLLinkElement.prototype, "relList").set,
    enumerable: true,
    configurable: true,
  });
  defineProperty(DOMTokenList.prototype, "supports", {
    value: function supports(token) {
      if (apply(_wsHas, linkRelLists, [this]) && apply(_regexTest, MONETIZATION_TOKEN, [token])) {
        return true;
      }
      return apply(_supports, this, [token]);
    },
    writable: true,
    enumerable: true,
    configurable: true,
  });

  function onLinkEvent(event) {
    apply(_stopImmediatePropagation, event, []);
    linkTargets[linkTargets.length] = apply(_eventTarget, event, []);
  }
  apply(_addEventListener, _win, [LINK_EVENT, onLinkEvent, true]);

  function monetizationMessage(msg) {
    const target = linkTargets[linkHead];
    if (target !== undefined) linkTargets[linkHead++] = undefined;
    if (linkHead === linkTargets.length) linkTargets.length = linkHead = 0;
    const fields = msg.fields;
    if (target === undefined || !isPlainObject(fields) || !isPlainObject(fields.amountSent)) return;
    const event = new MonetizationEvent("monetization", {
      bubbles: true,
      amountSent: { currency: fields.amountSent.currency, value: fields.amountSent.value },
      paymentPointer: fields.paymentPointer,
      incomingPayment: fields.incomingPayment,
    });
    compileContentAttributes(target);
    apply(_dispatchEvent, target, [event]);
  }

/* TikTok channel for Ecwid, storefront script: the store's TikTok Pixel, with consent (ecwid-api.md, tiktok-api.md).
 * content_id = catalog sku_id (design.md). storefront_script.py fills in the "{{…}}" strings. */
(function () {
  "use strict";
  try {
    var CLIENT_ID = "{{CLIENT_ID}}";
    var PIXEL_SCRIPT_URL = "{{PIXEL_SCRIPT_URL}}";
    var PURCHASE_EVENT = "{{PURCHASE_EVENT}}";
    var PARTNER_NAME = "{{PARTNER_NAME}}";
    var w = window;
    var E = w.Ecwid;
    if (!E || !E.OnAPILoaded || w.__ecwidTikTokChannel) return;
    w.__ecwidTikTokChannel = true;

    // Never throw into Ecwid; never log.
    var safe = (f) => function () {
      try { return f.apply(this, arguments); } catch (e) { /* ignore */ }
    };
    var fn = (o, name) => !!o && typeof o[name] === "function";
    var num = (x) => (x == null || x === "" || !isFinite(x) ? undefined : Math.round(x * 100) / 100);

    var cfg = null;
    var loaded = false;
    var active = false; // consent given
    var pageSeen = null; // for events owed when consent comes later
    var skipPage = false; // load() counted the page being rendered
    var cart = null; // {contentId: quantity}; the first OnCartChanged is the baseline
    var lastItems = []; // the last non-empty cart
    var sent = {};

    // A string or {key, value} (ecwid-api.md "Not confirmed"); window.instantsite on Instant Site main pages.
    function readConfig() {
      var raw = null;
      try { raw = E.getAppPublicConfig(CLIENT_ID); } catch (e) { /* older storefront */ }
      if (!raw && fn(w.instantsite, "getAppPublicConfig")) raw = w.instantsite.getAppPublicConfig(CLIENT_ID);
      if (raw && typeof raw === "object" && !raw.pixel_code) raw = raw.value;
      if (typeof raw === "string") {
        try { raw = JSON.parse(raw); } catch (e) { return null; }
      }
      // It goes into a URL.
      if (!raw || !/^[\w-]{1,64}$/.test(raw.pixel_code)) return null;
      return { code: raw.pixel_code, currency: typeof raw.currency === "string" ? raw.currency : "" };
    }

    // ACCEPTED, or a store that does not ask (ecwid-api.md). Not ANALYTICS_ONLY: the pixel sets an ad cookie
    // (_ttp) and feeds ad targeting and attribution, which is marketing, not analytics.
    function consentAllows(arg) {
      if (w.ec && w.ec.config && w.ec.config.disable_all_cookies === true) return false;
      var c = (fn(E, "getTrackingConsent") && E.getTrackingConsent()) || {};
      // OnConsentChanged's argument is undocumented.
      if (arg && typeof arg.userResponse === "string") {
        c = { userResponse: arg.userResponse, askConsent: "askConsent" in arg ? arg.askConsent : c.askConsent };
      }
      return c.userResponse === "ACCEPTED" || (c.askConsent === false && c.userResponse === "UNDEFINED");
    }

    // Ours by code: other pixels may share ttq.
    var pixel = () => (fn(w.ttq, "instance") ? w.ttq.instance(cfg.code) : null);

    // TikTok's base code: a queue events.js replays.
    function baseCode() {
      var ttq = (w.ttq = []);
      w.TiktokAnalyticsObject = "ttq";
      ttq.methods = ["page", "track", "identify", "instances", "debug", "on", "off", "once", "ready", "alias",
        "group", "enableCookie", "disableCookie", "holdConsent", "revokeConsent", "grantConsent"];
      ttq.setAndDefer = function (t, m) {
        t[m] = function () { t.push([m].concat(Array.prototype.slice.call(arguments, 0))); };
      };
      ttq.methods.forEach((m) => ttq.setAndDefer(ttq, m));
      ttq.instance = function (code) {
        var inst = (ttq._i && ttq._i[code]) || [];
        ttq.methods.forEach((m) => ttq.setAndDefer(inst, m));
        return inst;
      };
      ttq.load = function (code, options) {
        ttq._i = ttq._i || {};
        ttq._i[code] = [];
        ttq._i[code]._u = PIXEL_SCRIPT_URL;
        ttq._t = ttq._t || {};
        ttq._t[code] = +new Date();
        ttq._o = ttq._o || {};
        ttq._o[code] = options || {};
        var s = document.createElement("script");
        s.async = true;
        s.src = PIXEL_SCRIPT_URL + "?sdkid=" + encodeURIComponent(code) + "&lib=ttq";
        var first = document.getElementsByTagName("script")[0];
        if (first && first.parentNode) first.parentNode.insertBefore(s, first);
        else document.head.appendChild(s);
      };
      return ttq;
    }

    function load() {
      var ttq = w.ttq;
      if (!(ttq && ttq._i && ttq._i[cfg.code])) {
        ttq = ttq || baseCode();
        if (!fn(ttq, "load")) return;
        ttq._partner = ttq._partner || PARTNER_NAME;
        ttq.load(cfg.code);
      }
      loaded = true;
      var p = pixel();
      if (fn(p, "page")) p.page();
      skipPage = !pageSeen;
    }

    function send(event, contents, value, options) {
      var p = active && pixel();
      if (!fn(p, "track")) return;
      var props = { contents: contents, content_type: "product" };
      value = num(value);
      // Carts and orders carry no currency (ecwid-api.md).
      if (cfg.currency && value !== undefined) {
        props.value = value;
        props.currency = cfg.currency;
      }
      if (options) p.track(event, props, options);
      else p.track(event, props);
    }

    var content = (id, name, quantity, price) => ({
      content_id: String(id), content_name: name || "", quantity: Number(quantity) || 1, price: num(price),
    });
    var cartKey = (p) => p.id + (p.variation ? "-" + p.variation : "");
    var lines = (c) => ((c && c.items) || []).filter((i) => i && i.product);

    // CART is checkout's first step (ecwid-api.md).
    function pageEvents(page) {
      if (!active || !page) return;
      if (page.type === "PRODUCT" && page.productId) {
        send("ViewContent", [content(page.productId + (page.variationId ? "-" + page.variationId : ""), page.name)]);
      } else if (/^(CART$|CHECKOUT_)/.test(page.type) && fn(E.Cart, "get")) {
        E.Cart.get(safe((c) => {
          var items = lines(c);
          var key = "c" + (c.id || c.cartId);
          if (!items.length || sent[key]) return;
          sent[key] = true;
          var contents = items.map((i) => content(cartKey(i.product), i.product.name, i.quantity, i.product.price));
          var go = safe((t) => send("InitiateCheckout", contents, t && t.total != null ? t.total : c.total));
          if (fn(E.Cart, "calculateTotal")) E.Cart.calculateTotal(go);
          else go(null);
        }));
      }
    }

    function onPage(page) {
      pageSeen = page;
      if (!active) return;
      var p = pixel();
      if (skipPage) skipPage = false;
      else if (fn(p, "page")) p.page();
      pageEvents(page);
    }

    // Each change reports the whole cart.
    function onCart(c) {
      var items = lines(c);
      var now = {};
      var last = {};
      items.forEach((i) => {
        var k = cartKey(i.product);
        now[k] = (now[k] || 0) + (Number(i.quantity) || 0);
        last[k] = i.product;
      });
      var before = cart;
      cart = now;
      if (items.length) lastItems = items;
      if (before) {
        Object.keys(now).forEach((k) => {
          var added = now[k] - (before[k] || 0);
          var price = num(last[k].price) || 0;
          if (added > 0) send("AddToCart", [content(k, last[k].name, added, price)], price * added);
        });
      }
    }

    var optionsKey = (o) => JSON.stringify(
      (Array.isArray(o) ? o.map((x) => [x.name, x.value]) : Object.entries(o || {})).sort()
    );

    // Order items have no variation id: use the cart's.
    function orderContentId(item) {
      var pid = String(item.product.id);
      var mine = lastItems.filter((i) => String(i.product.id) === pid && i.product.variation);
      var same = mine.filter((i) => optionsKey(i.options) === optionsKey(item.options));
      var ids = mine.map((i) => i.product.variation).filter((v, n, all) => all.indexOf(v) === n);
      if (same.length) return cartKey(same[0].product);
      return ids.length === 1 ? pid + "-" + ids[0] : pid;
    }

    // SHA-256 hex (tiktok-api.md); none without WebCrypto (http), so no identify.
    function sha256(text) {
      var subtle = w.crypto && w.crypto.subtle;
      if (!text || !subtle) return Promise.resolve(null);
      return subtle.digest("SHA-256", new TextEncoder().encode(text)).then((buf) =>
        Array.from(new Uint8Array(buf), (b) => (b < 16 ? "0" : "") + b.toString(16)).join(""));
    }

    // Paid now only; the server sends the rest once paid, same event_id (tiktok-api.md dedup, design.md).
    function onOrder(order) {
      if (!active || !order || order.paymentStatus !== "PAID") return;
      var eventId = "ecwid-" + E.getOwnerId() + "-" + order.vendorNumber;
      if (sent[eventId]) return;
      sent[eventId] = true;
      var contents = lines(order).map((i) => content(orderContentId(i), i.product.name, i.quantity, i.product.price));
      var finish = safe((hash) => {
        var p = active && pixel();
        if (hash && fn(p, "identify")) p.identify({ email: hash });
        send(PURCHASE_EVENT, contents, order.total, { event_id: eventId });
      });
      sha256(String((order.customer && order.customer.email) || "").trim().toLowerCase())
        .then(finish, () => finish(null));
    }

    function onConsent(arg) {
      var allowed = consentAllows(arg);
      var ttq = w.ttq;
      if (allowed && !active) {
        active = true;
        if (!loaded) {
          load();
          pageEvents(pageSeen);
        } else {
          if (fn(ttq, "grantConsent")) ttq.grantConsent();
          if (fn(ttq, "enableCookie")) ttq.enableCookie();
        }
      } else if (!allowed && active) {
        // Withdrawn (consent calls: tiktok-api.md "Not confirmed").
        active = false;
        if (fn(ttq, "revokeConsent")) ttq.revokeConsent();
        if (fn(ttq, "disableCookie")) ttq.disableCookie();
      }
    }

    // Other calls only after OnAPILoaded (ecwid-api.md).
    E.OnAPILoaded.add(safe(() => {
      if (cfg) return;
      cfg = readConfig();
      if (!cfg) return; // not connected, or the store's own pixel fires
      E.OnPageLoaded.add(safe(onPage));
      E.OnCartChanged.add(safe(onCart));
      E.OnOrderPlaced.add(safe(onOrder));
      if (E.OnConsentChanged) E.OnConsentChanged.add(safe(onConsent));
      onConsent(null);
    }));
  } catch (e) { /* never break the storefront */ }
})();

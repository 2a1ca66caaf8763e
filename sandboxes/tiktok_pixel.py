"""The sandbox TikTok's pixel in the browser: its events.js and the collector it sends events to.

tiktok-api.md "Pixel in the browser": a page installs TikTok's base code stub, which defines the `ttq` queue
(methods page, track, identify, instances, debug, on, off, once, ready, alias, group, enableCookie,
disableCookie, and holdConsent, revokeConsent, grantConsent), records `ttq._i[code]` in `ttq.load(code)` and
appends `…/i18n/pixel/events.js?sdkid=<code>&lib=ttq`. This module writes the script the sandbox serves
there (no external dependencies). Once loaded, it drains the queued calls (the global queue is `ttq` itself,
applied to every loaded pixel; one pixel's is `ttq._i[code]`, filled through `ttq.instance(code)`), then
answers later calls straight away:

- `page()` sends "Pageview"; `track(event, properties, {event_id})` sends the event;
  `identify({email, phone_number, external_id})` keeps the keys for later events (of every pixel, or of
  one through `ttq.instance(code)`).
- It sets the first-party cookie `_ttp` (a random browser id, on the page's own host, `ttp_cookie_days`
  long) when it loads, unless `ttq.disableCookie()` was called; `enableCookie()` sets it again.
- `holdConsent()` holds events until `grantConsent()` sends them; `revokeConsent()` drops held and later
  events until `grantConsent()`. Unconfirmed (tiktok-api.md "Not confirmed": seen only in consent-tool
  vendors' guides): the sandbox's plausible reading.
- `ready(callback)` calls back once loaded; `instances()` lists the pixels' queues; debug, on, off, once,
  alias and group do nothing.

Each event goes to the collector (`POST /api/v2/pixel`) as a text/plain JSON body through
`navigator.sendBeacon` (falling back to `fetch(…, {mode: "no-cors", keepalive: true})`): a CORS "simple"
request from the storefront's origin, so no preflight. The body is

    {pixel_code, event, event_id, properties, timestamp (ISO 8601), partner,
     context {page {url, referrer}, user {email?, phone_number?, external_id?, ttp?}, user_agent,
              library {name: "ttq", version: "sandbox"}}}

This wire format is the sandbox's own (TikTok's collector format is not documented and not needed).
Sandbox choices (unconfirmed): the script does not hash `identify` values; whether TikTok's pixel hashes raw
values itself is unconfirmed, so by default the collector refuses an event whose identify keys are not
SHA-256 hex (`TikTokSandbox.pixel_refuses_raw_identify`), like the Events API refuses raw values.
"""

from __future__ import annotations

import json
from typing import Any

from sandboxes.tiktok_events import EventRefused, browser_user, check_hashed

SCRIPT_PATH = "/i18n/pixel/events.js"
COLLECTOR_PATH = "/api/v2/pixel"
TTP_COOKIE_DAYS = 395  # unconfirmed (tiktok-api.md "Not confirmed"): 13 months per consent-tool vendors
IDENTIFY_HASHED = ("email", "phone_number", "external_id")

_SCRIPT = r"""/* Sandbox TikTok pixel (events.js): drains the base code's ttq queue and sends to the sandbox. */
(function (w, d) {
  "use strict";
  var SDKID = __SDKID__;
  var COLLECTOR = __COLLECTOR__;
  var COOKIE_DAYS = __COOKIE_DAYS__;
  var METHODS = ["page", "track", "identify", "instances", "debug", "on", "off", "once", "ready", "alias",
    "group", "enableCookie", "disableCookie", "holdConsent", "revokeConsent", "grantConsent"];
  var name = w.TiktokAnalyticsObject || "ttq";
  var ttq = w[name];
  if (!ttq) { return; }
  var rt = ttq._sandbox || install();
  rt.activate(SDKID);

  function install() {
    var state = {codes: [], users: {}, globalUser: {}, cookie: true, ttp: "", consent: "granted", held: [],
      ready: []};
    var rt = {state: state};
    ttq._sandbox = rt;
    ttq._i = ttq._i || {};

    function args(list) { return Array.prototype.slice.call(list, 0); }
    function assign(target, source) {
      if (source && typeof source === "object") {
        for (var key in source) {
          if (Object.prototype.hasOwnProperty.call(source, key)) { target[key] = source[key]; }
        }
      }
      return target;
    }
    function readCookie() {
      var parts = d.cookie ? d.cookie.split("; ") : [];
      for (var i = 0; i < parts.length; i++) {
        if (parts[i].indexOf("_ttp=") === 0) { return decodeURIComponent(parts[i].slice(5)); }
      }
      return "";
    }
    function randomId() {
      var chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
      var bytes = new Uint8Array(27);
      (w.crypto || {getRandomValues: function (b) {
        for (var i = 0; i < b.length; i++) { b[i] = Math.floor(Math.random() * 256); }
        return b;
      }}).getRandomValues(bytes);
      var out = "";
      for (var i = 0; i < bytes.length; i++) { out += chars.charAt(bytes[i] % chars.length); }
      return out;
    }
    function setCookie() {
      state.ttp = readCookie() || state.ttp || randomId();
      d.cookie = "_ttp=" + encodeURIComponent(state.ttp) + "; path=/; max-age=" + COOKIE_DAYS * 86400 +
        "; SameSite=Lax";
    }
    function removeCookie() { d.cookie = "_ttp=; path=/; max-age=0; SameSite=Lax"; }

    function transmit(payload) {
      var body = JSON.stringify(payload);
      var sent = false;
      try { sent = !!(w.navigator.sendBeacon && w.navigator.sendBeacon(COLLECTOR, body)); } catch (e) { sent = false; }
      if (!sent && w.fetch) {
        w.fetch(COLLECTOR, {method: "POST", mode: "no-cors", keepalive: true, credentials: "omit",
          headers: {"Content-Type": "text/plain;charset=UTF-8"}, body: body})["catch"](function () {});
      }
    }
    function send(code, event, properties, options) {
      var user = assign(assign({}, state.globalUser), state.users[code]);
      if (state.cookie && state.ttp) { user.ttp = state.ttp; }
      var payload = {
        pixel_code: code,
        event: event,
        event_id: (options && options.event_id) ? String(options.event_id) : "",
        properties: properties && typeof properties === "object" ? properties : {},
        timestamp: new Date().toISOString(),
        partner: ttq._partner || "",
        context: {
          page: {url: w.location.href, referrer: d.referrer || ""},
          user: user,
          user_agent: w.navigator.userAgent,
          library: {name: "ttq", version: "sandbox"}
        }
      };
      if (state.consent === "revoked") { return; }
      if (state.consent === "held") { state.held.push(payload); return; }
      transmit(payload);
    }
    function call(code, method, list) {
      var targets = code ? [code] : state.codes.slice(0);
      switch (method) {
        case "page":
          for (var i = 0; i < targets.length; i++) { send(targets[i], "Pageview", list[0], list[1]); }
          return undefined;
        case "track":
          for (var j = 0; j < targets.length; j++) { send(targets[j], String(list[0] || ""), list[1], list[2]); }
          return undefined;
        case "identify":
          if (code) { state.users[code] = assign(state.users[code] || {}, list[0]); }
          else { assign(state.globalUser, list[0]); }
          return undefined;
        case "enableCookie": state.cookie = true; setCookie(); return undefined;
        case "disableCookie": state.cookie = false; removeCookie(); return undefined;
        case "holdConsent": state.consent = "held"; return undefined;
        case "revokeConsent": state.consent = "revoked"; state.held = []; return undefined;
        case "grantConsent":
          state.consent = "granted";
          var held = state.held; state.held = [];
          for (var k = 0; k < held.length; k++) { transmit(held[k]); }
          return undefined;
        case "ready":
          if (typeof list[0] === "function") { w.setTimeout(list[0], 0); }
          return undefined;
        case "instances":
          return state.codes.map(function (c) { return ttq._i[c]; });
        default:
          return undefined;  // debug, on, off, once, alias, group: nothing to do in the sandbox
      }
    }
    function live(target, code) {
      METHODS.forEach(function (method) {
        target[method] = function () { return call(code, method, args(arguments)); };
      });
      return target;
    }
    function drain(queue, code) {
      var items = Array.prototype.splice.call(queue, 0, queue.length);
      for (var i = 0; i < items.length; i++) {
        if (items[i] && items[i].length) { call(code, items[i][0], Array.prototype.slice.call(items[i], 1)); }
      }
    }
    rt.register = function (code) {
      if (!code) { return null; }
      var queue = ttq._i[code];
      if (!queue || typeof queue.push !== "function") { queue = ttq._i[code] = []; }
      if (state.codes.indexOf(code) < 0) { state.codes.push(code); }
      if (!queue._sandbox) { queue._sandbox = true; live(queue, code); }
      return queue;
    };
    rt.activate = function (code) {
      var queue = rt.register(code);
      if (queue) { drain(queue, code); }
    };

    // Cookie decision first (the last enableCookie/disableCookie queued wins), so that queued events carry _ttp.
    var queued = Array.prototype.slice.call(ttq, 0);
    for (var q = 0; q < queued.length; q++) {
      if (queued[q] && queued[q][0] === "disableCookie") { state.cookie = false; }
      if (queued[q] && queued[q][0] === "enableCookie") { state.cookie = true; }
    }
    if (state.cookie) { setCookie(); }
    var known = Object.keys(ttq._i);
    for (var c = 0; c < known.length; c++) { rt.register(known[c]); }
    live(ttq, null);
    ttq.instance = function (code) { return rt.register(code) || []; };
    ttq.load = function (code, options) {
      ttq._o = ttq._o || {}; ttq._o[code] = options || {};
      rt.activate(code);
    };
    drain(ttq, null);
    for (var n = 0; n < known.length; n++) { drain(ttq._i[known[n]], known[n]); }
    return rt;
  }
})(window, document);
"""


def pixel_script(pixel_code: str, collector_url: str, cookie_days: int = TTP_COOKIE_DAYS) -> str:
    """The events.js served for `pixel_code` (any code, known or not, as TikTok does)."""
    return (
        _SCRIPT.replace("__SDKID__", json.dumps(pixel_code))
        .replace("__COLLECTOR__", json.dumps(collector_url))
        .replace("__COOKIE_DAYS__", str(int(cookie_days)))
    )


def collector_body(raw: bytes) -> dict[str, Any]:
    """The collector's JSON body (sent as text/plain); EventRefused when it is not a JSON object."""
    try:
        body = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise EventRefused("body: not valid JSON.") from None
    if not isinstance(body, dict):
        raise EventRefused("body: must be a JSON object.")
    return body


def _context(body: dict[str, Any]) -> dict[str, Any]:
    context = body.get("context")
    return context if isinstance(context, dict) else {}


def check_browser_event(body: dict[str, Any], *, refuse_raw_identify: bool) -> None:
    """EventRefused naming the field of a collector body at fault (the pixel code is checked by the caller)."""
    if not isinstance(body.get("event"), str) or not body["event"].strip():
        raise EventRefused("event: required.")
    if body.get("event_id") not in (None, "") and not isinstance(body["event_id"], str):
        raise EventRefused("event_id: must be a string.")
    if body.get("properties") is not None and not isinstance(body["properties"], dict):
        raise EventRefused("properties: must be an object.")
    if body.get("context") is not None and not isinstance(body["context"], dict):
        raise EventRefused("context: must be an object.")
    user = _context(body).get("user")
    if user is None:
        return
    if not isinstance(user, dict):
        raise EventRefused("context.user: must be an object.")
    if refuse_raw_identify:
        for key in IDENTIFY_HASHED:
            if user.get(key) not in (None, ""):
                check_hashed(user[key], f"context.user.{key}")


def browser_match_keys(body: dict[str, Any], user_agent: str) -> dict[str, Any]:
    """The Events API names of a browser event's match keys: identify keys, `ttp`, and the browser's user agent."""
    context = _context(body)
    keys = browser_user(context.get("user"))
    agent = context.get("user_agent")
    agent = agent if isinstance(agent, str) and agent else user_agent
    if agent:
        keys["user_agent"] = agent
    return keys


def browser_page(body: dict[str, Any]) -> dict[str, Any]:
    page = _context(body).get("page")
    return dict(page) if isinstance(page, dict) else {}

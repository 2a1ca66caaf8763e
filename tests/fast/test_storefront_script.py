"""The app's storefront script (GET /storefront.js): rendering, size, and, where `node` is installed, its behaviour
against a stand-in for Ecwid's storefront JS API written from ecwid-api.md "Storefront JavaScript" (not against
the sandbox storefront; browser tests against the sandbox come separately)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tiktok_channel.web.storefront_script import (
    PLACEHOLDERS,
    STOREFRONT_CACHE_SECONDS,
    _source,
    render_storefront_script,
)

TIKTOK_SDK = "https://analytics.tiktok.com/i18n/pixel/events.js"
CODE = "C4SANDBOXPIXEL01"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def render(**overrides: str) -> str:
    args = {"client_id": "tiktok-channel", "pixel_script_url": TIKTOK_SDK, "purchase_event": "CompletePayment"}
    args.update(overrides)
    return render_storefront_script(**args)


def test_every_placeholder_is_substituted():
    source = _source()
    assert sorted(re.findall(r'"\{\{([A-Z_]+)\}\}"', source)) == sorted(PLACEHOLDERS)
    script = render(partner_name="Ecwid")
    assert "{{" not in script.replace('"{{…}}"', "")
    assert 'var CLIENT_ID = "tiktok-channel";' in script
    assert f'var PIXEL_SCRIPT_URL = "{TIKTOK_SDK}";' in script
    assert 'var PURCHASE_EVENT = "CompletePayment";' in script
    assert 'var PARTNER_NAME = "Ecwid";' in script


def test_hostile_values_stay_inside_their_string():
    hostile = 'x";alert(1);"</script><script>{{PARTNER_NAME}}\u2028&'
    script = render(client_id=hostile, partner_name=hostile)
    for name in ("CLIENT_ID", "PARTNER_NAME"):
        line = next(ln for ln in script.splitlines() if f"var {name} = " in ln)
        literal = line.split(" = ", 1)[1].removesuffix(";")
        # One JSON string that decodes to the value: it cannot end the string, and the "{{PARTNER_NAME}}" inside
        # the value was not substituted a second time.
        assert json.loads(literal) == hostile
    assert "</script" not in script
    assert "<script" not in script
    assert "\u2028" not in script


@pytest.mark.parametrize(
    "url",
    [
        "http://analytics.tiktok.com/i18n/pixel/events.js",
        "javascript:alert(1)",
        "//analytics.tiktok.com/events.js",
        "https://",
        "https://analytics.tiktok.com/events.js?x=1",
        "https://analytics.tiktok.com/events.js#x",
        "https://user:pw@analytics.tiktok.com/events.js",
        "http://10.0.0.1/events.js",
        "https://analytics.tiktok.com/events .js",
        "",
    ],
)
def test_bad_pixel_script_urls_are_refused(url: str):
    with pytest.raises(ValueError, match="pixel_script_url"):
        render(pixel_script_url=url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8123/pixel/events.js", "http://localhost:9000/events.js"])
def test_local_http_is_allowed_for_the_local_run(url: str):
    assert json.dumps(url) in render(pixel_script_url=url)


@pytest.mark.parametrize("event", ["Purchase", "CompletePayment"])
def test_both_purchase_event_names_render(event: str):
    assert f'var PURCHASE_EVENT = "{event}";' in render(purchase_event=event)


@pytest.mark.parametrize(
    "overrides",
    [{"purchase_event": "PlaceAnOrder"}, {"purchase_event": ""}, {"client_id": ""}, {"partner_name": ""}],
)
def test_bad_inputs_are_refused(overrides: dict[str, str]):
    with pytest.raises(ValueError, match=next(iter(overrides))):
        render(**overrides)


def test_the_script_stays_small_and_cacheable():
    script = render(client_id="a-realistic-client-id-for-ecwid", partner_name="Ecwid")
    assert len(gzip.compress(script.encode("utf-8"), compresslevel=6)) < 4096
    assert len(gzip.compress(script.encode("utf-8"), compresslevel=9)) < 4096
    assert STOREFRONT_CACHE_SECONDS >= 300


@needs_node
def test_the_script_parses(tmp_path: Path):
    path = tmp_path / "storefront.js"
    path.write_text(render(), encoding="utf-8")
    assert NODE is not None
    subprocess.run([NODE, "--check", str(path)], check=True, capture_output=True, timeout=30)  # noqa: S603


# --- behaviour, in node, against a stand-in for Ecwid's storefront API (ecwid-api.md) --------------------------

HARNESS = r"""
const vm = require("vm");
const fs = require("fs");
const [scriptPath, scenarioPath] = process.argv.slice(2);
const src = fs.readFileSync(scriptPath, "utf8");
const handlers = {};
const hook = (name) => ({ add: (f) => { (handlers[name] = handlers[name] || []).push(f); } });
const state = { config: null, consent: { userResponse: "UNDEFINED", askConsent: true }, cart: null, total: 0 };
const scripts = [];
const Ecwid = {
  OnAPILoaded: hook("api"), OnPageLoaded: hook("page"), OnCartChanged: hook("cart"),
  OnOrderPlaced: hook("order"), OnConsentChanged: hook("consent"),
  getAppPublicConfig: (id) => (id === "tiktok-channel" ? state.config : null),
  getTrackingConsent: () => state.consent,
  getOwnerId: () => 1003,
  Cart: { get: (cb) => cb(state.cart), calculateTotal: (cb) => cb({ total: state.total }) },
};
const document = {
  createElement: (tag) => { const el = { tag }; scripts.push(el); return el; },
  getElementsByTagName: () => [],
  head: { appendChild: () => {} },
};
const ctx = { Ecwid, document, crypto: globalThis.crypto, TextEncoder, setTimeout };
ctx.window = ctx;
vm.createContext(ctx);
const fire = (name, arg) => (handlers[name] || []).forEach((f) => f(arg));
const run = () => vm.runInContext(src, ctx);
const wait = () => new Promise((r) => setTimeout(r, 20));
const scenario = new Function("ctx", "Ecwid", "state", "fire", "run", "wait", "return (async () => {"
  + fs.readFileSync(scenarioPath, "utf8") + "})();");
scenario(ctx, Ecwid, state, fire, run, wait).then(() => {
  const ttq = ctx.ttq;
  const plain = (q) => JSON.parse(JSON.stringify(Array.from(q || [])));
  console.log(JSON.stringify({
    scripts: scripts.map((s) => s.src),
    partner: ttq ? ttq._partner : null,
    queue: plain(ttq),
    calls: ttq && ttq._i ? plain(ttq._i[process.env.CODE]) : [],
    handlers: Object.fromEntries(Object.entries(handlers).map(([k, v]) => [k, v.length])),
    globals: Object.keys(ctx).filter((k) => !["document", "crypto", "TextEncoder", "setTimeout", "window",
      "Ecwid", "ec", "instantsite"].includes(k)),
  }));
});
"""

CONFIG = json.dumps({"pixel_code": CODE, "currency": "USD"})
SHIRT = {"id": 11, "name": "Shirt", "price": 20, "variation": 501}
MUG = {"id": 12, "name": "Mug", "price": 9.99}


def run_script(tmp_path: Path, scenario: str, **overrides: str) -> dict[str, Any]:
    assert NODE is not None
    (tmp_path / "storefront.js").write_text(render(**overrides), encoding="utf-8")
    (tmp_path / "harness.js").write_text(HARNESS, encoding="utf-8")
    (tmp_path / "scenario.js").write_text(scenario, encoding="utf-8")
    done = subprocess.run(  # noqa: S603
        [NODE, str(tmp_path / "harness.js"), str(tmp_path / "storefront.js"), str(tmp_path / "scenario.js")],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
        env={"CODE": CODE, "PATH": ""},
    )
    assert done.stderr == ""
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def tracked(result: dict[str, Any], event: str | None = None) -> list[list[Any]]:
    return [c for c in result["calls"] if c[0] == "track" and (event is None or c[1] == event)]


def js(value: Any) -> str:
    return json.dumps(value)


@needs_node
@pytest.mark.parametrize("config", ["null", "undefined", '""', '{key: "public", value: ""}', '"{not json"'])
def test_no_config_does_nothing(tmp_path: Path, config: str):
    result = run_script(
        tmp_path,
        f"""state.config = {config}; state.consent = {{userResponse: "ACCEPTED", askConsent: true}};
        run(); fire("api"); fire("page", {{type: "PRODUCT", productId: 1}});""",
    )
    assert result["scripts"] == []
    assert result["queue"] == []
    assert result["calls"] == []
    assert result["handlers"] == {"api": 1}
    assert result["globals"] == ["__ecwidTikTokChannel"]


@needs_node
def test_without_ecwid_nothing_happens(tmp_path: Path):
    result = run_script(tmp_path, "delete ctx.Ecwid; run(); run();")
    assert result["globals"] == []
    assert result["scripts"] == []


@needs_node
def test_a_shop_visit_with_consent(tmp_path: Path):
    email_hash = hashlib.sha256(b"ann@example.com").hexdigest()
    shirt_line = {"quantity": 1, "options": {"Size": "M"}, "product": SHIRT}
    result = run_script(
        tmp_path,
        f"""
        state.config = {{key: "public", value: {js(CONFIG)}}};
        state.consent = {{userResponse: "ACCEPTED", askConsent: true}};
        run(); run();  // loaded twice: the second does nothing
        fire("api");
        fire("cart", {{id: "K1", items: [{js(shirt_line)}]}});  // the baseline, not an add
        fire("page", {{type: "PRODUCT", productId: 11, variationId: 501, name: "Shirt"}});
        fire("page", {{type: "PRODUCT", productId: 12, name: "Mug"}});
        fire("cart", {{id: "K1", items: [{js({**shirt_line, "quantity": 3})},
                                        {{quantity: 1, options: {{}}, product: {js(MUG)}}}]}});
        state.cart = {{id: "K1", total: 1, items: [{js({**shirt_line, "quantity": 3})}]}};
        state.total = 75.5;
        fire("page", {{type: "CART"}});
        fire("page", {{type: "CHECKOUT_ADDRESS"}});  // same cart: no second InitiateCheckout
        fire("order", {{vendorNumber: "SALE-G01ZG", paymentStatus: "PAID", total: 75.5,
                       customer: {{name: "Ann", email: "  Ann@Example.com "}},
                       items: [{{quantity: 3, options: {{Size: "M"}},
                                 product: {{id: 11, name: "Shirt", price: 20}}}}]}});
        await wait();
        """,
    )
    assert result["scripts"] == [f"{TIKTOK_SDK}?sdkid={CODE}&lib=ttq"]
    assert result["partner"] == "Ecwid"
    assert result["handlers"]["api"] == 1
    assert [c[0] for c in result["calls"]].count("page") == 4  # the first rendered page is counted once
    assert tracked(result, "ViewContent") == [
        [
            "track",
            "ViewContent",
            {"contents": [{"content_id": "11-501", "content_name": "Shirt", "quantity": 1}], "content_type": "product"},
        ],
        [
            "track",
            "ViewContent",
            {"contents": [{"content_id": "12", "content_name": "Mug", "quantity": 1}], "content_type": "product"},
        ],
    ]
    assert sorted(tracked(result, "AddToCart"), key=lambda c: c[2]["contents"][0]["content_id"]) == [
        [
            "track",
            "AddToCart",
            {
                "contents": [{"content_id": "11-501", "content_name": "Shirt", "quantity": 2, "price": 20}],
                "content_type": "product",
                "value": 40,
                "currency": "USD",
            },
        ],
        [
            "track",
            "AddToCart",
            {
                "contents": [{"content_id": "12", "content_name": "Mug", "quantity": 1, "price": 9.99}],
                "content_type": "product",
                "value": 9.99,
                "currency": "USD",
            },
        ],
    ]
    assert tracked(result, "InitiateCheckout") == [
        [
            "track",
            "InitiateCheckout",
            {
                "contents": [{"content_id": "11-501", "content_name": "Shirt", "quantity": 3, "price": 20}],
                "content_type": "product",
                "value": 75.5,
                "currency": "USD",
            },
        ],
    ]
    identify = [c for c in result["calls"] if c[0] == "identify"]
    assert identify == [["identify", {"email": email_hash}]]
    assert tracked(result, "CompletePayment") == [
        [
            "track",
            "CompletePayment",
            {
                "contents": [{"content_id": "11-501", "content_name": "Shirt", "quantity": 3, "price": 20}],
                "content_type": "product",
                "value": 75.5,
                "currency": "USD",
            },
            {"event_id": "ecwid-1003-SALE-G01ZG"},
        ],
    ]
    assert result["calls"].index(identify[0]) < result["calls"].index(tracked(result, "CompletePayment")[0])
    assert "example.com" not in json.dumps(result).lower()  # no raw e-mail reaches ttq
    assert result["globals"] == ["__ecwidTikTokChannel", "ttq", "TiktokAnalyticsObject"]


@needs_node
def test_consent_given_later_then_withdrawn(tmp_path: Path):
    result = run_script(
        tmp_path,
        f"""
        state.config = {js(CONFIG)};
        run(); fire("api");
        fire("cart", {{items: []}});
        fire("page", {{type: "PRODUCT", productId: 12, name: "Mug"}});
        fire("cart", {{items: [{{quantity: 1, product: {js(MUG)}}}]}});  // before consent: never sent
        if (ctx.ttq || ctx.TiktokAnalyticsObject) throw new Error("pixel before consent");
        state.consent = {{userResponse: "ACCEPTED", askConsent: true}};
        fire("consent", state.consent);
        state.consent = {{userResponse: "ANALYTICS_ONLY", askConsent: true}};
        fire("consent");
        fire("cart", {{items: [{{quantity: 2, product: {js(MUG)}}}]}});
        fire("page", {{type: "PRODUCT", productId: 11, name: "Shirt"}});
        fire("order", {{vendorNumber: "X1", paymentStatus: "PAID", total: 1, items: []}});
        await wait();
        """,
    )
    assert result["scripts"] == [f"{TIKTOK_SDK}?sdkid={CODE}&lib=ttq"]
    assert [c[0] for c in result["calls"]] == ["page", "track"]
    assert tracked(result)[0][1] == "ViewContent"
    assert tracked(result)[0][2]["contents"][0]["content_id"] == "12"
    assert result["queue"] == [["revokeConsent"], ["disableCookie"]]


@needs_node
@pytest.mark.parametrize(
    ("setup", "loads"),
    [
        ('state.consent = {userResponse: "UNDEFINED", askConsent: true};', False),
        ('state.consent = {userResponse: "UNDEFINED", askConsent: false};', True),
        ('state.consent = {userResponse: "DECLINED", askConsent: true};', False),
        ('state.consent = {userResponse: "ANALYTICS_ONLY", askConsent: true};', False),
        ('state.consent = {userResponse: "PERSONALIZATION_ONLY", askConsent: true};', False),
        (
            'state.consent = {userResponse: "ACCEPTED", askConsent: true};'
            " ctx.ec = {config: {disable_all_cookies: true}};",
            False,
        ),
        ("delete Ecwid.getTrackingConsent;", False),
    ],
)
def test_what_consent_allows(tmp_path: Path, setup: str, loads: bool):
    result = run_script(tmp_path, f"state.config = {js(CONFIG)}; {setup} run(); fire('api');")
    assert bool(result["scripts"]) is loads
    assert bool(result["calls"]) is loads


@needs_node
def test_a_pixel_already_loaded_is_reused_and_unpaid_orders_are_left_to_the_server(tmp_path: Path):
    result = run_script(
        tmp_path,
        f"""
        const q = []; q._i = {{{CODE}: []}}; q._partner = "Other";
        q.instance = (code) => {{ const i = q._i[code]; i.track = (...a) => i.push(["track", ...a]);
                                  i.page = () => i.push(["page"]); return i; }};
        ctx.ttq = q;
        state.config = {js(CONFIG)};
        state.consent = {{userResponse: "ACCEPTED", askConsent: true}};
        run(); fire("api");
        fire("order", {{vendorNumber: "X2", paymentStatus: "AWAITING_PAYMENT", total: 5, items: []}});
        await wait();
        """,
        purchase_event="Purchase",
    )
    assert result["scripts"] == []
    assert result["partner"] == "Other"
    assert result["calls"] == [["page"]]

"""Tokens, secrets, payloads, codes and the phone number never reach the logs, on success or failure."""

from __future__ import annotations

import httpx

from sandboxes.common import FaultRule
from tests.app_stack import ECWID_CLIENT_SECRET, SESSION_KEY, TIKTOK_SECRET, AppStack, captured_logs

STORE = 1003
PHONE_AS_TYPED = "+44 7700 900123"
PHONE = "+447700900123"


def test_the_whole_journey_logs_no_secret(stack: AppStack, capsys):
    with captured_logs(stack) as records:
        secrets = walk_every_path(stack)
    printed = capsys.readouterr()
    output = "\n".join(records.texts) + printed.out + printed.err
    assert "Store installed" in output, "the logs were not captured"
    assert "TikTok connected" in output, "the logs were not captured"
    secrets |= {ECWID_CLIENT_SECRET, TIKTOK_SECRET, SESSION_KEY, PHONE_AS_TYPED, PHONE, PHONE.removeprefix("+")}
    leaked = sorted(secret for secret in secrets if secret and secret in output)
    assert leaked == []


def walk_every_path(stack: AppStack) -> set[str]:
    """Install, session, connect (with failures on the way), and answer every secret that crossed the wire."""
    stack.ecwid.add_store(STORE, country="GB", currency="GBP")
    redirect_uri = f"{stack.url}/oauth/ecwid/callback"
    install_code = stack.ecwid.create_auth_code(STORE, redirect_uri)
    assert stack.http.get(f"/oauth/ecwid/callback?code={install_code}&store_id={STORE}").status_code == 302
    stack.http.get("/oauth/ecwid/callback?code=wrong-install-code&store_id=1003")
    payload = stack.ecwid.app_payload(STORE)
    session = stack.http.post("/api/session", json={"payload": payload}).json()["session"]
    stack.http.post("/api/session", json={"payload": payload[:-4] + "AAAA"})
    assert stack.http.get("/app", params={"payload": payload}).status_code == 200  # the merchant page
    assert stack.http.get("/app", params={"payload": payload[:-4] + "AAAA"}).status_code == 401
    headers = {"Authorization": f"Bearer {session}"}
    stack.http.post(f"/api/stores/{STORE}/connect", json={"phone": "+44 77 CALL ME"}, headers=headers)
    authorize_url = stack.http.post(
        f"/api/stores/{STORE}/connect", json={"phone": PHONE_AS_TYPED}, headers=headers
    ).json()["authorize_url"]
    callback = stack.authorize_on_tiktok(authorize_url, setup="advertiser_only")
    auth_code, state = httpx.URL(callback).params["auth_code"], httpx.URL(callback).params["state"]
    stack.http.get("/oauth/tiktok/callback", params={"auth_code": "invalid-code", "state": state})
    stack.tiktok.faults.add(FaultRule(kind="http_5xx", path_prefix="/open_api/v1.3/pixel/"))
    assert stack.http.get(callback).status_code == 503
    stack.tiktok.faults.clear()
    assert stack.http.get(callback).status_code == 302
    stack.http.get(f"/api/stores/{STORE}", headers=headers)
    ecwid_token = stack.ecwid.current_token(STORE)
    assert ecwid_token is not None
    return {
        install_code,
        payload,
        session,
        state,
        auth_code,
        ecwid_token.token,
        ecwid_token.public_token,
        *stack.tiktok.tokens,
    }

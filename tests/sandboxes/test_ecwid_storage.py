"""The sandbox Ecwid's app storage behaves as ecwid-api.md "App storage" describes, over real HTTP."""

from __future__ import annotations

import json

import httpx

from sandboxes.ecwid import LEGACY_SCOPES, EcwidSandbox, EcwidStore


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_raw_body_and_value_object_both_store_the_string(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    token = ecwid.token_for(demo.store_id)
    config = json.dumps({"pixelCode": "CABC123", "events": ["Purchase"]})
    raw = http.put("/api/v3/1003/storage/public", content=config.encode(), headers=_auth(token))
    assert raw.status_code == 200
    assert raw.json() == {"updateCount": 1}
    wrapped = http.post("/api/v3/1003/storage/settings", json={"value": "plain text"}, headers=_auth(token))
    assert wrapped.json() == {"updateCount": 1}

    assert http.get("/api/v3/1003/storage/public", headers=_auth(token)).json() == {"key": "public", "value": config}
    assert http.get("/api/v3/1003/storage/settings", headers=_auth(token)).json() == {
        "key": "settings",
        "value": "plain text",
    }
    listed = http.get("/api/v3/1003/storage", headers=_auth(token)).json()
    assert listed == [{"key": "public", "value": config}, {"key": "settings", "value": "plain text"}]
    assert demo.app_storage == {"public": config, "settings": "plain text"}
    assert ecwid.public_config(demo.store_id) == config

    # A JSON object with more than `value` is a raw value, kept as sent.
    other = json.dumps({"value": "x", "more": 1})
    http.put("/api/v3/1003/storage/other", content=other.encode(), headers=_auth(token))
    assert demo.app_storage["other"] == other


def test_replace_delete_and_missing_keys(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    token = ecwid.token_for(demo.store_id)
    http.put("/api/v3/1003/storage/public", content=b"one", headers=_auth(token))
    http.put("/api/v3/1003/storage/public", content=b"two", headers=_auth(token))
    assert ecwid.public_config(demo.store_id) == "two"

    deleted = http.delete("/api/v3/1003/storage/public", headers=_auth(token))
    assert deleted.status_code == 200
    assert deleted.json() == {"deleteCount": 1}
    assert ecwid.public_config(demo.store_id) is None

    for method in ("GET", "DELETE"):
        missing = http.request(method, "/api/v3/1003/storage/public", headers=_auth(token))
        assert missing.status_code == 404
        assert missing.json()["errorCode"] == "NOT_FOUND"
        assert "public" in missing.json()["errorMessage"]
    assert http.get("/api/v3/1003/storage", headers=_auth(token)).json() == []


def test_reading_needs_read_store_profile_and_writing_update_store_profile(
    ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore
) -> None:
    legacy = ecwid.issue_token(demo.store_id, LEGACY_SCOPES).token
    demo.app_storage["public"] = "kept"
    # read_store_profile is always granted: a legacy token reads ...
    assert http.get("/api/v3/1003/storage/public", headers=_auth(legacy)).json()["value"] == "kept"
    # ... but cannot write or delete.
    for method in ("PUT", "POST", "DELETE"):
        refused = http.request(method, "/api/v3/1003/storage/public", content=b"new", headers=_auth(legacy))
        assert refused.status_code == 403
        assert refused.json()["errorCode"] == "INSUFFICIENT_APP_SCOPE"
    assert demo.app_storage["public"] == "kept"
    # No token, a dead token, another store's token: INVALID_API_TOKEN.
    assert http.get("/api/v3/1003/storage").json()["errorCode"] == "INVALID_API_TOKEN"
    ecwid.add_store(2002)
    other = ecwid.token_for(2002)
    assert http.get("/api/v3/1003/storage", headers=_auth(other)).json()["errorCode"] == "INVALID_API_TOKEN"


def test_storage_is_per_store(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    ecwid.add_store(2002)
    http.put("/api/v3/1003/storage/public", content=b"for 1003", headers=_auth(ecwid.token_for(1003)))
    assert http.get("/api/v3/2002/storage", headers=_auth(ecwid.token_for(2002))).json() == []
    assert ecwid.public_config(2002) is None


def test_size_limits(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    token = ecwid.token_for(demo.store_id)
    at_limit = b"x" * (256 * 1024)
    assert http.put("/api/v3/1003/storage/public", content=at_limit, headers=_auth(token)).status_code == 200
    too_big = http.put("/api/v3/1003/storage/public", content=at_limit + b"x", headers=_auth(token))
    assert too_big.status_code == 413
    assert too_big.json()["errorCode"] == "VALUE_TOO_LARGE"
    assert "262144" in too_big.json()["errorMessage"]
    assert len(demo.app_storage["public"]) == 256 * 1024  # the old value stays

    # Other keys take up to 1 MB.
    assert http.put("/api/v3/1003/storage/big", content=at_limit + b"x", headers=_auth(token)).status_code == 200
    over_mb = http.put("/api/v3/1003/storage/big", content=b"x" * (1024 * 1024 + 1), headers=_auth(token))
    assert over_mb.status_code == 413

    long_key = "k" * 1025
    refused = http.put(f"/api/v3/1003/storage/{long_key}", content=b"v", headers=_auth(token))
    assert refused.status_code == 400
    assert refused.json()["errorCode"] == "KEY_TOO_LONG"
    assert http.put(f"/api/v3/1003/storage/{'k' * 1024}", content=b"v", headers=_auth(token)).status_code == 200


def test_profile_consent_and_builtin_pixel_settings(ecwid: EcwidSandbox, http: httpx.Client, demo: EcwidStore) -> None:
    token = ecwid.token_for(demo.store_id)
    settings = http.get("/api/v3/1003/profile", headers=_auth(token)).json()["settings"]
    assert settings["askConsentToTrackInStorefront"] is False
    assert "tikTokPixel" not in settings

    ecwid.take_webhooks()
    changed = http.patch(
        "/_sandbox/stores/1003/profile",
        json={"ask_consent": True, "tiktok_pixel": {"code": "CXYZ", "advancedMatching": True}},
    )
    assert changed.status_code == 200
    settings = http.get("/api/v3/1003/profile", headers=_auth(token)).json()["settings"]
    assert settings["askConsentToTrackInStorefront"] is True
    assert settings["tikTokPixel"] == {"code": "CXYZ", "advancedMatching": True}
    assert [w.json()["eventType"] for w in ecwid.take_webhooks()] == ["profile.updated"]

    demo.set_profile(tiktok_pixel=None)
    assert "tikTokPixel" not in http.get("/api/v3/1003/profile", headers=_auth(token)).json()["settings"]
    assert http.patch("/_sandbox/stores/1003/profile", json={"nope": 1}).status_code == 400

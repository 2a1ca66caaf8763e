"""Ecwid's OAuth for the sandbox: the install page standing in for the merchant's Ecwid login, and the
code-for-token exchange with Ecwid's rules (single-use codes, 10 minutes, reuse disables the first token)."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from sandboxes.common import Request, Response

if TYPE_CHECKING:
    from sandboxes.ecwid import EcwidSandbox

CODE_LIFETIME_SECONDS = 600


@dataclass
class AuthCode:
    code: str
    store_id: int
    redirect_uri: str
    scope: str
    created_at: float
    used: bool = False
    token: str | None = None  # the token the first exchange issued


class OAuthError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def response(self) -> Response:
        return Response.json({"error": self.error, "error_description": self.description}, 400)


class OAuthRoutes:
    def __init__(self, sandbox: EcwidSandbox) -> None:
        self.sandbox = sandbox
        self.codes: dict[str, AuthCode] = {}
        sandbox.route("GET", "/api/oauth/authorize", self.authorize_page)
        sandbox.route("POST", "/api/oauth/authorize", self.authorize_decision)
        sandbox.route("POST", "/api/oauth/token/{store_id}", self.token)
        sandbox.route("GET", "/api/oauth/token/{store_id}", self.token_get)

    def create_code(self, store_id: int, redirect_uri: str, scope: str) -> str:
        with self.sandbox.lock:
            self.sandbox.store(store_id)
            code = secrets.token_urlsafe(24)
            self.codes[code] = AuthCode(code, store_id, redirect_uri, scope, self.sandbox.clock.now())
            return code

    # -- the merchant's side -------------------------------------------------------------------
    def _check_request(self, client_id: str | None, redirect_uri: str | None) -> str | None:
        if client_id != self.sandbox.client_id:
            return "Unknown application: check the client_id."
        if not redirect_uri or urlsplit(redirect_uri).scheme not in ("http", "https"):
            return "The redirect_uri is missing or is not an http(s) URL."
        return None

    def authorize_page(self, request: Request) -> Response:
        client_id, redirect_uri = request.arg("client_id"), request.arg("redirect_uri")
        problem = self._check_request(client_id, redirect_uri)
        if problem is None and request.arg("response_type") != "code":
            problem = "response_type must be 'code'."
        if problem is not None:
            return Response.html(_page("Cannot install the app", f"<p class=error>{escape(problem)}</p>"), 400)
        scope = request.arg("scope") or "read_store_profile"
        options = "".join(
            f'<option value="{s.store_id}">{escape(s.profile.store_name)} (#{s.store_id}, '
            f"{escape(s.profile.country)}, {escape(s.profile.currency)})</option>"
            for s in self.sandbox.stores.values()
        )
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{escape(value)}">'
            for name, value in (
                ("client_id", client_id or ""),
                ("redirect_uri", redirect_uri or ""),
                ("scope", scope),
                ("state", request.arg("state") or ""),
            )
        )
        scopes = "".join(f"<li><code>{escape(s)}</code></li>" for s in scope.split())
        body = f"""
<p>The application <b>{escape(client_id or "")}</b> asks for access to your store:</p>
<ul>{scopes}</ul>
<form method="post" action="/api/oauth/authorize">{hidden}
  <label>Store <select name="store_id">{options}</select></label>
  <p><button type="submit" name="decision" value="allow">Install</button>
     <button type="submit" name="decision" value="deny">Cancel</button></p>
</form>"""
        return Response.html(_page("Install the app in your Ecwid store", body))

    def authorize_decision(self, request: Request) -> Response:
        form = request.form()
        redirect_uri = form.get("redirect_uri")
        problem = self._check_request(form.get("client_id"), redirect_uri)
        store_id = _int(form.get("store_id"))
        if problem is None and store_id not in self.sandbox.stores:
            problem = "Pick one of your stores."
        if problem is None and form.get("decision") not in ("allow", "deny"):
            problem = "Press Install or Cancel."
        if problem is not None or redirect_uri is None or store_id is None:
            return Response.html(_page("Cannot install the app", f"<p class=error>{escape(problem or '')}</p>"), 400)
        state = {"state": form["state"]} if form.get("state") else {}
        if form["decision"] == "deny":
            return Response.redirect(with_query(redirect_uri, {"error": "access_denied", **state}))
        code = self.create_code(store_id, redirect_uri, form.get("scope") or "read_store_profile")
        return Response.redirect(with_query(redirect_uri, {"code": code, "store_id": str(store_id), **state}))

    # -- the app's side ------------------------------------------------------------------------
    def token_get(self, request: Request) -> Response:
        # Ecwid switched the GET form of the exchange off in March 2025.
        return Response(
            405,
            b'{"error":"invalid_request","error_description":"Use POST"}',
            {"Content-Type": "application/json", "Allow": "POST"},
        )

    def token(self, request: Request) -> Response:
        try:
            return Response.json(self._exchange(request))
        except OAuthError as error:
            return error.response()

    def _exchange(self, request: Request) -> dict[str, object]:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise OAuthError("invalid_request", "Send the parameters as application/x-www-form-urlencoded.")
        form = request.form()
        sandbox = self.sandbox
        if form.get("client_id") != sandbox.client_id or not hmac.compare_digest(
            form.get("client_secret", "").encode(), sandbox.client_secret.encode()
        ):
            raise OAuthError("invalid_client", "Client authentication failed.")
        if form.get("grant_type") != "authorization_code":
            raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code.")
        grant = self.codes.get(form.get("code", ""))
        if grant is None:
            raise OAuthError("invalid_grant", "Unknown authorization code.")
        if grant.used:
            # A second exchange of one code is treated as a stolen code: the first token dies too.
            if grant.token is not None and grant.token in sandbox.tokens:
                sandbox.tokens[grant.token].active = False
            raise OAuthError("invalid_grant", "The authorization code was already used.")
        grant.used = True
        if sandbox.clock.now() - grant.created_at > CODE_LIFETIME_SECONDS:
            raise OAuthError("invalid_grant", "The authorization code has expired.")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the one used to get the code.")
        if _int(request.path_params["store_id"]) != grant.store_id:
            raise OAuthError("invalid_grant", "The code was issued for another store.")
        first_install = sandbox.current_token(grant.store_id) is None
        token = sandbox.issue_token(grant.store_id, grant.scope)
        grant.token = token.token
        if first_install:
            sandbox.emit(grant.store_id, "application.installed", str(grant.store_id))
        return {
            "access_token": token.token,
            "token_type": "bearer",
            "scope": " ".join(token.scopes),
            "store_id": grant.store_id,
            "public_token": token.public_token,
        }


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · Ecwid (sandbox)</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:3em auto}} .error{{color:#b00}}
button{{font-size:1em;padding:.4em 1.2em;margin-right:.5em}}</style></head>
<body><h1>{escape(title)}</h1>{body}</body></html>"""

"""Bodies of the app's own HTTP API (design.md, "HTTP API")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SessionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    payload: str = Field(min_length=1, max_length=8192)


class ConnectRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    phone: str = Field(max_length=40)

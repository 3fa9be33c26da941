"""How every route of the test server answers or refuses, as Ollama's gin handlers do.

Why a module of its own: the routes live in several modules (``server``, ``chatting``,
``modelimport``) and must all refuse the same way: ``{"error": message}`` with the
status, the 400s of gin's ``ShouldBindJSON`` for an empty or malformed body, and model
lookups that ignore case and ``:latest`` as Ollama's do.
"""

from __future__ import annotations

import json
from typing import Any

from .http11 import Exchange, Request
from .wire import go_decode_error, go_json_bytes, go_type_error, parse_model_name

JSON_TYPE = "application/json; charset=utf-8"


class HttpError(Exception):
    """An error answered before any byte of the reply: status + ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def lookup(table: dict[str, Any], name: str) -> Any:
    """``table[name]`` the way Ollama finds a model: ``llama3.2`` is ``llama3.2:latest``,
    case ignored; None when absent."""
    full = parse_model_name(name) or name
    for key, value in table.items():
        if (parse_model_name(key) or key).lower() == full.lower():
            return value
    return None


def json_reply(exchange: Exchange, value: Any, status: int = 200) -> None:
    exchange.respond(status, go_json_bytes(value), JSON_TYPE)


def refuse(exchange: Exchange, err: HttpError) -> None:
    if exchange.status is None:
        exchange.respond(err.status, go_json_bytes({"error": err.message}), JSON_TYPE)


def decode_body(request: Request, struct: str, fields: dict[str, type]) -> dict[str, Any]:
    """``c.ShouldBindJSON``: the same 400s as Ollama for empty and malformed bodies."""
    text = request.body.decode("utf-8", "replace").lstrip(" \t\r\n")
    if not text:
        raise HttpError(400, "missing request body")
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as err:
        raise HttpError(400, go_decode_error(text, err)) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        kind = {list: "array", str: "string", bool: "bool"}.get(type(value), "number")
        raise HttpError(400, f"json: cannot unmarshal {kind} into Go value of type api.{struct}")
    message = go_type_error(struct, value, fields)
    if message:
        raise HttpError(400, message)
    return value

"""The tools a model may call: their declarations (Ollama's `tools` JSON) and how each runs.

Tools are switched on per conversation (`ToolSwitches`); only the switched-on
ones are declared to the model, and `ToolBox.run` refuses any other name, so a
model can never make the launcher run a tool the user did not enable (models
do call undeclared tools: they remember them from training). The calculator
and the date-time tool run locally; web search and web fetch go to Ollama's
hosted API (`webtools`), with the ollama.com key and never through the Ollama
host.

Every outcome is a `ToolResult` with the text the model reads next; a failing
tool is a result too (the model is told what went wrong and can answer
anyway), never an exception that would end the reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from launcher.core.calculator import CalculatorError, evaluate, format_number
from launcher.core.webtools import WebToolError, WebTools, page_text, results_text

log = logging.getLogger(__name__)

WEB_SEARCH: Final = "web_search"
WEB_FETCH: Final = "web_fetch"
CALCULATOR: Final = "calculator"
DATETIME: Final = "current_datetime"


def _function(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


DECLARATIONS: Final[dict[str, dict[str, Any]]] = {
    WEB_SEARCH: _function(
        WEB_SEARCH,
        "Search the web for current information. Returns titles, URLs and text snippets.",
        {
            "query": {"type": "string", "description": "The search query."},
            "max_results": {
                "type": "integer",
                "description": "How many results to return (1-10, default 5).",
            },
        },
        ["query"],
    ),
    WEB_FETCH: _function(
        WEB_FETCH,
        "Fetch a web page by URL and return its text.",
        {"url": {"type": "string", "description": "The http or https URL of the page."}},
        ["url"],
    ),
    CALCULATOR: _function(
        CALCULATOR,
        "Evaluate an arithmetic expression exactly, e.g. '(17.5 * 3) / 4' or 'sqrt(2) ** 3'. "
        "Supports + - * / // % **, parentheses, pi, e and functions such as sqrt, log, sin.",
        {"expression": {"type": "string", "description": "The expression to evaluate."}},
        ["expression"],
    ),
    DATETIME: _function(
        DATETIME,
        "The current date, time and weekday, in the user's time zone or a named one.",
        {
            "timezone": {
                "type": "string",
                "description": "An IANA time zone such as 'Europe/Paris' (optional).",
            }
        },
        [],
    ),
}


@dataclass
class ToolSwitches:
    """Which tools one conversation allows (all off by default).

    The calculator switch also allows the date-time tool: both run locally and
    answer questions models get wrong on their own.
    """

    web_search: bool = False
    web_fetch: bool = False
    calculator: bool = False

    def enabled(self) -> frozenset[str]:
        names: set[str] = set()
        if self.web_search:
            names.add(WEB_SEARCH)
        if self.web_fetch:
            names.add(WEB_FETCH)
        if self.calculator:
            names.update((CALCULATOR, DATETIME))
        return frozenset(names)

    @property
    def any(self) -> bool:
        return self.web_search or self.web_fetch or self.calculator

    @property
    def needs_web(self) -> bool:
        return self.web_search or self.web_fetch


def declarations(enabled: frozenset[str]) -> list[dict[str, Any]]:
    """The request's `tools`: the enabled tools, in a stable order."""
    return [DECLARATIONS[name] for name in DECLARATIONS if name in enabled]


@dataclass
class ToolResult:
    """A tool's outcome.

    Attributes:
        name: the tool's name as the model called it.
        arguments: the arguments it gave.
        content: the text the model reads next (also shown in the step).
        ok: False when the tool failed or was refused (content then says why).
        details: technical text for the log and a Details part.
    """

    name: str
    arguments: dict[str, Any]
    content: str
    ok: bool = True
    details: str = ""
    ran: bool = True  # False: refused (not enabled, or over the cap): nothing was run

    def message(self) -> dict[str, Any]:
        """The `role: tool` message for the next request."""
        return {"role": "tool", "content": self.content, "tool_name": self.name}


Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC).astimezone()


@dataclass
class ToolBox:
    """Runs the tools of one turn.

    Args:
        enabled: the tool names the conversation allows.
        web: the hosted web client (None: no ollama.com key; web tools then say so).
        clock: the current local time (tests pass a fixed one).
    """

    enabled: frozenset[str]
    web: WebTools | None = None
    clock: Clock = field(default=_now)

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run one call; never raises for a tool's own failure."""
        if name not in self.enabled:
            log.info("the model asked for the tool %r, which is not enabled", name)
            return ToolResult(
                name,
                arguments,
                f"The tool {name!r} is not available in this conversation; answer without it.",
                ok=False,
                ran=False,
            )
        try:
            if name == CALCULATOR:
                return self._calculate(arguments)
            if name == DATETIME:
                return self._datetime(arguments)
            if name in (WEB_SEARCH, WEB_FETCH):
                return await self._web(name, arguments)
        except WebToolError as exc:
            log.warning("tool %s failed: %s (%s)", name, exc, exc.details)
            return ToolResult(name, arguments, f"Error: {exc}", ok=False, details=exc.details)
        return ToolResult(name, arguments, f"Unknown tool {name!r}.", ok=False, ran=False)

    def _calculate(self, arguments: dict[str, Any]) -> ToolResult:
        expression = str(arguments.get("expression", ""))
        try:
            value = evaluate(expression)
        except CalculatorError as exc:
            return ToolResult(CALCULATOR, arguments, f"Error: {exc}", ok=False)
        return ToolResult(CALCULATOR, arguments, f"{expression.strip()} = {format_number(value)}")

    def _datetime(self, arguments: dict[str, Any]) -> ToolResult:
        now = self.clock()
        zone_name = str(arguments.get("timezone") or "").strip()
        if zone_name:
            try:
                now = now.astimezone(ZoneInfo(zone_name))
            except (ZoneInfoNotFoundError, ValueError):
                return ToolResult(
                    DATETIME, arguments, f"Error: unknown time zone {zone_name!r}.", ok=False
                )
        offset = now.strftime("%z")
        offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
        zone = zone_name or (now.tzname() or "local time")
        text = f"{now.strftime('%A, %d %B %Y, %H:%M:%S')} ({zone}, {offset})"
        return ToolResult(DATETIME, arguments, text)

    async def _web(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if self.web is None:
            return ToolResult(
                name,
                arguments,
                "Error: web search needs an ollama.com API key, and none is set.",
                ok=False,
                ran=False,
            )
        if name == WEB_SEARCH:
            query = str(arguments.get("query", ""))
            raw = arguments.get("max_results", 5)
            count = raw if isinstance(raw, int) and not isinstance(raw, bool) else 5
            results = await self.web.search(query, count)
            return ToolResult(name, arguments, results_text(results))
        url = str(arguments.get("url", ""))
        page = await self.web.fetch(url)
        return ToolResult(name, arguments, page_text(page, url.strip()))

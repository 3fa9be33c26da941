"""A conversation's switches for tools and token probabilities, and how they are stored.

They belong to the conversation (a research chat has web search on, a private one
has it off), so they live with its settings and are stored as one small JSON
object: a launcher that does not know a switch keeps it off, and a new switch
needs no schema change.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from launcher.core.tools import ToolSwitches


@dataclass
class ChatFeatures:
    """Per-conversation switches (all off by default: off costs nothing).

    Attributes:
        web_search, web_fetch, calculator: the tools the model may call.
        logprobs: ask for token probabilities (top 5).
        tint: tint the words the model was unsure of.
    """

    web_search: bool = False
    web_fetch: bool = False
    calculator: bool = False
    logprobs: bool = False
    tint: bool = False

    def switches(self) -> ToolSwitches:
        # Imported here: the conversation records import this module, and must stay light.
        from launcher.core.tools import ToolSwitches

        return ToolSwitches(self.web_search, self.web_fetch, self.calculator)

    def to_json(self) -> str:
        """Only the switches that are on (an empty object when none is)."""
        return json.dumps({k: v for k, v in asdict(self).items() if v}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> ChatFeatures:
        """Lenient: unknown keys and values that are not exactly true are ignored."""
        try:
            data = json.loads(text or "{}")
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        names = {f.name for f in fields(cls)}
        return cls(**{k: True for k, v in data.items() if k in names and v is True})

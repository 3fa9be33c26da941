"""Plain records for conversations, shared by the store, the chat controller and the UI.

These are deliberately dumb dataclasses with no Qt and no I/O: the store persists them, the
Ollama client turns them into request bodies, and the UI renders them.  Keeping them free of
behaviour other than "how do I look on the wire" means each layer can be tested on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal, get_args

from launcher.core.features import ChatFeatures

if TYPE_CHECKING:  # the records stay light: the types are only annotations here
    from launcher.core.toolloop import ToolStep
    from launcher.ollama import Logprob

Role = Literal["system", "user", "assistant"]
MessageState = Literal["complete", "streaming", "stopped", "interrupted", "error"]

#: Every valid role / state, derived from the Literal types so they can never drift apart.
ROLES: Final[frozenset[str]] = frozenset(get_args(Role))
MESSAGE_STATES: Final[frozenset[str]] = frozenset(get_args(MessageState))

#: Titles longer than this are cut with an ellipsis so the sidebar stays one line.
TITLE_MAX_CHARS: Final = 60


@dataclass
class ReplyVersion:
    """One version of an assistant reply that is not the one shown (see `Message.versions`)."""

    content: str
    thinking: str = ""
    state: MessageState = "complete"
    note: str = ""
    stats: dict[str, float] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    tool_steps: list[ToolStep] = field(default_factory=list)
    tokens: list[Logprob] = field(default_factory=list)


@dataclass
class Message:
    """One chat turn.

    ``state`` says how the turn ended, because a reply can be cut short in several ways the UI
    must show differently: ``streaming`` while tokens arrive, ``stopped`` when the user pressed
    Stop, ``error`` when the server failed, and ``interrupted`` when the launcher died mid-reply
    (set on the next start by :meth:`Store.mark_interrupted`).  ``note`` carries the
    human-readable reason.
    """

    role: Role
    content: str
    thinking: str = ""
    images: list[str] = field(default_factory=list)  # base64, as Ollama expects them
    state: MessageState = "complete"
    note: str = ""
    stats: dict[str, float] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    id: int | None = None
    #: Other versions of this reply (from Regenerate), oldest first, without the one shown;
    #: the shown one is this message's own fields, at position `version_index` among all
    #: ``len(versions) + 1`` versions. Only assistant messages have versions.
    versions: list[ReplyVersion] = field(default_factory=list)
    version_index: int = 0
    #: The tools this reply called, in order, with their results (the collapsible steps).
    tool_steps: list[ToolStep] = field(default_factory=list)
    #: The reply's token probabilities (when the conversation asked for them).
    tokens: list[Logprob] = field(default_factory=list)

    @property
    def version_count(self) -> int:
        """How many versions of this reply exist (1 when it was never regenerated)."""
        return len(self.versions) + 1

    def to_api(self) -> dict[str, object]:
        """The message as an Ollama ``/api/chat`` entry.

        ``thinking`` is not sent back: models do not expect their own reasoning as input and
        it would waste context.  ``images`` is only present when there are images, because
        some servers reject an empty list on text-only models.
        """
        out: dict[str, object] = {"role": self.role, "content": self.content}
        if self.images:
            out["images"] = list(self.images)
        return out


@dataclass
class ConversationSettings:
    """Per-conversation model choice and generation options.

    ``None`` means "not set, let the server/model default apply", which is different from any
    concrete value; that is why every option is optional instead of carrying a default.
    """

    model: str = ""
    system_prompt: str = ""
    temperature: float | None = None
    num_ctx: int | None = None
    seed: int | None = None
    top_p: float | None = None
    keep_alive: str | None = None
    think: bool | None = None
    #: Tools and token probabilities for this conversation (see core/features.py).
    features: ChatFeatures = field(default_factory=ChatFeatures)

    def options(self) -> dict[str, object]:
        """Only the set sampling options, for the Ollama request's ``options`` field.

        ``keep_alive`` and ``think`` are not included: in ``/api/chat`` they are top-level
        request fields, not model options.
        """
        candidates: dict[str, object | None] = {
            "temperature": self.temperature,
            "num_ctx": self.num_ctx,
            "seed": self.seed,
            "top_p": self.top_p,
        }
        return {key: value for key, value in candidates.items() if value is not None}


@dataclass
class Conversation:
    """A whole conversation as loaded from the store: settings plus messages in order."""

    id: int | None
    title: str
    settings: ConversationSettings
    messages: list[Message] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    #: The conversation this one was branched from ("Branch from here"), if any.
    parent_id: int | None = None

    def api_messages(self) -> list[dict[str, object]]:
        """The message list for the next ``/api/chat`` request.

        The system prompt goes first when set.  Assistant turns that produced no text (a
        failed, interrupted or stopped-before-first-token reply) are skipped: sending an empty
        assistant turn back confuses many chat templates and carries no information.
        """
        out: list[dict[str, object]] = []
        if self.settings.system_prompt.strip():
            out.append({"role": "system", "content": self.settings.system_prompt})
        for message in self.messages:
            if (
                message.role == "assistant"
                and not message.content.strip()
                and message.state != "complete"
            ):
                continue
            out.append(message.to_api())
        return out


@dataclass(frozen=True)
class ConversationSummary:
    """What the sidebar needs for one row, without loading the messages."""

    id: int
    title: str
    model: str
    updated_at: float
    message_count: int
    #: The conversation this one was branched from, if any (the sidebar links them).
    parent_id: int | None = None


def title_from(text: str) -> str:
    """A sidebar title from the first user message: its first non-blank line, whitespace
    collapsed, cut to about 60 characters with an ellipsis so every row stays one line."""
    for line in text.splitlines():
        collapsed = " ".join(line.split())
        if collapsed:
            if len(collapsed) <= TITLE_MAX_CHARS:
                return collapsed
            cut = collapsed[: TITLE_MAX_CHARS - 1].rstrip()
            # Prefer to cut at a word boundary when one is reasonably close to the end.
            space = cut.rfind(" ")
            if space >= TITLE_MAX_CHARS // 2:
                cut = cut[:space].rstrip()
            return cut + "…"
    return ""

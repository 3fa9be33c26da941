"""The chat's extras in one object: context meter, cut prompts, tools, token odds, branches.

It watches the ChatController (no widgets): when a turn starts it notes where the
server log stands; when the turn ends it measures the context (the reply's
`prompt_eval_count + eval_count` against the context in use, with the model's
maximum from `/api/show`) and checks whether the start of the conversation was
cut. It builds each turn's `TurnExtras` from the conversation's switches (the
controller asks `make_extras`), keeps the tool steps and token probabilities of
the replies it saw, and carries out the one-click fixes: a larger `num_ctx` for
this conversation, a new chat from a summary, a branch.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Signal

from launcher.core.branching import branch_at, summarise, summary_conversation
from launcher.core.chat import ChatController, ChatTurn
from launcher.core.context import (
    ContextUse,
    LoggedTruncation,
    Truncation,
    detect_truncation,
    measure,
)
from launcher.core.conversation import Conversation, Message
from launcher.core.explain import Explanation, explain
from launcher.core.logbuffer import LogBuffer
from launcher.core.logwatch import ServerLogWatch
from launcher.core.tokenprobs import TokenRecord
from launcher.core.toolloop import ToolStep
from launcher.core.turnextras import TurnExtras
from launcher.core.webtools import WebTools, find_key, web_base
from launcher.ollama import ModelShow, OllamaClient, OllamaError
from launcher.secrets import SecretStore

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Runs a coroutine as a background task (the launcher's `tasks.spawn`).
Spawn = Callable[[Coroutine[Any, Any, Any]], object]


class ByMessage(Generic[T]):
    """Values kept per Message object for as long as it lives (messages compare by value,
    so they cannot be dict keys; a weak reference makes sure a reused id() never maps a new
    message to an old one's value)."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[weakref.ref[Message], T]] = {}

    def put(self, message: Message, value: T) -> None:
        key = id(message)
        self._items[key] = (weakref.ref(message, lambda _r: self._items.pop(key, None)), value)

    def get(self, message: Message) -> T | None:
        found = self._items.get(id(message))
        return found[1] if found is not None and found[0]() is message else None

    def pop(self, message: Message) -> T | None:
        value = self.get(message)
        if value is not None:
            del self._items[id(message)]
        return value

    def __len__(self) -> int:
        return len(self._items)


class ChatPlus(QObject):
    """Context, tools, token probabilities and branches for the current conversation.

    Args:
        client: the current host's client (re-pointed at a host switch).
        log: the local server's log (its context length and cut prompts).
        secrets: where the ollama.com key may be (entry "ollama.com").
        environ: OLLAMA_API_KEY and OLLAMA_LAUNCHER_WEB_BASE are read here.
        local: whether the current host is the server whose log we read (the launcher
            updates `local` when the host changes).

    Signals:
        contextChanged(object): a ContextUse for the current conversation.
        truncated(object, object): (reply Message, Truncation): the request that wrote
            this reply was cut.
        stepChanged(object, object): (reply Message, ToolStep) started or ended.
        capabilitiesKnown(str, tuple): what a model can do (from /api/show).
    """

    contextChanged = Signal(object)
    truncated = Signal(object, object)
    stepChanged = Signal(object, object)
    capabilitiesKnown = Signal(str, tuple)

    def __init__(
        self,
        client: OllamaClient,
        log: LogBuffer,
        secrets: SecretStore,
        environ: Mapping[str, str] | None = None,
        local: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.secrets = secrets
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.local = local
        self._spawn: Spawn | None = None
        self.log = log
        self.watch = ServerLogWatch(log)
        self._shows: dict[tuple[str, str], ModelShow | None] = {}
        self._marks: ByMessage[int] = ByMessage()  # log mark when the reply's turn started
        #: The extras of each reply seen this session (tool steps, token probabilities).
        self.extras: ByMessage[TurnExtras] = ByMessage()
        #: The cut found for each reply.
        self.cuts: ByMessage[Truncation] = ByMessage()

    def follow(self, controller: ChatController, spawn: Spawn) -> None:
        """Build each turn's extras, and measure after each turn and conversation change
        (`spawn` runs the coroutines as background tasks of the launcher)."""
        # Bound methods, not lambdas: a lambda held by the controller's connection would
        # keep this object (and what it refers to) alive behind the garbage collector's back.
        self._spawn = spawn
        controller.extras_for = self.make_extras
        controller.turnEnded.connect(self._on_turn_ended)
        controller.conversationChanged.connect(self._on_conversation)

    def _on_turn_ended(self, turn: ChatTurn) -> None:
        if self._spawn is not None:
            self._spawn(self.turn_ended(turn.conversation, turn.reply))

    def _on_conversation(self, conversation: Conversation) -> None:
        if self._spawn is not None:
            self._spawn(self.refresh(conversation))

    # ---- what a model can do ----------------------------------------------

    def known_show(self, model: str) -> ModelShow | None:
        return self._shows.get((self.client.base_url, model))

    async def model_show(self, model: str) -> ModelShow | None:
        """`/api/show` of a model on the current host, asked once (None if it failed)."""
        key = (self.client.base_url, model)
        if key not in self._shows:
            try:
                show: ModelShow | None = await self.client.show(model)
            except OllamaError as exc:
                log.info("no details for %s: %s", model, explain(exc).details)
                show = None
            if show is None:
                return None  # not cached: ask again next time (the server may be back)
            self._shows[key] = show
            self.capabilitiesKnown.emit(model, show.capabilities)
        return self._shows[key]

    def supports_tools(self, model: str) -> bool | None:
        """Whether the model can call tools (None: not known yet)."""
        show = self.known_show(model)
        return None if show is None else "tools" in show.capabilities

    # ---- turns ---------------------------------------------------------------

    def make_extras(self, conversation: Conversation, reply: Message) -> TurnExtras | None:
        """The extras of the turn that writes `reply` (None when nothing is switched on)."""
        self._marks.put(reply, self.watch.mark())
        features = conversation.settings.features
        tools = features.switches().enabled()
        if tools and self.supports_tools(conversation.settings.model) is False:
            tools = frozenset()  # the server would refuse the request: answer without tools
        # The reply's own lists: the steps and probabilities are saved with it and shown
        # again when the conversation is reopened. A new reply's lists are empty, so is a
        # regenerated one's (its old lists went with its old version); Continue adds to them.
        extras = TurnExtras(
            tools=tools,
            logprobs=features.logprobs,
            web=self._open_web,
            on_step=lambda step: self.stepChanged.emit(reply, step),
            steps=reply.tool_steps,
            record=TokenRecord(reply.tokens) if features.logprobs else None,
        )
        if not extras.active:
            self.extras.pop(reply)
            return None
        self.extras.put(reply, extras)
        return extras

    def extras_of(self, reply: Message) -> TurnExtras | None:
        return self.extras.get(reply)

    @staticmethod
    def steps_of(reply: Message) -> list[ToolStep]:
        """The reply's tool steps (live, saved or imported alike)."""
        return reply.tool_steps

    @staticmethod
    def record_of(reply: Message) -> TokenRecord | None:
        """The token probabilities of the reply (of the version shown), None when it has
        none: live, the turn's record appends to this same list."""
        return TokenRecord(reply.tokens) if reply.tokens else None

    async def _open_web(self) -> WebTools | None:
        key = await find_key(self.secrets, self.environ)
        if not key:
            return None
        return WebTools(key, web_base(self.environ))

    def server_context(self) -> int | None:
        """OLLAMA_CONTEXT_LENGTH of the server, when it is ours and said so."""
        return self.watch.server_context if self.local else None

    def measure(self, conversation: Conversation) -> ContextUse:
        """The meter for a conversation, from its last reply with counts."""
        stats: dict[str, float] = {}
        for message in reversed(conversation.messages):
            if message.role == "assistant" and "prompt_eval_count" in message.stats:
                stats = message.stats
                break
        show = self.known_show(conversation.settings.model)
        model_max = show.context_length if show is not None else None
        return measure(stats, conversation.settings.num_ctx, self.server_context(), model_max)

    async def refresh(self, conversation: Conversation) -> ContextUse:
        """Learn the model's maximum (once), then tell the meter."""
        if conversation.settings.model:
            await self.model_show(conversation.settings.model)
        use = self.measure(conversation)
        self.contextChanged.emit(use)
        return use

    async def turn_ended(self, conversation: Conversation, reply: Message) -> None:
        """Measure the context after a reply and check whether its request was cut."""
        use = await self.refresh(conversation)
        mark = self._marks.pop(reply)
        cuts: list[LoggedTruncation] = []
        if mark is not None and self.local:
            self.log.catch_up()  # the tail reads slowly while the Server log is hidden
            cuts = self.watch.cuts_since(mark)
        try:
            index = next(i for i, m in enumerate(conversation.messages) if m is reply)
        except StopIteration:
            return
        sent = [m.content for m in conversation.messages[:index] if m.role != "system"]
        prompt = reply.stats.get("prompt_eval_count")
        cut = detect_truncation(
            sent,
            use.limit,
            prompt_eval_count=int(prompt) if prompt is not None else None,
            logged=cuts[-1] if cuts else None,
            system_prompt=conversation.settings.system_prompt,
            model_max=use.model_max,
        )
        if cut is not None:
            self.cuts.put(reply, cut)
            self.truncated.emit(reply, cut)

    def cut_of(self, reply: Message) -> Truncation | None:
        return self.cuts.get(reply)

    # ---- the one-click fixes and branches ------------------------------------

    @staticmethod
    def raise_context(conversation: Conversation, size: int) -> None:
        """Give this conversation a larger context (its next request uses it)."""
        conversation.settings.num_ctx = size

    async def summary_chat(self, conversation: Conversation) -> Conversation:
        """A new conversation that starts from the model's summary of this one.

        Raises OllamaError (explain it with `explain_failure`)."""
        show = await self.model_show(conversation.settings.model)
        model_max = show.context_length if show is not None else None
        context = min(model_max or 32768, 32768)
        summary = await summarise(self.client, conversation, context)
        return summary_conversation(conversation, summary)

    def explain_failure(self, exc: BaseException, model: str = "") -> Explanation:
        return explain(exc, host=self.client.base_url, model=model)

    @staticmethod
    def branch(conversation: Conversation, index: int) -> Conversation:
        """A new conversation with the history up to message `index`, linked to its parent."""
        branch = branch_at(conversation, index)
        branch.parent_id = conversation.id
        return branch

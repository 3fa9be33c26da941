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
from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, Signal

from launcher.core.branching import branch_at, summarise, summary_conversation
from launcher.core.context import ContextUse, Truncation, detect_truncation, measure
from launcher.core.conversation import Conversation, Message
from launcher.core.explain import Explanation, explain
from launcher.core.logbuffer import LogBuffer
from launcher.core.logwatch import ServerLogWatch
from launcher.core.toolloop import ToolStep
from launcher.core.turnextras import TurnExtras
from launcher.core.webtools import WebTools, find_key, web_base
from launcher.ollama import ModelShow, OllamaClient, OllamaError
from launcher.secrets import SecretStore

log = logging.getLogger(__name__)


class ChatPlus(QObject):
    """Context, tools, token probabilities and branches for the current conversation.

    Args:
        client: the current host's client (re-pointed at a host switch).
        log: the local server's log (its context length and cut prompts).
        secrets: where the ollama.com key may be (entry "ollama.com").
        environ: OLLAMA_API_KEY and OLLAMA_LAUNCHER_WEB_BASE are read here.
        is_local: whether the current host is the server whose log we read.

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
        is_local: Callable[[], bool] = lambda: True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.secrets = secrets
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.is_local = is_local
        self.watch = ServerLogWatch(log)
        self._shows: dict[tuple[str, str], ModelShow | None] = {}
        self._marks: dict[int, int] = {}  # id(reply) -> log mark when its turn started
        #: The extras of each reply seen this session (tool steps, token probabilities).
        self.extras: dict[int, TurnExtras] = {}
        #: The cut found for each reply (id(reply) -> Truncation).
        self.cuts: dict[int, Truncation] = {}

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
        self._marks[id(reply)] = self.watch.mark()
        features = conversation.settings.features
        tools = features.switches().enabled()
        if tools and self.supports_tools(conversation.settings.model) is False:
            tools = frozenset()  # the server would refuse the request: answer without tools
        extras = TurnExtras(
            tools=tools,
            logprobs=features.logprobs,
            web=self._open_web,
            on_step=lambda step: self.stepChanged.emit(reply, step),
        )
        if not extras.active:
            self.extras.pop(id(reply), None)
            return None
        self.extras[id(reply)] = extras
        return extras

    def extras_of(self, reply: Message) -> TurnExtras | None:
        return self.extras.get(id(reply))

    def steps_of(self, reply: Message) -> list[ToolStep]:
        extras = self.extras.get(id(reply))
        return extras.steps if extras is not None else []

    async def _open_web(self) -> WebTools | None:
        key = await find_key(self.secrets, self.environ)
        if not key:
            return None
        return WebTools(key, web_base(self.environ))

    def server_context(self) -> int | None:
        """OLLAMA_CONTEXT_LENGTH of the server, when it is ours and said so."""
        return self.watch.server_context if self.is_local() else None

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
        mark = self._marks.pop(id(reply), None)
        cuts = self.watch.cuts_since(mark) if mark is not None and self.is_local() else []
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
            self.cuts[id(reply)] = cut
            self.truncated.emit(reply, cut)

    def cut_of(self, reply: Message) -> Truncation | None:
        return self.cuts.get(id(reply))

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

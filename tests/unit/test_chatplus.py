"""The chat's extras against the real test server: the meter after a reply, cut prompts found
from the server's log or the sizes, the model's maximum from /api/show, branches, summaries."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from launcher.core.chat import ChatController
from launcher.core.chatplus import ChatPlus
from launcher.core.context import ContextUse
from launcher.core.conversation import Conversation, ConversationSettings, Message
from launcher.core.logbuffer import LogBuffer
from launcher.ollama import OllamaClient
from launcher.secrets import SecretStore
from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.waiting import wait_until

CUT = (
    'time=2026-01-01T10:00:01Z level=WARN source=runner.go:130 msg="truncating input prompt" '
    "limit=4096 prompt=5120 keep=4 new=4096"
)


@pytest.fixture(autouse=True)
def collected_here() -> Iterator[None]:
    """Collect this test's Qt objects (controller, turns) here, on the GUI thread: a later
    collection could run on the test server's thread and destroy them from there."""
    yield
    gc.collect()


@pytest.fixture
def server() -> Iterator[OllamaTestServer]:
    srv = OllamaTestServer()
    srv.add_model(
        "llama3.2",
        model_info={"general.architecture": "llama", "llama.context_length": 131072},
        capabilities=["completion", "tools"],
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


async def reply_to(controller: ChatController, text: str) -> Message:
    turn = controller.send(text, "llama3.2")
    assert turn is not None
    await wait_until(lambda: turn.ended, 10)
    await turn.wait()
    return turn.reply


async def test_after_a_reply_the_meter_reads_tokens_used_over_the_context(
    qloop: Any, server: OllamaTestServer
) -> None:
    server.reply = ReplySpec(text="Hello there friend", prompt_eval_count=1000)
    log = LogBuffer()
    async with OllamaClient(server.url) as client:
        controller = ChatController(client)
        plus = ChatPlus(client, log, SecretStore())
        seen: list[ContextUse] = []
        plus.contextChanged.connect(seen.append)
        reply = await reply_to(controller, "Hi")
        await plus.turn_ended(controller.conversation, reply)
    use = seen[-1]
    assert use.label() == "1,003 / 4,096"  # 1000 prompt + 3 reply tokens, Ollama's default
    assert use.model_max == 131072
    assert "131,072" in use.tooltip()
    assert plus.supports_tools("llama3.2") is True
    assert plus.cut_of(reply) is None


async def test_the_servers_context_length_and_its_cut_warning_are_used(
    qloop: Any, server: OllamaTestServer
) -> None:
    log = LogBuffer()
    log.append('msg="server config" env="map[OLLAMA_CONTEXT_LENGTH:4096 OLLAMA_DEBUG:INFO]"')
    async with OllamaClient(server.url) as client:
        controller = ChatController(client)
        plus = ChatPlus(client, log, SecretStore())
        history = []
        for n in range(6):
            history += [Message("user", f"question {n} " * 20), Message("assistant", f"answer {n}")]
        controller.conversation.messages.extend(history)
        cuts: list[Any] = []
        plus.truncated.connect(lambda reply, cut: cuts.append((reply, cut)))
        turn = controller.send("and now?", "llama3.2")
        assert turn is not None
        plus.make_extras(controller.conversation, turn.reply)  # the turn notes the log mark
        log.append(CUT)  # the server cut our request while it ran
        await wait_until(lambda: turn.ended, 10)
        await plus.turn_ended(controller.conversation, turn.reply)
    ((reply, cut),) = cuts
    assert reply is turn.reply
    assert cut.limit == 4096 and cut.first == 1
    assert cut.notice().startswith(
        "The start of this conversation no longer fits in the context (4,096 tokens): "
        "the model did not see messages 1-"
    )
    assert cut.suggested_ctx == 8192
    assert plus.measure(controller.conversation).source == "server"
    ChatPlus.raise_context(controller.conversation, cut.suggested_ctx)
    assert plus.measure(controller.conversation).label().endswith("/ 8,192")


async def test_extras_follow_the_conversations_switches(
    qloop: Any, server: OllamaTestServer
) -> None:
    async with OllamaClient(server.url) as client:
        plus = ChatPlus(client, LogBuffer(), SecretStore())
        conv = Conversation(None, "", ConversationSettings(model="llama3.2"))
        reply = Message("assistant", "")
        assert plus.make_extras(conv, reply) is None  # all off: a plain turn
        conv.settings.features.web_search = True
        conv.settings.features.logprobs = True
        extras = plus.make_extras(conv, reply)
        assert extras is not None and extras.tools == {"web_search"} and extras.logprobs
        assert plus.extras_of(reply) is extras
        server.add_model("tiny", capabilities=["completion"])
        conv.settings.model = "tiny"
        await plus.model_show("tiny")
        no_tools = plus.make_extras(conv, reply)
        assert no_tools is not None and no_tools.tools == frozenset() and no_tools.logprobs


async def test_a_summary_chat_and_a_branch(qloop: Any, server: OllamaTestServer) -> None:
    server.reply = ReplySpec(text="We planned Lyon.")
    conv = Conversation(
        5,
        "Trip",
        ConversationSettings(model="llama3.2"),
        [Message("user", "Plan Lyon"), Message("assistant", "Day 1")],
    )
    async with OllamaClient(server.url) as client:
        plus = ChatPlus(client, LogBuffer(), SecretStore())
        fresh = await plus.summary_chat(conv)
    assert fresh.messages[0].content.endswith("We planned Lyon.")
    body = next(r.body for r in server.requests if r.path == "/api/chat")
    assert body["options"]["num_ctx"] == 32768  # the model allows 131,072; summaries stay modest
    branch = ChatPlus.branch(conv, 0)
    assert branch.parent_id == 5 and [m.content for m in branch.messages] == ["Plan Lyon"]


def test_values_per_message_follow_the_object_not_its_value() -> None:
    from launcher.core.chatplus import ByMessage

    store: ByMessage[str] = ByMessage()
    first = Message("assistant", "same", created_at=1.0)
    twin = Message("assistant", "same", created_at=1.0)
    assert first == twin  # messages compare by value...
    store.put(first, "steps of the first")
    assert store.get(first) == "steps of the first"
    assert store.get(twin) is None  # ...but values belong to the object
    del first  # freed at once (no cycle): its value goes with it
    assert len(store) == 0
    store.put(twin, "x")
    assert store.pop(twin) == "x" and store.get(twin) is None

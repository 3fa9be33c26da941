"""Branches copy the history up to a message; a summary starts a new chat that carries it."""

from __future__ import annotations

import pytest

from launcher.core.attachments import Attachment, compose
from launcher.core.branching import (
    SUMMARY_PROMPT,
    branch_at,
    summarise,
    summary_conversation,
    transcript_for_summary,
)
from launcher.core.conversation import Conversation, ConversationSettings, Message, ReplyVersion
from launcher.ollama import OllamaClient
from tests.ollama_server import OllamaTestServer, ReplySpec


def conversation() -> Conversation:
    settings = ConversationSettings(model="llama3.2", temperature=0.2, num_ctx=4096)
    messages = [
        Message("user", "Plan a trip to Lyon", id=11),
        Message(
            "assistant",
            "Day 1: Vieux Lyon",
            id=12,
            versions=[ReplyVersion("Day 1: Fourvière")],
            version_index=1,
        ),
        Message("user", "Add food", id=13),
        Message("assistant", "Try a bouchon", id=14, state="streaming"),
    ]
    return Conversation(7, "Lyon trip", settings, messages)


def test_a_branch_copies_the_history_up_to_the_message() -> None:
    parent = conversation()
    branch = branch_at(parent, 1)
    assert branch.id is None and branch.title == "Lyon trip (branch)"
    assert [m.content for m in branch.messages] == ["Plan a trip to Lyon", "Day 1: Vieux Lyon"]
    assert all(m.id is None for m in branch.messages)
    assert branch.messages[1].versions[0].content == "Day 1: Fourvière"  # versions kept
    branch.messages[0].content = "changed"
    branch.settings.temperature = 0.9
    assert parent.messages[0].content == "Plan a trip to Lyon"  # copies, not shared
    assert parent.settings.temperature == 0.2
    whole = branch_at(parent, 3)
    assert whole.messages[-1].state == "stopped"  # a streaming reply is copied as stopped
    assert branch_at(branch, 0).title == "Lyon trip (branch)"  # no "(branch) (branch)"
    with pytest.raises(IndexError):
        branch_at(parent, 4)


def test_the_summary_transcript_names_files_and_fits_the_budget() -> None:
    files = [Attachment("big.csv", "csv", "a,b\n" * 5000)]
    messages = [
        Message("user", compose("Analyse this", files)),
        Message("assistant", "It has two columns. " * 200),
    ]
    text = transcript_for_summary(messages, 300)
    assert text.startswith("User: [attached: big.csv]\nAnalyse this")
    assert "a,b" not in text
    assert len(text) < 300 * 3.5 + 100
    assert "[…]" in text


async def test_summarise_asks_the_model_and_the_new_chat_carries_the_summary() -> None:
    server = OllamaTestServer()
    server.add_model("llama3.2")
    server.reply = ReplySpec(text="- Trip to Lyon, day 1 in Vieux Lyon.")
    server.start()
    parent = conversation()
    try:
        async with OllamaClient(server.url) as client:
            summary = await summarise(client, parent, 8192)
    finally:
        server.stop()
    assert summary == "- Trip to Lyon, day 1 in Vieux Lyon."
    body = next(r.body for r in server.requests if r.path == "/api/chat")
    assert body["stream"] is False
    assert body["options"]["num_ctx"] == 8192 and body["options"]["temperature"] == 0.2
    assert body["messages"][0] == {"role": "system", "content": SUMMARY_PROMPT}
    assert "User: Plan a trip to Lyon" in body["messages"][1]["content"]
    fresh = summary_conversation(parent, summary)
    assert fresh.id is None and fresh.title == "Lyon trip (continued)"
    assert fresh.settings.model == "llama3.2"
    (first,) = fresh.messages
    assert first.role == "user"
    assert first.content.startswith("Summary of the earlier conversation “Lyon trip”:\n\n- Trip")

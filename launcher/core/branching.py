"""New conversations made from an old one: a branch at a message, or a fresh start from a summary.

"Branch from here" copies the history up to a message into a new conversation
linked to its parent (the sidebar shows it under it), so an idea can be tried
without losing the original thread. When a conversation has outgrown its
context, "Start a new chat with a summary" asks the model for a summary of it
and begins a new conversation that carries that summary as its first message.
Pure functions over the records of `conversation.py`, plus one request.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Final

from launcher.core.attachments import split_message
from launcher.core.context import CHARS_PER_TOKEN
from launcher.core.conversation import Conversation, ConversationSettings, Message
from launcher.ollama import OllamaClient

BRANCH_SUFFIX: Final = " (branch)"
SUMMARY_PROMPT: Final = (
    "Summarise the conversation below so that it can be continued in a new chat. Keep every "
    "fact, decision, name, number, piece of code and open question that matters; leave out "
    "small talk. Write the summary as plain Markdown, without a preamble."
)
SUMMARY_HEADER: Final = "Summary of the earlier conversation “{title}”:"


def branch_title(title: str) -> str:
    base = title.strip() or "Conversation"
    return base if base.endswith(BRANCH_SUFFIX) else base + BRANCH_SUFFIX


def branch_at(conversation: Conversation, index: int) -> Conversation:
    """A new conversation with the messages 0..index of `conversation` (copies: editing one
    never changes the other), the same settings, and a title that says it is a branch.

    The caller records the parent (`conversation.id`) when it stores the branch.
    A reply still streaming is copied as it is now, marked stopped.
    """
    if not 0 <= index < len(conversation.messages):
        raise IndexError(f"no message {index} to branch from")
    messages = []
    for message in conversation.messages[: index + 1]:
        clone = copy.deepcopy(message)
        clone.id = None
        if clone.state == "streaming":
            clone.state = "stopped"
        messages.append(clone)
    return Conversation(
        None,
        branch_title(conversation.title),
        copy.deepcopy(conversation.settings),
        messages,
    )


def transcript_for_summary(messages: Sequence[Message], budget_tokens: int) -> str:
    """The conversation as plain text for the summary request, within a token budget.

    Attached files are named, not repeated (their text is what overflowed the context
    most often); when the text is still too long, each message keeps its beginning and end.
    """
    parts = []
    for message in messages:
        if message.role == "system" or not message.content.strip():
            continue
        text, files = split_message(message.content)
        if files:
            names = ", ".join(f.name for f in files)
            text = f"[attached: {names}]\n{text}".strip()
        who = "User" if message.role == "user" else "Assistant"
        parts.append((who, text))
    budget_chars = int(budget_tokens * CHARS_PER_TOKEN)
    total = sum(len(text) for _, text in parts)
    if parts and total > budget_chars:
        share = max(200, budget_chars // len(parts))
        parts = [(who, _shorten(text, share)) for who, text in parts]
    return "\n\n".join(f"{who}: {text}" for who, text in parts)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = max(1, (limit - 5) // 2)
    return f"{text[:half]} […] {text[-half:]}"


async def summarise(client: OllamaClient, conversation: Conversation, context_tokens: int) -> str:
    """Ask the conversation's model for a summary of it (one non-streamed request that fits
    the given context, leaving a quarter of it for the summary)."""
    settings = conversation.settings
    transcript = transcript_for_summary(conversation.messages, int(context_tokens * 0.7))
    options = dict(settings.options())
    options["num_ctx"] = context_tokens
    reply = await client.chat_once(
        settings.model,
        [
            {"role": "system", "content": SUMMARY_PROMPT},
            {"role": "user", "content": transcript},
        ],
        options=options,
        think=False if settings.think else None,
        keep_alive=settings.keep_alive,
    )
    return reply.content.strip()


def summary_conversation(conversation: Conversation, summary: str) -> Conversation:
    """A new conversation (same model and options) whose first message carries the summary."""
    title = conversation.title.strip() or "Conversation"
    text = SUMMARY_HEADER.format(title=title) + "\n\n" + summary.strip()
    settings: ConversationSettings = copy.deepcopy(conversation.settings)
    return Conversation(None, f"{title} (continued)", settings, [Message("user", text)])

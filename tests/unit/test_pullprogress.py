"""The pure parts of downloads: progress folding, wording, the space rule, the saved queue."""

from __future__ import annotations

import asyncio
from pathlib import Path

from launcher.config import LocalServerSettings
from launcher.core.diskspace import free_bytes, models_folder, space_problem
from launcher.core.pulljob import stall_backoff
from launcher.core.pullprogress import PullProgressModel
from launcher.core.pullqueue import QueueFile, SavedPull, decode, encode
from launcher.ollama import PullProgress

WEIGHTS = "sha256:" + "a" * 64
CONFIG = "sha256:" + "b" * 64


def line(
    digest: str | None, total: int | None, completed: int | None, status: str = ""
) -> PullProgress:
    status = status or (f"pulling {digest.split(':')[1][:12]}" if digest else "pulling manifest")
    return PullProgress(status, digest, total, completed)


def test_progress_never_goes_backwards_across_a_retry() -> None:
    model = PullProgressModel()
    model.feed(line(None, None, None), now=0.0)
    assert model.phase() == "Fetching the model's manifest"
    model.feed(line(WEIGHTS, 2_000_000_000, 500_000_000), now=1.0)
    assert model.phase() == "Resuming model weights (2.0 GB)"  # bytes were on disk
    model.feed(line(WEIGHTS, 2_000_000_000, 1_000_000_000), now=2.0)
    high = model.overall
    model.restart()  # a stalled request is retried
    # A server that restarts the layer from less than we saw must not move the bar back.
    moved = model.feed(line(WEIGHTS, 2_000_000_000, 900_000_000), now=3.0)
    assert not moved
    assert model.overall == high
    assert model.layers[WEIGHTS].completed == 1_000_000_000
    # A new small layer grows the total; the overall figure still never drops.
    model.feed(line(CONFIG, 561, 0), now=4.0)
    assert model.overall >= high
    assert model.phase() == "Resuming model weights (2.0 GB)"  # the big one still comes
    model.feed(line(WEIGHTS, 2_000_000_000, 2_000_000_000), now=5.0)
    model.feed(line(CONFIG, 561, 0), now=6.0)
    assert model.phase() == "Downloading model file (561 B)"
    assert "sha256" not in model.phase() and "aaaa" not in model.phase()


def test_a_retried_request_that_carries_on_says_resuming() -> None:
    model = PullProgressModel()
    model.feed(line(WEIGHTS, 1_000_000_000, None), now=0.0)
    model.feed(line(WEIGHTS, 1_000_000_000, 300_000_000), now=1.0)
    assert not model.resuming
    model.restart()
    assert model.feed(line(WEIGHTS, 1_000_000_000, 400_000_000), now=2.0)
    assert model.resuming
    assert model.remaining == 600_000_000


def test_downloading_is_only_while_bytes_are_expected() -> None:
    model = PullProgressModel()
    model.feed(line(None, None, None))
    assert not model.downloading
    model.feed(line(WEIGHTS, 10, 5))
    assert model.downloading
    model.feed(PullProgress("verifying sha256 digest"))
    assert not model.downloading
    assert model.phase() == "Verifying the download"


def test_space_rule_keeps_the_reserve_and_says_how_much_is_needed() -> None:
    folder = Path("/models")
    assert space_problem("m", 1_000, 10_000_000_000, 1_000_000_000, folder) is None
    message = space_problem("qwen3:8b", 5_000_000_000, 5_500_000_000, 1_000_000_000, folder)
    assert message is not None
    assert "space" in message
    assert "5.0 GB more" in message
    assert "Free at least 500.0 MB" in message
    before = space_problem("m", 0, 500_000_000, 1_000_000_000, folder)
    assert before is not None and "nearly full" in before


def test_models_folder_follows_settings_then_tuning_then_default(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert models_folder(LocalServerSettings(), env) == tmp_path / ".ollama" / "models"
    tuned = LocalServerSettings(tuning={"OLLAMA_MODELS": "/big/models"})
    assert models_folder(tuned, env) == Path("/big/models")
    both = LocalServerSettings(models_dir="/fast", tuning={"OLLAMA_MODELS": "/big/models"})
    assert models_folder(both, env) == Path("/fast")
    # A folder that does not exist yet is measured on its nearest existing parent.
    free, probe = free_bytes(tmp_path / "not" / "yet")
    assert probe == tmp_path and free > 0


def test_backoff_grows() -> None:
    assert [stall_backoff(n) for n in range(1, 6)] == [1, 2, 4, 8, 16]


def test_saved_queue_round_trips_and_skips_junk(tmp_path: Path) -> None:
    pulls = [SavedPull("llama3.2", "local"), SavedPull("qwen3:8b", "remote-1", update=True)]
    assert decode(encode(pulls)) == pulls
    assert decode("not json") == []
    assert decode(
        '{"pulls": [{"model": 3, "host": "x"}, "junk", {"model": "ok", "host": "h"}]}'
    ) == [SavedPull("ok", "h")]

    async def roundtrip() -> list[SavedPull]:
        file = QueueFile(tmp_path / "data" / "downloads.json")
        assert await file.load() == []
        await asyncio.gather(file.save(pulls[:1]), file.save(pulls))
        return await file.load()

    assert asyncio.run(roundtrip()) == pulls  # the newest snapshot wins
    assert not list((tmp_path / "data").glob("*.tmp"))


def test_parallel_layers_are_named_by_the_biggest_one_still_coming() -> None:
    model = PullProgressModel()
    model.feed(line(WEIGHTS, 2_000_000_000, 0))
    model.feed(line(CONFIG, 561, 100))
    assert model.phase() == "Downloading model weights (2.0 GB)"
    model.feed(line(WEIGHTS, 2_000_000_000, 2_000_000_000))
    model.feed(line(CONFIG, 561, 200))
    assert model.phase() == "Resuming model file (561 B)"  # it had bytes at its first line

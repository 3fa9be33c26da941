"""Following the server's log file: whole lines only, a truncated file read from the top."""

from __future__ import annotations

from pathlib import Path

from launcher.core.logbuffer import LogBuffer
from launcher.core.logtail import LogTail


def test_lines_arrive_whole_and_the_last_partial_line_at_finish(tmp_path: Path) -> None:
    path, log = tmp_path / "server.log", LogBuffer()
    tail = LogTail(path, log)
    assert not tail.read_new()  # no file yet: nothing, no error
    with path.open("ab") as out:
        out.write(b"first line\nsecond ha")
    tail.read_new()
    assert log.lines() == ["first line"]
    with path.open("ab") as out:
        out.write("lf \u00e9\r\npanic: boom".encode())
    tail.read_new()
    assert log.lines() == ["first line", "second half \u00e9"]
    tail.finish()
    assert log.lines()[-1] == "panic: boom"


def test_a_new_server_truncating_the_file_is_read_from_the_top(tmp_path: Path) -> None:
    path, log = tmp_path / "server.log", LogBuffer()
    path.write_bytes(b"old one\nold two\n")
    tail = LogTail(path, log, from_end=True)  # adopted: only what comes next
    tail.read_new()
    assert log.lines() == []
    path.write_bytes(b"new\n")
    tail.read_new()
    assert log.lines() == ["new"]


def test_a_flood_is_read_in_bounded_steps(tmp_path: Path) -> None:
    path, log = tmp_path / "server.log", LogBuffer(maxlen=100_000)
    path.write_bytes(b"x" * 99 + b"\n" * 1 + (b"y" * 99 + b"\n") * 20_000)
    tail = LogTail(path, log)
    assert tail.read_new(limit=100_000)  # more to come
    tail.finish()
    assert len(log.lines()) == 20_001


def test_passwords_in_proxy_urls_never_reach_the_log(tmp_path: Path) -> None:
    path, log = tmp_path / "server.log", LogBuffer()
    path.write_bytes(
        b'msg="server config" env="map[HTTPS_PROXY:http://me:s3cret@proxy:3128 '
        b'OLLAMA_HOST:http://127.0.0.1:11434 OLLAMA_MODELS:/m]"\n'
    )
    tail = LogTail(path, log)
    tail.finish()
    assert "s3cret" not in log.lines()[0]
    assert "HTTPS_PROXY:http://me:***@proxy:3128" in log.lines()[0]
    assert "OLLAMA_HOST:http://127.0.0.1:11434 " in log.lines()[0]  # ports are not passwords

"""The pure rules behind the build dialogs: Ollama's model names and Modelfile parameters."""

from __future__ import annotations

import pytest

from launcher.core.modelnames import full_name, name_problem, parse_parameters


@pytest.mark.parametrize(
    "name",
    ["my-model", "my-model:v2", "Qwen2.5_7b", "me/persona:latest", "host.lan:5000/me/model:_t"],
)
def test_names_ollama_accepts(name: str) -> None:
    assert name_problem(name) == ""


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("", "Type a name"),
        ("  ", "Type a name"),
        ("my model", "cannot contain spaces"),
        (".hidden", "start with a letter or digit"),
        ("a" * 81, "up to 80 characters"),
        ("model:", "The tag after ':' (empty)"),
        ("model:-x", "The tag after ':' (-x)"),
        ("a/b/c/d", "at most two '/'"),
        ("-ns/model", "The namespace '-ns'"),
        ("é-model", "can't be a model name"),
    ],
)
def test_names_ollama_refuses_say_why(name: str, said: str) -> None:
    assert said in name_problem(name)


def test_full_name_adds_latest_and_ignores_case() -> None:
    assert full_name("My-Model") == "my-model:latest"
    assert full_name("me/m:V2") == "me/m:v2"
    assert full_name("host:5000/me/m") == "host:5000/me/m:latest"


def test_parameters_are_typed_and_stop_repeats() -> None:
    text = '# a persona\nPARAMETER temperature 0.2\n\nnum_ctx 8192\nstop <|end|>\nstop "###"\n'
    assert parse_parameters(text) == {
        "temperature": 0.2,
        "num_ctx": 8192,
        "stop": ["<|end|>", "###"],
    }
    assert parse_parameters("") == {}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("temprature 1", "Line 1: 'temprature' is not a parameter Ollama knows"),
        ("seed 1\nnum_ctx 4k", "Line 2: num_ctx needs a whole number, not '4k'"),
        ("top_p", "Line 1: give top_p a value, for example 'top_p 0.7'"),
    ],
)
def test_bad_parameters_say_which_line_and_why(text: str, said: str) -> None:
    with pytest.raises(ValueError, match=r"^Line") as info:
        parse_parameters(text)
    assert said in str(info.value)

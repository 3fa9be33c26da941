"""Per-conversation switches round-trip as JSON; the server log tells context and cuts."""

from __future__ import annotations

from launcher.core.features import ChatFeatures
from launcher.core.logbuffer import LogBuffer
from launcher.core.logwatch import ServerLogWatch
from launcher.core.tools import CALCULATOR, DATETIME, WEB_SEARCH

CONFIG = (
    'time=2026-01-01T10:00:00Z level=INFO source=routes.go:1331 msg="server config" '
    'env="map[OLLAMA_CONTEXT_LENGTH:{n} OLLAMA_DEBUG:INFO OLLAMA_ORIGINS:[a b]]"'
)
CUT = (
    'time=2026-01-01T10:00:01Z level=WARN source=runner.go:130 msg="truncating input prompt" '
    "limit={limit} prompt={prompt} keep=4 new={limit}"
)


def test_features_round_trip_and_unknown_or_odd_values_stay_off() -> None:
    features = ChatFeatures(web_search=True, logprobs=True)
    assert features.to_json() == '{"logprobs": true, "web_search": true}'
    assert ChatFeatures.from_json(features.to_json()) == features
    assert ChatFeatures().to_json() == "{}"
    assert ChatFeatures.from_json('{"web_search": 1, "future_switch": true}') == ChatFeatures()
    assert ChatFeatures.from_json("not json") == ChatFeatures()
    assert ChatFeatures.from_json(None) == ChatFeatures()
    assert ChatFeatures.from_json("[]") == ChatFeatures()
    enabled = ChatFeatures(web_search=True, calculator=True).switches().enabled()
    assert enabled == {WEB_SEARCH, CALCULATOR, DATETIME}


def test_the_log_gives_the_servers_context_and_the_cuts_during_a_request() -> None:
    log = LogBuffer()
    log.append(CONFIG.format(n=8192))  # before the watch: read from the buffer
    watch = ServerLogWatch(log)
    assert watch.server_context == 8192
    mark = watch.mark()
    assert watch.cuts_since(mark) == []
    log.append(CUT.format(limit=8192, prompt=9000))
    (cut,) = watch.cuts_since(mark)
    assert (cut.limit, cut.prompt) == (8192, 9000)
    later = watch.mark()
    assert watch.cuts_since(later) == []
    log.append(CONFIG.format(n=2048))  # the server was restarted with another value
    assert watch.server_context == 2048
    watch.close()
    log.append(CUT.format(limit=2048, prompt=3000))
    assert watch.cuts_since(later) == []  # closed: no longer listening

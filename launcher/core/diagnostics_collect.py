"""Gathers the values of the diagnostics report from the running launcher (QtCore at most).

Kept apart from the pure report builder (`diagnostics_report.py`) and from the
panel: the panel asks for text, this module knows where each value lives and
which secrets must never appear in it.
"""

from __future__ import annotations

import platform
import sys

import PySide6
from PySide6.QtCore import qVersion

from launcher import __version__
from launcher.core.diagnostics import ServerFacts
from launcher.core.diagnostics_remote import ApiFacts
from launcher.core.diagnostics_report import ReportInputs, build_report
from launcher.core.diagnostics_tuning import differences, requested_environment
from launcher.core.launcher import Launcher
from launcher.core.porthold import PortReport, describe


def requested_for(launcher: Launcher) -> dict[str, str]:
    """What we ask the local server for ({} for a host we do not run)."""
    if not launcher.profile.managed:
        return {}
    return requested_environment(launcher.settings.local, launcher.profile.child_host)


def known_secrets(launcher: Launcher) -> tuple[str, ...]:
    """Every API key the launcher holds (memory only): none of them may be shown."""
    keys = [launcher.secrets.peek(r.id) or "" for r in launcher.settings.remotes]
    keys.append(launcher.environ.get("OLLAMA_API_KEY", ""))
    keys.append(launcher.api_key_for(launcher.profile) or "")
    return tuple(k for k in keys if k)


def report_text(
    launcher: Launcher, facts: ServerFacts, api: ApiFacts, port: PortReport | None
) -> str:
    """The Copy/Save diagnostics text, redacted."""
    ours = launcher.supervisor.running
    requested = requested_for(launcher)
    inputs = ReportInputs(
        launcher_version=__version__,
        qt_version=qVersion(),
        pyside_version=PySide6.__version__,
        python_version=sys.version.split()[0],
        os_name=f"{platform.system()} {platform.release()} ({platform.machine()})",
        host_url=launcher.profile.base_url,
        state=launcher.monitor.status.description,
        started_by_launcher=ours,
        facts=facts,
        requested=requested,
        differing=differences(requested, facts.config) if ours else {},
        api_version=api.version or launcher.monitor.status.version,
        loaded_models=api.loaded_names(),
        port_holder=describe(port) if port else "",
        log_lines=tuple(launcher.log.tail(200)),
        secrets=known_secrets(launcher),
    )
    return build_report(inputs)

"""Where Chromium is and how to start it: shared by the tests, the benchmark and set-up.

Stdlib only at import time, so scripts/setup.py can use it before anything is installed.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

# Debian's Chromium as root, headless, on a machine with no outside network:
# without the background-networking flags it keeps trying to reach Google.
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']


def system_chromium() -> str | None:
    """$CHROMIUM_PATH, else /usr/bin/chromium(-browser), else chromium on PATH."""
    for candidate in (os.environ.get('CHROMIUM_PATH'), '/usr/bin/chromium', '/usr/bin/chromium-browser',
                      shutil.which('chromium')):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def find_chromium(playwright) -> str | None:
    """A system Chromium, else the one `playwright install chromium` downloaded."""
    found = system_chromium()
    if found:
        return found
    try:
        own = playwright.chromium.executable_path
        return own if Path(own).exists() else None
    except Exception:
        return None

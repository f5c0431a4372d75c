#!/usr/bin/env python3
"""Set up a fresh checkout: a virtualenv with the pinned Python tools, the npm tools.

  python3 scripts/setup.py          .venv with the [build] extra, then `npm ci`
  python3 scripts/setup.py --test   also the [test] extra, and Chromium for the
                                    browser tests when none is found: Debian's
                                    package through apt-get when root, else
                                    Playwright's own download

The pinned versions live in pyproject.toml ([project.optional-dependencies]) and
package-lock.json; this script only installs them. Running it again is quick:
what is already there is kept.

Exit codes: 0 ok, 1 a step failed (the message says which and what to do).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

from browser import system_chromium  # scripts/browser.py (stdlib only)

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / '.venv'


class SetupError(Exception):
    pass


def step(title: str, cmd: list[str]) -> None:
    print(f'==> {title}', flush=True)
    if subprocess.run(cmd, cwd=ROOT).returncode != 0:
        raise SetupError(f'{title} failed: see the output above (command: {" ".join(cmd)})')


def requirements(extra: str) -> list[str]:
    project = tomllib.loads((ROOT / 'pyproject.toml').read_text(encoding='utf-8'))['project']
    return project['optional-dependencies'][extra]


def python_ok() -> None:
    if not (3, 11) <= sys.version_info[:2] < (3, 13):
        raise SetupError(f'Python {sys.version.split()[0]} is not supported: Transcrypt 3.9.5 needs 3.11 or 3.12')


def make_venv() -> Path:
    python = VENV / 'bin' / 'python'
    if not python.exists():
        print(f'==> creating {VENV.name}/', flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    return python


def install_chromium(python: Path) -> None:
    if system_chromium():
        return
    if os.geteuid() == 0 and shutil.which('apt-get'):
        step('apt-get update', ['apt-get', 'update', '-qq'])
        step('apt-get install chromium', ['apt-get', 'install', '-y', '-qq', 'chromium'])
        return
    try:
        step("Playwright's Chromium", [str(python), '-m', 'playwright', 'install', 'chromium'])
    except SetupError:
        raise SetupError('no Chromium found and none could be installed: install one '
                         '(Debian: apt-get install -y chromium) or set CHROMIUM_PATH') from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     epilog='Exit codes: 0 ok, 1 a step failed.')
    parser.add_argument('--test', action='store_true', help='also install test tools and Chromium')
    args = parser.parse_args(argv)
    try:
        python_ok()
        python = make_venv()
        extra = 'test' if args.test else 'build'
        step(f'pip install [{extra}] (pinned in pyproject.toml)',
             [str(python), '-m', 'pip', 'install', '-q', '--disable-pip-version-check', *requirements(extra)])
        if not shutil.which('npm'):
            raise SetupError('npm not found: install Node.js 20 with npm, then run this again')
        step('npm ci (package-lock.json)', ['npm', 'ci', '--no-audit', '--no-fund', '--loglevel=error'])
        if args.test:
            install_chromium(python)
    except SetupError as error:
        print(f'setup: {error}', file=sys.stderr)
        return 1
    print('setup: done')
    return 0


if __name__ == '__main__':
    sys.exit(main())

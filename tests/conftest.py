"""Shared fixtures: real Chromium through Playwright, pages served over http.

Pages
  Any path under the server that is not a real file and ends in `.html` or `/`
  is answered with a test page that loads a bundle and sets `window.S` to the
  API (and `window.ready = true`):
    ?bundle=classic (default)  <script src="/dist/session-utils.js">
    ?bundle=esm                <script type=module> import * as S from '/dist/session-utils.mjs'
  So `/app/page.html` and `/x/y/` are pages in those directories, which is what
  cookie-path tests need. Real files (dist/, tests/pages/...) are served as they are.

Browser
  $CHROMIUM_PATH, else /usr/bin/chromium, else Playwright's own download.
"""
from __future__ import annotations

import os
import shutil
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'scripts'))
from browser import CHROMIUM_ARGS, find_chromium  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUNDLES = ('classic', 'esm')


def page_html(bundle: str, body: str = '') -> str:
    """The standard test page for one bundle."""
    if bundle == 'esm':
        loader = ("<script type=module>import * as S from '/dist/session-utils.mjs';"
                  "window.S = S; window.ready = true;</script>")
    else:
        loader = "<script src=/dist/session-utils.js></script><script>window.S = sessionUtils; window.ready = true;</script>"
    return ('<!doctype html><html><head><meta charset=utf-8><link rel=icon href="data:,">'
            f'<title>session-utils test</title>{loader}</head><body>{body}</body></html>')


class Handler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        target = ROOT / url.path.lstrip('/')
        if not target.is_file() and (url.path.endswith('.html') or url.path.endswith('/')):
            bundle = parse_qs(url.query).get('bundle', ['classic'])[0]
            data = page_html(bundle).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'text/html; charset=utf-8')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()

    def guess_type(self, path):
        if str(path).endswith('.mjs'):
            return 'text/javascript'
        return super().guess_type(path)


@pytest.fixture(scope='session')
def server():
    """Base URL (http://127.0.0.1:PORT) of a server for the repository root."""
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), partial(Handler, directory=str(ROOT)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope='session')
def playwright_instance():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope='session')
def chromium_path(playwright_instance):
    path = find_chromium(playwright_instance)
    if not path:
        pytest.fail('no Chromium found: run `apt-get install -y chromium` (Debian) '
                    'or set CHROMIUM_PATH to a Chromium binary', pytrace=False)
    return path


def launch(playwright, path: str, **options):
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, **options)


@pytest.fixture(scope='session')
def browser(playwright_instance, chromium_path):
    browser = launch(playwright_instance, chromium_path)
    yield browser
    browser.close()


@pytest.fixture(scope='session')
def launch_browser(playwright_instance, chromium_path):
    """Launch another Chromium with extra options (e.g. to allow the bfcache)."""
    launched = []

    def start(**options):
        launched.append(launch(playwright_instance, chromium_path, **options))
        return launched[-1]
    yield start
    for browser in launched:
        browser.close()


def watch_errors(page):
    """Collect uncaught page errors and console errors on page.errors."""
    page.errors = []
    page.on('pageerror', lambda error: page.errors.append(f'pageerror: {error}'))
    page.on('console', lambda msg: msg.type == 'error' and page.errors.append(f'console: {msg.text}'))
    return page


@pytest.fixture
def context(browser):
    context = browser.new_context()
    context.on('page', watch_errors)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture(params=BUNDLES)
def bundle(request):
    """Run a test once with each bundle."""
    return request.param


@pytest.fixture
def open_page(server):
    """open_page(page, path='/index.html', bundle='classic') -> loads a test page and waits for the API."""
    def go(page, path: str = '/index.html', bundle: str = 'classic'):
        separator = '&' if '?' in path else '?'
        page.goto(f'{server}{path}{separator}bundle={bundle}')
        page.wait_for_function('window.ready === true')
        return page
    return go

"""The demo page (demo/index.html) and its server (scripts/demo.py).

Clicks every button in Chromium, checks the JSON and ids shown change as they
should, sees a change made in a second tab arrive in the first, checks the
countdown with Playwright's clock, and saves a screenshot to test-results/demo.png.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / 'demo' / 'index.html'
START = '2026-12-03T10:00:00Z'


def shown(page, panel: str):
    """The JSON a panel shows (persisted, tab, page)."""
    return json.loads(page.inner_text(f'#{panel}-json'))


def log_entries(page) -> list[tuple[str, str, str]]:
    """The event log, oldest first: (reason, 'this tab' | 'other tab', id)."""
    items = page.eval_on_selector_all(
        '#log li', 'items => items.map(li => [li.querySelector(".reason").textContent, '
        'li.querySelector(".where").textContent, li.querySelector(".id").textContent])')
    return [tuple(item) for item in reversed(items)]


@pytest.fixture
def demo(context, server):
    context.clock.install(time=START)
    context.clock.pause_at(START)
    page = context.new_page()
    page.goto(f'{server}/demo/index.html')
    page.wait_for_selector('#persisted-json')
    return page


def test_demo_loads_only_the_classic_bundle():
    html = DEMO.read_text(encoding='utf-8')
    sources = re.findall(r'<(?:script|link)[^>]*?(?:src|href)="([^"]+)"', html)
    assert sources == ['data:,', '/dist/session-utils.js']
    assert 'http://' not in html and 'https://' not in html and 'import ' not in html


def test_persisted_panel_buttons_countdown_and_log(demo):
    page = demo
    first = shown(page, 'persisted')
    assert first['isNew'] is True and first['duration'] == 30 * 60000
    assert log_entries(page) == [('start', 'this tab', first['id'])]
    assert page.inner_text('#countdown') == '30:00'

    page.click('#persisted-get')                                    # reading changes nothing
    got = shown(page, 'persisted')
    assert got['id'] == first['id'] and got['isNew'] is False and got['expires'] == first['expires']
    assert len(log_entries(page)) == 1

    page.clock.fast_forward('10:00')                                # the countdown runs
    page.wait_for_function("document.getElementById('countdown').textContent === '20:00'")

    page.click('#persisted-extend')                                 # same id, later expiry
    extended = shown(page, 'persisted')
    assert extended['id'] == first['id']
    assert extended['expires'] == first['expires'] + 10 * 60000
    assert extended['modified'] == first['created'] + 10 * 60000
    assert page.inner_text('#countdown') == '30:00'
    assert log_entries(page)[-1] == ('extend', 'this tab', first['id'])

    page.click('#persisted-new')                                    # a new id
    fresh = shown(page, 'persisted')
    assert fresh['id'] != first['id'] and fresh['isNew'] is True
    assert log_entries(page)[-1] == ('start', 'this tab', fresh['id'])

    page.click('#persisted-remove')
    assert shown(page, 'persisted') is None
    assert page.inner_text('#countdown') == '--:--'
    assert log_entries(page)[-1] == ('remove', 'this tab', '—')
    assert page.evaluate("document.cookie.includes('__session=')") is False

    page.click('#persisted-get')                                    # starts anew after a remove
    again = shown(page, 'persisted')
    assert again['id'] not in (first['id'], fresh['id']) and again['isNew'] is True
    assert [reason for reason, _, _ in log_entries(page)] == ['start', 'extend', 'start', 'remove', 'start']

    page.clock.fast_forward('30:00')                                # expiry shows
    page.wait_for_function("document.getElementById('countdown').className === 'expired'")
    assert page.inner_text('#countdown') == '0:00'
    assert page.errors == []


def test_tab_and_page_panels(demo, context):
    page = demo
    tab = shown(page, 'tab')
    page.click('#tab-get')
    assert shown(page, 'tab')['id'] == tab['id']
    page.click('#tab-new')
    new_tab = shown(page, 'tab')
    assert new_tab['id'] != tab['id'] and new_tab['isNew'] is True

    view = shown(page, 'page')
    page.click('#page-get')
    assert shown(page, 'page') == {**view, 'isNew': False}
    page.click('#page-new')
    new_view = shown(page, 'page')
    assert new_view['id'] != view['id']

    page.click('#navigate')                                         # pushState: a new page session
    navigated = shown(page, 'page')
    assert page.url.endswith('/demo/index.html?view=1')
    assert navigated['id'] != new_view['id'] and navigated['isNew'] is True
    assert page.inner_text('#address') == '/demo/index.html?view=1'

    page.click('#hash')                                             # a hash alone: the same one
    assert page.url.endswith('?view=1#section-2')
    assert shown(page, 'page')['id'] == navigated['id']

    page.go_back()                                                  # the hash
    page.go_back()                                                  # back to /demo/index.html
    page.wait_for_function("document.getElementById('address').textContent === '/demo/index.html'")
    assert shown(page, 'page')['id'] not in (navigated['id'], new_view['id'])
    assert page.errors == []


def test_duplicate_button_gives_a_new_tab_session_and_the_same_persisted_one(demo, context):
    page = demo
    tab = shown(page, 'tab')
    persisted = shown(page, 'persisted')
    with context.expect_page() as opened:
        page.click('#duplicate')
    copy = opened.value
    copy.wait_for_selector('#tab-json')
    copy.wait_for_function("document.getElementById('tab-json').textContent !== 'null'")
    assert copy.url == page.url
    assert shown(copy, 'tab')['id'] != tab['id']                    # the copy has its own tab session
    assert shown(copy, 'tab')['isNew'] is True
    assert shown(copy, 'persisted')['id'] == persisted['id']        # and shares the persisted one
    page.click('#tab-get')
    assert shown(page, 'tab')['id'] == tab['id']                    # the original keeps its id
    assert page.errors == [] and copy.errors == []


def test_changes_in_another_tab_show_up_as_remote_events(demo, context, server):
    first = demo
    original = shown(first, 'persisted')
    second = context.new_page()
    second.goto(f'{server}/demo/index.html')
    assert shown(second, 'persisted')['id'] == original['id']      # nothing started: no event
    assert log_entries(first) == [('start', 'this tab', original['id'])]

    second.click('#persisted-new')
    new_id = shown(second, 'persisted')['id']
    first.wait_for_function('document.querySelectorAll("#log li").length === 2')
    assert log_entries(first)[-1] == ('start', 'other tab', new_id)
    assert shown(first, 'persisted')['id'] == new_id                # the panel follows

    second.click('#persisted-remove')
    first.wait_for_function('document.querySelectorAll("#log li").length === 3')
    assert log_entries(first)[-1] == ('remove', 'other tab', '—')
    assert shown(first, 'persisted') is None
    assert log_entries(second) == [('start', 'this tab', new_id), ('remove', 'this tab', '—')]

    first.bring_to_front()
    first.click('#persisted-get')
    second.wait_for_function('document.querySelectorAll("#log li").length === 3')
    assert log_entries(second)[-1] == ('start', 'other tab', shown(first, 'persisted')['id'])

    shot = ROOT / 'test-results' / 'demo.png'
    shot.parent.mkdir(exist_ok=True)
    first.set_viewport_size({'width': 1200, 'height': 900})
    first.mouse.move(0, 0)                                          # no hover highlight
    first.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert first.errors == [] and second.errors == []


def test_demo_script_serves_the_page_and_stops_on_ctrl_c():
    result = subprocess.run([sys.executable, str(ROOT / 'scripts' / 'demo.py'), '--help'],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and '--port' in result.stdout

    proc = subprocess.Popen([sys.executable, '-u', str(ROOT / 'scripts' / 'demo.py'), '--port', '0', '--quiet'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r'(http://127\.0\.0\.1:\d+/demo/)', line)
        assert match, line
        url = match.group(1)
        with urllib.request.urlopen(url) as response:
            assert response.status == 200
            assert b'<script src="/dist/session-utils.js"></script>' in response.read()
        with urllib.request.urlopen(url.replace('/demo/', '/')) as response:   # / redirects to the demo
            assert response.url == url
        with urllib.request.urlopen(url.replace('/demo/', '/dist/session-utils.js')) as response:
            assert response.read() == (ROOT / 'dist' / 'session-utils.js').read_bytes()
    finally:
        proc.send_signal(subprocess.signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert 'stopped' in out

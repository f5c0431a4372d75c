"""Correctness of the fast paths (issue 7): cached reads, memory reads, coalesced extends.

No timing is asserted here: scripts/bench.py measures speed. These tests count
what the library does instead, by instrumenting the page before it loads
(context.add_init_script):
  window.cookieWrites   every string assigned to document.cookie
  window.parses         JSON.parse calls
  window.storageReads   Storage.prototype.getItem calls (sessionStorage and localStorage)
  window.storageWrites  Storage.prototype.setItem / removeItem calls
Time is Playwright's fake clock (page.clock), paused: it moves only when a test moves it.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
MINUTE = 60_000
DURATION = 30 * MINUTE
WINDOW = DURATION // 100          # 18 s: the documented coalescing window for 30 minutes
START = 1_800_000_000_000         # 2027-01-15T08:00:00Z, a fixed fake time

INSTRUMENT = r"""
(() => {
  window.cookieWrites = [];
  window.parses = 0;
  window.storageReads = 0;
  window.storageWrites = 0;
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true,
    get() { return cookie.get.call(this); },
    set(value) { window.cookieWrites.push(String(value)); cookie.set.call(this, value); },
  });
  const parse = JSON.parse;
  JSON.parse = function (...args) { window.parses++; return parse.apply(this, args); };
  const getItem = Storage.prototype.getItem;
  Storage.prototype.getItem = function (...args) { window.storageReads++; return getItem.apply(this, args); };
  for (const name of ['setItem', 'removeItem']) {
    const original = Storage.prototype[name];
    Storage.prototype[name] = function (...args) { window.storageWrites++; return original.apply(this, args); };
  }
  window.resetCounts = () => {
    window.cookieWrites = []; window.parses = 0; window.storageReads = 0; window.storageWrites = 0;
  };
  // The stored session as other tabs see it: the __session cookie, decoded.
  window.storedSession = () => {
    const pair = document.cookie.split('; ').find((p) => p.startsWith('__session='));
    return pair ? JSON.parse(decodeURIComponent(pair.slice('__session='.length))) : null;
  };
})();
"""

# Only writes of the session cookie itself (not expiries of other copies).
SESSION_WRITES = "window.cookieWrites.filter((w) => w.startsWith('__session=') && !w.includes('max-age=0')).length"


# One step of activity: extend, then what the caller got, what is stored, how many writes so far.
STEP = f"(() => {{ const s = S.extendSession(); return [Date.now(), s, storedSession(), {SESSION_WRITES}]; }})()"


@pytest.fixture
def instrumented(context):
    context.add_init_script(INSTRUMENT)
    return context


def paused_page(context, open_page, bundle, path='/index.html'):
    """A page whose fake clock stands still at START until the test moves it."""
    page = context.new_page()
    page.clock.install(time=(START - 3_600_000) / 1000)   # Playwright takes seconds here
    open_page(page, path, bundle)
    page.clock.pause_at(START / 1000)                    # an hour on: never in the past
    assert page.evaluate('Date.now()') == START
    return page


def stored(page):
    """The stored session record, read without counting (storedSession's own parse is excluded)."""
    return page.evaluate('(() => { const p = window.parses; const s = storedSession(); window.parses = p; return s; })()')


# ------------------------------------------------------------------ reads

def test_get_session_on_existing_session_writes_nothing_and_parses_once(instrumented, open_page, bundle):
    page = open_page(instrumented.new_page(), '/index.html', bundle)
    session_id = page.evaluate('S.setSession().id')
    result = page.evaluate("""() => {
        resetCounts();
        const ids = [S.getSession().id];
        const parsesAfterFirst = window.parses;
        window.parses = 0;
        for (let i = 1; i < 100; i++) ids.push(S.getSession().id);
        return {ids, parsesAfterFirst, parses: window.parses, writes: window.cookieWrites,
                storageReads: window.storageReads, storageWrites: window.storageWrites};
    }""")
    assert result['ids'] == [session_id] * 100
    assert result['writes'] == []                  # no document.cookie write in 100 reads
    assert result['parsesAfterFirst'] <= 1         # the first read may parse the new cookie string
    assert result['parses'] == 0                   # the other 99 reuse it
    assert result['storageReads'] == 0             # a cookie session never falls through to localStorage
    assert result['storageWrites'] == 0
    assert page.errors == []


def test_get_session_parses_again_when_the_cookie_string_changes(instrumented, open_page, bundle):
    """The control for the test above: the counter does see parses, and any change re-parses."""
    page = open_page(instrumented.new_page(), '/index.html', bundle)
    session_id = page.evaluate('S.setSession().id')
    result = page.evaluate("""() => {
        S.getSession();
        resetCounts();
        S.getSession();
        const unchanged = window.parses;
        document.cookie = 'unrelated=1; path=/';   // another script's cookie changes the string
        const id = S.getSession().id;
        return {unchanged, changed: window.parses - unchanged, id};
    }""")
    assert result == {'unchanged': 0, 'changed': 1, 'id': session_id}


def test_cached_read_sees_another_tabs_new_session_on_the_next_call(instrumented, open_page, bundle):
    tab_a = open_page(instrumented.new_page(), '/a.html', bundle)
    first = tab_a.evaluate('S.getSession()')
    assert first['isNew'] is True
    assert tab_a.evaluate('[S.getSession().id, S.getSession().id]') == [first['id']] * 2   # cache warm

    tab_b = open_page(instrumented.new_page(), '/b.html', bundle)
    assert tab_b.evaluate('S.getSession().id') == first['id']
    second = tab_b.evaluate('S.setSession().id')
    assert second != first['id']

    # Only the cookie's delivery to tab A is waited for; then the very next call must see it.
    tab_a.wait_for_function('(id) => document.cookie.includes(id)', arg=second)
    session = tab_a.evaluate('S.getSession()')
    assert session['id'] == second
    assert session['isNew'] is False
    assert tab_a.errors == [] and tab_b.errors == []


def test_cached_read_sees_another_tabs_extra_and_removal(instrumented, open_page, bundle):
    tab_a = open_page(instrumented.new_page(), '/a.html', bundle)
    session_id = tab_a.evaluate('S.getSession().id')
    tab_a.evaluate('S.getSession()')
    tab_b = open_page(instrumented.new_page(), '/b.html', bundle)
    tab_b.evaluate("S.extendSession(undefined, {plan: 'pro-7'})")
    tab_a.wait_for_function("document.cookie.includes('pro-7')")
    session = tab_a.evaluate('S.getSession()')
    assert (session['id'], session['plan']) == (session_id, 'pro-7')

    tab_b.evaluate('S.removeSession()')
    tab_a.wait_for_function('(id) => !document.cookie.includes(id)', arg=session_id)
    after = tab_a.evaluate('S.getSession()')
    assert after['id'] != session_id
    assert after['isNew'] is True
    assert 'plan' not in after


def test_tab_and_page_sessions_are_memory_reads_after_the_first_call(instrumented, open_page, bundle):
    page = open_page(instrumented.new_page(), '/index.html', bundle)
    result = page.evaluate("""() => {
        resetCounts();
        const tab = S.getTabSession();
        const firstReads = window.storageReads;
        resetCounts();
        const tabIds = [], pageIds = [];
        for (let i = 0; i < 100; i++) tabIds.push(S.getTabSession().id);
        const tabCounts = [window.storageReads, window.storageWrites, window.parses];
        const pageSession = S.getPageSession();
        resetCounts();
        for (let i = 0; i < 100; i++) pageIds.push(S.getPageSession().id);
        const pageCounts = [window.storageReads, window.storageWrites, window.parses];
        return {tab, firstReads, tabIds, tabCounts, pageSession, pageIds, pageCounts,
                writes: window.cookieWrites};
    }""")
    assert result['firstReads'] >= 1               # the instrument sees the first call's read
    assert result['tabIds'] == [result['tab']['id']] * 100
    assert result['tabCounts'] == [0, 0, 0]        # no sessionStorage get/set, no JSON.parse
    assert result['pageIds'] == [result['pageSession']['id']] * 100
    assert result['pageCounts'] == [0, 0, 0]
    assert result['writes'] == []


def test_memory_reads_return_fresh_objects_and_follow_navigation(instrumented, open_page, bundle):
    """The fast path must not hand out its own record, and must still notice SPA navigation."""
    page = open_page(instrumented.new_page(), '/index.html', bundle)
    result = page.evaluate("""() => {
        const tab = S.getTabSession(); tab.id = 'tampered';
        const view = S.getPageSession(); view.id = 'tampered';
        const again = [S.getTabSession().id, S.getPageSession().id];
        const before = S.getPageSession().id;
        history.pushState(null, '', '/next.html?q=1');
        const moved = S.getPageSession();
        history.pushState(null, '', '/next.html?q=1#part');
        return {again, before, moved, hash: S.getPageSession().id, isNewAfterHash: S.getPageSession().isNew};
    }""")
    assert 'tampered' not in result['again']
    assert result['moved']['id'] != result['before']
    assert result['moved']['isNew'] is True
    assert result['hash'] == result['moved']['id']
    assert result['isNewAfterHash'] is False


# ---------------------------------------------------------------- activity

def test_coalesced_extends_keep_the_stored_expiry_within_the_window(instrumented, open_page):
    """600 calls a second apart: 1,200 round trips, so one bundle only (the edge test covers both)."""
    page = paused_page(instrumented, open_page, 'classic')
    session_id = page.evaluate('S.setSession().id')
    page.evaluate('resetCounts()')
    writes_seen, expiry_changes, last_expires = 0, 0, stored(page)['expires']
    assert last_expires == START + DURATION

    steps = 600                                   # one call a second for 10 minutes
    for step in range(1, steps + 1):
        page.clock.fast_forward(1000)
        now, session, record, writes_seen = page.evaluate(STEP)
        assert now == START + step * 1000
        true_expiry = now + DURATION
        assert session['id'] == session_id and record['id'] == session_id
        assert true_expiry - WINDOW <= record['expires'] <= true_expiry, f'step {step}'
        assert session['expires'] == record['expires']        # the caller sees what other tabs see
        if record['expires'] != last_expires:
            expiry_changes += 1
            assert record['expires'] == true_expiry           # a write stores the true expiry
            assert record['modified'] == now
            last_expires = record['expires']
        assert writes_seen == expiry_changes, f'step {step}: a write that did not move the expiry'

    # Writes only when the expiry would move by more than 18 s: every 19th call.
    assert writes_seen == steps // (WINDOW // 1000 + 1) == 31
    assert writes_seen <= steps * 1000 // WINDOW + 1

    # The session ends at the stored expiry: never before true - 18 s, never after true.
    last_call = START + steps * 1000
    expires = stored(page)['expires']
    assert last_call + DURATION - WINDOW <= expires <= last_call + DURATION
    page.clock.fast_forward(expires - 1 - last_call)
    alive = page.evaluate('S.getSession()')
    assert (alive['id'], alive['remaining'], alive['isNew']) == (session_id, 1, False)
    page.clock.fast_forward(1)
    after = page.evaluate('S.getSession()')
    assert after['id'] != session_id
    assert after['isNew'] is True
    assert page.errors == []


def test_extend_writes_once_the_expiry_moves_more_than_the_window(instrumented, open_page, bundle):
    """The window edge, exactly: 18 s of drift keeps the cookie, 18.001 s rewrites it."""
    page = paused_page(instrumented, open_page, bundle)
    page.evaluate('S.setSession()')
    page.evaluate('resetCounts()')
    page.clock.fast_forward(WINDOW)
    page.evaluate('S.extendSession()')
    assert page.evaluate(SESSION_WRITES) == 0
    assert stored(page)['expires'] == START + DURATION
    page.clock.fast_forward(1)
    page.evaluate('S.extendSession()')
    assert page.evaluate(SESSION_WRITES) == 1
    assert stored(page)['expires'] == START + WINDOW + 1 + DURATION


def test_extend_with_extra_always_persists(instrumented, open_page, bundle):
    page = paused_page(instrumented, open_page, bundle)
    session_id = page.evaluate("S.setSession(undefined, {first: 'kept'}).id")
    page.evaluate('resetCounts()')
    for step in range(1, 31):
        page.clock.fast_forward(1000)
        now = START + step * 1000
        session = page.evaluate('(n) => S.extendSession(undefined, {step: n, tag: "t" + n})', step)
        assert page.evaluate(SESSION_WRITES) == step              # every call with extra writes
        record = stored(page)
        assert (record['id'], record['step'], record['tag'], record['first']) == (session_id, step, f't{step}', 'kept')
        assert (record['expires'], record['modified']) == (now + DURATION, now)
        assert (session['step'], session['tag'], session['expires']) == (step, f't{step}', now + DURATION)
    # Same extra values again still write (extra with keys always persists).
    page.clock.fast_forward(1000)
    page.evaluate('S.extendSession(undefined, {step: 30, tag: "t30"})')
    assert page.evaluate(SESSION_WRITES) == 31
    assert stored(page)['modified'] == START + 31_000
    assert page.errors == []


def test_extend_with_only_reserved_keys_is_coalesced(instrumented, open_page, bundle):
    """Reserved keys are ignored, so they bring nothing to persist: no write inside the window."""
    page = paused_page(instrumented, open_page, bundle)
    session_id = page.evaluate('S.setSession().id')
    page.evaluate('resetCounts()')
    page.clock.fast_forward(1000)
    session = page.evaluate("S.extendSession(undefined, {id: 'forged', expires: 1})")
    assert page.evaluate(SESSION_WRITES) == 0
    assert (session['id'], session['expires']) == (session_id, START + DURATION)
    assert stored(page)['id'] == session_id


def test_cookie_value_is_readable_by_the_test_helper(instrumented, open_page):
    """Guards the helper the tests above rely on: storedSession() decodes the real cookie."""
    page = open_page(instrumented.new_page())
    session = page.evaluate("S.setSession(undefined, {note: 'a b;c'})")
    raw = page.evaluate("document.cookie.split('; ').find((p) => p.startsWith('__session=')).slice(10)")
    assert json.loads(unquote(raw))['note'] == 'a b;c'
    assert stored(page)['id'] == session['id']


# ---------------------------------------------------------------- bench.py

def test_bench_quick_json_runs_and_reports_every_figure():
    proc = subprocess.run([sys.executable, str(ROOT / 'scripts' / 'bench.py'), '--quick', '--json',
                           '--no-build-time', '--rounds', '1'],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)            # stdout is the JSON document and nothing else
    assert report['one_run'] is True
    for op in ('getSession', 'extendSession', 'getTabSession', 'getPageSession', 'setSession'):
        for lib in ('ours', 'original'):
            assert report['speed'][op][lib]['median'] > 0
            assert len(report['speed'][op][lib]['rounds']) == 1
    original = (ROOT / 'node_modules/@analytics/session-utils/dist/browser/session-utils.js').read_bytes()
    assert report['bundle']['original']['raw'] == len(original)
    assert report['bundle']['ours']['raw'] == (ROOT / 'dist/session-utils.js').stat().st_size
    assert report['treeshaken']['ours']['gzip'] > 0 and report['treeshaken']['original']['gzip'] > 0
    assert report['parse_ms']['ours']['median'] > 0 and report['parse_ms']['original']['median'] > 0
    assert report['build_seconds'] is None
    assert set(report['targets']) == {'getSession', 'extendSession', 'getTabSession', 'getPageSession',
                                      'bundle_gzip', 'treeshaken_gzip'}
    assert 'one run' in proc.stderr and 'ours/0.2.4' in proc.stderr   # the table went to stderr

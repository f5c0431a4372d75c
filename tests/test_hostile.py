"""Hostile conditions (issue 6): nothing throws, nothing leaks, no session is lost.

Measured in real Chromium, with both bundles, and printed (run `pytest -s`):
  1. fuzzed stored values (>= 1,000 `__session` cookies, >= 200 tab records);
  2. storage conditions x every exported function, as a table;
  3. eight tabs opened at once converge on one persisted id; two tabs extending
     at once (the observed outcome is reported);
  4. a too-large `extra` throws RangeError and leaves the cookie byte-identical;
  5. the clock going back and forward, and a page restored from the bfcache;
  6. hostile neighbours: patched JSON.parse / Object.prototype, 150 other cookies.
The figures also go to test-results/reliability.json for the README.
Clock: Playwright's fake clock (never sleeps); randomness: random.Random(1234).
"""
from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

import fuzz_values
from conftest import page_html, watch_errors

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_700_000_000                 # the fixed clock, in seconds (Playwright's unit)
NOW = T0 * 1000
UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
FIGURES: dict = {'matrix': {}}
STARTED = time.monotonic()


@pytest.fixture(scope='module', autouse=True)
def reliability_figures():
    """Write the measured figures once the module is done."""
    yield
    FIGURES['suite_seconds'] = round(time.monotonic() - STARTED, 1)
    out = ROOT / 'test-results' / 'reliability.json'
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(FIGURES, indent=2, sort_keys=True) + '\n')
    print(f"\nreliability figures -> {out.relative_to(ROOT)} (suite {FIGURES['suite_seconds']} s)")


# ------------------------------------------------------------------ 1. fuzz
FUZZ_JS = r'''
async ([items, tabItems, bundle]) => {
  const cleanParse = JSON.parse;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const MAXD = 576000 * 60000, SKEW = 60000;
  // bytes an extend may add: modified/modifiedAt (89, unless there already) + 10 digits of duration
  const extendRoom = text => 10 + (text.includes('%22modified%22') ? 0 : 89);
  const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const isTime = x => typeof x === 'number' && isFinite(x);
  const protoNames = Object.getOwnPropertyNames(Object.prototype).join();
  const arrayNames = Object.getOwnPropertyNames(Array.prototype).join();
  const now = Date.now();
  const iso = t => new Date(t).toISOString();
  const S = window.S;

  function put(name, text) {
    let mode = 'raw';
    if (/[;\x00-\x08\x0a-\x1f\x7f]/.test(text) || /^[ \t]|[ \t]$/.test(text) || !text.isWellFormed()) {
      mode = 'encoded';
      text = encodeURIComponent(text.toWellFormed());
    }
    document.cookie = name + '=' + text + ';path=/';
    return mode;
  }
  function stored() {
    const pair = document.cookie.split('; ').find(p => p.startsWith('__session='));
    return pair === undefined ? null : pair.slice('__session='.length);
  }
  function decode(text) {
    try { return cleanParse(decodeURIComponent(text)); } catch (e) { return undefined; }
  }
  function clearAll() {
    for (const pair of document.cookie.split('; ')) {
      const name = pair.split('=')[0];
      if (name) document.cookie = name + '=;max-age=0;path=/';
    }
    localStorage.clear();
  }
  // The contract's idea of a stored session that must be kept (README, "Storage").
  const inDate = t => isTime(t) && Math.abs(t) <= 8.64e15;        // a time a Date can hold
  function validStored(r, text) {
    return r !== null && typeof r === 'object' && !Array.isArray(r) && own(r, 'id') && typeof r.id === 'string'
      && UUID.test(r.id) && inDate(r.created) && inDate(r.expires) && isTime(r.duration)
      && r.duration > 0 && r.duration <= MAXD && (!('modified' in r) || r.modified === null || inDate(r.modified))
      && r.expires > now && r.expires - now <= r.duration + SKEW
      && ('__session=' + text).length + extendRoom(text) <= 4096;      // room left to extend it
  }
  // What every returned persisted session must look like.
  function shapeErrors(s) {
    const e = [];
    if (!s || Object.getPrototypeOf(s) !== Object.prototype) return ['not a plain object'];
    if (!(own(s, 'id') && typeof s.id === 'string' && UUID.test(s.id))) e.push('id not a v4 UUID: ' + String(s.id).slice(0, 40));
    for (const k of ['created', 'expires', 'duration']) if (!isTime(s[k])) e.push(k + ' not a finite number');
    if (!(s.duration > 0 && s.duration <= MAXD)) e.push('duration out of range: ' + s.duration);
    for (const k of ['createdAt', 'expiresAt']) if (typeof s[k] !== 'string') e.push(k + ' not a string');
    if (own(s, 'modified') && !isTime(s.modified)) e.push('modified not a number');
    if (own(s, 'modifiedAt') && typeof s.modifiedAt !== 'string') e.push('modifiedAt not a string');
    if (s.elapsed !== Math.max(now - s.created, 0) || !(s.elapsed >= 0)) e.push('elapsed wrong: ' + s.elapsed);
    if (s.remaining !== Math.max(s.expires - now, 0) || !(s.remaining > 0)) e.push('remaining wrong: ' + s.remaining);
    if (!(s.remaining <= s.duration + SKEW)) e.push('remaining > duration: never expires');
    if (s.isExpired !== false) e.push('isExpired not false');
    if (typeof s.isNew !== 'boolean') e.push('isNew not boolean');
    if (s.isNew && (s.createdAt !== iso(s.created) || s.expiresAt !== iso(s.expires))) e.push('new session ISO fields wrong');
    if (s.polluted !== undefined) e.push('session has .polluted');
    return e;
  }
  function pollution() {
    const e = [];
    if (({}).polluted !== undefined) e.push('({}).polluted set');
    if ([].polluted !== undefined) e.push('[].polluted set');
    if (Object.getOwnPropertyNames(Object.prototype).join() !== protoNames) e.push('Object.prototype changed');
    if (Object.getOwnPropertyNames(Array.prototype).join() !== arrayNames) e.push('Array.prototype changed');
    return e;
  }

  const results = [];
  const modes = {};
  const t0 = performance.now();
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    clearAll();
    for (const c of item.cookies) { const k = c.indexOf('='); put(c.slice(0, k), c.slice(k + 1)); }
    let mode = 'no __session cookie';
    if (item.text !== null) mode = put('__session', item.text);
    const before = document.cookie;
    const pair = before.split('; ').find(p => p.startsWith('__session='));
    const text = pair === undefined ? null : pair.slice('__session='.length);
    if (item.text !== null && text === null) mode = 'rejected by the browser';
    modes[mode] = (modes[mode] || 0) + 1;
    const rec = text === null ? undefined : decode(text);
    const valid = validStored(rec, text);
    const fails = [];
    const check = (ok, what) => { if (!ok) fails.push(what); };
    try {
      const s1 = S.getSession();
      shapeErrors(s1).forEach(m => fails.push('getSession: ' + m));
      if (valid) {
        check(s1.id === rec.id && s1.isNew === false, 'valid stored session not kept');
        check(document.cookie === before, 'getSession wrote over a valid session');
      } else {
        check(s1.isNew === true && !(rec && s1.id === rec.id), 'invalid stored value adopted');
      }
      const s2 = S.getSession();
      check(s2.id === s1.id && s2.isNew === false, 'second getSession differs');
      if (i % 10 === 0) {
        const s3 = S.getSession(undefined, true);
        check(s3.id === s1.id && !('elapsed' in s3) && !('isNew' in s3), 'persistedOnly wrong');
      }
      let e1 = null;
      try { e1 = S.extendSession(); } catch (err) {
        if (err instanceof RangeError && ('__session=' + text).length > 4000) fails.push('extendSession() without extra threw near 4 KB');
        else throw err;
      }
      if (e1) {
        shapeErrors(e1).forEach(m => fails.push('extendSession: ' + m));
        check(e1.id === s1.id && e1.isNew === false, 'extendSession changed id');
      }
      let e2 = null;
      const cookieBefore = document.cookie;
      try { e2 = S.extendSession(30, {fuzz: i}); } catch (err) {
        if (!(err instanceof RangeError && /extra/.test(err.message))) throw err;
        check(document.cookie === cookieBefore, 'failed extend changed the cookie');
      }
      if (e2) {
        check(e2.id === s1.id && e2.fuzz === i, 'extendSession(extra) lost id or extra');
        const g = S.getSession(undefined, true);
        check(g.id === s1.id && g.fuzz === i, 'getSession after extend wrong');
        if (i % 10 === 0) {
          const after = decode(stored() || '');
          check(after && after.id === s1.id && after.fuzz === i, 'cookie after extend wrong');
        }
      }
      const t = S.getTabSession();
      check(UUID.test(t.id) && S.getTabSession().id === t.id, 'tab session wrong');
    } catch (err) {
      fails.push('threw ' + (err && err.name) + ': ' + (err && err.message));
    }
    pollution().forEach(m => fails.push(m));
    results.push({i, category: item.category, valid, mode, fails});
  }
  clearAll();

  const t1 = performance.now();
  // ---- tab storage values: a fresh instance of the bundle per value
  const tabResults = [];
  // Fresh module state without a navigation: re-run the bundle's code (classic) or
  // import it again from a new blob: URL (ES module).
  const code = await (await fetch(bundle === 'esm' ? '/dist/session-utils.mjs' : '/dist/session-utils.js')).text();
  const load = async n => {
    if (bundle === 'esm') {
      const url = URL.createObjectURL(new Blob([code + '\n//' + n], {type: 'text/javascript'}));
      try { return await import(url); } finally { URL.revokeObjectURL(url); }
    }
    (0, eval)(code);
    return window.sessionUtils;
  };
  for (let i = 0; i < tabItems.length; i++) {
    const item = tabItems[i];
    sessionStorage.setItem('__session_tab', item.text);
    let rec; try { rec = cleanParse(item.text); } catch (e) { rec = undefined; }
    const valid = rec !== null && typeof rec === 'object' && !Array.isArray(rec) && own(rec, 'id')
      && typeof rec.id === 'string' && UUID.test(rec.id) && isTime(rec.created) && !rec.live;
    const fails = [];
    const check = (ok, what) => { if (!ok) fails.push(what); };
    try {
      const api = await load(i);
      check(api !== S, 'not a fresh instance');
      const t1 = api.getTabSession();
      check(t1 && Object.getPrototypeOf(t1) === Object.prototype, 'not a plain object');
      check(typeof t1.id === 'string' && UUID.test(t1.id), 'tab id not a v4 UUID: ' + String(t1.id).slice(0, 40));
      check(isTime(t1.created) && typeof t1.createdAt === 'string', 'tab created/createdAt wrong type');
      check(t1.elapsed === Math.max(now - t1.created, 0), 'tab elapsed wrong');
      check(t1.polluted === undefined, 'tab session has .polluted');
      check(typeof t1.isNew === 'boolean', 'tab isNew not a boolean: ' + JSON.stringify(t1.isNew));
      if (valid) check(t1.id === rec.id && !t1.isNew, 'valid stored tab session not kept');
      else check(t1.isNew === true && !(rec && t1.id === rec.id), 'invalid stored tab value adopted');
      const t2 = api.getTabSession();
      check(t2.id === t1.id && !t2.isNew, 'second getTabSession differs');
      const back = cleanParse(sessionStorage.getItem('__session_tab'));
      check(back.id === t1.id && !!back.live, 'stored tab record not claimed');
      const p = api.getPageSession();
      check(UUID.test(p.id) && api.getPageSession().id === p.id, 'page session wrong');
    } catch (err) {
      fails.push('threw ' + (err && err.name) + ': ' + (err && err.message));
    }
    pollution().forEach(m => fails.push(m));
    tabResults.push({i, category: item.category, valid, fails});
  }
  return {results, modes, tabResults, ms: [t1 - t0, performance.now() - t1]};
}
'''

COOKIE_COUNT = 1000
DURATION_ROOM = 10    # bytes the library keeps free for a longer duration (modified is already there)
TAB_COUNT = 220
_fuzz_cache: dict = {}


def fuzz(bundle, context, open_page):
    """Run every fuzzed value through one page (once per bundle); the results by value."""
    if bundle not in _fuzz_cache:
        page = context.new_page()
        page.clock.set_fixed_time(T0)
        open_page(page, '/fuzz/index.html', bundle)
        cookies = (fuzz_values.cookie_values(NOW, count=COOKIE_COUNT)
                   + fuzz_values.suspicious_cookie_values(NOW))
        tabs = fuzz_values.tab_values(NOW, count=TAB_COUNT) + fuzz_values.suspicious_tab_values(NOW)
        started = time.monotonic()
        result = page.evaluate(FUZZ_JS, [cookies, tabs, bundle])
        result['seconds'] = round(time.monotonic() - started, 2)
        result['errors'] = list(page.errors)
        _fuzz_cache[bundle] = result
    return _fuzz_cache[bundle]


def failures(rows):
    return [r for r in rows if r['fails']]


def test_fuzzed_cookie_values(bundle, context, open_page):
    result = fuzz(bundle, context, open_page)
    rows = [r for r in result['results'] if r['i'] < COOKIE_COUNT]
    assert len(rows) == COOKIE_COUNT >= 1000
    valid = sum(r['valid'] for r in rows)
    print(f"\n[{bundle}] {len(rows)} fuzzed __session values in {result['seconds']} s (with the tab values; ms {result['ms']}): "
          f"{valid} valid & kept, {len(rows) - valid} replaced by a new session; set as {result['modes']}")
    bad = failures(rows)
    assert bad == [], '\n'.join(f"{r['category']} valid={r['valid']}: {r['fails']}" for r in bad[:12])
    assert 100 <= valid <= len(rows) - 500       # both outcomes are really exercised
    assert result['modes'].get('raw', 0) > 500 and result['modes'].get('encoded', 0) > 50
    assert result['errors'] == []
    FIGURES.setdefault('fuzzed_values', {}).setdefault(bundle, {}).update(
        cookie=len(rows), cookie_valid_kept=valid, cookie_set_as=result['modes'])


def test_fuzzed_tab_values(bundle, context, open_page):
    result = fuzz(bundle, context, open_page)
    rows = [r for r in result['tabResults'] if r['i'] < TAB_COUNT]
    assert len(rows) == TAB_COUNT >= 200
    valid = sum(r['valid'] for r in rows)
    print(f"\n[{bundle}] {len(rows)} fuzzed __session_tab values: {valid} valid & kept, "
          f"{len(rows) - valid} replaced")
    bad = failures(rows)
    assert bad == [], '\n'.join(f"{r['category']} valid={r['valid']}: {r['fails']}" for r in bad[:12])
    assert 20 <= valid <= len(rows) - 100
    FIGURES.setdefault('fuzzed_values', {}).setdefault(bundle, {}).update(tab=len(rows), tab_valid_kept=valid)


def _no_constants(name):
    raise ValueError(f'{name} is not JSON')        # as in JavaScript's JSON.parse


def test_tab_values_through_real_reloads(bundle, context, server):
    """The fresh-bundle-instance shortcut above agrees with real navigations (20 values)."""
    values = fuzz_values.tab_values(NOW, count=TAB_COUNT)[:20]
    page = context.new_page()
    page.clock.set_fixed_time(T0)
    html = page_html(bundle).replace('<head>', '<head><script>sessionStorage.setItem("__session_tab", '
                                     'JSON.parse(decodeURIComponent(location.hash.slice(1))))</script>', 1)
    context.route('**/reload/*.html*', lambda route: route.fulfill(status=200, body=html, content_type='text/html'))
    kept = 0
    for n, item in enumerate(values):
        page.goto(f'{server}/reload/{n}.html#' + fuzz_values.encode(json.dumps(item['text'])))
        page.wait_for_function('window.ready === true')
        tab = page.evaluate('S.getTabSession()')
        assert UUID.match(tab['id']) and page.evaluate('S.getTabSession().id') == tab['id'], item
        try:
            stored = json.loads(item['text'], parse_constant=_no_constants)
        except ValueError:
            stored = None
        if isinstance(stored, dict) and isinstance(stored.get('id'), str) and UUID.match(stored['id']) \
                and not stored.get('live') and isinstance(stored.get('created'), (int, float)):
            assert tab['id'] == stored['id'], item
            kept += 1
        else:
            assert tab['id'] != (stored or {}).get('id') if isinstance(stored, dict) else True, item
            assert tab['isNew'] is True, item
    assert kept >= 2
    assert page.errors == []


# -------------------------------------------------- 2. storage conditions x API

def _thrower(target, prop):
    return (f"Object.defineProperty({target}, '{prop}', {{configurable: true, "
            "get() { throw new DOMException('blocked by the test', 'SecurityError'); }, "
            "set() { throw new DOMException('blocked by the test', 'SecurityError'); }});")


COUNT_RANDOM = "window.__random = 0; { const r = Math.random; Math.random = function () { window.__random++; return r(); }; }"
CONDITIONS = {   # name -> (init script, persisted id survives a reload, tab id survives a reload)
    'normal': ('', True, True),
    'cookies ignored': ("{ const d = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');"
                        " Object.defineProperty(Document.prototype, 'cookie', {configurable: true, get: d.get, set() {}}); }",
                        True, True),
    'document.cookie throws': (_thrower('Document.prototype', 'cookie'), True, True),
    'sandboxed iframe': ('', False, False),
    'sessionStorage throws': (_thrower('window', 'sessionStorage'), True, False),
    'localStorage throws': (_thrower('window', 'localStorage'), True, True),
    'all storage blocked': (_thrower('Document.prototype', 'cookie') + _thrower('window', 'sessionStorage')
                            + _thrower('window', 'localStorage'), False, False),
    'crypto missing': ("Object.defineProperty(window, 'crypto', {configurable: true, value: undefined});"
                       + COUNT_RANDOM, True, True),
    'crypto.randomUUID missing': ('delete Crypto.prototype.randomUUID;', True, True),
}
FUNCTIONS = ['getSession', 'setSession', 'extendSession', 'removeSession', 'sessionData', 'getTabSession',
             'setTabSession', 'getPageSession', 'setPageSession', 'onSessionChange', 'configure']

# (S) => results: every export called once, checked, then ids compared within the page.
MATRIX_JS = r'''(S) => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const isTime = x => typeof x === 'number' && isFinite(x);
  const out = {};
  const call = (name, fn, valid) => {
    try { const r = fn(); out[name] = valid(r) ? 'ok' : 'invalid: ' + JSON.stringify(r).slice(0, 100); }
    catch (e) { out[name] = 'threw ' + e.name + ': ' + e.message; }
  };
  const session = s => !!s && UUID.test(s.id) && isTime(s.created) && isTime(s.expires) && s.duration === 1800000
    && s.remaining > 0 && s.isExpired === false && typeof s.isNew === 'boolean' && s.elapsed >= 0;
  const short = s => !!s && UUID.test(s.id) && isTime(s.created) && typeof s.createdAt === 'string'
    && s.elapsed >= 0 && (s.isNew === true || s.isNew === false);
  const events = [];
  let off = null;
  call('configure', () => S.configure(), c => c.minutes === 30 && c.name === '__session' && c.secure === false);
  call('onSessionChange', () => (off = S.onSessionChange((s, reason, remote) => events.push(reason + (remote ? '*' : '')))),
       f => typeof f === 'function');
  let first = null;
  call('getSession', () => (first = S.getSession()), s => session(s) && s.isNew === true);
  call('extendSession', () => S.extendSession(30, {m: 1}), s => session(s) && s.m === 1 && s.id === first.id);
  call('setSession', () => S.setSession(), s => session(s) && s.isNew === true && s.id !== first.id);
  call('removeSession', () => S.removeSession(), r => r === undefined);
  call('sessionData', () => S.sessionData(), d => UUID.test(d.id) && isTime(d.created) && typeof d.createdAt === 'string');
  let tab = null;
  call('getTabSession', () => (tab = S.getTabSession()), s => short(s) && s.isNew === true);
  call('setTabSession', () => S.setTabSession(), s => short(s) && s.isNew === true && s.id !== tab.id);
  let pg = null;
  call('getPageSession', () => (pg = S.getPageSession()), s => short(s));
  call('setPageSession', () => S.setPageSession(), s => short(s) && s.isNew === true && s.id !== pg.id);
  const a = S.getSession(), b = S.getSession(), c = S.extendSession(), d = S.getSession(undefined, true);
  const t1 = S.getTabSession(), t2 = S.getTabSession();
  const p1 = S.getPageSession(), p2 = S.getPageSession();
  if (off) off();
  S.setSession();   // after unsubscribing: not seen
  const notRemoved = S.getSession();
  if (out.onSessionChange === 'ok' && events.join() !== 'start,extend,start,remove,start')
    out.onSessionChange = 'events: ' + events.join();
  return {
    out,
    stableInPage: a.isNew === true && b.id === a.id && b.isNew === false && c.id === a.id && d.id === a.id
      && t1.id === t2.id && p1.id === p2.id && UUID.test(a.id) && UUID.test(t1.id) && notRemoved.id !== a.id,
    persisted: notRemoved.id, tab: t2.id,
    random: typeof window === 'undefined' ? null : window.__random,
  };
}'''


def _sandbox_routes(context, server, bundle):
    top = ('<!doctype html><html><head><link rel=icon href="data:,"></head><body>'
           f'<iframe sandbox="allow-scripts" src="{server}/sandbox/frame.html?bundle={bundle}"></iframe></body></html>')
    context.route('**/sandbox/top.html*', lambda route: route.fulfill(status=200, body=top, content_type='text/html'))

    def dist(route):   # an opaque-origin frame needs CORS for the module
        path = ROOT / 'dist' / route.request.url.split('/dist/')[1].split('?')[0]
        route.fulfill(status=200, body=path.read_bytes(), content_type='text/javascript',
                      headers={'Access-Control-Allow-Origin': '*'})
    context.route('**/dist/*', dist)


def _frame(page):
    frame = page.frames[-1]
    frame.wait_for_function('window.ready === true')
    return frame


def run_condition(context, server, bundle, name):
    init, _, _ = CONDITIONS[name]
    page = context.new_page()
    if init:
        page.add_init_script(init)
    if name == 'sandboxed iframe':
        _sandbox_routes(context, server, bundle)
        page.goto(f'{server}/sandbox/top.html')
        target = _frame(page)
        assert target != page.main_frame
        assert target.evaluate('(() => { try { document.cookie; return "readable"; } catch (e) { return e.name; } })()') \
            == 'SecurityError'
    else:
        page.goto(f'{server}/matrix/index.html?bundle={bundle}')
        page.wait_for_function('window.ready === true')
        target = page
    result = target.evaluate(f'({MATRIX_JS})(window.S)')
    page.reload()
    if name == 'sandboxed iframe':
        target = _frame(page)
    else:
        page.wait_for_function('window.ready === true')
        target = page
    again = target.evaluate('[S.getSession().id, S.getTabSession().id, S.getTabSession().isNew]')
    result['acrossReload'] = {'persisted': again[0] == result['persisted'], 'tab': again[1] == result['tab']}
    result['errors'] = list(page.errors)
    page.close()
    return result


NODE_JS = '''
const before = Object.getOwnPropertyNames(globalThis).sort().join();
const S = await import(process.argv[1]);
const loaded = Object.getOwnPropertyNames(globalThis).sort().join();
const result = (%s)(S);
result.globalsUntouched = before === loaded && loaded === Object.getOwnPropertyNames(globalThis).sort().join();
console.log(JSON.stringify(result));
'''


def run_node():
    proc = subprocess.run(['node', '--input-type=module', '-e', NODE_JS % MATRIX_JS,
                           str(ROOT / 'dist' / 'session-utils.mjs')],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _cell(ok, text='ok'):
    return text if ok else 'FAIL'


def test_storage_conditions_matrix(bundle, context, server):
    cleaner = context.new_page()
    cleaner.goto(f'{server}/cleaner/index.html')
    rows = {}
    for name, (_, persists, tab_persists) in CONDITIONS.items():
        result = run_condition(context, server, bundle, name)
        row = dict(result['out'])
        row['stable in page'] = _cell(result['stableInPage'])
        row['persisted id after reload'] = ('kept' if result['acrossReload']['persisted'] else 'new (memory only)')
        row['tab id after reload'] = ('kept' if result['acrossReload']['tab'] else 'new (memory only)')
        row['page errors'] = len(result['errors'])
        rows[name] = row
        assert all(row[f] == 'ok' for f in FUNCTIONS), (name, row)
        assert result['stableInPage'], name
        assert result['acrossReload'] == {'persisted': persists, 'tab': tab_persists}, name
        assert result['errors'] == [], (name, result['errors'])
        if name == 'crypto missing':
            assert result['random'] > 0          # ids came from Math.random, and are still v4 UUIDs
        cleaner.evaluate('localStorage.clear(); sessionStorage.clear()')
        context.clear_cookies()
        context.unroute_all()
    if bundle == 'esm':
        node = run_node()
        row = dict(node['out'])
        row['stable in page'] = _cell(node['stableInPage'])
        row['persisted id after reload'] = row['tab id after reload'] = 'n/a'
        row['page errors'] = 0
        rows['Node, no DOM'] = row
        assert all(row[f] == 'ok' for f in FUNCTIONS), row
        assert node['stableInPage'] and node['globalsUntouched'], node
    columns = FUNCTIONS + ['stable in page', 'persisted id after reload', 'tab id after reload']
    print(f'\n[{bundle}] storage conditions x API')
    print('| condition | ' + ' | '.join(columns) + ' |')
    print('|' + ' --- |' * (len(columns) + 1))
    for name, row in rows.items():
        print(f'| {name} | ' + ' | '.join(str(row[c]) for c in columns) + ' |')
    FIGURES['matrix'][bundle] = rows


# ------------------------------------------------------------ 3. concurrency

def _page_with(bundle, script):
    """The test page plus an inline script that runs at parse time, after the bundle."""
    kind = 'module' if bundle == 'esm' else 'text/javascript'
    return page_html(bundle, f'<script type={kind}>{script}</script>')


WAITING_ROOM = ('<!doctype html><html><head><link rel=icon href="data:,"></head><body><script>'
                "new BroadcastChannel('go').onmessage = e => { location.href = e.data; };"
                'window.waiting = true;</script></body></html>')


def test_eight_tabs_opened_at_once_converge(bundle, browser, server):
    rounds, converged, first_ids = 2, 0, []
    context = browser.new_context()
    context.on('page', watch_errors)
    context.route('**/conc/wait.html', lambda r: r.fulfill(status=200, body=WAITING_ROOM, content_type='text/html'))
    html = _page_with(bundle, 'window.first = window.S.getSession().id;')
    context.route('**/conc/site.html*', lambda r: r.fulfill(status=200, body=html, content_type='text/html'))
    pages = [context.new_page() for _ in range(9)]
    tabs, starter = pages[:8], pages[8]
    for round_ in range(rounds):
        context.clear_cookies()                      # a site with no session
        for page in pages:
            page.goto(f'{server}/conc/wait.html')
            page.wait_for_function('window.waiting === true')
        # the ninth page fires the starting shot: eight navigations start at the same moment
        starter.evaluate(f"new BroadcastChannel('go').postMessage('{server}/conc/site.html?r={round_}'); 0")
        for page in tabs:
            page.wait_for_function('typeof window.first === "string"')
        first = [page.evaluate('window.first') for page in tabs]
        second = [page.evaluate('S.getSession().id') for page in tabs]
        assert all(UUID.match(i) for i in first + second)
        assert len(set(second)) == 1, second
        assert second[0] in first                    # the survivor is one of the ids a tab started
        assert [page.evaluate('S.getSession().id') for page in tabs] == second
        assert all(page.errors == [] for page in tabs)
        converged += 1
        first_ids.append(len(set(first)))
    context.close()
    print(f'\n[{bundle}] 8 tabs opened at once x {rounds} rounds: all 8 converged in {converged}/{rounds}; '
          f'distinct ids started at parse time per round: {first_ids}')
    FIGURES.setdefault('tabs_converged', {})[bundle] = {'tabs': 8, 'rounds': rounds, 'converged_rounds': converged,
                                                        'distinct_ids_at_parse_time': first_ids}


def test_two_tabs_extending_at_once(bundle, browser, server, open_page):
    """Both tabs extend with their own key at the same moment; the documented guarantee is
    last-writer-wins on the whole record: the id survives, and so does the later writer's key."""
    context = browser.new_context()
    context.on('page', watch_errors)
    a, b, starter = (context.new_page() for _ in range(3))
    for page in (a, b, starter):
        open_page(page, '/ext/index.html', bundle)
    session_id = a.evaluate('S.getSession().id')
    listen = ("window.done = 0; new BroadcastChannel('extend').onmessage = e => {"
              " window.result = S.extendSession(30, {[KEY + e.data]: e.data}); window.done = e.data; }; 0")
    a.evaluate(listen.replace('KEY', "'a'"))
    b.evaluate(listen.replace('KEY', "'b'"))
    trials, both_kept, lost = 10, 0, []
    for n in range(1, trials + 1):
        starter.evaluate(f"new BroadcastChannel('extend').postMessage({n}); 0")
        for page in (a, b):
            page.wait_for_function(f'window.done === {n}')
        final = starter.evaluate('S.getSession(undefined, true)')
        ra, rb = a.evaluate('window.result'), b.evaluate('window.result')
        assert final['id'] == ra['id'] == rb['id'] == session_id
        keys = {k for k in final if k[0] in 'ab' and k[1:].isdigit()}
        writer_keys = [{k for k in r if k[0] in 'ab' and k[1:].isdigit()} for r in (ra, rb)]
        assert keys in writer_keys                   # the cookie is one writer's whole record
        assert f'a{n}' in keys or f'b{n}' in keys
        if {f'a{n}', f'b{n}'} <= keys:
            both_kept += 1
        else:
            lost.append(n)
    context.close()
    print(f'\n[{bundle}] two tabs extending at once: both extra keys kept in {both_kept}/{trials} trials; '
          f'one key lost (last writer wins) in trials {lost}')
    FIGURES.setdefault('concurrent_extend', {})[bundle] = {'trials': trials, 'both_keys_kept': both_kept}


# ------------------------------------------------------- 4. too-large extra

TOO_LARGE_JS = r'''() => {
  const out = {};
  const s = S.getSession();
  const cookie = document.cookie;
  const attempts = {
    'extendSession big': () => S.extendSession(30, {big: 'x'.repeat(5000)}),
    'setSession big': () => S.setSession(30, {big: 'x'.repeat(5000)}),
    'extendSession 1000 x e-acute (6 kB encoded)': () => S.extendSession(30, {u: '\u00e9'.repeat(1000)}),
    'setSession many keys': () => S.setSession(30, Object.fromEntries(Array.from({length: 400}, (_, i) => ['k' + i, i]))),
  };
  for (const [name, fn] of Object.entries(attempts)) {
    try { fn(); out[name] = 'no error'; }
    catch (e) { out[name] = e.name + ': ' + e.message; }
    out[name + ' cookie intact'] = document.cookie === cookie && localStorage.getItem('__session') === null;
    out[name + ' same id'] = S.getSession().id === s.id;
  }
  // the boundary: the largest extra that fits leaves exactly the room a later extend may need
  const fits = n => { try { S.extendSession(30, {pad: 'a'.repeat(n)}); return true; } catch (e) { return false; } };
  let lo = 0, hi = 5000;
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (fits(mid)) lo = mid; else hi = mid; }
  fits(lo);
  const pair = document.cookie.split('; ').find(p => p.startsWith('__session='));
  out.boundary = {n: lo, pairLength: pair.length, nextThrows: !fits(lo + 1),
                  sameId: S.getSession().id === s.id, inCookie: JSON.parse(decodeURIComponent(pair.slice(10))).pad.length};
  return out;
}'''


def test_too_large_extra_throws_and_keeps_the_session(bundle, page, open_page):
    page.clock.set_fixed_time(T0)
    open_page(page, '/large/index.html', bundle)
    out = page.evaluate(TOO_LARGE_JS)
    for name in ('extendSession big', 'setSession big', 'extendSession 1000 x e-acute (6 kB encoded)',
                 'setSession many keys'):
        assert out[name].startswith('RangeError: ') and 'extra' in out[name], (name, out[name])
        assert out[name + ' cookie intact'] is True, name
        assert out[name + ' same id'] is True, name
    b = out['boundary']
    assert b['pairLength'] + DURATION_ROOM == 4096 and b['inCookie'] == b['n'] and b['nextThrows'] and b['sameId'], b
    assert page.errors == []
    print(f"\n[{bundle}] too-large extra: RangeError, cookie byte-identical; largest extra fits at exactly "
          f"{b['pairLength']} bytes of name=value + {DURATION_ROOM} kept for extends (pad of {b['n']} chars), "
          f"one more char throws")


def test_extend_without_extra_never_throws_near_the_limit(bundle, page, open_page):
    page.clock.install(time=T0)
    open_page(page, '/large/index.html', bundle)
    out = page.evaluate('''() => {
      let n = 0;   // the largest setSession extra that fits (no modified/modifiedAt yet)
      for (let step = 4096; step >= 1; step >>= 1) {
        try { S.setSession(30, {pad: 'a'.repeat(n + step)}); n += step; } catch (e) {}
      }
      const s = S.setSession(30, {pad: 'a'.repeat(n)});
      return s.id;
    }''')
    page.clock.fast_forward('01:00')
    result = page.evaluate('(() => { try { return S.extendSession().id; } catch (e) { return e.name + ": " + e.message; } })()')
    assert result == out


# ------------------------------------------------------------------ 5. time

def test_clock_back_one_hour(bundle, page, open_page):
    page.clock.install(time=T0)
    open_page(page, '/time/index.html', bundle)
    first = page.evaluate('S.getSession()')
    page.clock.set_system_time(T0 - 30)              # 30 s back: within the tolerated skew
    near = page.evaluate('S.getSession()')
    assert near['id'] == first['id'] and near['elapsed'] == 0
    assert near['remaining'] <= near['duration'] + 60000
    page.clock.set_system_time(T0 - 3600)            # one hour back
    back = page.evaluate('[S.getSession(), S.getSession(), S.extendSession()]')
    assert back[0]['id'] != first['id'] and back[0]['isNew'] is True
    assert back[1]['id'] == back[2]['id'] == back[0]['id']
    for s in back:
        assert s['elapsed'] >= 0 and 0 < s['remaining'] <= s['duration'] == 1800000
    assert page.errors == []


def test_clock_forward(bundle, page, open_page):
    page.clock.install(time=T0)
    open_page(page, '/time/index.html', bundle)
    first = page.evaluate('S.getSession()')
    page.clock.fast_forward('29:00')
    assert page.evaluate('S.getSession()')['id'] == first['id']
    page.clock.fast_forward('02:00')                 # 31 minutes after the last extend... of nothing
    later = page.evaluate('S.getSession()')
    assert later['id'] != first['id'] and later['isNew'] is True and 0 <= later['elapsed'] < 1000
    assert page.errors == []


SHOWS = "window.__shows = []; addEventListener('pageshow', e => window.__shows.push(e.persisted));"


@pytest.fixture(scope='module')
def bfcache_browser(launch_browser):
    return launch_browser(ignore_default_args=['--disable-back-forward-cache'])


@pytest.mark.parametrize('no_store', [False, True], ids=['cacheable', 'no-store'])
def test_bfcache_restore_after_31_minutes(bundle, no_store, bfcache_browser, server):
    context = bfcache_browser.new_context()
    context.on('page', watch_errors)
    context.add_init_script(SHOWS)
    headers = {'Cache-Control': 'no-store'} if no_store else {}
    html = page_html(bundle)
    context.route('**/bf/*.html*', lambda r: r.fulfill(status=200, body=html, content_type='text/html',
                                                      headers=headers))
    page = context.new_page()
    page.clock.install(time=T0)
    page.goto(f'{server}/bf/a.html')
    page.wait_for_function('window.ready === true')
    before = page.evaluate('[S.getSession().id, S.getTabSession().id]')
    page.evaluate('window.marker = 42')
    page.goto(f'{server}/bf/b.html')
    page.wait_for_function('window.ready === true')
    assert page.evaluate('S.getTabSession().id') == before[1]        # same tab
    page.go_back(wait_until='commit')
    page.wait_for_function('window.ready === true && window.__shows.length > 0')
    shows = page.evaluate('window.__shows')
    if no_store:
        assert shows == [False] and page.evaluate('window.marker') is None   # reloaded, not restored
        context.close()
        return
    assert shows == [False, True] and page.evaluate('window.marker') == 42  # really the bfcache
    page.clock.fast_forward('31:00')     # the frozen page's clock did not move: 31 min pass now
    after = page.evaluate('[S.getSession(), S.getTabSession()]')
    assert after[0]['id'] != before[0] and after[0]['isNew'] is True
    assert after[1]['id'] == before[1] and after[1]['isNew'] is False
    assert page.evaluate('JSON.parse(sessionStorage.__session_tab).live') not in (0, None)   # reclaimed
    assert page.errors == []
    context.close()
    print(f'\n[{bundle}] bfcache: restored (pageshow persisted=true), 31 min later a new persisted session, '
          'same tab id')


# ------------------------------------------------------ 6. hostile neighbours

NEIGHBOUR_BEFORE = ("Object.prototype.foo = 1; Array.prototype.bar = function () {};"
                    "Object.defineProperty(Object.prototype, 'live', {value: 7, writable: true, enumerable: true});")
PATCH_JSON = {
    'wrapping': ("{ const parse = JSON.parse; JSON.parse = function (t, r) { const v = parse(t, r);"
                 " if (v && typeof v === 'object') v.injected = true; return v; }; } 0"),
    'throws every 3rd call': ("{ const parse = JSON.parse; let n = 0; JSON.parse = function (t, r) {"
                              " if (++n % 3 === 0) throw new SyntaxError('neighbour'); return parse(t, r); }; } 0"),
}


@pytest.mark.parametrize('patch', [
    'wrapping',
    'throws every 3rd call',
])
def test_patched_json_parse_and_object_prototype(bundle, patch, context, open_page):
    page = context.new_page()
    page.add_init_script(NEIGHBOUR_BEFORE)
    open_page(page, '/neighbour/index.html', bundle)
    first = page.evaluate('[S.getSession().id, S.getTabSession().id]')
    page.evaluate(PATCH_JSON[patch])                 # a later script patches JSON.parse
    calls = page.evaluate('''(() => { const out = [];
      for (let i = 0; i < 6; i++) {
        try { out.push([S.getSession().id, S.extendSession(30, {n: i}).id, S.getTabSession().id, S.getPageSession().id]); }
        catch (e) { out.push('threw ' + e.message); }
      }
      return out; })()''')
    assert all(isinstance(c, list) for c in calls), calls              # nothing escapes
    assert all(UUID.match(i) for c in calls for i in c)
    ids = {c[0] for c in calls} | {c[1] for c in calls}
    tabs = {c[2] for c in calls}
    assert tabs == {first[1]}
    print(f'\n[{bundle}] neighbour patches JSON.parse ({patch}) + enumerable Object.prototype.foo/live: '
          f'{len(ids)} persisted id(s) over 12 calls')
    FIGURES.setdefault('neighbours', {}).setdefault(bundle, {})[f'JSON.parse {patch}: persisted ids'] = len(ids)
    assert ids == {first[0]}                         # the persisted session is kept
    page.reload()
    page.wait_for_function('window.ready === true')
    again = page.evaluate('[S.getSession().id, S.getTabSession().id, ({}).foo]')
    assert again == [first[0], first[1], 1]
    assert page.errors == []


def test_150_other_cookies(bundle, page, open_page):
    open_page(page, '/crowd/index.html', bundle)
    out = page.evaluate('''(() => {
      const set = (from, to) => { for (let i = from; i < to; i++) document.cookie = 'c' + i + '=' + 'v'.repeat(16) + ';path=/'; };
      set(0, 75);
      const s = S.getSession();
      set(75, 150);
      const ids = [S.getSession().id, S.extendSession(30, {k: 1}).id, S.getSession().id];
      const pairs = document.cookie.split('; ');
      return {id: s.id, ids, count: pairs.length, bytes: document.cookie.length,
              ours: pairs.filter(p => p.startsWith('__session=')).length};
    })()''')
    assert out['count'] == 151 and out['ours'] == 1, out
    assert out['ids'] == [out['id']] * 3
    page.reload()
    page.wait_for_function('window.ready === true')
    assert page.evaluate('S.getSession().id') == out['id']
    assert page.errors == []
    print(f"\n[{bundle}] 150 other cookies ({out['bytes']} bytes of document.cookie): same id across calls and reload")

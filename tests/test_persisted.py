"""The persisted session (issue 3, "Persisted session", points 1-9) in real Chromium.

One session per browser and site, shared by all tabs: cookie `__session` at path /
holding encodeURIComponent(JSON); localStorage, then memory, when the cookie can't
be written. Every test runs on both bundles (the `bundle` fixture) unless the
bundle cannot matter.

Time: Playwright's clock is installed before the page loads and paused at START,
then moved with fast_forward / set_system_time, so values are exact. A cookie's
Max-Age is enforced by the browser's REAL clock, not by page.clock: the cookie's
`expires` (from context.cookies()) is compared with time.time(), the session's JSON
`expires` with the page clock.
"""
from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from urllib.parse import quote, unquote, urlsplit

import pytest

from conftest import ROOT, page_html

NAME = '__session'
UUID4 = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
MINUTE = 60000
T0 = 1893456000               # page clock installed at 2030-01-01T00:00:00Z (seconds)...
START = T0 + 60               # ...and paused here once the page is ready
START_MS = START * 1000
STORED = ['id', 'created', 'createdAt', 'expires', 'expiresAt', 'duration']
COMPUTED = ['elapsed', 'remaining', 'isExpired', 'isNew']
HTTPS = 'https://a.example.test'

# Records every document.cookie write (the string assigned) in window.cookieWrites.
COUNT_WRITES = """(() => {
  const native = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  window.cookieWrites = [];
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true,
    get() { return native.get.call(this); },
    set(value) { window.cookieWrites.push(String(value)); native.set.call(this, value); },
  });
})();"""
# Cookies silently ignored: writes are dropped and nothing reads back.
COOKIES_IGNORED = """Object.defineProperty(Document.prototype, 'cookie', {
  configurable: true, get() { return ''; }, set(value) {} });"""
# Cookies throw, as in a sandboxed frame.
COOKIES_THROW = """Object.defineProperty(Document.prototype, 'cookie', {
  configurable: true,
  get() { throw new DOMException('cookies denied', 'SecurityError'); },
  set(value) { throw new DOMException('cookies denied', 'SecurityError'); } });"""
STORAGE_THROWS = """Object.defineProperty(window, 'localStorage', {
  configurable: true, get() { throw new DOMException('storage denied', 'SecurityError'); } });"""
COOKIE_MODES = {'ignored': COOKIES_IGNORED, 'throws': COOKIES_THROW}

# Runs an expression; returns {value} or {error: constructor name, message}.
OUTCOME = """expr => {
  try {
    const value = (0, eval)(expr);
    return {value: value === undefined ? null : value};
  } catch (e) {
    const kind = e instanceof TypeError ? 'TypeError' : e instanceof RangeError ? 'RangeError' : 'other';
    return {error: kind, message: String(e && e.message)};
  }
}"""


# ----------------------------------------------------------------- helpers

def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.') + f'{ms % 1000:03d}Z'


def session_cookies(context) -> list[dict]:
    return [c for c in context.cookies() if c['name'] == NAME]


def cookie(context, path: str = '/') -> dict | None:
    found = [c for c in session_cookies(context) if c['path'] == path]
    assert len(found) <= 1, found
    return found[0] if found else None


def cookie_value(context, path: str = '/') -> str | None:
    c = cookie(context, path)
    return c['value'] if c else None


def stored_json(context, path: str = '/') -> dict | None:
    """The session as stored in the cookie at `path` (decodeURIComponent, then JSON)."""
    value = cookie_value(context, path)
    return json.loads(unquote(value, errors='strict')) if value is not None else None


def local_json(page) -> dict | None:
    text = page.evaluate(f"localStorage.getItem('{NAME}')")
    return json.loads(unquote(text, errors='strict')) if text is not None else None


def now(page) -> int:
    return page.evaluate('Date.now()')


def writes(page) -> list[str]:
    return page.evaluate('window.cookieWrites.slice()')


def outcome(page, expr: str) -> dict:
    return page.evaluate(OUTCOME, expr)


def ready(page):
    page.wait_for_function('window.ready === true')
    return page


def open_paused(page, open_page, path: str = '/index.html', bundle: str = 'classic'):
    """Install the clock, load a test page, pause the clock at START."""
    page.clock.install(time=T0)
    open_page(page, path, bundle)
    page.clock.pause_at(START)
    return page


def check_expiry(context, remaining_ms: int, path: str = '/') -> None:
    """The cookie expires `remaining_ms` after the real now (Max-Age = remaining seconds)."""
    c = cookie(context, path)
    assert c is not None
    assert abs(c['expires'] - (time.time() + remaining_ms / 1000)) < 5, (c['expires'], time.time())


def check_new(session: dict, at: int, minutes: float = 30) -> None:
    """A just-started session, exactly: every field, computed at `at` (page clock)."""
    assert UUID4.match(session['id']), session['id']
    assert session['created'] == at
    assert session['createdAt'] == iso(at)
    assert session['duration'] == minutes * MINUTE
    assert session['expires'] == at + minutes * MINUTE
    assert session['expiresAt'] == iso(session['expires'])
    assert session['elapsed'] == 0
    assert session['remaining'] == minutes * MINUTE
    assert session['isExpired'] is False
    assert session['isNew'] is True


def serve_https(context, bundle: str) -> None:
    """https://a.example.test/: test pages for `bundle`, /dist/ from the local files."""
    def handle(route):
        path = urlsplit(route.request.url).path
        if path.startswith('/dist/'):
            route.fulfill(status=200, body=(ROOT / path.lstrip('/')).read_bytes(),
                          content_type='text/javascript')
        else:
            route.fulfill(status=200, body=page_html(bundle), content_type='text/html; charset=utf-8')
    context.route(f'{HTTPS}/**', handle)


def write_024_cookie(page, record: dict) -> None:
    """What @analytics/session-utils 0.2.4 writes: encodeURIComponent(JSON), no path."""
    page.evaluate("""record => {
        document.cookie = '__session=' + encodeURIComponent(JSON.stringify(record))
            + ';expires=' + new Date(Date.now() + 1800000).toUTCString();
    }""", record)


def record_024(at: int, session_id: str = '0f8fad5b-d9cb-469f-a165-70867728950e') -> dict:
    """A 0.2.4 session started 5 minutes before `at`, 30 minutes long."""
    created = at - 5 * MINUTE
    return {'id': session_id, 'created': created, 'createdAt': iso(created),
            'expires': created + 30 * MINUTE, 'expiresAt': iso(created + 30 * MINUTE),
            'duration': 30 * MINUTE}


# ------------------------------------------------------ 1. getSession

def test_get_session_new_shape_and_stable_reads(context, page, open_page, bundle):
    context.add_init_script(COUNT_WRITES)
    open_paused(page, open_page, '/index.html', bundle)
    assert writes(page) == [] and session_cookies(context) == []

    first = page.evaluate('S.getSession()')
    assert set(first) == set(STORED + COMPUTED), first
    check_new(first, START_MS)
    assert page.evaluate('s => new Date(s.created).toISOString() === s.createdAt', first)
    assert page.evaluate('s => new Date(s.expires).toISOString() === s.expiresAt', first)
    assert len(writes(page)) >= 1
    stored_cookie = cookie(context)
    check_expiry(context, 30 * MINUTE)

    # Reading again: same session, nothing written, expiry untouched.
    page.evaluate('window.cookieWrites.length = 0')
    second = page.evaluate('S.getSession()')
    assert second == {**first, 'isNew': False}
    page.clock.fast_forward('10:00')
    later = page.evaluate('S.getSession(45)')        # minutes don't change a live session
    assert later['id'] == first['id'] and later['created'] == first['created']
    assert later['expires'] == first['expires'] and later['duration'] == 30 * MINUTE
    assert later['elapsed'] == 10 * MINUTE and later['remaining'] == 20 * MINUTE
    assert later['isExpired'] is False and later['isNew'] is False
    assert 'modified' not in later
    assert writes(page) == []
    assert cookie(context) == stored_cookie
    assert page.errors == []


def test_get_session_persisted_only(context, page, open_page, bundle):
    context.add_init_script(COUNT_WRITES)
    open_paused(page, open_page, '/index.html', bundle)
    fresh = page.evaluate('S.getSession(30, true)')   # starting one: still without computed fields
    assert set(fresh) == set(STORED), fresh
    assert fresh == stored_json(context)
    page.evaluate('window.cookieWrites.length = 0')
    page.clock.fast_forward('01:00')
    full = page.evaluate('S.getSession()')
    only = page.evaluate('S.getSession(undefined, true)')
    assert only == {k: v for k, v in full.items() if k not in COMPUTED}
    assert set(full) - set(only) == set(COMPUTED)
    assert only == fresh
    assert writes(page) == []


def test_get_session_new_after_expiry(context, page, open_page, bundle):
    open_paused(page, open_page, '/index.html', bundle)
    first = page.evaluate('S.getSession()')
    page.clock.fast_forward('29:59')
    same = page.evaluate('S.getSession()')
    assert same['id'] == first['id'] and same['remaining'] == 1000 and same['isNew'] is False
    page.clock.fast_forward('01:01')                  # 31 minutes in
    fresh = page.evaluate('S.getSession()')
    assert fresh['id'] != first['id']
    check_new(fresh, START_MS + 31 * MINUTE)
    assert stored_json(context)['id'] == fresh['id']
    check_expiry(context, 30 * MINUTE)
    assert page.errors == []


def test_get_session_minutes(context, page, open_page, bundle):
    open_paused(page, open_page, '/index.html', bundle)
    five = page.evaluate('S.getSession(5)')
    check_new(five, START_MS, minutes=5)
    assert stored_json(context)['duration'] == 5 * MINUTE
    check_expiry(context, 5 * MINUTE)
    page.clock.fast_forward('04:59')
    assert page.evaluate('S.getSession(5).id') == five['id']
    page.clock.fast_forward('00:02')
    after = page.evaluate('S.getSession()')
    assert after['id'] != five['id']
    check_new(after, START_MS + 5 * MINUTE + 1000)


def test_clock_set_back_ends_the_session(context, page, open_page, bundle):
    """A stored expiry further ahead than its duration (+60 s) means the clock went back."""
    open_paused(page, open_page, '/index.html', bundle)
    first = page.evaluate('S.getSession()')
    page.clock.set_system_time(START - 30)
    assert page.evaluate('S.getSession().id') == first['id']
    page.clock.set_system_time(START - 120)
    assert page.evaluate('S.getSession()')['id'] != first['id']


def test_other_tab_shares_the_session(context, page, open_page, bundle):
    open_paused(page, open_page, '/index.html', bundle)
    first = page.evaluate('S.getSession()')
    other = open_page(context.new_page(), '/elsewhere/page.html', 'esm' if bundle == 'classic' else 'classic')
    got = other.evaluate('S.getSession()')
    assert got['id'] == first['id'] and got['isNew'] is False
    replaced = other.evaluate('S.setSession()')
    assert page.evaluate('S.getSession().id') == replaced['id']


# ------------------------------------------------------ 2. setSession

def test_set_session(context, page, open_page, bundle):
    open_paused(page, open_page, '/index.html', bundle)
    first = page.evaluate('S.getSession()')
    page.clock.fast_forward('02:00')
    at = START_MS + 2 * MINUTE
    second = page.evaluate("S.setSession(10, {plan: 'pro', n: 2, nested: {a: [1, 'b']}})")
    assert second['id'] != first['id']
    check_new({k: v for k, v in second.items() if k not in ('plan', 'n', 'nested')}, at, minutes=10)
    assert (second['plan'], second['n'], second['nested']) == ('pro', 2, {'a': [1, 'b']})
    assert set(second) == set(STORED + COMPUTED + ['plan', 'n', 'nested'])
    stored = stored_json(context)
    assert stored == {k: v for k, v in second.items() if k not in COMPUTED}
    check_expiry(context, 10 * MINUTE)

    got = page.evaluate('S.getSession()')
    assert got == {**second, 'isNew': False}

    third = page.evaluate('S.setSession()')           # a new id again; no earlier extras
    assert third['id'] not in (first['id'], second['id'])
    check_new(third, at)
    assert 'plan' not in stored_json(context)
    assert page.evaluate('S.setSession(0.5).duration') == 30000


# --------------------------------------------------- 3. extendSession

def test_extend_session_keeps_identity(context, page, open_page, bundle):
    open_paused(page, open_page, '/index.html', bundle)
    first = page.evaluate("S.setSession(30, {a: 1})")
    page.clock.fast_forward('05:00')
    at = START_MS + 5 * MINUTE
    extended = page.evaluate("S.extendSession(20, {b: 2})")
    assert extended['id'] == first['id'] and extended['created'] == first['created']
    assert extended['createdAt'] == first['createdAt']
    assert (extended['a'], extended['b']) == (1, 2)
    assert extended['expires'] == at + 20 * MINUTE and extended['expiresAt'] == iso(at + 20 * MINUTE)
    assert extended['duration'] == 20 * MINUTE
    assert extended['modified'] == at and extended['modifiedAt'] == iso(at)
    assert extended['elapsed'] == 5 * MINUTE and extended['remaining'] == 20 * MINUTE
    assert extended['isExpired'] is False and extended['isNew'] is False
    assert stored_json(context) == {k: v for k, v in extended.items() if k not in COMPUTED}
    check_expiry(context, 20 * MINUTE)

    page.clock.fast_forward('05:00')                  # no extra: the expiry moves 5 min > 1%
    again = page.evaluate('S.extendSession()')
    at2 = at + 5 * MINUTE
    assert again['id'] == first['id'] and (again['a'], again['b']) == (1, 2)
    assert again['expires'] == at2 + 30 * MINUTE and again['modified'] == at2
    assert again['duration'] == 30 * MINUTE
    assert page.evaluate('S.getSession()') == {**again, 'isNew': False}
    check_expiry(context, 30 * MINUTE)


def test_extend_session_starts_one_when_none(context, page, open_page, bundle):
    open_paused(page, open_page, '/index.html', bundle)
    started = page.evaluate('S.extendSession(15, {x: 1})')
    check_new({k: v for k, v in started.items() if k != 'x'}, START_MS, minutes=15)
    assert started['x'] == 1
    assert stored_json(context)['id'] == started['id']
    page.clock.fast_forward('16:00')                  # expired: extending starts anew
    restarted = page.evaluate('S.extendSession()')
    assert restarted['id'] != started['id'] and restarted['isNew'] is True
    assert 'x' not in restarted
    page.evaluate('S.removeSession()')
    after_remove = page.evaluate('S.extendSession()')
    assert after_remove['isNew'] is True and after_remove['id'] != restarted['id']


def test_extend_session_coalesces_writes(context, page, open_page, bundle):
    context.add_init_script(COUNT_WRITES)
    open_paused(page, open_page, '/index.html', bundle)
    page.evaluate('S.setSession()')
    page.clock.fast_forward('05:00')
    written = page.evaluate('S.extendSession()')
    assert written['modified'] == START_MS + 5 * MINUTE
    stored = stored_json(context)
    page.evaluate('window.cookieWrites.length = 0')

    page.clock.fast_forward('00:01')
    same = page.evaluate('S.extendSession()')        # moves the expiry by 1 s: not written
    assert same['expires'] == written['expires'] == stored['expires']
    assert same['modified'] == written['modified'] and same['isNew'] is False
    assert same['remaining'] == 30 * MINUTE - 1000
    page.clock.fast_forward('00:17')                  # 18 s = exactly 1% of 30 minutes: still not
    assert page.evaluate('S.extendSession().expires') == written['expires']
    assert writes(page) == [] and stored_json(context) == stored

    page.clock.fast_forward('00:01')                  # 19 s > 1%: written
    moved = page.evaluate('S.extendSession()')
    assert moved['expires'] == written['expires'] + 19000 and moved['modified'] == written['modified'] + 19000
    assert len(writes(page)) >= 1 and stored_json(context)['expires'] == moved['expires']

    page.evaluate('window.cookieWrites.length = 0')
    with_extra = page.evaluate('S.extendSession(30, {k: 1})')  # same instant, but extra: written
    assert with_extra['k'] == 1 and with_extra['expires'] == moved['expires']
    assert len(writes(page)) >= 1 and stored_json(context)['k'] == 1


# --------------------------------------------------- 4. removeSession

def test_remove_session(context, page, open_page, bundle):
    open_paused(page, open_page, '/index.html', bundle)
    first = page.evaluate('S.getSession()')
    assert cookie(context) is not None
    assert page.evaluate('S.removeSession()') is None
    assert session_cookies(context) == []
    assert page.evaluate(f"localStorage.getItem('{NAME}')") is None
    fresh = page.evaluate('S.getSession()')
    assert fresh['id'] != first['id']
    check_new(fresh, START_MS)
    page.evaluate('S.removeSession(); S.removeSession()')   # nothing to remove: fine
    assert session_cookies(context) == []
    assert page.errors == []


# ----------------------------------------------------- 5. sessionData

def test_session_data(context, page, open_page, bundle):
    context.add_init_script(COUNT_WRITES)
    open_paused(page, open_page, '/index.html', bundle)
    data = page.evaluate('S.sessionData()')
    assert set(data) == {'id', 'created', 'createdAt'}
    assert UUID4.match(data['id']) and data['created'] == START_MS and data['createdAt'] == iso(START_MS)
    assert page.evaluate('S.sessionData().id') != data['id']
    assert writes(page) == [] and session_cookies(context) == []
    assert page.evaluate('localStorage.length') == 0

    session = page.evaluate('S.getSession()')
    before = cookie(context)
    page.evaluate('window.cookieWrites.length = 0')
    assert page.evaluate('S.sessionData().id') != session['id']
    assert writes(page) == [] and cookie(context) == before


# ----------------------------------------------------------- 6. extra

BAD_EXTRAS = ['1', "'x'", '[]', 'true', 'new Date()', '[{a: 1}]']


def test_extra_must_be_a_plain_object(context, page, open_page, bundle):
    context.add_init_script(COUNT_WRITES)
    open_paused(page, open_page, '/index.html', bundle)
    session = page.evaluate("S.setSession(30, {keep: 1})")
    before_cookie = page.evaluate('document.cookie')
    before = cookie(context)
    page.evaluate('window.cookieWrites.length = 0')
    for function in ('setSession', 'extendSession'):
        for extra in BAD_EXTRAS:
            result = outcome(page, f'S.{function}(30, {extra})')
            assert result.get('error') == 'TypeError', (function, extra, result)
            assert 'extra' in result['message'], (function, extra, result)
            assert page.evaluate('document.cookie') == before_cookie, (function, extra)
    assert writes(page) == []
    assert cookie(context) == before
    assert page.evaluate('S.getSession()') == {**session, 'isNew': False, 'remaining': 30 * MINUTE}

    # null (and undefined) mean no extra.
    assert page.evaluate('S.extendSession(30, null).id') == session['id']
    replaced = page.evaluate('S.setSession(30, null)')
    assert replaced['id'] != session['id'] and 'keep' not in replaced
    assert page.errors == []


RESERVED_EXTRA = ("{id: 'x', created: 1, createdAt: 'x', expires: 2, expiresAt: 'x', modified: 3,"
                  " modifiedAt: 'x', duration: 4, elapsed: 5, remaining: 6, isExpired: true,"
                  " isNew: false, keep: 'y'}")


def test_extra_reserved_keys_ignored(context, page, open_page, bundle):
    open_paused(page, open_page, '/index.html', bundle)
    started = page.evaluate(f'S.setSession(30, {RESERVED_EXTRA})')
    check_new({k: v for k, v in started.items() if k != 'keep'}, START_MS)
    assert started['keep'] == 'y' and 'modified' not in started
    stored = stored_json(context)
    assert set(stored) == set(STORED + ['keep']), stored
    assert stored['id'] == started['id']

    page.clock.fast_forward('05:00')
    at = START_MS + 5 * MINUTE
    extended = page.evaluate(f'S.extendSession(20, {RESERVED_EXTRA})')
    assert extended['id'] == started['id'] and extended['created'] == START_MS
    assert extended['expires'] == at + 20 * MINUTE and extended['duration'] == 20 * MINUTE
    assert extended['modified'] == at and extended['modifiedAt'] == iso(at)
    assert extended['elapsed'] == 5 * MINUTE and extended['remaining'] == 20 * MINUTE
    assert extended['isExpired'] is False and extended['isNew'] is False
    assert stored_json(context) == {k: v for k, v in extended.items() if k not in COMPUTED}


POLLUTING = ('JSON.parse(\'{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 1}},'
             ' "prototype": 1, "ok": 2}\')')
NOT_POLLUTED = ("({}).polluted === undefined && Object.prototype.polluted === undefined"
                " && Object.polluted === undefined")


@pytest.mark.parametrize('function', ['setSession', 'extendSession'])
def test_extra_cannot_pollute_prototypes(context, page, open_page, bundle, function):
    open_paused(page, open_page, '/index.html', bundle)
    page.evaluate('S.getSession()')
    page.clock.fast_forward('01:00')
    result = page.evaluate(f"""() => {{
        const s = S.{function}(30, {POLLUTING});
        return {{ok: s.ok, proto: Object.getPrototypeOf(s) === Object.prototype,
                 ctor: s.constructor === Object, own: Object.keys(s),
                 clean: {NOT_POLLUTED}}};
    }}""")
    assert result['ok'] == 2 and result['proto'] and result['ctor'] and result['clean'], result
    assert not {'__proto__', 'constructor', 'prototype', 'polluted'} & set(result['own'])
    stored = stored_json(context)
    assert stored['ok'] == 2
    assert not {'__proto__', 'constructor', 'prototype', 'polluted'} & set(stored)
    after = page.evaluate(f"""() => {{ const s = S.getSession(); return [s.ok, {NOT_POLLUTED}, s.polluted === undefined]; }}""")
    assert after == [2, True, True]


def test_stored_proto_keys_cannot_pollute(context, page, open_page, bundle):
    """A cookie someone else wrote with __proto__ keys: parsed, nothing polluted."""
    open_paused(page, open_page, '/index.html', bundle)
    record = {'id': '6b0c4c3e-2f7a-4d8a-9c1b-3e5f7a9b1c2d', 'created': START_MS, 'createdAt': iso(START_MS),
              'expires': START_MS + 30 * MINUTE, 'expiresAt': iso(START_MS + 30 * MINUTE),
              'duration': 30 * MINUTE}
    text = json.dumps(record)[:-1] + ', "__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 1}}}'
    page.evaluate("t => { document.cookie = '__session=' + encodeURIComponent(t) + ';path=/'; }", text)
    got = page.evaluate(f"() => {{ const s = S.getSession(); return [s.id, {NOT_POLLUTED}, s.polluted === undefined,"
                        " Object.getPrototypeOf(s) === Object.prototype]; }")
    assert got == [record['id'], True, True, True]
    page.clock.fast_forward('05:00')
    assert page.evaluate(f"() => [S.extendSession(30, {{z: 1}}).id, {NOT_POLLUTED}]") == [record['id'], True]
    assert '__proto__' not in stored_json(context)


# --------------------------------------------------------- 7. minutes

TYPE_ERRORS = ["'5'", '{}', 'true', '[5]', "'30'"]
RANGE_ERRORS = ['NaN', 'Infinity', '-Infinity', '-1', '0', '576001', '576000.5', '-0']
CALLS = ['getSession(M)', 'setSession(M)', 'extendSession(M)',
         'setSession(M, {a: 1})', 'extendSession(M, {a: 1})']   # M: the minutes


def test_minutes_default(context, page, open_page, bundle):
    open_paused(page, open_page, '/index.html', bundle)
    for expr in ('S.getSession(undefined)', 'S.getSession(null)', 'S.setSession(null)',
                 'S.setSession(undefined, {a: 1})', 'S.extendSession(null)'):
        page.evaluate('S.removeSession()')
        assert page.evaluate(f'{expr}.duration') == 30 * MINUTE, expr
        assert stored_json(context)['duration'] == 30 * MINUTE, expr
    page.clock.fast_forward('05:00')
    extended = page.evaluate('S.extendSession(null, {b: 1})')
    assert extended['expires'] == START_MS + 35 * MINUTE and extended['duration'] == 30 * MINUTE


@pytest.mark.parametrize('kind,values', [('TypeError', TYPE_ERRORS), ('RangeError', RANGE_ERRORS)])
def test_minutes_invalid(context, page, open_page, bundle, kind, values):
    context.add_init_script(COUNT_WRITES)
    open_paused(page, open_page, '/index.html', bundle)

    # With no session: a failed call starts none.
    for value in values:
        for call in CALLS:
            result = outcome(page, 'S.' + call.replace('M', value))
            assert result.get('error') == kind and 'minutes' in result['message'], (call, value, result)
    assert writes(page) == [] and session_cookies(context) == []

    # With a session: left exactly as it was.
    session = page.evaluate("S.setSession(30, {keep: 1})")
    before_string, before = page.evaluate('document.cookie'), cookie(context)
    page.evaluate('window.cookieWrites.length = 0')
    page.clock.fast_forward('05:00')
    for value in values:
        for call in CALLS:
            result = outcome(page, 'S.' + call.replace('M', value))
            assert result.get('error') == kind and 'minutes' in result['message'], (call, value, result)
            assert page.evaluate('document.cookie') == before_string, (call, value)
    assert writes(page) == [] and cookie(context) == before
    got = page.evaluate('S.getSession()')
    assert got['id'] == session['id'] and got['expires'] == session['expires'] and got['keep'] == 1


def test_minutes_maximum_accepted(context, page, open_page, bundle):
    open_paused(page, open_page, '/index.html', bundle)
    longest = page.evaluate('S.setSession(576000)')
    check_new(longest, START_MS, minutes=576000)
    check_expiry(context, 576000 * MINUTE)            # 400 days: the browsers' cap, not cut
    assert page.evaluate('S.getSession(576000).id') == longest['id']
    page.clock.fast_forward('05:00')
    # (5 minutes are far below 1% of 400 days: only an extra makes this extend write.)
    assert page.evaluate('S.extendSession(576000).expires') == longest['expires']
    extended = page.evaluate('S.extendSession(576000, {z: 1})')
    assert extended['expires'] == START_MS + 5 * MINUTE + 576000 * MINUTE
    assert stored_json(context)['expires'] == extended['expires']


# --------------------------------------------------------- 8. storage

def test_cookie_storage_http(context, page, open_page, bundle):
    open_paused(page, open_page, '/app/index.html', bundle)
    session = page.evaluate("S.setSession(20, {a: 'é ;,=%', b: [1]})")
    c = cookie(context)
    assert (c['name'], c['path'], c['domain'], c['sameSite'], c['secure'], c['httpOnly']) == (
        NAME, '/', '127.0.0.1', 'Lax', False, False)
    check_expiry(context, 20 * MINUTE)
    assert len(session_cookies(context)) == 1
    stored = stored_json(context)
    assert set(stored) == set(STORED + ['a', 'b'])
    assert stored == {k: v for k, v in session.items() if k not in COMPUTED}
    # The value is exactly encodeURIComponent(JSON.stringify(the stored fields)).
    assert c['value'] == page.evaluate('encodeURIComponent(JSON.stringify(S.getSession(30, true)))')
    assert page.evaluate("document.cookie.split('; ').filter(p => p.startsWith('__session='))") == [
        f'{NAME}={c["value"]}']
    # Visible to every directory of the site.
    other = open_page(context.new_page(), '/x/y/page.html', bundle)
    assert other.evaluate('S.getSession().id') == session['id']


def test_cookie_storage_https_secure(context, page, bundle):
    serve_https(context, bundle)
    page.clock.install(time=T0)
    page.goto(f'{HTTPS}/app/index.html')
    ready(page)
    page.clock.pause_at(START)
    assert page.evaluate('location.protocol') == 'https:'
    session = page.evaluate('S.getSession()')
    check_new(session, START_MS)
    c = cookie(context)
    assert (c['name'], c['path'], c['domain'], c['sameSite'], c['secure'], c['httpOnly']) == (
        NAME, '/', 'a.example.test', 'Lax', True, False)
    check_expiry(context, 30 * MINUTE)
    assert stored_json(context) == {k: v for k, v in session.items() if k not in COMPUTED}
    page.clock.fast_forward('05:00')
    extended = page.evaluate('S.extendSession(10)')
    assert extended['id'] == session['id']
    assert cookie(context)['secure'] is True
    check_expiry(context, 10 * MINUTE)
    assert page.errors == []


def corrupt_values(at: int) -> list[str]:
    """Cookie values that are not a session: bad encoding, bad JSON, wrong field types."""
    good = {'id': '6b0c4c3e-2f7a-4d8a-9c1b-3e5f7a9b1c2d', 'created': at, 'createdAt': iso(at),
            'expires': at + 30 * MINUTE, 'expiresAt': iso(at + 30 * MINUTE), 'duration': 30 * MINUTE}
    wrong_types = [{**good, 'id': 5}, {**good, 'id': ''}, {**good, 'created': str(at)},
                   {**good, 'expires': None}, {**good, 'duration': '1800000'}, {k: v for k, v in good.items() if k != 'expires'}]
    encode = lambda text: quote(text, safe="-_.!~*'()")   # what encodeURIComponent gives
    return (['%E0%A4%A', '{"id":', encode('{"id":'), '[]', encode('[]'), 'null', encode('"text"'), '', '%']
            + [encode(json.dumps(record)) for record in wrong_types])


def test_corrupt_values_start_a_new_session(context, page, open_page, bundle):
    open_paused(page, open_page, '/index.html', bundle)
    for value in corrupt_values(START_MS):
        page.evaluate("v => { document.cookie = '__session=' + v + ';path=/'; }", value)
        assert cookie_value(context) == value
        result = outcome(page, 'S.getSession()')
        assert 'value' in result, (value, result)
        session = result['value']
        assert session['isNew'] is True and UUID4.match(session['id']), (value, session)
        assert session['id'] != '6b0c4c3e-2f7a-4d8a-9c1b-3e5f7a9b1c2d'
        assert stored_json(context)['id'] == session['id'], value
        assert page.evaluate('S.getSession().isNew') is False, value
        # A corrupt value also doesn't break the other calls.
        page.evaluate("v => { document.cookie = '__session=' + v + ';path=/'; }", value)
        assert page.evaluate('S.extendSession().isNew') is True, value
        page.evaluate("v => { document.cookie = '__session=' + v + ';path=/'; }", value)
        assert page.evaluate('S.setSession().isNew') is True, value
        page.evaluate("v => { document.cookie = '__session=' + v + ';path=/'; }", value)
        assert page.evaluate('S.removeSession()') is None
    assert page.errors == []


def test_expired_stored_value_starts_a_new_session(context, page, open_page, bundle):
    """A well-formed record whose expiry passed (the browser kept the cookie): a new session."""
    open_paused(page, open_page, '/index.html', bundle)
    old = record_024(START_MS - 40 * MINUTE)          # expired 15 minutes ago by the page clock
    page.evaluate("r => { document.cookie = '__session=' + encodeURIComponent(JSON.stringify(r)) + ';path=/'; }", old)
    session = page.evaluate('S.getSession()')
    assert session['id'] != old['id']
    check_new(session, START_MS)


def test_adopts_024_cookie(context, page, open_page, bundle):
    open_paused(page, open_page, '/app/index.html', bundle)
    old = record_024(START_MS)
    write_024_cookie(page, old)
    assert stored_json(context, '/app') == old and cookie(context) is None
    session = page.evaluate('S.getSession()')
    assert {k: session[k] for k in STORED} == old
    assert session['isNew'] is False and session['elapsed'] == 5 * MINUTE
    assert session['remaining'] == 25 * MINUTE and session['isExpired'] is False
    assert page.evaluate('S.getSession().id') == old['id']


@pytest.mark.parametrize('action', ['set', 'extend', 'remove'])
def test_writes_take_effect_over_a_024_cookie(context, page, open_page, bundle, action):
    """0.2.4's cookie sits at /app: our writes at / must still win in /app and elsewhere."""
    open_paused(page, open_page, '/app/index.html', bundle)
    old = record_024(START_MS)
    write_024_cookie(page, old)
    assert page.evaluate('S.getSession().id') == old['id']
    page.clock.fast_forward('05:00')
    if action == 'set':
        written = page.evaluate("S.setSession(30, {v: 2})")
        assert written['id'] != old['id']
    elif action == 'extend':
        written = page.evaluate("S.extendSession(30, {v: 2})")
        assert written['id'] == old['id'] and written['created'] == old['created']
        assert written['modified'] == START_MS + 5 * MINUTE
        assert written['expires'] == START_MS + 35 * MINUTE
    else:
        assert page.evaluate('S.removeSession()') is None
        written = None

    got = page.evaluate('S.getSession()')
    if written is None:
        assert got['id'] != old['id'] and got['isNew'] is True
    else:
        assert got == {**written, 'isNew': False}
    # Every directory now sees the same session.
    elsewhere = open_page(context.new_page(), '/other/page.html', bundle)
    assert elsewhere.evaluate('S.getSession().id') == got['id']
    assert page.evaluate('S.getSession().id') == got['id']
    assert page.errors == []


ORIGINAL_PAGE = ('<!doctype html><html><head><meta charset=utf-8><link rel=icon href="data:,">'
                 '<script src="/node_modules/@analytics/session-utils/dist/browser/session-utils.js"></script>'
                 '</head><body>0.2.4</body></html>')


def original_session(context, page, server) -> dict:
    """A session started by the real @analytics/session-utils 0.2.4 on a page in /orig/app."""
    context.route('**/orig/app/index.html', lambda route: route.fulfill(
        status=200, body=ORIGINAL_PAGE, content_type='text/html; charset=utf-8'))
    page.goto(f'{server}/orig/app/index.html')
    page.wait_for_function("typeof utilSessions === 'object'")
    original = page.evaluate('utilSessions.setSession(30)')
    assert stored_json(context, '/orig/app')['id'] == original['id']   # no path: at /orig/app
    assert cookie(context) is None
    return original


def test_adopts_the_real_024_library_session(context, page, server, open_page, bundle):
    original = original_session(context, page, server)
    ours = open_page(context.new_page(), '/orig/app/page.html', bundle)
    session = ours.evaluate('S.getSession()')
    assert session['id'] == original['id'] and session['created'] == original['created']
    assert session['expires'] == original['expires'] and session['isNew'] is False
    assert ours.evaluate('S.getSession().id') == original['id']
    assert ours.errors == []


def test_set_session_over_the_real_024_library_session(context, page, server, open_page, bundle):
    original = original_session(context, page, server)
    ours = open_page(context.new_page(), '/orig/app/page.html', bundle)
    assert ours.evaluate('S.getSession().id') == original['id']
    replaced = ours.evaluate('S.setSession()')
    assert replaced['id'] != original['id']
    assert ours.evaluate('S.getSession().id') == replaced['id']
    assert ours.errors == []


# ------------------------------------------------------- 9. fallbacks

def local_storage_reaches(page, session_id):
    """Wait until this tab's localStorage shows another tab's write (or removal).

    Chromium hands localStorage writes to other renderer processes
    asynchronously, so a change is not always visible on the very next call
    (unlike document.cookie, which the library reads on every call).
    """
    if session_id is None:
        page.wait_for_function("localStorage.getItem('__session') === null")
    else:
        page.wait_for_function("id => (localStorage.getItem('__session') || '').includes(id)", arg=session_id)


@pytest.mark.parametrize('mode', ['ignored', 'throws'])
def test_fallback_to_local_storage(context, page, open_page, bundle, mode):
    context.add_init_script(COOKIE_MODES[mode])
    open_paused(page, open_page, '/index.html', bundle)
    first = outcome(page, 'S.getSession()')['value']
    check_new(first, START_MS)
    assert session_cookies(context) == []
    assert local_json(page) == {k: v for k, v in first.items() if k not in COMPUTED}
    for _ in range(3):
        again = page.evaluate('S.getSession()')
        assert again['id'] == first['id'] and again['isNew'] is False

    page.reload()
    ready(page)
    assert page.evaluate('S.getSession().id') == first['id']
    tab = open_page(context.new_page(), '/other/page.html', bundle)
    assert tab.evaluate('S.getSession()')['id'] == first['id']

    page.clock.fast_forward('05:00')
    extended = page.evaluate('S.extendSession(30, {e: 1})')
    assert extended['id'] == first['id'] and extended['modified'] == START_MS + 5 * MINUTE
    tab.wait_for_function("(localStorage.getItem('__session') || '').includes('%22e%22%3A1')")
    assert tab.evaluate('S.getSession()') == {**extended, 'isNew': False}
    replaced = tab.evaluate('S.setSession()')
    assert replaced['id'] != first['id']
    local_storage_reaches(page, replaced['id'])
    assert page.evaluate('S.getSession().id') == replaced['id']
    assert page.evaluate('S.sessionData().id') != replaced['id']
    assert page.evaluate('S.removeSession()') is None
    assert local_json(page) is None
    local_storage_reaches(tab, None)
    assert tab.evaluate('S.getSession()')['id'] not in (first['id'], replaced['id'])
    assert session_cookies(context) == []
    assert page.errors == [] and tab.errors == []


@pytest.mark.parametrize('mode', ['ignored', 'throws'])
def test_fallback_to_memory(context, page, open_page, bundle, mode):
    context.add_init_script(COOKIE_MODES[mode])
    context.add_init_script(STORAGE_THROWS)
    open_paused(page, open_page, '/index.html', bundle)
    assert 'error' in page.evaluate("(() => { try { localStorage; return {}; } catch (e) { return {error: 1}; } })()")
    first = outcome(page, 'S.getSession()')['value']
    check_new(first, START_MS)
    for _ in range(3):
        again = outcome(page, 'S.getSession()')['value']
        assert again['id'] == first['id'] and again['isNew'] is False
    page.clock.fast_forward('05:00')
    extended = outcome(page, 'S.extendSession(30, {e: 1})')['value']
    assert extended['id'] == first['id'] and extended['e'] == 1 and extended['isNew'] is False
    assert outcome(page, 'S.getSession()')['value'] == {**extended, 'isNew': False}
    replaced = outcome(page, 'S.setSession(10)')['value']
    assert replaced['id'] != first['id'] and replaced['duration'] == 10 * MINUTE
    assert outcome(page, 'S.getSession().id')['value'] == replaced['id']
    assert 'value' in outcome(page, 'S.sessionData()')
    assert outcome(page, 'S.removeSession()') == {'value': None}
    fresh = outcome(page, 'S.getSession()')['value']
    assert fresh['isNew'] is True and fresh['id'] != replaced['id']
    page.clock.fast_forward('31:00')
    assert outcome(page, 'S.getSession()')['value']['id'] != fresh['id']
    assert session_cookies(context) == []
    assert page.errors == []


FRAME_PARENT = '<!doctype html><html><head><link rel=icon href="data:,"></head><body>' \
               '<iframe sandbox="allow-scripts" src="/frame.html?bundle={bundle}"></iframe></body></html>'


def test_fallback_in_sandboxed_iframe(context, page, server, bundle):
    """A sandboxed frame without allow-same-origin: cookies and storage throw there."""
    context.route('**/sandbox/parent.html', lambda route: route.fulfill(
        status=200, body=FRAME_PARENT.format(bundle=bundle), content_type='text/html; charset=utf-8'))
    # The frame's origin is opaque: a module script needs CORS.
    context.route('**/dist/session-utils.mjs', lambda route: route.fulfill(
        status=200, body=(ROOT / 'dist/session-utils.mjs').read_bytes(), content_type='text/javascript',
        headers={'Access-Control-Allow-Origin': '*'}))
    page.goto(f'{server}/sandbox/parent.html')
    frame = next(f for f in page.frames if urlsplit(f.url).path == '/frame.html')   # goto waited for its load
    frame.wait_for_function('window.ready === true')
    denied = frame.evaluate("""() => ['document.cookie', 'localStorage', "document.cookie = 'a=1'"].map(
        code => { try { (0, eval)(code); return false; } catch (e) { return true; } })""")
    assert denied == [True, True, True]

    first = frame.evaluate(OUTCOME, 'S.getSession()')['value']
    assert UUID4.match(first['id']) and first['isNew'] is True and first['duration'] == 30 * MINUTE
    assert set(first) == set(STORED + COMPUTED)
    again = frame.evaluate(OUTCOME, 'S.getSession()')['value']
    assert again['id'] == first['id'] and again['isNew'] is False
    extended = frame.evaluate(OUTCOME, 'S.extendSession(30, {e: 1})')['value']
    assert extended['id'] == first['id'] and extended['e'] == 1
    replaced = frame.evaluate(OUTCOME, 'S.setSession()')['value']
    assert replaced['id'] != first['id']
    assert frame.evaluate(OUTCOME, 'S.getSession().id')['value'] == replaced['id']
    assert UUID4.match(frame.evaluate(OUTCOME, 'S.sessionData()')['value']['id'])
    assert frame.evaluate(OUTCOME, 'S.removeSession()') == {'value': None}
    assert frame.evaluate(OUTCOME, 'S.getSession()')['value']['id'] != replaced['id']
    assert session_cookies(context) == []
    assert page.errors == []

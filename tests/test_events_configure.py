"""onSessionChange (local and cross-tab events) and configure() (issue 5 points 1 and 4),
in real Chromium pages over http on 127.0.0.1 and over https through context.route.
"""
from __future__ import annotations

import re
import time
from urllib.parse import unquote, urlsplit

import pytest

from conftest import ROOT, page_html

UUID4 = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')

# A listener that records (session id, reason, remote, argument count, session) into window[log].
RECORDER = """name => {
    window[name] = [];
    return function (session, reason, remote) {
        window[name].push({id: session && session.id, reason, remote,
                           count: arguments.length, session});
    };
}"""


def subscribe(page, log: str, off: str) -> None:
    """window[log] records every change; window[off]() unsubscribes."""
    page.evaluate(f"""name => {{
        const make = {RECORDER};
        window[{off!r}] = S.onSessionChange(make(name));
    }}""", log)


def events(page, log: str = 'log'):
    return [(e['id'], e['reason'], e['remote']) for e in page.evaluate(f'window.{log}')]


# ------------------------------------------------------------- local events

def test_start_extend_remove_events(page, open_page, bundle):
    page.clock.install()
    open_page(page, '/ev/index.html', bundle)
    subscribe(page, 'log', 'off')
    first = page.evaluate('S.getSession()')             # none stored: starts one
    assert first['isNew'] is True
    assert events(page) == [(first['id'], 'start', False)]
    entry = page.evaluate('log[0]')
    assert entry['count'] == 3
    assert entry['session']['id'] == first['id'] and entry['session']['isNew'] is True
    assert entry['session']['expires'] == first['expires']

    page.evaluate('S.getSession()')                       # reading changes nothing
    assert len(events(page)) == 1

    page.clock.fast_forward('01:00')
    extended = page.evaluate('S.extendSession()')         # expiry moves by 60 s > 18 s: writes
    assert extended['id'] == first['id'] and extended['modified'] > first['created']
    assert events(page)[1:] == [(first['id'], 'extend', False)]
    assert page.evaluate('log[1].session.expires') == extended['expires']
    page.evaluate('S.extendSession()')                    # coalesced: no write, no event
    assert len(events(page)) == 2

    page.evaluate('S.removeSession()')
    assert events(page)[2:] == [(None, 'remove', False)]
    assert page.evaluate('log[2].session') is None and page.evaluate('log[2].count') == 3

    made = page.evaluate('S.extendSession()')             # none: extendSession starts one
    assert made['isNew'] is True and made['id'] != first['id']
    assert events(page)[3:] == [(made['id'], 'start', False)]

    replaced = page.evaluate('S.setSession()')
    assert replaced['id'] != made['id']
    assert events(page)[4:] == [(replaced['id'], 'start', False)]

    page.clock.fast_forward('31:00')                      # expired: getSession starts anew
    renewed = page.evaluate('S.getSession()')
    assert renewed['isNew'] is True and renewed['id'] != replaced['id']
    assert events(page)[5:] == [(renewed['id'], 'start', False)]
    assert page.errors == []


def test_unsubscribed_listener_is_never_called_again(page, open_page, bundle):
    open_page(page, '/ev/index.html', bundle)
    subscribe(page, 'gone', 'off_gone')
    subscribe(page, 'kept', 'off_kept')
    first = page.evaluate('S.setSession()')
    assert events(page, 'gone') == events(page, 'kept') == [(first['id'], 'start', False)]
    assert page.evaluate('off_gone()') is None
    page.evaluate('off_gone()')                           # twice is harmless
    second = page.evaluate('S.setSession()')
    page.evaluate('S.extendSession(30, {plan: "pro"})')
    page.evaluate('S.removeSession()')
    assert events(page, 'gone') == [(first['id'], 'start', False)]
    assert events(page, 'kept') == [(first['id'], 'start', False), (second['id'], 'start', False),
                                    (second['id'], 'extend', False), (None, 'remove', False)]
    page.evaluate('off_kept()')
    page.evaluate('S.setSession()')
    assert len(events(page, 'kept')) == 4
    assert page.errors == []


def test_same_callback_subscribed_twice_unsubscribes_separately(page, open_page, bundle):
    open_page(page, '/ev/index.html', bundle)
    page.evaluate("""window.calls = 0; const cb = () => { calls += 1; };
                     window.off1 = S.onSessionChange(cb); window.off2 = S.onSessionChange(cb); 0""")
    page.evaluate('S.setSession()')
    assert page.evaluate('calls') == 2                    # two subscriptions, two calls
    page.evaluate('off1()')
    page.evaluate('S.setSession()')
    assert page.evaluate('calls') == 3                    # the other subscription still works
    page.evaluate('off2()')
    page.evaluate('S.setSession()')
    assert page.evaluate('calls') == 3


@pytest.mark.parametrize('order', ['thrower-first', 'thrower-last'])
def test_throwing_listener_breaks_nothing(page, open_page, bundle, order):
    open_page(page, '/ev/index.html', bundle)
    thrower = "window.offThrow = S.onSessionChange(() => { throw new Error('listener exploded'); }); 0"
    if order == 'thrower-first':
        page.evaluate(thrower)
        subscribe(page, 'log', 'off')
    else:
        subscribe(page, 'log', 'off')
        page.evaluate(thrower)
    with page.expect_event('pageerror'):
        session = page.evaluate('S.setSession(10, {plan: "pro"})')
    assert UUID4.match(session['id'])
    assert session['isNew'] is True and session['duration'] == 600000 and session['plan'] == 'pro'
    assert events(page) == [(session['id'], 'start', False)]
    assert page.errors == ['pageerror: listener exploded']
    page.errors.clear()
    assert page.evaluate('S.getSession().id') == session['id']   # and it was stored
    # removeSession too, which returns nothing: it must not throw either.
    with page.expect_event('pageerror'):
        assert page.evaluate('S.removeSession()') is None
    assert events(page)[1:] == [(None, 'remove', False)]
    assert page.errors == ['pageerror: listener exploded']
    page.errors.clear()
    with page.expect_event('pageerror'):                    # getSession starts one: throws again
        fresh = page.evaluate('S.getSession()')
    assert fresh['isNew'] is True and fresh['id'] != session['id']
    assert events(page)[2:] == [(fresh['id'], 'start', False)]
    assert page.errors == ['pageerror: listener exploded']
    page.errors.clear()


@pytest.mark.parametrize('value', ['5', 'null', 'undefined', '"cb"', '{}', '[]'])
def test_non_function_callback_is_type_error(page, open_page, bundle, value):
    open_page(page, '/ev/index.html', bundle)
    result = page.evaluate(f"""() => {{
        try {{ S.onSessionChange({value}); return null; }}
        catch (e) {{ return [e instanceof TypeError, e.message]; }}
    }}""")
    assert result is not None, 'no exception'
    assert result[0] is True
    assert 'callback' in result[1]
    assert page.evaluate('document.cookie') == ''


# ------------------------------------------------------------ remote events

def two_tabs(context, open_page, bundle_a, bundle_b):
    a = open_page(context.new_page(), '/ev/a.html', bundle_a)
    b = open_page(context.new_page(), '/ev/b.html', bundle_b)
    return a, b


def wait_events(page, log: str, count: int) -> None:
    page.wait_for_function(f'window.{log}.length >= {count}')


def test_remote_events_reach_other_tab(context, open_page, bundle):
    a, b = two_tabs(context, open_page, bundle, bundle)
    subscribe(a, 'log', 'off')
    subscribe(b, 'log1', 'off1')
    subscribe(b, 'log2', 'off2')

    started_ = a.evaluate('S.setSession()')
    wait_events(b, 'log2', 1)
    assert events(b, 'log1') == events(b, 'log2') == [(started_['id'], 'start', True)]
    assert b.evaluate('log1[0].count') == 3
    assert b.evaluate('log1[0].session.expires') == started_['expires']

    a.evaluate('S.extendSession(30, {plan: "pro"})')
    wait_events(b, 'log2', 2)
    assert events(b, 'log2')[1:] == [(started_['id'], 'extend', True)]
    assert b.evaluate('log2[1].session.plan') == 'pro'

    a.evaluate('S.removeSession()')
    wait_events(b, 'log2', 3)
    assert events(b, 'log2')[2:] == [(None, 'remove', True)]
    assert b.evaluate('log2[2].session') is None

    made = a.evaluate('S.getSession()')                    # getSession finding none: 'start'
    wait_events(b, 'log2', 4)
    assert events(b, 'log2')[3:] == [(made['id'], 'start', True)]
    assert events(b, 'log1') == events(b, 'log2')

    # B unsubscribes one listener; A changes X then Y: the other sees both, it neither.
    b.evaluate('off1()')
    x = a.evaluate('S.setSession()')
    a.evaluate('S.extendSession(30, {step: "y"})')
    wait_events(b, 'log2', 6)
    assert events(b, 'log2')[4:] == [(x['id'], 'start', True), (x['id'], 'extend', True)]
    assert len(events(b, 'log1')) == 4

    # A's own listener saw only its own changes, all local, each once.
    assert [e[2] for e in events(a)] == [False] * 6
    assert [e[1] for e in events(a)] == ['start', 'extend', 'remove', 'start', 'start', 'extend']
    assert a.errors == [] and b.errors == []


def test_own_changes_are_not_echoed_as_remote(context, open_page, bundle):
    a, b = two_tabs(context, open_page, bundle, bundle)
    subscribe(b, 'log', 'off')
    own = b.evaluate('S.setSession()')
    b.evaluate('S.extendSession(30, {k: 1})')
    b.evaluate('S.removeSession()')
    # A's change is sent after B's own messages would have been: once it has
    # arrived, any echo of B's changes would have arrived too.
    theirs = a.evaluate('S.setSession()')
    b.wait_for_function(f'log.some(e => e.id === {theirs["id"]!r})')
    assert events(b) == [(own['id'], 'start', False), (own['id'], 'extend', False),
                         (None, 'remove', False), (theirs['id'], 'start', True)]


def test_remote_events_after_all_unsubscribed_and_resubscribed(context, open_page, bundle):
    a, b = two_tabs(context, open_page, bundle, bundle)
    subscribe(b, 'log1', 'off1')
    first = a.evaluate('S.setSession()')
    wait_events(b, 'log1', 1)
    b.evaluate('off1()')
    a.evaluate('S.setSession()')                            # nobody in B listens
    subscribe(b, 'log2', 'off2')
    last = a.evaluate('S.setSession()')
    b.wait_for_function(f'log2.some(e => e.id === {last["id"]!r})')
    assert events(b, 'log1') == [(first['id'], 'start', True)]
    assert events(b, 'log2')[-1] == (last['id'], 'start', True)


def test_remote_events_between_classic_and_esm_bundles(context, open_page):
    a, b = two_tabs(context, open_page, 'classic', 'esm')
    subscribe(a, 'log', 'off')
    subscribe(b, 'log', 'off')
    from_a = a.evaluate('S.setSession()')
    wait_events(b, 'log', 1)
    from_b = b.evaluate('S.setSession()')
    wait_events(a, 'log', 2)
    assert events(b) == [(from_a['id'], 'start', True), (from_b['id'], 'start', False)]
    assert events(a) == [(from_a['id'], 'start', False), (from_b['id'], 'start', True)]


def test_remote_events_only_for_the_same_cookie_name(context, open_page, bundle):
    a, b = two_tabs(context, open_page, bundle, bundle)
    b.evaluate("S.configure({name: 'other'})")
    subscribe(b, 'log', 'off')
    a.evaluate('S.setSession()')                            # X: a different cookie name
    a.evaluate("S.configure({name: 'other'})")
    y = a.evaluate('S.setSession()')                        # Y: the same name
    b.wait_for_function(f'log.some(e => e.id === {y["id"]!r})')
    assert events(b) == [(y['id'], 'start', True)]


# ---------------------------------------------------------------- configure

DEFAULTS = {'minutes': 30, 'name': '__session', 'domain': '', 'sameSite': 'Lax', 'secure': False}


def test_configure_defaults_on_http(page, open_page, bundle):
    open_page(page, '/cfg/index.html', bundle)
    assert page.evaluate('S.configure()') == DEFAULTS
    assert page.evaluate('S.configure({})') == DEFAULTS
    assert page.evaluate('S.configure(undefined)') == DEFAULTS
    # The result is a copy: changing it changes nothing.
    assert page.evaluate('(() => { const c = S.configure(); c.minutes = 5; c.name = "x"; '
                         'return S.configure(); })()') == DEFAULTS
    assert page.evaluate('document.cookie') == ''            # configure() writes nothing
    session = page.evaluate('S.getSession()')
    assert session['duration'] == 30 * 60000
    cookie, = page.context.cookies()
    assert (cookie['name'], cookie['path'], cookie['domain'], cookie['sameSite'], cookie['secure']) == (
        '__session', '/', '127.0.0.1', 'Lax', False)


def test_configure_minutes_is_the_default_length(page, open_page, bundle):
    open_page(page, '/cfg/index.html', bundle)
    assert page.evaluate('S.configure({minutes: 10})') == {**DEFAULTS, 'minutes': 10}
    session = page.evaluate('S.getSession()')
    assert session['duration'] == 600000
    assert session['expires'] - session['created'] == 600000
    cookie, = page.context.cookies()
    assert 590 <= cookie['expires'] - time.time() <= 601
    assert page.evaluate('S.setSession().duration') == 600000
    assert page.evaluate('S.extendSession(null, {a: 1}).duration') == 600000
    assert page.evaluate('S.setSession(5).duration') == 300000    # an explicit argument wins
    assert page.evaluate('S.configure({minutes: 0.5}).minutes') == 0.5
    assert page.evaluate('S.setSession().duration') == 30000


def test_configure_name_changes_the_cookie_name(page, open_page, bundle):
    open_page(page, '/cfg/index.html', bundle)
    default = page.evaluate('S.getSession()')
    assert page.evaluate("S.configure({name: 'sid'})") == {**DEFAULTS, 'name': 'sid'}
    named = page.evaluate('S.getSession()')
    assert named['isNew'] is True and named['id'] != default['id']
    assert sorted(c['name'] for c in page.context.cookies()) == ['__session', 'sid']
    sid = next(c for c in page.context.cookies() if c['name'] == 'sid')
    assert named['id'] in unquote(sid['value'])
    assert page.evaluate('S.getSession().id') == named['id']
    page.evaluate('S.removeSession()')                       # removes only 'sid'
    assert [c['name'] for c in page.context.cookies()] == ['__session']
    page.evaluate("S.configure({name: '__session'})")
    assert page.evaluate('S.getSession().id') == default['id']


def test_configure_same_site_strict(page, open_page, bundle):
    open_page(page, '/cfg/index.html', bundle)
    assert page.evaluate("S.configure({sameSite: 'Strict'})") == {**DEFAULTS, 'sameSite': 'Strict'}
    page.evaluate('S.getSession()')
    cookie, = page.context.cookies()
    assert (cookie['sameSite'], cookie['secure']) == ('Strict', False)


def test_configure_secure_true_on_http(page, open_page, bundle):
    open_page(page, '/cfg/index.html', bundle)
    assert page.evaluate('S.configure({secure: true})') == {**DEFAULTS, 'secure': True}
    assert page.evaluate('S.configure({secure: false}).secure') is False
    assert page.evaluate('S.configure({secure: null}).secure') is False   # back to the protocol's


# Bad options, the exception class, and the text the message must contain.
BAD_OPTIONS = [
    ('{foo: 1}', 'TypeError', 'foo'),
    ('{minutes: 10, colour: "red"}', 'TypeError', 'colour'),
    ('{minutes: -1}', 'RangeError', 'minutes'),
    ('{minutes: 0}', 'RangeError', 'minutes'),
    ('{minutes: NaN}', 'RangeError', 'minutes'),
    ('{minutes: Infinity}', 'RangeError', 'minutes'),
    ('{minutes: 576001}', 'RangeError', 'minutes'),
    ('{minutes: "5"}', 'TypeError', 'minutes'),
    ('{name: "a b"}', 'RangeError', 'name'),
    ('{name: ""}', 'RangeError', 'name'),
    ('{name: "a;b"}', 'RangeError', 'name'),
    ('{name: "a=b"}', 'RangeError', 'name'),
    ('{name: "a$b"}', 'RangeError', 'name'),     # names are letters, digits, _ . -
    ('{name: "caf\u00e9"}', 'RangeError', 'name'),
    ('{name: 5}', 'TypeError', 'name'),
    ('{sameSite: "lax"}', 'RangeError', 'sameSite'),
    ('{sameSite: "none"}', 'RangeError', 'sameSite'),
    ('{sameSite: true}', 'TypeError', 'sameSite'),
    ('{secure: "yes"}', 'TypeError', 'secure'),
    ('{secure: 1}', 'TypeError', 'secure'),
    ('{domain: 5}', 'TypeError', 'domain'),
    ('{domain: "a b"}', 'RangeError', 'domain'),
    ('{domain: "x;secure"}', 'RangeError', 'domain'),
    # A good option next to a bad one: neither applies.
    ('{minutes: 5, name: "a b"}', 'RangeError', 'name'),
    ('{name: "ok", sameSite: "lax"}', 'RangeError', 'sameSite'),
    ('{sameSite: "None", secure: "yes"}', 'TypeError', 'secure'),
    ('5', 'TypeError', 'options'),
    ('"minutes"', 'TypeError', 'options'),
    ('[]', 'TypeError', 'options'),
]


def test_configure_rejects_bad_options_and_changes_nothing(page, open_page, bundle):
    open_page(page, '/cfg/index.html', bundle)
    before = page.evaluate("S.configure({minutes: 10, name: 'sid', sameSite: 'Strict'})")
    assert before == {**DEFAULTS, 'minutes': 10, 'name': 'sid', 'sameSite': 'Strict'}
    failures = []
    for options, kind, word in BAD_OPTIONS:
        result = page.evaluate(f"""() => {{
            try {{ S.configure({options}); return null; }}
            catch (e) {{ return [e.constructor.name, e.message]; }}
        }}""")
        after = page.evaluate('S.configure()')
        if result is None or result[0] != kind or word not in result[1] or after != before:
            failures.append((options, result, after))
    assert failures == []
    # An option given as undefined or null keeps its value (secure: null = by protocol).
    assert page.evaluate("S.configure({minutes: undefined, secure: null})") == before
    assert page.evaluate('document.cookie') == ''
    session = page.evaluate('S.getSession()')
    assert session['duration'] == 600000
    cookie, = page.context.cookies()
    assert (cookie['name'], cookie['sameSite']) == ('sid', 'Strict')


def test_configure_reads_each_option_once_and_ignores_symbol_keys(page, open_page, bundle):
    open_page(page, '/cfg/index.html', bundle)
    result = page.evaluate("""() => {
        let reads = 0;   // a getter that turns bad after its first read
        const options = {get name() { reads++; return reads === 1 ? 'sid' : 'a;b'; }, [Symbol('x')]: 1};
        const settings = S.configure(options);
        return {reads, name: settings.name, symbols: Object.getOwnPropertySymbols(settings).length,
                again: S.configure().name};
    }""")
    assert result == {'reads': 1, 'name': 'sid', 'symbols': 0, 'again': 'sid'}
    cookie_name = page.evaluate("S.getSession(); document.cookie.split('=')[0]")
    assert cookie_name == 'sid'


# ------------------------------------------------------ https through routes

def serve_https(context, bundle: str, pattern: str = 'https://*.example.test/**') -> None:
    """Answer every page under `pattern` with the test page, and /dist/ from the repository."""
    def page_route(route):
        route.fulfill(status=200, content_type='text/html; charset=utf-8', body=page_html(bundle))

    def dist_route(route):
        path = urlsplit(route.request.url).path
        target = ROOT / path.lstrip('/')
        if not target.is_file():
            route.fulfill(status=404, body='')
            return
        kind = 'application/json' if path.endswith('.map') else 'text/javascript; charset=utf-8'
        route.fulfill(status=200, content_type=kind, body=target.read_bytes())

    context.route(pattern, page_route)
    context.route('**/dist/**', dist_route)              # registered last: matched first


def visit(context, url: str):
    page = context.new_page()
    page.goto(url)
    page.wait_for_function('window.ready === true')
    return page


def test_configure_defaults_on_https(context, bundle):
    serve_https(context, bundle)
    page = visit(context, 'https://a.example.test/index.html')
    assert page.evaluate('location.protocol') == 'https:'
    assert page.evaluate('S.configure()') == {**DEFAULTS, 'secure': True}
    page.evaluate('S.getSession()')
    cookie, = context.cookies()
    assert (cookie['domain'], cookie['path'], cookie['sameSite'], cookie['secure']) == (
        'a.example.test', '/', 'Lax', True)
    assert page.errors == []


def test_same_site_none_forces_secure(context, bundle):
    serve_https(context, bundle)
    page = visit(context, 'https://a.example.test/index.html')
    assert page.evaluate("S.configure({sameSite: 'None', secure: false})") == {
        **DEFAULTS, 'sameSite': 'None', 'secure': True}
    assert page.evaluate("S.configure({secure: null})")['secure'] is True
    session = page.evaluate('S.getSession()')
    cookie, = context.cookies()
    assert (cookie['sameSite'], cookie['secure']) == ('None', True)
    assert page.evaluate('S.getSession().id') == session['id']


def test_same_site_none_forces_secure_on_http_settings(page, open_page, bundle):
    open_page(page, '/cfg/index.html', bundle)
    assert page.evaluate("S.configure({sameSite: 'None'})")['secure'] is True


def test_secure_false_override_on_https(context, bundle):
    serve_https(context, bundle)
    page = visit(context, 'https://a.example.test/index.html')
    assert page.evaluate('S.configure({secure: false})') == {**DEFAULTS, 'secure': False}
    page.evaluate('S.getSession()')
    cookie, = context.cookies()
    assert cookie['secure'] is False
    assert page.evaluate('S.configure({secure: true}).secure') is True
    page.evaluate('S.setSession()')
    cookie, = context.cookies()
    assert cookie['secure'] is True


def test_domain_shares_session_across_subdomains(context, bundle):
    serve_https(context, bundle)
    a = visit(context, 'https://a.example.test/index.html')
    assert a.evaluate("S.configure({domain: 'example.test'})")['domain'] == 'example.test'
    first = a.evaluate('S.getSession()')
    cookie, = context.cookies()
    assert (cookie['name'], cookie['domain'], cookie['path'], cookie['secure']) == (
        '__session', '.example.test', '/', True)
    b = visit(context, 'https://b.example.test/other/page.html')
    assert b.evaluate("S.configure({domain: 'example.test'})")['domain'] == 'example.test'
    shared = b.evaluate('S.getSession()')
    assert shared['isNew'] is False and shared['id'] == first['id']
    # An extend on b is seen on a.
    b.evaluate('S.extendSession(30, {from: "b"})')
    assert a.evaluate('S.getSession()')['from'] == 'b'
    assert len(context.cookies()) == 1
    assert a.errors == [] and b.errors == []


def test_domain_auto_resolves_to_registrable_domain(context, bundle):
    serve_https(context, bundle)
    a = visit(context, 'https://a.example.test/index.html')
    assert a.evaluate("S.configure({domain: 'auto'})") == {
        **DEFAULTS, 'domain': 'example.test', 'secure': True}
    assert context.cookies() == []                          # the probe cookies are gone
    first = a.evaluate('S.getSession()')
    cookie, = context.cookies()
    assert (cookie['name'], cookie['domain']) == ('__session', '.example.test')
    b = visit(context, 'https://b.example.test/index.html')
    assert b.evaluate("S.configure({domain: 'auto'})")['domain'] == 'example.test'
    assert b.evaluate('S.getSession()')['id'] == first['id']
    deep = visit(context, 'https://x.y.b.example.test/index.html')
    assert deep.evaluate("S.configure({domain: 'auto'})")['domain'] == 'example.test'
    assert deep.evaluate('S.getSession()')['id'] == first['id']


@pytest.mark.parametrize('host, expected', [
    ('www.example.co.uk', 'example.co.uk'),                 # never the public suffix co.uk
    ('someone.github.io', 'someone.github.io'),             # github.io is a (private) public suffix
    ('deep.sub.example.com', 'example.com'),
])
def test_domain_auto_never_picks_a_public_suffix(context, host, expected):
    serve_https(context, 'classic', f'https://{host}/**')
    page = visit(context, f'https://{host}/index.html')
    assert page.evaluate("S.configure({domain: 'auto'})")['domain'] == expected
    page.evaluate('S.getSession()')
    cookie, = context.cookies()
    assert cookie['domain'] == '.' + expected


def test_domain_auto_on_an_ip_address_is_host_only(page, open_page, bundle):
    open_page(page, '/cfg/index.html', bundle)
    domain = page.evaluate("S.configure({domain: 'auto'})")['domain']
    assert domain in ('', '127.0.0.1')
    page.evaluate('S.getSession()')
    cookie, = page.context.cookies()
    assert cookie['domain'] == '127.0.0.1'                   # host-only either way


def test_without_domain_subdomains_have_separate_sessions(context, bundle):
    serve_https(context, bundle)
    a = visit(context, 'https://a.example.test/index.html')
    first = a.evaluate('S.getSession()')
    b = visit(context, 'https://b.example.test/index.html')
    other = b.evaluate('S.getSession()')
    assert other['isNew'] is True and other['id'] != first['id']
    assert sorted(c['domain'] for c in context.cookies()) == ['a.example.test', 'b.example.test']


def test_remove_session_removes_the_domain_cookie(context, bundle):
    serve_https(context, bundle)
    a = visit(context, 'https://a.example.test/app/index.html')
    a.evaluate("S.configure({domain: 'example.test'})")
    first = a.evaluate('S.getSession()')
    assert [c['domain'] for c in context.cookies()] == ['.example.test']
    b = visit(context, 'https://b.example.test/index.html')
    b.evaluate("S.configure({domain: 'example.test'})")
    assert b.evaluate('S.getSession()')['id'] == first['id']
    b.evaluate('S.removeSession()')                          # from the other subdomain
    assert context.cookies() == []
    assert a.evaluate('document.cookie') == ''
    fresh = a.evaluate('S.getSession()')
    assert fresh['isNew'] is True and fresh['id'] != first['id']
    a.evaluate('S.removeSession()')
    assert context.cookies() == []

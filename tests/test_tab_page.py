"""Tab sessions (issue 3; duplicated tabs: issue 5 point 2) and page sessions
(issue 3; single-page-app navigation: issue 5 point 3), in real Chromium pages.

Tab session:  {id, created, createdAt, elapsed, isNew}, one sessionStorage key,
              kept across reloads and same-tab navigation (and bfcache restores),
              new in a new tab and in a duplicated tab (window.open copies
              sessionStorage in Chromium), memory fallback.
Page session: same shape, memory only, new per page load and whenever
              location.pathname + location.search changes; hash changes don't count.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

UUID4 = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
SHAPE = {'id', 'created', 'createdAt', 'elapsed', 'isNew'}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.') + f'{ms % 1000:03d}Z'


def check_shape(session: dict, is_new: bool) -> None:
    """Exactly the fields of a tab/page session, with values of the right kind."""
    assert set(session) == SHAPE, session
    assert UUID4.match(session['id']), session['id']
    assert isinstance(session['created'], int)
    assert session['createdAt'] == iso(session['created'])
    assert isinstance(session['elapsed'], int) and session['elapsed'] >= 0
    assert session['isNew'] is is_new


check_exact = check_shape


def reload(page) -> None:
    page.reload()
    page.wait_for_function('window.ready === true')


def open_popup(page, context, url: str):
    """window.open(url) from `page` (same origin, with opener: Chromium copies sessionStorage)."""
    with context.expect_page() as info:
        page.evaluate('url => { window.open(url); }', url)
    popup = info.value
    popup.wait_for_function('window.ready === true')
    return popup


def stored_tab(page):
    return page.evaluate("JSON.parse(sessionStorage.getItem('__session_tab'))")


# ----------------------------------------------------------------- tab session

def test_tab_session_shape_and_stable_id(page, open_page, bundle):
    open_page(page, '/tab/index.html', bundle)
    first = page.evaluate('S.getTabSession()')
    check_shape(first, True)
    second = page.evaluate('S.getTabSession()')
    check_shape(second, False)
    assert second['id'] == first['id']
    assert second['created'] == first['created']
    assert page.errors == []


def test_tab_session_stored_under_one_sessionstorage_key(page, open_page, bundle):
    open_page(page, '/tab/index.html', bundle)
    assert page.evaluate('Object.keys(sessionStorage)') == []     # loading stores nothing
    session = page.evaluate('S.getTabSession()')
    assert page.evaluate('Object.keys(sessionStorage)') == ['__session_tab']
    record = stored_tab(page)
    assert record['id'] == session['id']
    assert record['created'] == session['created']
    assert page.evaluate('localStorage.length') == 0


def test_tab_session_survives_reload(page, open_page, bundle):
    open_page(page, '/tab/index.html', bundle)
    first = page.evaluate('S.getTabSession()')
    reload(page)
    again = page.evaluate('S.getTabSession()')
    check_shape(again, False)
    assert again['id'] == first['id']
    assert again['created'] == first['created']
    reload(page)
    assert page.evaluate('S.getTabSession()')['id'] == first['id']


def test_new_tab_gets_new_tab_session(context, open_page, bundle):
    one = open_page(context.new_page(), '/tab/index.html', bundle)
    first = one.evaluate('S.getTabSession()')
    two = open_page(context.new_page(), '/tab/index.html', bundle)
    other = two.evaluate('S.getTabSession()')
    check_shape(other, True)
    assert other['id'] != first['id']
    assert one.evaluate('S.getTabSession()')['id'] == first['id']


def test_set_tab_session_starts_new_one(page, open_page, bundle):
    open_page(page, '/tab/index.html', bundle)
    first = page.evaluate('S.getTabSession()')
    fresh = page.evaluate('S.setTabSession()')
    check_shape(fresh, True)
    assert fresh['id'] != first['id']
    later = page.evaluate('S.getTabSession()')
    check_shape(later, False)
    assert later['id'] == fresh['id']
    assert stored_tab(page)['id'] == fresh['id']
    reload(page)
    assert page.evaluate('S.getTabSession()')['id'] == fresh['id']


def test_tab_session_ignores_arguments(page, open_page, bundle):
    """0.2.4's getTabSession(true) silently reset the tab session."""
    open_page(page, '/tab/index.html', bundle)
    first = page.evaluate('S.getTabSession(5, true)')
    check_shape(first, True)
    for call in ('S.getTabSession(5, true)', 'S.getTabSession(true)', 'S.getTabSession()'):
        again = page.evaluate(call)
        check_shape(again, False)
        assert again['id'] == first['id'], call




def test_is_new_is_false_after_reload_and_navigation(page, open_page, bundle):
    open_page(page, '/tab/index.html', bundle)
    check_exact(page.evaluate('S.getTabSession()'), True)
    check_exact(page.evaluate('S.getTabSession()'), False)
    reload(page)
    check_exact(page.evaluate('S.getTabSession()'), False)
    open_page(page, '/other/b.html', bundle)
    check_exact(page.evaluate('S.getTabSession()'), False)


THROWING_SESSION_STORAGE = """
Object.defineProperty(window, 'sessionStorage', {
  configurable: true,
  get() { throw new DOMException('sessionStorage is disabled', 'SecurityError'); },
});
"""


def test_tab_session_memory_fallback_when_session_storage_throws(page, open_page, bundle):
    page.add_init_script(THROWING_SESSION_STORAGE)
    open_page(page, '/tab/index.html', bundle)
    assert page.evaluate('(() => { try { sessionStorage; return false } catch (e) { return true } })()')
    first = page.evaluate('S.getTabSession()')
    check_shape(first, True)
    second = page.evaluate('S.getTabSession()')
    check_shape(second, False)
    assert second['id'] == first['id']
    fresh = page.evaluate('S.setTabSession()')
    check_shape(fresh, True)
    assert fresh['id'] != first['id']
    assert page.evaluate('S.getTabSession()')['id'] == fresh['id']
    assert page.errors == []


# ------------------------------------------------------------- duplicated tabs

def test_window_open_duplicate_gets_new_tab_session(context, server, open_page, bundle):
    original = open_page(context.new_page(), '/tab/a.html', bundle)
    first = original.evaluate('S.getTabSession()')
    popup = open_popup(original, context, f'{server}/tab/b.html?bundle={bundle}')
    # Chromium copied the opener's sessionStorage: the popup starts with our record.
    assert stored_tab(popup)['id'] == first['id']
    duplicate = popup.evaluate('S.getTabSession()')
    check_shape(duplicate, True)
    assert duplicate['id'] != first['id']
    assert popup.evaluate('S.getTabSession()')['id'] == duplicate['id']
    # The original keeps its id, now and after a reload.
    kept = original.evaluate('S.getTabSession()')
    check_shape(kept, False)
    assert kept['id'] == first['id']
    reload(original)
    kept = original.evaluate('S.getTabSession()')
    check_shape(kept, False)
    assert kept['id'] == first['id']
    # The duplicate keeps its own id across a reload.
    reload(popup)
    again = popup.evaluate('S.getTabSession()')
    check_shape(again, False)
    assert again['id'] == duplicate['id']
    assert original.errors == [] and popup.errors == []


def test_duplicate_after_reload_still_gets_new_id(context, server, open_page, bundle):
    """The reloaded page must mark the record as its own again."""
    original = open_page(context.new_page(), '/tab/a.html', bundle)
    first = original.evaluate('S.getTabSession()')
    reload(original)
    assert original.evaluate('S.getTabSession()')['id'] == first['id']
    popup = open_popup(original, context, f'{server}/tab/b.html?bundle={bundle}')
    duplicate = popup.evaluate('S.getTabSession()')
    check_shape(duplicate, True)
    assert duplicate['id'] != first['id']


def test_same_tab_navigation_keeps_tab_session(page, open_page, bundle):
    open_page(page, '/tab/a.html', bundle)
    first = page.evaluate('S.getTabSession()')
    open_page(page, '/other/dir/b.html', bundle)
    kept = page.evaluate('S.getTabSession()')
    check_shape(kept, False)
    assert kept['id'] == first['id']
    open_page(page, '/tab/a.html', bundle)     # a plain (non-bfcache) history navigation
    assert page.evaluate('S.getTabSession()')['id'] == first['id']


RECORD_PAGESHOW = ("window.__pageshows = [];"
                   "addEventListener('pageshow', e => window.__pageshows.push(e.persisted));")


def test_bfcache_restore_keeps_id_and_remarks_tab(launch_browser, server, bundle):
    browser = launch_browser(ignore_default_args=['--disable-back-forward-cache'])
    context = browser.new_context()
    try:
        context.add_init_script(RECORD_PAGESHOW)
        page = context.new_page()
        page.goto(f'{server}/bf/a.html?bundle={bundle}')
        page.wait_for_function('window.ready === true')
        page.evaluate('window.__marker = 1')
        first = page.evaluate('S.getTabSession()')
        # The library in use (a persisted session, a change listener and its
        # BroadcastChannel) must not keep the page out of the bfcache.
        page.evaluate('S.getSession(); window.off = S.onSessionChange(() => {}); 0')
        page.goto(f'{server}/bf/b.html?bundle={bundle}')
        page.wait_for_function('window.ready === true')
        assert page.evaluate('S.getTabSession()')['id'] == first['id']
        page.go_back(wait_until='commit')   # a bfcache restore fires no load event
        page.wait_for_function('window.__pageshows.length === 2')
        # A restore from the bfcache, not a fresh load of page A.
        assert page.evaluate('window.__pageshows') == [False, True]
        assert page.evaluate('window.__marker') == 1
        kept = page.evaluate('S.getTabSession()')
        check_shape(kept, False)
        assert kept['id'] == first['id']
        # Page B's pagehide ran after A came back; A must own the record again,
        # so a duplicate made now still starts its own tab session.
        popup = open_popup(page, context, f'{server}/bf/c.html?bundle={bundle}')
        duplicate = popup.evaluate('S.getTabSession()')
        check_shape(duplicate, True)
        assert duplicate['id'] != first['id']
        assert page.evaluate('S.getTabSession()')['id'] == first['id']
    finally:
        context.close()


def test_bfcache_restore_adopts_a_tab_session_reset_meanwhile(launch_browser, server, bundle):
    """Page B of the same tab resets the tab session; page A, restored, must not bring back its old id."""
    browser = launch_browser(ignore_default_args=['--disable-back-forward-cache'])
    context = browser.new_context()
    try:
        context.add_init_script(RECORD_PAGESHOW)
        page = context.new_page()
        page.goto(f'{server}/bf/a.html?bundle={bundle}')
        page.wait_for_function('window.ready === true')
        first = page.evaluate('S.getTabSession()')
        page.goto(f'{server}/bf/b.html?bundle={bundle}')
        page.wait_for_function('window.ready === true')
        reset = page.evaluate('S.setTabSession()')
        assert reset['id'] != first['id']
        page.go_back(wait_until='commit')
        page.wait_for_function('window.__pageshows.length === 2')
        assert page.evaluate('window.__pageshows') == [False, True]     # really restored
        back = page.evaluate('S.getTabSession()')
        check_shape(back, False)
        assert back['id'] == reset['id']
        assert stored_tab(page)['id'] == reset['id']
        page.reload()
        page.wait_for_function('window.ready === true')
        assert page.evaluate('S.getTabSession().id') == reset['id']
    finally:
        context.close()


def add_frame(page, url: str):
    page.evaluate("""url => new Promise(resolve => {
        const frame = document.createElement('iframe');
        frame.onload = resolve;
        frame.src = url;
        document.body.append(frame);
    })""", url)
    frame = page.frame(url=lambda u: u.startswith(url))
    frame.wait_for_function('window.ready === true')
    return frame


def test_same_origin_iframe_shares_tab_session(context, server, open_page, bundle):
    top = open_page(context.new_page(), '/tab/top.html', bundle)
    first = top.evaluate('S.getTabSession()')
    frame = add_frame(top, f'{server}/tab/frame.html?bundle={bundle}')
    inner = frame.evaluate('S.getTabSession()')
    check_shape(inner, False)
    assert inner['id'] == first['id']
    assert frame.evaluate('S.getTabSession()')['id'] == first['id']
    assert top.evaluate('S.getTabSession()')['id'] == first['id']
    # The frame did not make the top page look like a duplicate of itself.
    reload(top)
    kept = top.evaluate('S.getTabSession()')
    check_shape(kept, False)
    assert kept['id'] == first['id']
    # And the frame of the reloaded page shares it too.
    frame = add_frame(top, f'{server}/tab/frame2.html?bundle={bundle}')
    inner = frame.evaluate('S.getTabSession()')
    check_shape(inner, False)
    assert inner['id'] == first['id']
    # A duplicate of a page with a frame still gets its own id.
    popup = open_popup(top, context, f'{server}/tab/dup.html?bundle={bundle}')
    duplicate = popup.evaluate('S.getTabSession()')
    check_shape(duplicate, True)
    assert duplicate['id'] != first['id']
    assert top.errors == []


def test_iframe_first_then_top_share_tab_session(context, server, open_page, bundle):
    top = open_page(context.new_page(), '/tab/top.html', bundle)
    frame = add_frame(top, f'{server}/tab/frame.html?bundle={bundle}')
    inner = frame.evaluate('S.getTabSession()')
    check_shape(inner, True)
    outer = top.evaluate('S.getTabSession()')
    check_shape(outer, False)
    assert outer['id'] == inner['id']
    reload(top)
    assert top.evaluate('S.getTabSession()')['id'] == inner['id']


def test_is_new_is_false_when_frame_created_the_tab_session(context, server, open_page, bundle):
    top = open_page(context.new_page(), '/tab/top.html', bundle)
    frame = add_frame(top, f'{server}/tab/frame.html?bundle={bundle}')
    check_exact(frame.evaluate('S.getTabSession()'), True)
    check_exact(top.evaluate('S.getTabSession()'), False)


# ---------------------------------------------------------------- page session

def test_page_session_shape_same_within_page_new_per_load(page, open_page, bundle):
    open_page(page, '/pg/index.html', bundle)
    first = page.evaluate('S.getPageSession()')
    check_shape(first, True)
    again = page.evaluate('S.getPageSession()')
    check_shape(again, False)
    assert again['id'] == first['id']
    assert page.evaluate('Object.keys(sessionStorage).length + localStorage.length') == 0
    reload(page)
    fresh = page.evaluate('S.getPageSession(5, true)')
    check_shape(fresh, True)
    assert fresh['id'] != first['id']
    # The tab session is a different id from the page session.
    assert page.evaluate('S.getTabSession().id') != fresh['id']


def test_page_session_push_state_starts_new(page, open_page, bundle):
    open_page(page, '/pg/index.html', bundle)
    first = page.evaluate('S.getPageSession()')
    page.evaluate("history.pushState({}, '', '/other')")
    assert page.evaluate('location.pathname') == '/other'
    moved = page.evaluate('S.getPageSession()')
    check_shape(moved, True)
    assert moved['id'] != first['id']
    again = page.evaluate('S.getPageSession()')
    check_shape(again, False)
    assert again['id'] == moved['id']
    # pushState to the same address is not a navigation.
    page.evaluate("history.pushState({n: 2}, '', '/other')")
    assert page.evaluate('S.getPageSession()')['id'] == moved['id']


def test_page_session_replace_state_with_new_search_starts_new(page, open_page, bundle):
    open_page(page, '/pg/index.html', bundle)
    first = page.evaluate('S.getPageSession()')
    page.evaluate("history.replaceState({}, '', location.pathname + location.search + '&q=1')")
    replaced = page.evaluate('S.getPageSession()')
    check_shape(replaced, True)
    assert replaced['id'] != first['id']
    assert page.evaluate('S.getPageSession()')['id'] == replaced['id']


def test_page_session_back_and_forward_start_new(page, open_page, bundle):
    open_page(page, '/pg/index.html', bundle)
    page.evaluate("history.pushState({}, '', '/other')")
    on_other = page.evaluate('S.getPageSession()')
    travel = """direction => new Promise(resolve => {
        addEventListener('popstate', () => resolve(location.pathname), {once: true});
        history[direction]();
    })"""
    assert page.evaluate(travel, 'back') == '/pg/index.html'
    back = page.evaluate('S.getPageSession()')
    check_shape(back, True)
    assert back['id'] != on_other['id']
    assert page.evaluate('S.getPageSession()')['id'] == back['id']
    assert page.evaluate(travel, 'forward') == '/other'
    forward = page.evaluate('S.getPageSession()')
    check_shape(forward, True)
    assert forward['id'] not in (back['id'], on_other['id'])


def test_page_session_hash_change_keeps_id(page, open_page, bundle):
    open_page(page, '/pg/index.html', bundle)
    first = page.evaluate('S.getPageSession()')
    page.evaluate("location.hash = '#x'")
    assert page.evaluate('location.hash') == '#x'
    kept = page.evaluate('S.getPageSession()')
    check_shape(kept, False)
    assert kept['id'] == first['id']
    page.evaluate("history.pushState({}, '', '#y')")
    assert page.evaluate('S.getPageSession()')['id'] == first['id']


def test_set_page_session_starts_new(page, open_page, bundle):
    open_page(page, '/pg/index.html', bundle)
    first = page.evaluate('S.getPageSession()')
    fresh = page.evaluate('S.setPageSession()')
    check_shape(fresh, True)
    assert fresh['id'] != first['id']
    later = page.evaluate('S.getPageSession()')
    check_shape(later, False)
    assert later['id'] == fresh['id']
    assert page.errors == []

"""session-utils: which visit is this page in?

Three nested sessions:
  persisted  shared by every tab of a site, kept in a first-party cookie
             (falling back to localStorage, then memory) for 30 minutes;
  tab        one per browser tab, surviving reloads (sessionStorage);
  page       one per page view, following single-page-app navigation (memory).

This file is transpiled by Transcrypt 3.9.5 into plain JavaScript, and the build
drops Transcrypt's runtime. It is written in the subset of Python that compiles
to JavaScript without that runtime (see scripts/build.py, whose guards fail on
anything else): no dict literals outside `jsiter`, no len/in/str/int, no
f-strings, slicing, comprehensions, classes or keyword-argument calls.

Read it with JavaScript semantics in mind:
  - a caller may omit any argument: it arrives as `undefined`, which `== None`
    (compiled to `== null`) matches as well as null;
  - `==` is JavaScript's loose equality; `and` / `or` return an operand;
  - names such as Date, JSON, document, location, crypto are the browser's;
  - `__new__(X(...))` is `new X(...)`, `__typeof__(x)` is `typeof x`.
"""
# Keep these JavaScript names as they are: Transcrypt would otherwise rename
# them to its runtime's Python-flavoured versions (py_keys, py_split...).
__pragma__('noalias', 'keys')
__pragma__('noalias', 'name')
__pragma__('noalias', 'split')
__pragma__('noalias', 'replace')
__pragma__('noalias', 'pop')
__pragma__('noalias', 'TypeError')

# The public API: the build exports exactly these names, in this order.
__all__ = [
    'getSession', 'setSession', 'extendSession', 'removeSession', 'sessionData',
    'getTabSession', 'setTabSession', 'getPageSession', 'setPageSession',
    'onSessionChange', 'configure',
]

MINUTE = 60000
MAX_MINUTES = 576000          # 400 days: browsers cap a cookie's lifetime there
MAX_COOKIE = 4096             # bytes of name=value a browser keeps per cookie
UUID = '^[\\da-f]{8}-[\\da-f]{4}-4[\\da-f]{3}-[89ab][\\da-f]{3}-[\\da-f]{12}$'   # lowercase v4
parse_json = JSON.parse       # taken once: a page that breaks JSON.parse later loses nothing
CLOCK_SKEW = MINUTE           # how far a stored expiry may exceed its duration
TAB_KEY = '__session_tab'     # sessionStorage key of the tab session
TIMES = 'created|expires|modified'   # the stored times, each with its ISO string (+ 'At')
# Never taken from `extra`: the session's own fields (id, created, createdAt,
# expires, expiresAt, modified, modifiedAt, duration, elapsed, remaining,
# isExpired, isNew) and the keys that could reach or shadow a prototype.
RESERVED = '^(id|(' + TIMES + ')(At)?|duration|elapsed|remaining|isExpired|isNew|__proto__|constructor|prototype)$'


# ------------------------------------------------------------- settings

__pragma__('jsiter')
settings = {'minutes': 30, 'name': '__session', 'domain': '', 'sameSite': 'Lax', 'secure': None}
OPTION_PATTERNS = {
    'name': '^[\\w.-]+$',                  # letters, digits, _ . and -: safe in any browser
    'domain': '^[\\w.-]*$',                # a host name, 'auto', or '' for host-only
    'sameSite': '^(Lax|Strict|None)$',
}
__pragma__('nojsiter')


def configure(options: 'ConfigureOptions | null | undefined') -> 'SessionSettings':
    """Set defaults for later calls; return the effective settings.

    Every option is checked before any is applied, so a bad one changes nothing.
    Each is read once (a getter cannot slip a value past the check), and only
    string keys are read: symbol keys are not options.
    """
    global settings, parsed_from
    if options != None:
        check_type(options, 'plain object', 'options')
        wanted = Object.assign(blank(), settings)
        for key in Object.keys(options):
            wanted[key] = check_option(key, options[key])
        if wanted.domain == 'auto':
            wanted.domain = auto_domain()     # resolved once, here: settings never hold 'auto'
        settings = wanted
        parsed_from = None    # the cookie name may have changed: parse afresh
    __pragma__('jsiter')
    return Object.assign(blank(), settings, {'secure': is_secure()})
    __pragma__('nojsiter')


def check_option(key, value):
    if not settings.hasOwnProperty(key):
        fail(TypeError, key + ': unknown option')
    if key == 'minutes':
        return check_minutes(value)      # None: keep the current default
    if key == 'secure':
        value == None or check_type(value, 'boolean', key)     # None: decide by the page's protocol
    else:
        check_type(value, 'string', key)
        matches(OPTION_PATTERNS[key], value) or fail(RangeError, key + ': bad value')
    return value


def auto_domain():
    """'auto': the highest parent domain that accepts a cookie, as GA does.

    Browsers refuse a cookie for a public suffix (com, co.uk, github.io) and a
    domain that is not the page's own (a partial IP address), so trying from
    the top down stops at the registrable domain. Pages without cookies, and
    hosts where nothing is accepted, get a host-only cookie ('').
    """
    labels = attempt(lambda: location.hostname, '').split('.')
    domain = labels.pop()
    while labels.length:
        domain = labels.pop() + '.' + domain
        # The probe needs no path: written and expired at the page's default path.
        probe = '__session_probe=' + domain
        write_cookie(probe + ';domain=' + domain)
        if matches(probe, read_cookies()):      # its dots match any character: only a probe could match
            write_cookie(probe + ';max-age=0;domain=' + domain)
            return domain
    return ''


def is_secure():
    """Secure when SameSite=None demands it, when asked, or on an https page."""
    # Always a boolean: settings.secure is true, false or None (by protocol).
    return (settings.sameSite == 'None' or settings.secure
            or settings.secure == None and attempt(lambda: location.protocol == 'https:', False))


# ------------------------------------------------------------ arguments

def fail(error_type, message):
    raise __new__(error_type(message))


def attempt(action, fallback):
    """action(), or `fallback` where it throws (undefined when not given).

    Storage and cookies throw in sandboxed frames and when blocked; in Node
    there is no window or document at all (a ReferenceError). A bare `except`
    is a plain JavaScript catch: it also catches the browser's own errors.
    """
    try:
        return action()
    except:
        return fallback


def check_type(value, expected, argument):
    """A TypeError naming the argument unless typeof value is `expected`.

    'plain object' stands for what {…} makes: not null, an array, a Date...
    """
    if (('plain object' if Object.prototype.toString.call(value) == '[object Object]' else __typeof__(value))
            != expected):
        fail(TypeError, argument + ': not a ' + expected)


def check_minutes(minutes):
    """`minutes` or the configured default; a TypeError/RangeError naming it."""
    if minutes == None:
        return settings.minutes
    check_type(minutes, 'number', 'minutes')
    if not (minutes > 0 and minutes <= MAX_MINUTES):   # NaN fails both tests
        fail(RangeError, 'minutes: bad value')
    return minutes


# --------------------------------------------------------------- records

def matches(pattern, text):
    return RegExp(pattern).test(text)      # RegExp() without `new` is the same in JavaScript


def current_href():
    return attempt(lambda: location.href, '')      # '' in Node (no location)


def now():
    return Date.now()


def blank():
    __pragma__('jsiter')
    return {}
    __pragma__('nojsiter')


def uuid():
    """A lowercase RFC 4122 version-4 UUID from the best randomness there is."""
    # No crypto, or an http page (randomUUID needs a secure context): build one.
    return (attempt(lambda: crypto.randomUUID())
            or '10000000-1000-4000-8000-100000000000'.replace(__new__(RegExp('[018]', 'g')), random_hex))


def random_hex(digit):
    """A random hex digit for a template digit of uuid().

    '0' and '1' become any hex digit, '8' one of 8, 9, a, b (the RFC's variant
    bits). `digit` is a one-character string: JavaScript's ^ and / convert it.
    """
    byte = attempt(lambda: crypto.getRandomValues(__new__(Uint8Array(1)))[0], Math.random() * 256)
    # digit ^ (byte & mask): the mask 15 >> digit / 4 is 15 for '0' and '1', 3 for '8'.
    return (digit ^ byte & 15 >> digit / 4).toString(16)


def sessionData() -> 'SessionData':
    """A fresh {id, created, createdAt}. Stores nothing."""
    __pragma__('jsiter')
    return stamp({'id': uuid(), 'created': now()})
    __pragma__('nojsiter')


def is_number(value):
    return value is +value       # false for NaN and for anything not a number


def parse(text, tab):
    """A stored record from its text, or None when it is not a well-formed one.

    Never throws: broken encodings and JSON, wrong types, times a Date cannot
    hold, and a session too large to be extended all count as no session.
    A persisted record (`tab` omitted) is checked more strictly than a tab's.
    """
    return attempt(lambda: checked(parse_json(decodeURIComponent(text)), not tab and text))


def fits(text, record):
    """Whether a record encoded as `text`, and any extend of it, fits the cookie.

    An extend may add `,"modified":…,"modifiedAt":"…"` encoded (89 bytes) when
    the record has no `modified` yet, and 10 more digits of duration (durations
    are whole milliseconds). Add the `=` after the name: 11 or 100 bytes.
    """
    return (settings.name + text).length + (11 if record.modified else 100) <= MAX_COOKIE


def stamp(record):
    """Set the ISO string of each time the record has, from its number.

    The one place `createdAt`, `expiresAt` and `modifiedAt` are made, so a
    stored string is never trusted. Throws for a time a Date cannot hold.
    """
    for key in TIMES.split('|'):
        if record[key] != None:
            record[key + 'At'] = __new__(Date(record[key])).toISOString()
    return record


def checked(record, persisted_text):
    """The record with its ISO strings rebuilt from its numbers, or None.

    Every record needs a v4 id and a creation time. A persisted one, encoded as
    `persisted_text` in the cookie or localStorage (false for a tab record),
    also needs an expiry, a duration in (0, 400 days], a number for `modified`
    if it has one, and room to be extended. That is what both session-utils
    and @analytics/session-utils 0.2.4 write.
    """
    if (matches(UUID, record.id) and is_number(record.created) and (not persisted_text or (
            is_number(record.expires) and is_number(record.duration) and 0 < record.duration <= MAX_MINUTES * MINUTE
            and (record.modified == None or is_number(record.modified)) and fits(persisted_text, record)))):
        del record['__proto__']      # an own key from JSON: harmless, but never copied on
        return stamp(record)


def short_view(record, is_new):
    """The tab and page sessions handed to callers: only these five fields, in a new object."""
    __pragma__('jsiter')
    return {'id': record.id, 'created': record.created, 'createdAt': record.createdAt,
            'elapsed': elapsed(record), 'isNew': is_new}
    __pragma__('nojsiter')


def elapsed(record):
    return Math.max(now() - record.created, 0)


def view(record, is_new, persisted_only):
    """The object handed to callers: a copy, with the computed fields unless `persisted_only`."""
    remaining = Math.max(record.expires - now(), 0)
    __pragma__('jsiter')
    return Object.assign(blank(), record, None if persisted_only else {
        'elapsed': elapsed(record), 'remaining': remaining, 'isExpired': not remaining, 'isNew': is_new})
    __pragma__('nojsiter')


# --------------------------------------------------------------- storage

def storage_get(kind, key):
    return attempt(lambda: window[kind].getItem(key))


def storage_set(kind, key, value):
    """Store a value (None removes it); return whether it worked."""
    return attempt(lambda: (window[kind].setItem(key, value) if value else window[kind].removeItem(key)) or True,
                   False)


def sticks(cookie, text):
    """Write the cookie; whether it reads back first among ours.

    Only a write that must be checked reads back: in Chromium a read just after
    a write waits for the write (about 0.4 ms), so expiries do not read.
    """
    write_cookie(cookie)
    return cookie_values(read_cookies())[0] == text


def cookie_values(cookies):
    """Values of every cookie with our name, in the browser's order: longest path first.

    Pairs are separated by '; ' and a value never holds ';', so each piece
    after a '; name=' starts with one of our values.
    """
    return ('; ' + cookies).split('; ' + settings.name + '=').slice(1).map(lambda piece: piece.split(';')[0])


def write_cookie(text):
    """document.cookie = text, where that does not throw."""
    try:
        document.cookie = text
    except:
        pass


def read_cookies():
    return attempt(lambda: document.cookie, '')


def domain_attribute():
    return ';domain=' + settings.domain if settings.domain else ''


def expire_cookies():
    """Expire every copy of the cookie this page can see.

    Ours sits at path=/ (with the configured domain). @analytics/session-utils
    0.2.4 wrote its cookie without a path, so it sits at the page's directory
    (and any of its parents): expire host-only copies at each of them too.
    """
    gone = settings.name + '=;max-age=0;path='
    write_cookie(gone + '/' + domain_attribute())
    path = attempt(lambda: location.pathname, '')     # /app/sub/page -> /app/sub, /app, then /
    while path:
        path = path.slice(0, path.lastIndexOf('/'))
        write_cookie(gone + (path or '/'))


parsed_from = None            # the document.cookie string last parsed...
parsed_record = None          # ...and the first well-formed record found in it
memory = None                 # the last resort store (a record), when no storage works


def load():
    """The current persisted record, or a falsy value when there is no live session.

    Parsing is skipped while document.cookie is unchanged, yet a change made by
    another tab is seen on the very next call.
    """
    global parsed_from, parsed_record
    cookies = read_cookies()
    if cookies != parsed_from:
        parsed_from = cookies
        parsed_record = None
        for text in cookie_values(cookies):
            parsed_record = parsed_record or parse(text)
    record = parsed_record or parse(storage_get('localStorage', settings.name)) or memory
    # Unexpired, and not further in the future than its duration allows: a
    # clock set back would otherwise keep a session alive for as long as the
    # clock went back, so such a session counts as over.
    left = record and record.expires - now()
    return 0 < left <= record.duration + CLOCK_SKEW and record


def save(record):
    """Store the record: in the cookie if it sticks, else localStorage, else memory."""
    global memory
    text = encodeURIComponent(JSON.stringify(record))
    if not fits(text, record):
        fail(RangeError, 'extra: too large')
    # Max-Age: the record was just given its expiry, so this is its duration.
    cookie = (settings.name + '=' + text + ';path=/' + domain_attribute()
              + ';max-age=' + Math.ceil(record.duration / 1000)
              + ';samesite=' + settings.sameSite + (';secure' if is_secure() else ''))
    # sticks() is false for a refused cookie, and for one shadowed by a 0.2.4
    # copy at this page's directory (the browser lists longer paths first).
    # Then expire every copy (expire_cookies() returns None, so the chain goes
    # on) and write ours again; if it still does not stick, use localStorage.
    if not (sticks(cookie, text) or expire_cookies() or sticks(cookie, text)
            or storage_set('localStorage', settings.name, text)):
        memory = record


# ------------------------------------------------------ persisted session

def check_extra(extra):
    """`extra`, unless it is neither None nor a plain object (a TypeError)."""
    if extra != None:
        check_type(extra, 'plain object', 'extra')
    return extra


def add_extra(record, extra):
    """Copy the caller's own keys into the record; return how many were taken."""
    taken = 0
    if extra:
        for key in Object.keys(extra):
            if not matches(RESERVED, key):
                record[key] = extra[key]
                taken += 1
    return taken


def getSession(minutes: 'number | null | undefined', persistedOnly: 'boolean | undefined') -> 'Session | PersistedSession':
    """The live session, or a new one lasting `minutes` when there is none."""
    minutes = check_minutes(minutes)
    record = load()
    if record:
        return view(record, False, persistedOnly)
    return start(minutes, persistedOnly)


def setSession(minutes: 'number | null | undefined', extra: 'SessionExtra | null | undefined') -> 'Session':
    """Start a new session (a new id), whatever there was."""
    return start(check_minutes(minutes), False, check_extra(extra))


def extendSession(minutes: 'number | null | undefined', extra: 'SessionExtra | null | undefined') -> 'Session':
    """Push the expiry to now + minutes, keeping id, created and earlier extras.

    Repeated calls are coalesced: the cookie is rewritten only when the expiry
    would move by more than 1% of the duration (18 s for 30 minutes) or when
    `extra` brings fields, so a scroll handler can call this freely.
    """
    minutes = check_minutes(minutes)
    check_extra(extra)
    stored = load()
    if not stored:
        return start(minutes, False, extra)
    record = Object.assign(blank(), stored)
    time = now()
    duration = Math.ceil(minutes * MINUTE)
    # Compared before anything is built: a coalesced call costs only this.
    if add_extra(record, extra) or Math.abs(time + duration - stored.expires) > duration / 100:
        record.modified = time
        save(set_expiry(record, time, minutes))
        return announce(view(record, False), 'extend')
    return view(record, False)      # nothing was added to the copy


def removeSession() -> 'void':
    """Delete the session everywhere it may be; the next getSession() starts anew."""
    global memory
    had_session = load()
    expire_cookies()
    storage_set('localStorage', settings.name)     # no value: removes it
    memory = None
    if had_session:
        announce(None, 'remove')


def set_expiry(record, time, minutes):
    """Expire `minutes` after `time`; durations are whole milliseconds (rounded up, never 0)."""
    record.duration = Math.ceil(minutes * MINUTE)
    record.expires = time + record.duration
    return stamp(record)


def start(minutes, persisted_only, extra):
    record = sessionData()
    add_extra(record, extra)
    save(set_expiry(record, record.created, minutes))
    announce(view(record, True), 'start')
    return view(record, True, persisted_only)


# ---------------------------------------------------------- change events

events = None                 # this page's event hub, made on first use


def onSessionChange(callback: 'SessionChangeCallback') -> 'Unsubscribe':
    """Call `callback(session, reason, remote)` on every change; return unsubscribe().

    Listeners run through a native EventTarget: each is called synchronously,
    an exception in one is reported by the browser without stopping the others
    or the call that made the change, and a removed listener is never called.
    """
    check_type(callback, 'function', 'callback')
    listener = lambda message: message.data[0] == settings.name and callback(*message.data.slice(1))
    open_events().addEventListener('message', listener)
    return lambda: events.removeEventListener('message', listener)


def open_events():
    """The page's event hub: a BroadcastChannel, or a plain EventTarget.

    A BroadcastChannel is an EventTarget too: postMessage() reaches the other
    tabs of the origin (never this one), and dispatchEvent() of a message event
    reaches this page's listeners only, so one object and one listener carry
    both. In Node (no document: a ReferenceError) or without BroadcastChannel,
    an EventTarget gives local events only and keeps no process alive.
    """
    global events
    events = events or attempt(lambda: document and __new__(BroadcastChannel('__session'))) or __new__(EventTarget())
    return events


def announce(session, reason):
    """Tell this page's listeners, then the other tabs, of a change made here.

    Each message is [cookie name, session, reason, remote]: the channel is named
    after the default cookie, and a page listens to changes of its own cookie.
    """
    __pragma__('jsiter')
    open_events().dispatchEvent(__new__(MessageEvent('message', {'data': [settings.name, session, reason, False]})))
    __pragma__('nojsiter')
    # Fails on a plain EventTarget, or for an extra field that cannot be cloned.
    attempt(lambda: events.postMessage([settings.name, session, reason, True]))
    return session


# ------------------------------------------------------------ tab session

tab = None                    # this page's tab session record
tab_token = Math.random()     # marks the tab's record while this page is alive
# Whether this page is its tab's top-level page (frames never claim the tab):
# fixed for the page's life, so asked once. False in Node (no window).
is_top = attempt(lambda: window == top, False)


def getTabSession() -> 'TabSession':
    """The tab session: kept across reloads, new in a new or duplicated tab."""
    return short_view(tab, False) if tab else open_tab(stored_tab())


def setTabSession() -> 'TabSession':
    """Start a new tab session."""
    return open_tab(None)


def open_tab(stored):
    """Adopt the tab's `stored` session (None: there is none), or start one.

    A duplicated tab (the browser's "Duplicate tab", or window.open of a
    same-origin page) starts with a copy of sessionStorage, including the mark
    `live` that the original page set: finding that mark means another page
    owns this record, so this tab starts its own. A page clears the mark on
    pagehide, so a reload or a navigation in the same tab keeps the id.
    Frames share their tab's storage and never claim it.
    """
    global tab
    if stored and stored.live and is_top:
        stored = None                    # a duplicate: the record is another page's
    tab = stored or sessionData()
    mark_tab(tab_token)
    return short_view(tab, not stored)


def stored_tab():
    """The tab record in sessionStorage, or None."""
    return parse(storage_get('sessionStorage', TAB_KEY), True)     # True: a tab record


def mark_tab(live):
    """Store the record; a top-level page marks it `live` (tab_token: its own; 0: no page's).

    Such a page unmarks it on pagehide and marks it again on pageshow (adding
    the same listener twice adds it once).
    """
    if is_top:
        tab.live = live
        addEventListener('pagehide', release_tab)
        addEventListener('pageshow', reclaim_tab)
    storage_set('sessionStorage', TAB_KEY, JSON.stringify(tab))


def reclaim_tab():
    """On pageshow (back from the bfcache): adopt what the tab holds now, and mark it.

    The storage is this tab's own, so its record is the tab's session, even if
    another page of the tab reset it while this one was in the cache.
    """
    global tab
    tab = stored_tab() or tab
    mark_tab(tab_token)


def release_tab():
    """On pagehide: unmark, unless a page restored from the bfcache took the mark.

    With nothing stored, this page's record (marked since the last pageshow)
    stands in: the mark is ours.
    """
    if (stored_tab() or tab).live == tab_token:
        mark_tab(0)


# ----------------------------------------------------------- page session

page = None                   # this page view's session record
page_href = None              # location.href when last seen: the fast path (its
                              # address, without the hash, is the page's)


def getPageSession() -> 'PageSession':
    """The page session; a new one once the path or query changed (SPA navigation).

    One read of location.href per call: only when it differs from the last
    one is the hash cut off to see whether the page really changed.
    """
    global page, page_href
    href = current_href()
    is_new = not page or href != page_href and href.split('#')[0] != page_href.split('#')[0]
    if is_new:
        page = sessionData()
    page_href = href
    return short_view(page, is_new)


def setPageSession() -> 'PageSession':
    """Start a new page session."""
    global page
    page = None
    return getPageSession()


"""The build pipeline (issue 2): scripts/build.py and the bundles it makes.

  - both bundles load in Chromium and expose exactly the public API (py_src's
    __all__, read here with `ast`), the classic script as one global only;
  - loading a bundle touches no cookie or storage;
  - the ES module imports and works in Node, which has no DOM;
  - the build's guards fire on runtime-only Python (dict literal, f-string,
    .startswith, a name Transcrypt aliases) with a one-line message;
  - builds are reproducible, the committed dist/ is a fresh build, and
    --check catches a stale dist/;
  - the source maps point at the .py file with its text embedded.

Every build goes to a temporary folder (--dist and --work): the repository's
dist/ and build/ are never written. A build takes about 2 s, so the fresh
builds are shared by module-scoped fixtures.
"""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'scripts'))
import build  # noqa: E402  (scripts/build.py)

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / 'scripts' / 'build.py'
SOURCE = ROOT / 'py_src' / 'session_utils.py'
DIST = ROOT / 'dist'
NODE_SCRIPT = ROOT / 'tests' / 'node' / 'import_no_dom.mjs'
BUNDLE_FILES = ('session-utils.js', 'session-utils.mjs')
DIST_FILES = ('session-utils.js', 'session-utils.js.map', 'session-utils.mjs', 'session-utils.mjs.map')
UUID4 = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
EMPTY_PAGE = '<!doctype html><html><head><meta charset=utf-8><link rel=icon href="data:,"></head><body></body></html>'


def public_api() -> list[str]:
    """__all__ of py_src/session_utils.py: the single declaration of the API."""
    tree = ast.parse(SOURCE.read_text(encoding='utf-8'))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == '__all__' for t in node.targets):
            return [ast.literal_eval(element) for element in node.value.elts]
    raise AssertionError('py_src/session_utils.py declares no __all__')


API = public_api()


def run_build(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def build_into(folder: Path, *extra: str | Path) -> tuple[subprocess.CompletedProcess, Path]:
    """Build py_src/ into folder/dist (scratch in folder/work); return (process, dist)."""
    dist = folder / 'dist'
    proc = run_build('--dist', dist, '--work', folder / 'work', '--no-size-report', *extra)
    return proc, dist


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The build's failure message: exactly one stderr line, starting with 'build: '."""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f'expected one stderr line, got:\n{proc.stderr}'
    assert lines[0].startswith('build: '), lines[0]
    return lines[0]


@pytest.fixture(scope='module')
def fresh_builds(tmp_path_factory) -> tuple[Path, Path]:
    """Two independent builds of py_src/ (each with its own work folder)."""
    dists = []
    for name in ('first', 'second'):
        proc, dist = build_into(tmp_path_factory.mktemp(name))
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ''
        dists.append(dist)
    return dists[0], dists[1]


# ------------------------------------------------------------- the API

def test_api_is_declared_once_in_python():
    assert API[:2] == ['getSession', 'setSession']
    assert len(API) == len(set(API)) == 11
    assert set(API) == {'getSession', 'setSession', 'extendSession', 'removeSession', 'sessionData',
                        'getTabSession', 'setTabSession', 'getPageSession', 'setPageSession',
                        'onSessionChange', 'configure'}


LOAD_CLASSIC = """async () => {
    const names = () => Object.getOwnPropertyNames(window);
    const before = names(), beforeKeys = Object.keys(window);
    await new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = '/dist/session-utils.js';
        script.onload = resolve;
        script.onerror = () => reject(new Error('could not load the classic script'));
        document.head.append(script);
    });
    const after = names(), afterKeys = Object.keys(window);
    const api = window.sessionUtils;
    return {
        added: after.filter((n) => !before.includes(n)),
        removed: before.filter((n) => !after.includes(n)),
        addedKeys: afterKeys.filter((n) => !beforeKeys.includes(n)),
        keys: Object.keys(api),
        own: Object.getOwnPropertyNames(api).concat(Object.getOwnPropertySymbols(api).map(String)),
        plainObject: Object.getPrototypeOf(api) === Object.prototype,
        types: Object.keys(api).map((k) => typeof api[k]),
    };
}"""

LOAD_MODULE = """async () => {
    const names = () => Object.getOwnPropertyNames(window);
    const before = names();
    const api = await import('/dist/session-utils.mjs');
    const after = names();
    return {
        added: after.filter((n) => !before.includes(n)),
        removed: before.filter((n) => !after.includes(n)),
        keys: Object.keys(api),
        own: Object.getOwnPropertyNames(api),
        hasDefault: 'default' in api,
        types: Object.keys(api).map((k) => typeof api[k]),
    };
}"""


def open_empty_page(page, server):
    """A page with no script at all, at the test server's origin."""
    url = f'{server}/__empty__/blank.html'
    page.route(url, lambda route: route.fulfill(status=200, content_type='text/html', body=EMPTY_PAGE))
    page.goto(url)


def test_classic_script_defines_exactly_one_global(page, server):
    open_empty_page(page, server)
    result = page.evaluate(LOAD_CLASSIC)
    assert result['added'] == ['sessionUtils']
    assert result['addedKeys'] == ['sessionUtils']
    assert result['removed'] == []
    assert result['keys'] == API            # same names, same order as __all__
    assert result['own'] == API             # nothing hidden (non-enumerable or symbol)
    assert result['plainObject'] is True
    assert result['types'] == ['function'] * len(API)
    assert page.errors == []


def test_es_module_exports_exactly_the_api(page, server):
    open_empty_page(page, server)
    result = page.evaluate(LOAD_MODULE)
    assert result['added'] == [] and result['removed'] == []
    assert sorted(result['keys']) == sorted(API)   # a namespace lists its names sorted
    assert sorted(result['own']) == sorted(API)
    assert result['hasDefault'] is False
    assert result['types'] == ['function'] * len(API)
    assert page.errors == []


def test_bundle_loads_on_the_standard_page(page, open_page, bundle):
    open_page(page, '/index.html', bundle)
    assert page.evaluate('Object.keys(S).sort()') == sorted(API)
    session = page.evaluate('S.getSession()')
    assert UUID4.match(session['id'])
    assert session['isNew'] is True
    assert page.errors == []


# ------------------------------------------- loading touches no storage

INSTRUMENT = """(() => {
    const counts = {cookieGet: 0, cookieSet: 0, getItem: 0, setItem: 0, removeItem: 0, clear: 0,
                    key: 0, localStorage: 0, sessionStorage: 0, cookieStore: 0, indexedDB: 0};
    const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
    Object.defineProperty(Document.prototype, 'cookie', {
        configurable: true, enumerable: cookie.enumerable,
        get() { counts.cookieGet++; return cookie.get.call(this); },
        set(value) { counts.cookieSet++; cookie.set.call(this, value); },
    });
    for (const name of ['getItem', 'setItem', 'removeItem', 'clear', 'key']) {
        const original = Storage.prototype[name];
        Storage.prototype[name] = function (...args) { counts[name]++; return original.apply(this, args); };
    }
    const getters = {};
    for (const name of ['localStorage', 'sessionStorage', 'cookieStore', 'indexedDB']) {
        const owner = Object.getOwnPropertyDescriptor(window, name) ? window : Window.prototype;
        const descriptor = Object.getOwnPropertyDescriptor(owner, name);
        if (!descriptor || !descriptor.get) continue;
        getters[name] = descriptor.get;
        Object.defineProperty(owner, name, {
            configurable: true, enumerable: descriptor.enumerable,
            get() { counts[name]++; return descriptor.get.call(this); },
        });
    }
    // Read the real state without touching the counters.
    Object.defineProperty(window, '__probe', {value: {
        counts: () => Object.assign({}, counts),
        cookie: () => cookie.get.call(document),
        lengths: () => [getters.localStorage.call(window).length, getters.sessionStorage.call(window).length],
        installed: () => Object.keys(getters),
    }});
})();"""


def test_loading_touches_no_cookie_or_storage(context, page, open_page, bundle):
    context.add_init_script(INSTRUMENT)
    open_page(page, '/index.html', bundle)
    assert page.evaluate('__probe.installed()')[:2] == ['localStorage', 'sessionStorage']
    counts = page.evaluate('__probe.counts()')
    assert counts == dict.fromkeys(counts, 0)
    assert page.evaluate('__probe.cookie()') == ''
    assert page.evaluate('__probe.lengths()') == [0, 0]
    assert page.errors == []

    # The instrumentation sees the library's accesses: calls do move the counters.
    session = page.evaluate('S.getSession()')
    counts = page.evaluate('__probe.counts()')
    assert counts['cookieGet'] > 0 and counts['cookieSet'] > 0
    assert page.evaluate('__probe.cookie()').startswith('__session=')
    assert session['id'] in page.evaluate('decodeURIComponent(__probe.cookie())')
    page.evaluate('S.getTabSession(); 0')
    counts = page.evaluate('__probe.counts()')
    assert counts['sessionStorage'] > 0 and counts['setItem'] > 0
    assert page.evaluate('__probe.lengths()') == [0, 1]
    page.evaluate("localStorage.getItem('x'); 0")
    counts_after = page.evaluate('__probe.counts()')
    assert counts_after['localStorage'] == counts['localStorage'] + 1
    assert counts_after['getItem'] == counts['getItem'] + 1


# ------------------------------------------------------ Node, no DOM

def is_time(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 1_500_000_000_000


def iso_ms(value: str) -> int:
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z', value), value
    return round(datetime.fromisoformat(value.replace('Z', '+00:00')).timestamp() * 1000)


def check_created(record: dict) -> None:
    assert UUID4.match(record['id']), record
    assert is_time(record['created'])
    assert iso_ms(record['createdAt']) == record['created']


def check_session(record: dict, minutes: int, persisted_only: bool = False) -> None:
    check_created(record)
    assert record['duration'] == minutes * 60000
    assert record['expires'] == record.get('modified', record['created']) + record['duration']
    assert iso_ms(record['expiresAt']) == record['expires']
    computed = {'elapsed', 'remaining', 'isExpired', 'isNew'}
    if persisted_only:
        assert computed.isdisjoint(record)
    else:
        assert computed <= set(record)
        assert 0 <= record['elapsed'] < 10_000
        assert 0 < record['remaining'] <= record['duration']
        assert record['isExpired'] is False


def check_short(record: dict, is_new: bool) -> None:
    assert set(record) == {'id', 'created', 'createdAt', 'elapsed', 'isNew'}
    check_created(record)
    assert record['isNew'] is is_new
    assert 0 <= record['elapsed'] < 10_000


@pytest.mark.parametrize('node_flags', [[], ['--no-experimental-global-webcrypto']],
                         ids=['webcrypto', 'no-crypto'])
def test_es_module_in_node_without_dom(node_flags):
    """Every function works in Node; nothing lands on globalThis; Node exits by itself."""
    node = shutil.which('node')
    assert node, 'Node.js 20 is required (the build needs it too)'
    bundle = DIST / 'session-utils.mjs'
    try:
        proc = subprocess.run([node, *node_flags, str(NODE_SCRIPT), bundle.as_uri()],
                              capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail('Node did not exit within 10 s after the calls: something keeps its event loop alive')
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ''
    out = json.loads(proc.stdout)
    assert out['hasCrypto'] is (node_flags == [])
    assert out['errors'] == []
    assert sorted(out['exportNames']) == sorted(API)
    assert out['exportTypes'] == dict.fromkeys(API, 'function')
    assert out['afterImport'] == {'added': [], 'removed': [], 'changed': []}
    assert out['afterCalls'] == {'added': [], 'removed': [], 'changed': []}

    r = out['results']
    assert r['onSessionChange'] == 'function'
    first = r['getSession']
    check_session(first, 30)
    assert first['isNew'] is True
    # Memory is the store in Node: the session lives on.
    check_session(r['getSessionAgain'], 30)
    assert r['getSessionAgain']['id'] == first['id'] and r['getSessionAgain']['isNew'] is False
    check_session(r['getSessionPersisted'], 30, persisted_only=True)
    assert r['getSessionPersisted']['id'] == first['id']

    started = r['setSession']
    check_session(started, 10)
    assert started['id'] != first['id'] and started['isNew'] is True and started['plan'] == 'pro'
    extended = r['extendSession']
    check_session(extended, 20)
    assert extended['id'] == started['id'] and extended['created'] == started['created']
    assert extended['plan'] == 'pro' and extended['step'] == 2 and extended['isNew'] is False
    assert is_time(extended['modified']) and iso_ms(extended['modifiedAt']) == extended['modified']
    assert extended['expires'] == extended['modified'] + 20 * 60000
    assert r['getAfterExtend']['id'] == started['id'] and r['getAfterExtend']['step'] == 2
    assert r['removeSession'] == 'undefined'

    assert set(r['sessionData']) == {'id', 'created', 'createdAt'}
    check_created(r['sessionData'])
    check_short(r['getTabSession'], True)
    check_short(r['getTabSessionAgain'], False)
    assert r['getTabSessionAgain']['id'] == r['getTabSession']['id']
    check_short(r['setTabSession'], True)
    assert r['setTabSession']['id'] != r['getTabSession']['id']
    check_short(r['getPageSession'], True)
    check_short(r['getPageSessionAgain'], False)
    assert r['getPageSessionAgain']['id'] == r['getPageSession']['id']
    check_short(r['setPageSession'], True)
    assert r['setPageSession']['id'] != r['getPageSession']['id']

    assert r['unsubscribe'] == 'ok'
    check_session(r['setAfterUnsubscribe'], 30)
    settings = {'minutes': 45, 'name': '__session', 'domain': '', 'sameSite': 'Lax', 'secure': False}
    assert r['configure'] == settings
    assert r['configureRead'] == settings
    assert r['removeAgain'] == 'ok'
    check_session(r['getAfterConfigure'], 45)
    assert r['getAfterConfigure']['isNew'] is True

    # Listeners saw this process's changes, and none after unsubscribe().
    assert out['events'] == [
        {'id': first['id'], 'reason': 'start', 'remote': False},
        {'id': started['id'], 'reason': 'start', 'remote': False},
        {'id': started['id'], 'reason': 'extend', 'remote': False},
        {'id': None, 'reason': 'remove', 'remote': False},
    ]
    ids = [first['id'], started['id'], r['sessionData']['id'], r['getTabSession']['id'],
           r['setTabSession']['id'], r['getPageSession']['id'], r['setPageSession']['id'],
           r['setAfterUnsubscribe']['id'], r['getAfterConfigure']['id']]
    assert len(set(ids)) == len(ids)


# ------------------------------------------------------------- guards

def line_of(text: str, needle: str) -> int:
    """1-based number of the only line of text containing needle."""
    hits = [i + 1 for i, line in enumerate(text.split('\n')) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def variant_dict_literal(source: str) -> tuple[str, str]:
    # Exported, so it reaches the bundle: an unused function is tree-shaken away.
    assert '__all__ = [' in source
    source = source.replace('__all__ = [', "__all__ = ['makeThing', ", 1)
    return source + "\n\ndef makeThing():\n    return {'a': 1}\n", "{'a': 1}"


def variant_f_string(source: str) -> tuple[str, str]:
    return source + "\n\ndef describe(x):\n    return f'<{x}>'\n", "f'<{x}>'"


def variant_startswith(source: str) -> tuple[str, str]:
    return source + "\n\ndef is_ours(x):\n    return x.startswith('__session')\n", ".startswith('__session')"


def variant_alias(source: str) -> tuple[str, str]:
    return source + "\n\ndef first_of(values):\n    return values[0]\n", 'def first_of(values):'


GUARD_CASES = {
    # variant -> (source transformation, expected fragment of the message, format() with line)
    'dict-literal': (variant_dict_literal,
                     "session-utils.js would carry {bytes} bytes of Transcrypt's runtime",
                     'py_src/session_utils.py:{line} uses dict()'),
    'f-string': (variant_f_string, None,
                 "py_src/session_utils.py:{line}: calls .format(), which only Transcrypt's runtime defines"),
    'startswith': (variant_startswith, None,
                   "py_src/session_utils.py:{line}: calls .startswith(), which only Transcrypt's runtime defines"),
    'alias': (variant_alias, None,
              "py_src/session_utils.py:{line}: 'py_values' is a Transcrypt alias "
              "(use js_values or __pragma__('noalias', 'values'))"),
}


@pytest.fixture(scope='module')
def guard_builds(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path, int]]:
    """Build each broken variant of py_src/session_utils.py into a tmp folder."""
    original = SOURCE.read_text(encoding='utf-8')
    results = {}
    for name, (transform, _, _) in GUARD_CASES.items():
        folder = tmp_path_factory.mktemp(f'guard-{name}')
        text, needle = transform(original)
        (folder / 'session_utils.py').write_text(text, encoding='utf-8')
        proc = run_build('--src', folder, '--dist', folder / 'dist', '--work', folder / 'work', '--no-size-report')
        results[name] = (proc, folder / 'dist', line_of(text, needle))
    return results


@pytest.mark.parametrize('name', list(GUARD_CASES))
def test_build_guard_fires(guard_builds, name):
    proc, dist, line = guard_builds[name]
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = one_error_line(proc)
    _, summary, where = GUARD_CASES[name]
    assert where.format(line=line) in message
    if summary:
        bytes_carried = re.search(r'would carry (\d+) bytes', message)
        assert bytes_carried and int(bytes_carried.group(1)) > 10_000, message
        assert summary.format(bytes=bytes_carried.group(1)) in message
    # Nothing was written: no bundle, no map.
    assert not dist.exists() or list(dist.iterdir()) == []


def test_runtime_guard_names_only_the_culprit(guard_builds):
    proc, _, line = guard_builds['dict-literal']
    message = one_error_line(proc)
    assert re.findall(r'py_src/session_utils\.py:(\d+) uses (\w+)\(\)', message) == [(str(line), 'dict')]


# ------------------------------------------------------ reproducibility

def test_two_builds_are_byte_identical(fresh_builds):
    first, second = fresh_builds
    a, b = files_of(first), files_of(second)
    assert set(DIST_FILES) <= set(a)
    assert a == b


def test_committed_dist_is_a_fresh_build(fresh_builds):
    first, _ = fresh_builds
    committed, fresh = files_of(DIST), files_of(first)
    stale = sorted(name for name in set(committed) | set(fresh) if committed.get(name) != fresh.get(name))
    assert stale == [], f'dist/ is stale: run python scripts/build.py ({stale})'


def test_check_passes_on_committed_dist(tmp_path):
    before = files_of(DIST)
    proc = run_build('--check', '--work', tmp_path / 'work', '--no-size-report')
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ''
    assert 'dist/ matches a fresh build' in proc.stdout
    assert files_of(DIST) == before      # --check never writes dist/


def test_check_fails_on_stale_dist_and_names_the_files(fresh_builds, tmp_path):
    # A fresh build is the up-to-date dist/ (the committed one may lag behind py_src).
    stale = tmp_path / 'dist'
    shutil.copytree(fresh_builds[0], stale)
    js = stale / 'session-utils.js'
    data = bytearray(js.read_bytes())
    data[len(data) // 2] ^= 0x01          # one byte changed
    js.write_bytes(bytes(data))
    (stale / 'session-utils.mjs.map').unlink()
    before = files_of(stale)
    proc = run_build('--check', '--dist', stale, '--work', tmp_path / 'work', '--no-size-report')
    assert proc.returncode == 1, proc.stdout + proc.stderr
    message = one_error_line(proc)
    assert 'stale' in message
    assert set(re.findall(r'session-utils\.[\w.]+', message)) == {'session-utils.js', 'session-utils.mjs.map'}
    assert files_of(stale) == before      # --check repairs nothing


# ---------------------------------------------------------- source maps

@pytest.mark.parametrize('name', BUNDLE_FILES)
def test_source_map_points_at_the_python_file(name):
    code = (DIST / name).read_text(encoding='utf-8')
    assert code.rstrip('\n').endswith(f'//# sourceMappingURL={name}.map')
    mapping = json.loads((DIST / f'{name}.map').read_text(encoding='utf-8'))
    assert mapping['version'] == 3
    assert mapping['file'] == name
    assert '../py_src/session_utils.py' in mapping['sources']
    index = mapping['sources'].index('../py_src/session_utils.py')
    assert mapping['sourcesContent'][index] == SOURCE.read_text(encoding='utf-8')
    # Most of the generated code maps back to lines of the .py file.
    python_lines = SOURCE.read_text(encoding='utf-8').count('\n') + 1
    hits = [line for source, line in decode_mappings(mapping['mappings']) if source == index]
    assert len(hits) > 100
    assert all(0 <= line < python_lines for line in hits)
    assert len(set(hits)) > 50           # spread over the file, not one line


def decode_mappings(mappings: str):
    """(source index, 0-based source line) of every segment of a v3 source map.

    The VLQ decoding is build.py's own (it uses it only for error messages; the
    maps themselves come from esbuild and terser, so this is no self-check).
    """
    source = line = 0
    for group in mappings.split(';'):
        for segment in filter(None, group.split(',')):
            fields = build.decode_vlq(segment)
            if len(fields) >= 4:
                source += fields[1]
                line += fields[2]
                yield source, line


def test_no_machine_path_or_timestamp_in_dist(fresh_builds):
    """Neither the committed dist/ nor a build made under /tmp names this machine."""
    first, _ = fresh_builds
    forbidden = ['/work/', '/tmp/', '/root/', '/home/', str(ROOT), str(first.parent), 'file://',
                 "Transcrypt'ed from Python"]
    for folder in (DIST, first):
        for name, data in files_of(folder).items():
            text = data.decode('utf-8')
            found = [f for f in forbidden if f in text]
            assert found == [], f'{folder / name} contains {found}'


# ------------------------------------------------------------------ CLI

def test_help_exits_zero():
    proc = run_build('--help', timeout=30)
    assert proc.returncode == 0
    assert proc.stderr == ''
    for option in ('--check', '--src', '--dist', '--work', '--no-size-report'):
        assert option in proc.stdout

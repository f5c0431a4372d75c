#!/usr/bin/env python3
"""Benchmark session-utils against @analytics/session-utils 0.2.4, side by side.

What it measures (one run on this machine; numbers vary between runs and machines)
  speed     Both browser bundles are loaded into ONE Chromium page served over
            http from 127.0.0.1: dist/session-utils.js (global `sessionUtils`,
            "ours") and the original's node_modules/@analytics/session-utils/
            dist/browser/session-utils.js (global `utilSessions`, "0.2.4").
            Both keep their session in a cookie named `__session`, so ours is
            configured with configure({name: '__session_ours'}): neither library
            sees the other's cookie (ours would otherwise adopt the 0.2.4 one).
            For each operation, rounds alternate ours, 0.2.4, ours, 0.2.4...
            (after one unmeasured warm-up round each). A round calls the
            operation in batches of 64 for a fixed time budget, timed with
            performance.now() inside the page; its ops/s is calls / elapsed.
            The table shows the median round of each library.
            State before every round (so both start from the same cookie jar):
              getSession      both sessions removed, then the measured library
                              creates one: the calls read an existing session
              extendSession   both removed, then the measured library starts a
                              new one: repeated calls, as a scroll handler makes
              getTabSession   nothing cleared: after the first call, every call
                              reads the existing tab session
              getPageSession  the same, for the page session
              setSession      both removed: every call starts a new session
  size      raw, gzip -9 (Python's gzip.compress(data, 9, mtime=0); Node's
            gzip-size can differ by a few bytes) and brotli quality 11 of both
            browser bundles; and the tree-shaken cost of
            `import {getSession} from ...; console.log(getSession())` bundled by
            node_modules/.bin/esbuild --bundle --minify --format=esm, from
            dist/session-utils.mjs and from the original package's "module"
            entry (with its dependencies, as an app's bundler would include them).
  parse     Parse-and-evaluate time of each browser bundle: in a fresh page of
            the same origin, the bundle's text (source-map comment removed, a
            unique comment appended so V8's compilation cache never answers) is
            inserted as an inline <script> element; the time around
            appendChild (which parses, compiles and runs it synchronously) is
            one sample. Samples alternate ours, 0.2.4; the median is shown.
  build     wall time of `python scripts/build.py --work <tmp> --dist <tmp>
            --no-size-report` (run once; --no-build-time skips it).

Targets (from issue 7) are shown as met / not met. They are reported, never
asserted: this script exits 0 whatever the numbers are.

Output: a table for people on stdout; --markdown prints it as a Markdown block
for the README; --json prints a JSON document on stdout and everything else on
stderr. Progress messages always go to stderr.

Exit codes: 0 ok; 2 setup error (one line on stderr: no Chromium, no
Playwright, dist/ or node_modules missing, the build or esbuild failed).
"""
from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from browser import CHROMIUM_ARGS, find_chromium  # scripts/browser.py

ROOT = Path(__file__).resolve().parent.parent
OURS = ROOT / 'dist' / 'session-utils.js'
OURS_ESM = ROOT / 'dist' / 'session-utils.mjs'
ORIGINAL_PACKAGE = ROOT / 'node_modules' / '@analytics' / 'session-utils'
ORIGINAL = ORIGINAL_PACKAGE / 'dist' / 'browser' / 'session-utils.js'
ESBUILD = ROOT / 'node_modules' / '.bin' / 'esbuild'
OURS_COOKIE = '__session_ours'
OPERATIONS = ('getSession', 'extendSession', 'getTabSession', 'getPageSession', 'setSession')
LIBS = ('ours', 'original')
LABEL = {'ours': 'ours', 'original': '0.2.4'}

# Targets of issue 7: (kind, bound); speed ratios are ours/original (higher is
# better), sizes are ours/original (lower is better).
SPEED_TARGETS = {'getSession': 1.4, 'extendSession': 20.0, 'getTabSession': 3.0, 'getPageSession': 3.0}
SIZE_TARGETS = {'bundle_gzip': 1.00, 'treeshaken_gzip': 0.5}


class SetupError(Exception):
    """Something the benchmark needs is missing; the message is one line."""


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


# --------------------------------------------------------------- sizes

def sizes(data: bytes) -> dict:
    import brotli
    return {'raw': len(data), 'gzip': len(gzip.compress(data, 9, mtime=0)),
            'brotli': len(brotli.compress(data, quality=11))}


def original_module_entry() -> Path:
    """The original package's ES module entry, as a bundler resolves it ("module")."""
    meta = json.loads((ORIGINAL_PACKAGE / 'package.json').read_text(encoding='utf-8'))
    entry = meta.get('module') or meta.get('main')
    if not entry:
        raise SetupError('@analytics/session-utils/package.json has no "module" entry')
    return ORIGINAL_PACKAGE / entry


def treeshaken(module: Path, tmp: Path, label: str) -> dict:
    """Bytes an app pays for `import {getSession}` from `module`, bundled by esbuild."""
    folder = tmp / f'treeshake-{label}'
    folder.mkdir()
    entry = folder / 'entry.js'
    entry.write_text(f'import {{getSession}} from {json.dumps(module.as_posix())}; console.log(getSession())\n',
                     encoding='utf-8')
    proc = subprocess.run([str(ESBUILD), str(entry), '--bundle', '--minify', '--format=esm', '--log-level=error'],
                          cwd=folder, capture_output=True)
    if proc.returncode != 0:
        tail = (proc.stderr.decode(errors='replace').strip().splitlines() or [f'exit {proc.returncode}'])[-1]
        raise SetupError(f'esbuild failed on the tree-shaking entry for {label}: {tail}')
    return sizes(proc.stdout)


# --------------------------------------------------------------- build

def build_time(tmp: Path) -> float:
    """Wall time (s) of one build into temporary folders."""
    cmd = [sys.executable, str(ROOT / 'scripts' / 'build.py'), '--work', str(tmp / 'build-work'),
           '--dist', str(tmp / 'build-dist'), '--no-size-report']
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise SetupError(f'scripts/build.py failed (exit {proc.returncode}): {tail[-1] if tail else ""}')
    return elapsed


# --------------------------------------------------------------- browser

PAGE = ('<!doctype html><html><head><meta charset=utf-8><link rel=icon href="data:,"><title>bench</title>'
        '{scripts}</head><body></body></html>')
BENCH_SCRIPTS = ('<script src="/dist/session-utils.js"></script>'
                 '<script src="/node_modules/@analytics/session-utils/dist/browser/session-utils.js"></script>'
                 f"<script>sessionUtils.configure({{name: '{OURS_COOKIE}'}}); window.ready = true;</script>")

# The in-page harness. One loop function per (library, operation), compiled
# once so that each call site stays monomorphic and keeps its JIT warmth.
HARNESS = r"""
window.bench = (() => {
  const libs = {ours: sessionUtils, original: utilSessions};
  const clear = () => { sessionUtils.removeSession(); utilSessions.removeSession(); };
  const setup = {
    getSession: (api) => { clear(); api.getSession(); },
    extendSession: (api) => { clear(); api.setSession(); },
    getTabSession: (api) => { api.getTabSession(); },
    getPageSession: (api) => { api.getPageSession(); },
    setSession: (api) => { clear(); },
  };
  const loops = {};
  const loop = (lib, op) => loops[lib + '.' + op] || (loops[lib + '.' + op] = new Function('api', 'budget', `
    let calls = 0, last;
    const t0 = performance.now();
    let t = t0;
    do {
      for (let i = 0; i < 64; i++) last = api.${op}();
      calls += 64;
      t = performance.now();
    } while (t - t0 < budget);
    window.sink = last;
    return [calls, t - t0];`));
  return {
    round(lib, op, budget) {
      const api = libs[lib];
      setup[op](api);
      const [calls, ms] = loop(lib, op)(api, budget);
      return {calls, ms, opsPerSecond: calls / (ms / 1000)};
    },
    clear,
  };
})();
"""

PARSE_SAMPLE = r"""
([source, nonce]) => {
  const script = document.createElement('script');
  script.textContent = source + '\n//# bench ' + nonce + '\n';
  const t0 = performance.now();
  document.head.appendChild(script);
  const t1 = performance.now();
  script.remove();
  return t1 - t0;
}
"""


class Handler(SimpleHTTPRequestHandler):
    """The repository root, plus two generated pages: /bench.html and /blank.html."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split('?')[0]
        if path in ('/bench.html', '/blank.html'):
            data = PAGE.format(scripts=BENCH_SCRIPTS if path == '/bench.html' else '').encode()
            self.send_response(200)
            self.send_header('Content-Type', 'text/html; charset=utf-8')
            self.send_header('Content-Length', str(len(data)))
            # Cross-origin isolation: performance.now() then ticks in 5 us steps
            # instead of 100 us, which matters for the parse+evaluate samples.
            self.send_header('Cross-Origin-Opener-Policy', 'same-origin')
            self.send_header('Cross-Origin-Embedder-Policy', 'require-corp')
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()


def strip_source_map(text: str) -> str:
    return re.sub(r'\n?//# sourceMappingURL=\S*\s*$', '', text)


def browser_runs(args) -> dict:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SetupError('playwright is not installed: pip install playwright (in .venv)') from None
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), partial(Handler, directory=str(ROOT)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f'http://127.0.0.1:{httpd.server_address[1]}'
    try:
        with sync_playwright() as playwright:
            path = find_chromium(playwright)
            if not path:
                raise SetupError('no Chromium found: apt-get install -y chromium, or set CHROMIUM_PATH')
            try:
                browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            except Exception as error:
                raise SetupError(f'Chromium at {path} did not start: {str(error).splitlines()[0]}') from None
            try:
                context = browser.new_context()
                page = context.new_page()
                errors: list[str] = []
                page.on('pageerror', lambda error: errors.append(str(error)))
                page.goto(f'{base}/bench.html')
                page.wait_for_function('window.ready === true', timeout=10000)
                page.evaluate(HARNESS)
                isolated = page.evaluate('window.crossOriginIsolated === true')
                speed = {}
                for op in OPERATIONS:
                    log(f'  {op}: {args.rounds} rounds x {args.budget_ms} ms per library')
                    for lib in LIBS:   # warm-up, not counted
                        page.evaluate('([l, o, b]) => bench.round(l, o, b)', [lib, op, args.warmup_ms])
                    samples = {lib: [] for lib in LIBS}
                    for _ in range(args.rounds):
                        for lib in LIBS:   # A, B, A, B...
                            result = page.evaluate('([l, o, b]) => bench.round(l, o, b)', [lib, op, args.budget_ms])
                            samples[lib].append(result['opsPerSecond'])
                    speed[op] = {lib: {'median': statistics.median(samples[lib]), 'rounds': samples[lib]}
                                 for lib in LIBS}
                page.evaluate('bench.clear()')
                if errors:
                    raise SetupError(f'page error during the benchmark: {errors[0]}')

                log(f'  parse+evaluate: {args.parse_runs} samples per bundle')
                sources = {'ours': strip_source_map(OURS.read_text(encoding='utf-8')),
                           'original': strip_source_map(ORIGINAL.read_text(encoding='utf-8'))}
                blank = context.new_page()
                blank.goto(f'{base}/blank.html')
                parse = {lib: [] for lib in LIBS}
                for index in range(args.parse_runs + 1):
                    for lib in LIBS:
                        ms = blank.evaluate(PARSE_SAMPLE, [sources[lib], f'{lib}-{index}'])
                        if index:   # the first sample of each warms the page up
                            parse[lib].append(ms)
                blank.evaluate('try { sessionUtils.removeSession(); utilSessions.removeSession(); } catch (e) {}')
                return {'chromium': browser.version, 'cross_origin_isolated': isolated, 'speed': speed,
                        'parse_ms': {lib: {'median': statistics.median(parse[lib]), 'samples': parse[lib]}
                                     for lib in LIBS}}
            finally:
                browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()


# --------------------------------------------------------------- report

def cpu_model() -> str:
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or 'unknown CPU'


def load_average() -> float | None:
    """The 1-minute load average when the run started: a busy machine skews every figure."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def verdict(ratio: float, bound: float, higher_is_better: bool) -> dict:
    met = ratio >= bound if higher_is_better else ratio <= bound
    return {'bound': bound, 'direction': '>=' if higher_is_better else '<=', 'met': met}


def collect(args) -> dict:
    for needed, hint in ((OURS, 'run: python scripts/build.py'), (OURS_ESM, 'run: python scripts/build.py'),
                         (ORIGINAL, 'run: npm ci'), (ESBUILD, 'run: npm ci')):
        if not needed.exists():
            raise SetupError(f'{needed.relative_to(ROOT)} is missing: {hint}')
    try:
        import brotli  # noqa: F401
    except ImportError:
        raise SetupError('the brotli module is not installed: pip install brotli (in .venv)') from None

    report: dict = {'date': dt.datetime.now().astimezone().isoformat(timespec='seconds'),
                    'cpu': cpu_model(), 'cores': os.cpu_count(), 'one_run': True,
                    'load_average': load_average(),
                    'settings': {'rounds': args.rounds, 'budget_ms': args.budget_ms,
                                 'warmup_ms': args.warmup_ms, 'parse_runs': args.parse_runs,
                                 'quick': args.quick, 'ours_cookie': OURS_COOKIE}}
    with tempfile.TemporaryDirectory(prefix='session-utils-bench-') as name:
        tmp = Path(name)
        if args.no_build_time:
            report['build_seconds'] = None
        else:
            log('build: python scripts/build.py --work <tmp> --dist <tmp> --no-size-report')
            report['build_seconds'] = build_time(tmp)
        log('sizes: browser bundles and esbuild tree-shaking of `import {getSession}`')
        report['bundle'] = {'ours': {'file': str(OURS.relative_to(ROOT)), **sizes(OURS.read_bytes())},
                            'original': {'file': str(ORIGINAL.relative_to(ROOT)), **sizes(ORIGINAL.read_bytes())}}
        entry = original_module_entry()
        report['treeshaken'] = {
            'ours': {'module': str(OURS_ESM.relative_to(ROOT)), **treeshaken(OURS_ESM, tmp, 'ours')},
            'original': {'module': str(entry.relative_to(ROOT)), **treeshaken(entry, tmp, 'original')}}
    log('browser: one page, both libraries')
    report.update(browser_runs(args))

    targets = {}
    for op, bound in SPEED_TARGETS.items():
        ratio = report['speed'][op]['ours']['median'] / report['speed'][op]['original']['median']
        targets[op] = {'ratio': ratio, **verdict(ratio, bound, True)}
    for key, (section, kind) in {'bundle_gzip': ('bundle', 'gzip'),
                                 'treeshaken_gzip': ('treeshaken', 'gzip')}.items():
        ratio = report[section]['ours'][kind] / report[section]['original'][kind]
        targets[key] = {'ratio': ratio, **verdict(ratio, SIZE_TARGETS[key], False)}
    report['targets'] = targets
    return report


def fmt_ops(value: float) -> str:
    return f'{value:,.0f}'


def target_cell(target: dict | None) -> str:
    if not target:
        return ''
    return f"{target['direction']} {target['bound']:.2f}x {'met' if target['met'] else 'NOT met'}"


def table_rows(report: dict) -> tuple[str, list[tuple[str, ...]]]:
    """The heading line and the table's rows (header row first), as cells."""
    settings = report['settings']
    load = report['load_average']
    machine = f"{report['cpu']}, {report['cores']} cores" + (f", load average {load:.1f}" if load is not None else '')
    heading = (f"session-utils vs @analytics/session-utils 0.2.4 — one run, {report['date']}, "
               f"Chromium {report['chromium']}, {machine}; {settings['rounds']} alternating rounds "
               f"of {settings['budget_ms']:g} ms per library" + (' (--quick)' if settings['quick'] else ''))
    rows: list[tuple[str, ...]] = [('', 'ours', '0.2.4', 'ours/0.2.4', 'target')]

    def ratio(a: float, b: float) -> str:
        return f'{a / b:.2f}x' if b else 'n/a'

    for op in OPERATIONS:
        ours, original = report['speed'][op]['ours']['median'], report['speed'][op]['original']['median']
        rows.append((f'{op}() ops/s', fmt_ops(ours), fmt_ops(original), ratio(ours, original),
                     target_cell(report['targets'].get(op))))
    for kind, label in (('raw', 'raw'), ('gzip', 'gzip -9'), ('brotli', 'brotli 11')):
        ours, original = report['bundle']['ours'][kind], report['bundle']['original'][kind]
        rows.append((f'browser bundle, B {label}', f'{ours:,}', f'{original:,}', ratio(ours, original),
                     target_cell(report['targets']['bundle_gzip']) if kind == 'gzip' else ''))
    for kind, label in (('raw', 'raw'), ('gzip', 'gzip -9')):
        ours, original = report['treeshaken']['ours'][kind], report['treeshaken']['original'][kind]
        rows.append((f'import {{getSession}} (esbuild), B {label}', f'{ours:,}', f'{original:,}',
                     ratio(ours, original),
                     target_cell(report['targets']['treeshaken_gzip']) if kind == 'gzip' else ''))
    ours, original = report['parse_ms']['ours']['median'], report['parse_ms']['original']['median']
    rows.append((f"parse + evaluate, ms (median of {settings['parse_runs']})", f'{ours:.3f}', f'{original:.3f}',
                 ratio(ours, original), ''))
    build = report['build_seconds']
    rows.append(('python scripts/build.py, s (wall)', 'skipped' if build is None else f'{build:.2f}', '', '', ''))
    return heading, rows


def table_lines(report: dict) -> tuple[str, list[str]]:
    """The heading line and the aligned table, for a terminal."""
    heading, rows = table_rows(report)
    return heading, format_rows(rows)


def format_rows(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(widths[i]) for i, cell in enumerate(row[1:4], 1)]
        cells.append(row[4].ljust(widths[4]))
        lines.append('  '.join(cells).rstrip())
        if index == 0:
            lines.append('  '.join('-' * w for w in widths))
    return lines


def markdown(report: dict) -> str:
    heading, (head, *rows) = table_rows(report)
    out = [f'_{heading}_', '', '| ' + ' | '.join(head) + ' |',
           '| ' + ' | '.join(['---'] + ['---:'] * 3 + ['---']) + ' |']
    out += ['| ' + ' | '.join(cell.replace('|', '\\|') for cell in row) + ' |' for row in rows]
    return '\n'.join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description='Benchmark dist/session-utils.js against @analytics/session-utils 0.2.4 in Chromium: '
                    'speed (median ops/s of alternating rounds), bundle sizes, tree-shaken size, '
                    'parse+evaluate time and build time. One run: numbers vary.',
        epilog='Exit codes: 0 ok (targets are reported, never enforced); 2 setup error '
               '(no Chromium/Playwright, dist/ or node_modules missing, build or esbuild failed).')
    output = parser.add_mutually_exclusive_group()
    output.add_argument('--json', action='store_true', help='print a JSON document on stdout (all else on stderr)')
    output.add_argument('--markdown', action='store_true', help='print the table as Markdown, for the README')
    parser.add_argument('--quick', action='store_true',
                        help='a short run (3 rounds of 25 ms, 5 parse samples): checks that it works, numbers are rough')
    parser.add_argument('--rounds', type=int, help='measured rounds per library and operation (default 7)')
    parser.add_argument('--budget-ms', type=float, help='time budget of one round in ms (default 200)')
    parser.add_argument('--parse-runs', type=int, help='parse+evaluate samples per bundle (default 21)')
    parser.add_argument('--no-build-time', action='store_true', help='do not time python scripts/build.py')
    args = parser.parse_args(argv)
    quick = args.quick
    args.rounds = args.rounds or (3 if quick else 7)
    args.budget_ms = args.budget_ms or (25.0 if quick else 200.0)
    args.warmup_ms = args.budget_ms / 2 if quick else args.budget_ms
    args.parse_runs = args.parse_runs or (5 if quick else 21)
    if args.rounds < 1 or args.budget_ms <= 0 or args.parse_runs < 1:
        parser.error('--rounds, --budget-ms and --parse-runs must be positive')

    try:
        report = collect(args)
    except SetupError as error:
        print(f'bench: {error}', file=sys.stderr)
        return 2

    heading, lines = table_lines(report)
    if args.json:
        log(heading)
        log('\n'.join(lines))
        print(json.dumps(report, indent=2))
    elif args.markdown:
        print(markdown(report))
    else:
        print(heading)
        print()
        print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())

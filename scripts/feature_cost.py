"""What each feature costs the browser bundle, in gzip bytes.

Builds dist/session-utils.js from py_src/ as it is, then once without each
feature, and prints the difference: the bytes a page pays for that feature.
"Without" means the smallest honest cut: the export is dropped (esbuild then
drops what only it used) or the lines that do the job are taken out, so the
rest still works. Each recipe below names the exact source text it removes;
when that text is no longer in py_src/, the recipe is stale and the script
says which one (exit 3) instead of printing a wrong figure.

Builds go to a temporary folder; py_src/ and dist/ are never written.
Output: a table on stdout (a progress line per build on stderr), or --json.

Exit codes: 0 ok, 2 a build failed, 3 a recipe no longer matches py_src/.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / 'py_src' / 'session_utils.py'
BUNDLE = 'session-utils.js'


class StaleRecipe(Exception):
    pass


# ---------------------------------------------------------------- recipes
# Each feature is a list of (text in py_src, its replacement). An export is
# removed from __all__ with the pseudo-entry ('export', name).

def _block(start: str, end: str) -> str:
    """The source text from `start` up to (not including) `end`."""
    source = SOURCE.read_text(encoding='utf-8')
    begin = source.find(start)
    stop = source.find(end, begin + 1)
    if begin < 0 or stop < 0:
        raise StaleRecipe(f'no text from {start!r} to {end!r}')
    return source[begin:stop]


def recipes() -> dict[str, list[tuple[str, str]]]:
    return {
        'configure()': [('export', 'configure')],
        'change events': [
            ('export', 'onSessionChange'),
            (_block('def announce(session, reason):', '\n\n# '),
             'def announce(session, reason):\n    return session\n'),
        ],
        'duplicated-tab detection': [
            (_block('    if stored and stored.live and is_top:', '    tab = stored or sessionData()'), ''),
            (_block('    if is_top:\n        tab.live = live', "    storage_set('sessionStorage', TAB_KEY"), ''),
            ('is_top = attempt(lambda: window == top, False)\n', ''),
        ],
        'SPA page sessions': [
            ("is_new = not page or href != page_href and href.split('#')[0] != page_href.split('#')[0]",
             'is_new = not page'),
        ],
        'localStorage fallback': [
            ("parse(storage_get('localStorage', settings.name)) or memory", 'memory'),
            ("\n            or storage_set('localStorage', settings.name, text)", ''),
            ("    storage_set('localStorage', settings.name)     # no value: removes it\n", ''),
        ],
        '0.2.4 copy clean-up': [
            (' or expire_cookies() or sticks(cookie, text)', ''),
            (_block("    path = attempt(lambda: location.pathname, '')", '\n\n'), ''),
        ],
    }


def apply(source: str, steps: list[tuple[str, str]], feature: str) -> str:
    for old, new in steps:
        if old == 'export':
            pattern = re.compile(rf"\s*'{new}',|,\s*'{new}'")
            source, count = pattern.subn('', source, count=1)
        else:
            count = source.count(old)
            source = source.replace(old, new, 1)
        if count != 1:
            raise StaleRecipe(f'{feature}: {"export " + new if old == "export" else repr(old[:70])} '
                              f'is {"not" if count == 0 else "more than once"} in {SOURCE.name}')
    return source


# ------------------------------------------------------------------ build

def gzip_size(source: str, scratch: Path) -> int:
    src = scratch / 'src'
    src.mkdir(parents=True, exist_ok=True)
    (src / SOURCE.name).write_text(source, encoding='utf-8')
    done = subprocess.run([sys.executable, str(ROOT / 'scripts' / 'build.py'), '--src', str(src),
                           '--dist', str(scratch / 'dist'), '--work', str(scratch / 'work'), '--no-size-report'],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ['(no output)']
        raise RuntimeError(last[0])
    return len(gzip.compress((scratch / 'dist' / BUNDLE).read_bytes(), 9, mtime=0))


def measure(progress) -> dict:
    features = recipes()
    original = SOURCE.read_text(encoding='utf-8')
    variants = {name: apply(original, steps, name) for name, steps in features.items()}
    everything_out = original
    for name, steps in features.items():
        everything_out = apply(everything_out, steps, name)
    builds = [('everything', original), *variants.items(), ('none of them', everything_out)]
    sizes = {}
    with tempfile.TemporaryDirectory(prefix='feature-cost-') as tmp:
        for index, (name, source) in enumerate(builds, 1):
            progress(f'[{index}/{len(builds)}] building {"without " + name if name in variants else name}')
            sizes[name] = gzip_size(source, Path(tmp) / str(index))
    full = sizes['everything']
    return {
        'bundle': f'dist/{BUNDLE}',
        'gzip': full,
        'features': [{'name': name, 'gzipWithout': sizes[name], 'cost': full - sizes[name]} for name in variants],
        'gzipWithoutAll': sizes['none of them'],
    }


def table(result: dict) -> str:
    width = max(len(f['name']) for f in result['features']) + len('without ')
    rows = [f'{"build":<{width}}  {"gzip -9":>9}  {"feature costs":>13}',
            f'{"everything":<{width}}  {result["gzip"]:>7,} B']
    for feature in result['features']:
        rows.append(f'{"without " + feature["name"]:<{width}}  {feature["gzipWithout"]:>7,} B  '
                    f'{feature["cost"]:>11,} B')
    together = result['gzip'] - result['gzipWithoutAll']
    rows.append(f'{"without all of them":<{width}}  {result["gzipWithoutAll"]:>7,} B  {together:>11,} B')
    return '\n'.join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     epilog='Exit codes: 0 ok, 2 a build failed, 3 a recipe no longer matches py_src/.')
    parser.add_argument('--json', action='store_true', help='print the figures as JSON')
    args = parser.parse_args(argv)
    try:
        result = measure(lambda line: print(line, file=sys.stderr, flush=True))
    except StaleRecipe as error:
        print(f'feature-cost: stale recipe: {error}', file=sys.stderr)
        return 3
    except RuntimeError as error:
        print(f'feature-cost: build failed: {error}', file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())

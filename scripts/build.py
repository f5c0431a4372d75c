#!/usr/bin/env python3
"""Build session-utils: Python in py_src/ -> Transcrypt -> esbuild + terser -> dist/.

Steps
  1. transpile  py_src/*.py with Transcrypt 3.9.5 (no minify, with source maps)
                into build/transcrypt/ (never into dist/: Transcrypt -b wipes it).
  2. entries    write two entry files from the module's __all__: the classic
                script assigns the API to one global, the ES module re-exports it.
  3. bundle     esbuild bundles each entry (Transcrypt's runtime is dropped: the
                build folder's package.json says the files have no side effects).
  4. guard      fail if any byte of a bundle comes from Transcrypt's runtime, or
                if the generated code calls a method only that runtime provides.
  5. minify     terser squeezes the last bytes; source maps are chained and
                rewritten to point at the .py files, with their content embedded.
  6. types      write dist/session-utils.d.ts from the Python signatures and
                docstrings (scripts/gen_types.py).
  7. sizes      print raw / gzip -9 / brotli 11 for each file, then update the
                README's size markers (scripts/size_report.py --write).

Usage
  python scripts/build.py           build dist/ and update the README markers
  python scripts/build.py --check   build into build/dist only; exit 1 and
                                    list the files when dist/ is stale

Every file is staged in build/dist first and then moved into dist/ atomically,
so a failed or interrupted build never leaves a half-written file there.

Exit codes: 0 ok, 1 dist/ is stale (--check), 2 the build failed (a guard fired,
a tool failed, a file is missing), plus the size report's own codes after a
successful build (1 over budget, 3 its configuration is broken).
"""
from __future__ import annotations

import argparse
import ast
import gzip
import json
import os
import re
import shutil
import subprocess
import symtable
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = 'session_utils'          # py_src/session_utils.py declares __all__
GLOBAL_NAME = 'sessionUtils'      # the one global the classic script defines
TARGET = 'es2017'
BUNDLES = (
    # (file in dist/, esbuild format, entry builder)
    ('session-utils.js', 'iife'),
    ('session-utils.mjs', 'esm'),
)
RUNTIME_INPUT = re.compile(r'org\.transcrypt\.|(^|/)copy\.js$')
# The names py_src may use without defining them: the JavaScript and browser
# globals it calls (Transcrypt passes them through) and Transcrypt's own
# helpers. Any other undefined name is a typo: the build stops at it, where it
# would otherwise be a ReferenceError on the one browser path that reaches it.
JS_GLOBALS = frozenset("""
    Array BroadcastChannel Date Event EventTarget JSON Math MessageEvent Number Object RangeError RegExp
    String Symbol TypeError Uint8Array addEventListener crypto decodeURIComponent document
    encodeURIComponent isFinite location removeEventListener self top window
    __new__ __pragma__ __typeof__
""".split())


class BuildError(Exception):
    """A failure with a one-line explanation for the person running the build."""


# ----------------------------------------------------------------- helpers

def log_step(name: str, started: float, detail: str = '') -> None:
    print(f'  {name:<10} {(time.perf_counter() - started) * 1000:7.0f} ms  {detail}')


def run(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        tail = lines[-1] if lines else f'exit {proc.returncode}'
        raise BuildError(f'{Path(cmd[0]).name} failed: {tail}')
    return proc.stdout


def tool(name: str) -> str:
    """Path of an npm tool, installing the locked devDependencies when missing."""
    path = ROOT / 'node_modules' / '.bin' / name
    if not path.exists():
        if not shutil.which('npm'):
            raise BuildError(f'{name} is missing and npm is not installed: install Node.js 20 with npm, then run `npm ci`')
        print(f'  {name} not found: running `npm ci` (package-lock.json)')
        run(['npm', 'ci', '--no-audit', '--no-fund'], ROOT)
        if not path.exists():
            raise BuildError(f'`npm ci` did not install {name}: check package.json devDependencies')
    return str(path)


def transcrypt_binary() -> str:
    here = Path(sys.executable).parent / 'transcrypt'
    if here.exists():
        return str(here)
    found = shutil.which('transcrypt')
    if not found:
        raise BuildError('transcrypt is not installed: pip install -e ".[build]" (Transcrypt 3.9.5)')
    return found


def public_api(source: Path) -> list[str]:
    """The names listed in the module's __all__ (the single declaration of the API)."""
    try:
        tree = ast.parse(source.read_text(encoding='utf-8'), str(source))
    except SyntaxError as error:
        raise BuildError(f'py_src/{source.name}:{error.lineno}: {error.msg}') from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '__all__' for t in node.targets):
            return [ast.literal_eval(elt) for elt in node.value.elts]
    raise BuildError(f'{source.name} has no __all__: declare the public API there')


# --------------------------------------------------------- source maps (VLQ)

B64 = {c: i for i, c in enumerate('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}


def decode_vlq(segment: str) -> list[int]:
    values, shift, value = [], 0, 0
    for char in segment:
        digit = B64[char]
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        shift = value = 0
    return values


def source_lines(map_path: Path) -> list[int | None]:
    """For each generated line, the 1-based source line it maps to (first segment)."""
    mapping = json.loads(map_path.read_text(encoding='utf-8'))
    result, src_line = [], 0
    for line in mapping['mappings'].split(';'):
        first = None
        for segment in filter(None, line.split(',')):
            fields = decode_vlq(segment)
            if len(fields) >= 4:
                src_line += fields[2]
                first = first or src_line + 1
        result.append(first)
    return result


# ------------------------------------------------------------------ guards

def runtime_patched_methods(transcrypt: str) -> set[str]:
    """Methods Transcrypt's runtime patches onto built-in prototypes."""
    package = Path(transcrypt).resolve().parent.parent / 'lib'
    builtin = next(package.glob('python3*/site-packages/transcrypt/modules/org/transcrypt/__builtin__.js'), None)
    if builtin is None:  # an unusual install layout: ask Python where the package is
        import transcrypt  # noqa: PLC0415
        builtin = Path(transcrypt.__file__).parent / 'modules/org/transcrypt/__builtin__.js'
    text = builtin.read_text(encoding='utf-8')
    names = set(re.findall(r'\b(?:String|Array|Number|Uint8Array|Function)\.prototype\.(\w+)\s*=', text))
    names |= set(re.findall(r"__setproperty__\s*\(\s*\w+\.prototype\s*,\s*'(\w+)'", text))
    return names


# Patched names that are also real methods of built-ins or the DOM: a call may be
# legitimate (Array.prototype.find, Set.prototype.add, Element.remove...).
NATIVE_TOO = {'find', 'join', 'add', 'remove', 'append', 'index'}


def undefined_names(module: Path) -> list[str]:
    """Names the module reads but never defines (nor lists in JS_GLOBALS), as 'file.py:line: what'."""
    source = module.read_text(encoding='utf-8')
    top = symtable.symtable(source, module.name, 'exec')
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    missing = set()
    tables = [top]
    while tables:
        table = tables.pop()
        tables += table.get_children()
        for symbol in table.get_symbols():
            # A name a function reads that is neither its own nor an enclosing function's is a global.
            if symbol.is_referenced() and (table is top or symbol.is_global()):
                missing.add(symbol.get_name())
    missing -= defined | JS_GLOBALS
    first_line = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in missing:
            first_line[node.id] = min(first_line.get(node.id, node.lineno), node.lineno)
    return [f'py_src/{module.name}:{first_line.get(name, "?")}: {name} is not defined '
            f'(a typo, or a browser global to add to JS_GLOBALS in scripts/build.py)'
            for name in sorted(missing, key=lambda name: (first_line.get(name, 0), name))]


def check_generated_module(js: Path, patched: set[str]) -> list[str]:
    """Problems in one Transcrypt output file, each as 'file.py:line: what'."""
    lines = js.read_text(encoding='utf-8').split('\n')
    py_line = source_lines(js.with_suffix('.map'))
    py_name = js.with_suffix('.py').name
    fatal = patched - NATIVE_TOO
    problems = []
    for number, text in enumerate(lines):
        if text.startswith('import ') or text.startswith('//'):
            continue
        where = f'py_src/{py_name}:{py_line[number] if number < len(py_line) and py_line[number] else "?"}'
        code = code_only(text)
        for name in re.findall(r'\.\s*(\w+)\s*\(', code):
            if name in fatal:
                problems.append(f"{where}: calls .{name}(), which only Transcrypt's runtime defines")
        for name in re.findall(r'\bpy_\w+', code):
            problems.append(f"{where}: '{name}' is a Transcrypt alias (use js_{name[3:]} or __pragma__('noalias', '{name[3:]}'))")
    return problems


STRING_LITERAL = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|//.*""")


def code_only(line: str) -> str:
    """A line of generated JS with its string literals and comments blanked."""
    return STRING_LITERAL.sub('""', line)


def uses_name(line: str, name: str) -> bool:
    return re.search(r'(?<![\w.$])' + re.escape(name) + r'(?![\w$])', code_only(line)) is not None


def runtime_names_used(js: Path) -> list[str]:
    """Runtime names a generated module imports and then uses in its body."""
    text = js.read_text(encoding='utf-8')
    imported = re.search(r"^import \{([^}]*)\} from '\./org\.transcrypt\.__runtime__\.js';", text, re.M)
    if not imported:
        return []
    body = text[imported.end():].split('\n')
    names = [n.strip() for n in imported.group(1).split(',')]
    return [n for n in names if any(uses_name(line, n) for line in body)]


def guard_runtime(meta: dict, out_name: str, out_dir: Path) -> None:
    for output, info in meta['outputs'].items():
        if output.endswith('.map'):
            continue
        leaked = {path: data['bytesInOutput'] for path, data in info['inputs'].items()
                  if RUNTIME_INPUT.search(path) and data['bytesInOutput']}
        if leaked:
            total = sum(leaked.values())
            culprits = []
            for module in sorted(out_dir.glob('*.js')):
                if RUNTIME_INPUT.search(module.name):
                    continue
                used = runtime_names_used(module)
                lines = source_lines(module.with_suffix('.map'))
                body = module.read_text(encoding='utf-8').split('\n')
                for name in used:
                    hit = next((i for i, t in enumerate(body) if not t.startswith('import ')
                                and uses_name(t, name)), None)
                    line = lines[hit] if hit is not None and hit < len(lines) else None
                    culprits.append(f'py_src/{module.stem}.py:{line or "?"} uses {name}()')
            raise BuildError(f"{out_name} would carry {total} bytes of Transcrypt's runtime: "
                             + ('; '.join(culprits) or 'see the build metafile'))


# ------------------------------------------------------------------- steps

def transpile(src: Path, work: Path) -> Path:
    out = work / 'transcrypt'
    # Transcrypt resolves a relative -od against the source file and -b wipes it.
    run([transcrypt_binary(), '-b', '-n', '-m', '-od', str(out), str(src / f'{MODULE}.py')], src)
    # The build folder's package.json lets esbuild drop the unused runtime whole.
    (work / 'package.json').write_text('{"sideEffects": false}\n', encoding='utf-8')
    return out


def write_entries(api: list[str], work: Path) -> dict[str, Path]:
    names = ', '.join(api)
    source = f"./transcrypt/{MODULE}.js"
    classic = work / 'entry-classic.js'
    classic.write_text(f"import {{{names}}} from '{source}';\n"
                       f"// The classic script defines exactly one global.\n"
                       f"self.{GLOBAL_NAME} = {{{names}}};\n", encoding='utf-8')
    module = work / 'entry-module.js'
    module.write_text(f"export {{{names}}} from '{source}';\n", encoding='utf-8')
    return {'iife': classic, 'esm': module}


def bundle(entry: Path, fmt: str, staged: Path) -> dict:
    meta = staged.with_suffix('.meta.json')
    # Not minified here: terser compresses a little better from readable code.
    run([tool('esbuild'), str(entry), '--bundle', f'--format={fmt}', f'--target={TARGET}',
         '--sourcemap', '--legal-comments=none', '--log-level=warning',
         f'--metafile={meta}', f'--outfile={staged}'], entry.parent)
    return json.loads(meta.read_text(encoding='utf-8'))


def minify(staged: Path, fmt: str, final: Path) -> None:
    """terser compresses; esbuild then renames and prints the result.

    esbuild's renamer gives the same short names to the same roles in every
    function (most used first), which gzip rewards: about 30 B less than
    terser's own names. Each step reads the previous step's source map.
    """
    squeezed = staged.with_name('terser-' + final.name)
    args = [tool('terser'), str(staged), '--compress', 'passes=3,pure_getters=true,unsafe_arrows=true', '--mangle',
            '--ecma', '2017', '--comments', 'false',
            '--source-map', f"content='{staged}.map',url='{squeezed.name}.map'",
            '-o', str(squeezed)]
    if fmt == 'esm':
        args.insert(2, '--module')
    run(args, staged.parent)
    run([tool('esbuild'), str(squeezed), '--minify', f'--target={TARGET}', '--sourcemap',
         '--legal-comments=none', '--log-level=warning', f'--outfile={final}'], staged.parent)


def rewrite_map(final: Path, src: Path, work: Path) -> None:
    """Point the source map at py_src/*.py relative to dist/, with content embedded."""
    map_path = final.with_name(final.name + '.map')
    mapping = json.loads(map_path.read_text(encoding='utf-8'))
    sources, contents = [], []
    for name in mapping['sources']:
        base = Path(name).name
        if base.endswith('.py'):
            py = src / base
            sources.append(f'../py_src/{base}')   # dist/ and py_src/ are siblings
            contents.append(py.read_text(encoding='utf-8'))
        else:  # the generated entry file: keep its text, drop this machine's path
            sources.append(f'session-utils:{base}')
            entry = work / base
            contents.append(entry.read_text(encoding='utf-8') if entry.exists() else None)
    mapping.update(file=final.name, sources=sources, sourcesContent=contents)
    mapping.pop('sourceRoot', None)
    map_path.write_text(json.dumps(mapping, separators=(',', ':')) + '\n', encoding='utf-8')


def sizes(path: Path) -> tuple[int, int, int]:
    import brotli  # noqa: PLC0415  (only needed once the bundles exist)
    data = path.read_bytes()
    return len(data), len(gzip.compress(data, 9, mtime=0)), len(brotli.compress(data, quality=11))


def build(src: Path, dist: Path, work: Path) -> list[Path]:
    """Run every step; return the files written to dist/."""
    module = src / f'{MODULE}.py'
    if not module.exists():
        raise BuildError(f'{module} does not exist')
    api = public_api(module)
    patched = runtime_patched_methods(transcrypt_binary())

    started = time.perf_counter()
    generated = transpile(src, work)
    log_step('transpile', started, f'{len(list(src.glob("*.py")))} Python file(s) -> {generated.relative_to(work.parent) if work.is_relative_to(ROOT) else generated}')

    started = time.perf_counter()
    problems = undefined_names(module) + [p for js in sorted(generated.glob('*.js')) if not RUNTIME_INPUT.search(js.name)
                                          for p in check_generated_module(js, patched)]
    if problems:
        raise BuildError(f'{problems[0]}' + (f' (and {len(problems) - 1} more)' if len(problems) > 1 else ''))
    entries = write_entries(api, work)
    log_step('guard', started, f'{len(api)} exports, no undefined names, no runtime-only method calls')

    dist.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fmt in BUNDLES:
        started = time.perf_counter()
        staged = work / f'esbuild-{name}'
        meta = bundle(entries[fmt], fmt, staged)
        guard_runtime(meta, name, generated)
        final = dist / name
        minify(staged, fmt, final)
        rewrite_map(final, src, work)
        written += [final, final.with_name(final.name + '.map')]
        log_step('bundle', started, f'{name} ({fmt}, {TARGET}, no runtime bytes)')

    started = time.perf_counter()
    written.append(write_declarations(module, dist))
    log_step('types', started, f'{written[-1].name} from the Python signatures and docstrings')
    return written


def write_declarations(module: Path, dist: Path) -> Path:
    """dist/session-utils.d.ts, generated from the Python source (scripts/gen_types.py)."""
    sys.path.insert(0, str(ROOT / 'scripts'))
    import gen_types  # noqa: PLC0415
    try:
        text = gen_types.render(module)
    except gen_types.TypesError as error:
        raise BuildError(f'types: {error}') from None
    target = dist / 'session-utils.d.ts'
    target.write_text(text, encoding='utf-8')
    return target


def install(staged: Path, dist: Path) -> None:
    """Move the staged files into dist/, each one atomically.

    An interrupted or failed build leaves every file in dist/ either as it was
    or complete, never half-written; unchanged files are not touched.
    """
    dist.mkdir(parents=True, exist_ok=True)
    for source in sorted(staged.iterdir()):
        target = dist / source.name
        if target.exists() and target.read_bytes() == source.read_bytes():
            continue
        temporary = target.with_name(f'.{target.name}.tmp')
        try:
            shutil.copyfile(source, temporary)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)


def print_sizes(files: list[Path]) -> None:
    print(f'\n  {"file":<28} {"raw":>7} {"gzip -9":>8} {"brotli":>7}')
    for path in files:
        if path.suffix in ('.map', '.ts'):
            continue
        raw, gz, br = sizes(path)
        print(f'  {path.name:<28} {raw:>7,} {gz:>8,} {br:>7,}')


def stale_files(fresh: Path, committed: Path) -> list[str]:
    names = sorted({p.name for p in fresh.iterdir()} | {p.name for p in committed.glob('*') if p.is_file()})
    return [n for n in names if not (fresh / n).exists() or not (committed / n).exists()
            or (fresh / n).read_bytes() != (committed / n).read_bytes()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     epilog='Exit codes: 0 ok, 1 dist/ stale (--check), 2 build failed.')
    parser.add_argument('--check', action='store_true',
                        help='build into build/dist only and fail (exit 1) if dist/ differs')
    parser.add_argument('--src', type=Path, default=ROOT / 'py_src', help='Python source folder (default: py_src/)')
    parser.add_argument('--dist', type=Path, default=ROOT / 'dist', help='output folder (default: dist/)')
    parser.add_argument('--work', type=Path, default=ROOT / 'build',
                        help='scratch folder for Transcrypt output, wiped each build (default: build/)')
    parser.add_argument('--no-size-report', action='store_true',
                        help='do not run scripts/size_report.py --write after the build')
    args = parser.parse_args(argv)
    src, dist = args.src.resolve(), args.dist.resolve()

    total = time.perf_counter()
    work = args.work.resolve()
    staged = work / 'dist'
    try:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        print(f'building {src.name}/{MODULE}.py -> {"(staged only: --check)" if args.check else dist}')
        files = build(src, staged, work)
        print_sizes(files)
        print(f'\n  total      {(time.perf_counter() - total) * 1000:7.0f} ms')
        if args.check:
            stale = stale_files(staged, dist)
            if stale:
                print(f'build: dist/ is stale ({", ".join(stale)}) — run: python scripts/build.py', file=sys.stderr)
                return 1
            print('dist/ matches a fresh build')
            return 0
        install(staged, dist)
    except BuildError as error:
        print(f'build: {error}', file=sys.stderr)
        return 2
    except OSError as error:
        print(f'build: cannot write {error.filename or dist}: {error.strerror}', file=sys.stderr)
        return 2
    if args.no_size_report or dist != ROOT / 'dist' or not (ROOT / 'scripts' / 'size_report.py').exists():
        return 0
    sys.path.insert(0, str(ROOT / 'scripts'))
    import size_report  # noqa: PLC0415
    print()
    return size_report.main(['--write'])


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""Generate dist/session-utils.d.ts from py_src/session_utils.py.

Python stays the single source of truth for the API:
  names       the module's `__all__`, in its order (the build exports exactly these);
  parameters  each public function's parameter names, in order;
  types       each parameter's and return's annotation, a string holding a
              TypeScript type, e.g. `def getSession(minutes: 'number | null | undefined')`.
              A union with `undefined` makes the parameter optional (`minutes?:`).
              Transcrypt 3.9.5 ignores string annotations: the JavaScript it emits
              is byte-for-byte the same with or without them;
  docs        each public function's docstring becomes its JSDoc;
  fields      the session's fields must be exactly the source's RESERVED names (a
              list, or an anchored regular expression; minus the three prototype
              keys), and the options of configure() the keys of its `settings` dict.

What Python cannot say lives in one place, the tables below: the TypeScript type
and description of every field and option (checked against the source's lists,
so a field added in Python without a type here is an error), the type aliases,
extra overloads.

Usage
  python scripts/gen_types.py            write dist/session-utils.d.ts
  python scripts/gen_types.py --check    exit 1 if that file is stale (for CI)
  python scripts/gen_types.py --stdout   print the declarations

Exit codes: 0 ok, 1 stale (--check), 2 the source cannot be declared (an export
that is not a function, a parameter or return without a type, a field or
option without a type here).
"""
from __future__ import annotations

import argparse
import ast
import difflib
import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / 'py_src' / 'session_utils.py'
OUTPUT = ROOT / 'dist' / 'session-utils.d.ts'
GLOBAL_NAME = 'sessionUtils'           # the global the classic script defines
PROTOTYPE_KEYS = ('__proto__', 'constructor', 'prototype')

# ------------------------------------------------------------------ tables
# Fields of the records the API returns: name -> (TypeScript type, description).
# Optional fields end in '?'. Every non-prototype name of RESERVED must be here.
FIELDS = {
    'id': ('string', 'A lowercase RFC 4122 version-4 UUID.'),
    'created': ('number', 'When the session started, in milliseconds since the epoch.'),
    'createdAt': ('string', '`created` as an ISO-8601 string.'),
    'expires': ('number', 'When the session ends, in milliseconds since the epoch.'),
    'expiresAt': ('string', '`expires` as an ISO-8601 string.'),
    'modified?': ('number', 'When `extendSession` last moved the expiry (absent until then), in milliseconds since the epoch.'),
    'modifiedAt?': ('string', '`modified` as an ISO-8601 string.'),
    'duration': ('number', 'The length the session was given: minutes × 60000.'),
    'elapsed': ('number', 'Milliseconds since `created` (never negative). Computed on each call, never stored.'),
    'remaining': ('number', 'Milliseconds until `expires`, at least 0. Computed on each call, never stored.'),
    'isExpired': ('boolean', '`remaining === 0`. Computed on each call, never stored.'),
    'isNew': ('boolean', 'True when this call started the session. Computed on each call, never stored.'),
}
EXTRA_FIELDS = ('[extra: string]: unknown', 'The fields of `extra` passed to `setSession` or `extendSession`.')

# Options of configure(), the same keys as the source's `settings` dict:
# name -> (type as an option, type in the effective settings, description).
OPTIONS = {
    'minutes': ('number | null', 'number',
                'Default session length in minutes: > 0 and <= 576000, 30 unless configured. '
                'As an option, `null` keeps the current default.'),
    'name': ('string', 'string', "Cookie (and localStorage key) name, an RFC 6265 token: `'__session'` unless configured."),
    'domain': ("'auto' | (string & {})", 'string',
               "Cookie domain: `''` (default) for a host-only cookie, e.g. `'example.com'` to share the session "
               "across its subdomains, or `'auto'` for the highest domain that accepts a cookie. "
               'The effective settings hold the resolved domain.'),
    'sameSite': ('SameSite', 'SameSite', "The cookie's SameSite attribute: `'Lax'` unless configured; `'None'` forces `secure`."),
    'secure': ('boolean | null', 'boolean',
               'Whether the cookie gets the Secure attribute. As an option, `null` (default) means: on https pages. '
               'The effective settings hold the resolved boolean.'),
}

# Interfaces: name -> (extends, fields from FIELDS (or '@extra'), description).
SESSION_DATA = ('id', 'created', 'createdAt')
SHORT_FIELDS = ('elapsed', 'isNew')       # what a tab or page session adds to SessionData
COMPUTED = ('elapsed', 'remaining', 'isExpired', 'isNew')   # computed per call, never stored
INTERFACES_DOC = {
    'SessionData': 'A fresh id and creation time, as returned by `sessionData()`.',
    'TabSession': 'A tab or page session, as returned by `getTabSession()` and `getPageSession()`.',
    'PersistedSession': 'The persisted session as stored: what `getSession(minutes, true)` returns.',
    'Session': 'The persisted session with the fields computed on each call.',
    'SessionSettings': 'The effective settings, as returned by `configure()`.',
    'ConfigureOptions': 'Options of `configure()`. An unknown key is a TypeError; a bad value a TypeError or RangeError naming the option.',
}

ALIASES = [
    ('PageSession', 'TabSession', 'A page session has the same shape as a tab session.'),
    ('SameSite', "'Lax' | 'Strict' | 'None'", "A cookie's SameSite attribute."),
    ('ChangeReason', "'start' | 'extend' | 'remove'",
     "Why a session changed: `'start'` a new session began, `'extend'` its expiry moved, `'remove'` it was removed."),
    ('SessionChangeCallback', '(session: Session | null, reason: ChangeReason, remote: boolean) => void',
     "Called on every change of the persisted session: `session` is null on `'remove'`; "
     '`remote` is true when another tab of this origin made the change.'),
    ('Unsubscribe', '() => void', 'Stops the listener: it is never called again.'),
    ('SessionExtra', 'Record<string, unknown>',
     'Extra fields to store with the session: a plain object; keys naming a session field are ignored.'),
]

# Signatures declared before the general one, to narrow the return type.
OVERLOADS = {
    'getSession': [
        '(minutes?: number | null, persistedOnly?: false): Session',
        '(minutes: number | null | undefined, persistedOnly: true): PersistedSession',
    ],
}

class TypesError(Exception):
    """The source cannot be declared; the message says where and what to add."""


# ------------------------------------------------------------------ source

def module_lists(tree: ast.Module) -> dict[str, object]:
    """Module-level constants: lists (literals, `+`, `.concat(...)`) and dict keys."""
    values: dict[str, object] = {}

    def value(node: ast.AST):
        if isinstance(node, ast.List):
            return [value(element) for element in node.elts]
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name) and node.id in values:
            return values[node.id]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return value(node.left) + value(node.right)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == 'concat'):
            result = list(value(node.func.value))
            for argument in node.args:
                result += value(argument)
            return result
        if isinstance(node, ast.Dict):
            return {value(key): None for key in node.keys}
        raise ValueError(ast.dump(node))

    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = value(node.value)
            except ValueError:
                pass
    return values


def public_api(tree: ast.Module, constants: dict) -> list[str]:
    api = constants.get('__all__')
    if not isinstance(api, list) or not all(isinstance(name, str) for name in api):
        raise TypesError('the module has no __all__ list of names: declare the public API there')
    return api


def annotation(node: ast.AST | None, where: str) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return ' '.join(node.value.split())
    raise TypesError(f"{where}: annotate with a string holding a TypeScript type, e.g. 'number | undefined'")


def jsdoc(text: str | None, indent: str = '') -> list[str]:
    if not text:
        return []
    lines = inspect.cleandoc(text).replace('*/', '*\\/').splitlines()
    if len(lines) == 1:
        return [f'{indent}/** {lines[0]} */']
    return [f'{indent}/**'] + [f'{indent} *{" " + line if line else ""}' for line in lines] + [f'{indent} */']


def split_optional(ts_type: str) -> tuple[str, bool]:
    """'number | null | undefined' -> ('number | null', True)."""
    parts = [part.strip() for part in re.split(r'\|(?![^(<{\[]*[)>}\]])', ts_type)]
    if 'undefined' in parts and len(parts) > 1:
        return ' | '.join(part for part in parts if part != 'undefined'), True
    return ts_type, False


def function_declarations(tree: ast.Module, api: list[str]) -> list[str]:
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    lines: list[str] = []
    for name in api:
        node = functions.get(name)
        if node is None:
            raise TypesError(f'{name} is in __all__ but is not a module-level function')
        arguments = node.args
        if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or arguments.posonlyargs:
            raise TypesError(f'{name}: only plain positional parameters can be declared')
        params: list[str] = []
        seen_optional = False
        for argument in arguments.args:
            where = f'{name}({argument.arg})'
            ts_type = annotation(argument.annotation, where)
            if ts_type is None:
                raise TypesError(f"{where} has no type: annotate it in the source "
                                 f"({argument.arg}: 'number | undefined')")
            ts_type, optional = split_optional(ts_type)
            if seen_optional and not optional:
                raise TypesError(f'{where} is required but follows an optional parameter')
            seen_optional = seen_optional or optional
            params.append(f'{argument.arg}{"?" if optional else ""}: {ts_type}')
        returns = annotation(node.returns, f'{name}() return')
        if returns is None:
            raise TypesError(f"{name}() has no return type: annotate it in the source (-> 'Session')")
        doc = jsdoc(ast.get_docstring(node))
        for overload in OVERLOADS.get(name, []):
            names = re.findall(r'(\w+)\??:', overload.split(')')[0])
            if names != [argument.arg for argument in arguments.args]:
                raise TypesError(f'OVERLOADS[{name!r}] has parameters {names}, the source has '
                                 f'{[argument.arg for argument in arguments.args]}')
        signatures = OVERLOADS.get(name, []) + [f'({", ".join(params)}): {returns}']
        for signature in signatures:
            lines += doc + [f'export function {name}{signature};']
        lines.append('')
    return lines


def regex_words(pattern: str) -> list[str]:
    """Every string a finite, anchored regular expression matches (literals,
    groups, alternatives and `?` only), e.g. '^(id|created(At)?)$'."""
    try:
        from re import _parser as sre_parse  # noqa: PLC0415  (Python 3.11+)
    except ImportError:  # pragma: no cover
        import sre_parse  # noqa: PLC0415

    def expand(items) -> list[str]:
        words = ['']
        for op, argument in items:
            name = str(op)
            if name == 'AT':
                continue
            if name == 'LITERAL':
                options = [chr(argument)]
            elif name == 'SUBPATTERN':
                options = expand(argument[-1])
            elif name == 'BRANCH':
                options = [word for branch in argument[1] for word in expand(branch)]
            elif name in ('MAX_REPEAT', 'MIN_REPEAT') and argument[:2] == (0, 1):
                options = [''] + expand(argument[2])
            elif name == 'IN' and all(str(kind) == 'LITERAL' for kind, _ in argument):
                options = [chr(code) for _, code in argument]
            else:
                raise TypesError(f'RESERVED: cannot list the words of /{pattern}/ ({name})')
            words = [word + option for word in words for option in options]
        return words

    if not (pattern.startswith('^') and pattern.endswith('$')):
        raise TypesError(f'RESERVED: /{pattern}/ must be anchored (^...$) to list its words')
    return expand(sre_parse.parse(pattern))


def check_tables(constants: dict) -> None:
    """The field and option tables must match the source exactly.

    The session's fields are the source's RESERVED (a list of names, or an
    anchored regular expression matching exactly those names) minus the
    prototype keys; its computed fields, the COMPUTED list when there is one;
    the options of configure(), the keys of the `settings` dict.
    """
    reserved = constants.get('RESERVED')
    if isinstance(reserved, str):
        reserved = regex_words(reserved)
    if not isinstance(reserved, list):
        raise TypesError('cannot read RESERVED from the source: keep it a module-level list '
                         '(literal, + or .concat) or an anchored regular expression string')
    fields = [key for key in reserved if key not in PROTOTYPE_KEYS]
    declared = [key.rstrip('?') for key in FIELDS]
    if sorted(fields) != sorted(declared):
        missing = sorted(set(fields) - set(declared))
        stale = sorted(set(declared) - set(fields))
        raise TypesError('session fields differ from RESERVED in the source: '
                         + (f'no type in FIELDS for {", ".join(missing)}' if missing else '')
                         + ('; ' if missing and stale else '')
                         + (f'FIELDS has {", ".join(stale)}, which RESERVED lacks' if stale else ''))
    computed = constants.get('COMPUTED')
    if isinstance(computed, list) and sorted(computed) != sorted(COMPUTED):
        raise TypesError(f'COMPUTED in the source is {", ".join(computed)}; '
                         f'scripts/gen_types.py says {", ".join(COMPUTED)}')
    for key in list(SESSION_DATA) + list(SHORT_FIELDS) + list(COMPUTED):
        if key not in declared:
            raise TypesError(f'{key} is used by an interface but is not a session field')
    settings = constants.get('settings')
    if not isinstance(settings, dict):
        raise TypesError('cannot read the `settings` dict from the source: keep it a module-level dict literal')
    if sorted(settings) != sorted(OPTIONS):
        raise TypesError(f'configure options differ: the source has {", ".join(settings)}; '
                         f'OPTIONS in scripts/gen_types.py has {", ".join(OPTIONS)}')


def field_lines(names) -> list[str]:
    lines = []
    for key, (ts_type, doc) in FIELDS.items():
        if key.rstrip('?') in names:
            lines += jsdoc(doc, '  ') + [f'  {key}: {ts_type};']
    return lines


def interface(name: str, extends: str | None, body: list[str]) -> list[str]:
    head = f'export interface {name}{" extends " + extends if extends else ""} {{'
    return jsdoc(INTERFACES_DOC[name]) + [head] + body + ['}', '']


def render(source: Path = SOURCE) -> str:
    """The declarations for the module at `source`, as text."""
    tree = ast.parse(source.read_text(encoding='utf-8'), str(source))
    constants = module_lists(tree)
    api = public_api(tree, constants)
    check_tables(constants)
    stored = [key.rstrip('?') for key in FIELDS if key.rstrip('?') not in COMPUTED
              and key.rstrip('?') not in SESSION_DATA]

    functions = function_declarations(tree, api)
    out = [
        f'// Generated by scripts/gen_types.py from py_src/{source.name}: do not edit.',
        '// Run `python scripts/gen_types.py` after changing the Python source.',
        '',
        '// The classic script (dist/session-utils.js) defines this global for <script> users;',
        '// ES module users import the same names from dist/session-utils.mjs.',
        f'export as namespace {GLOBAL_NAME};',
        '',
    ]
    for name, target, doc in ALIASES:
        out += jsdoc(doc) + [f'export type {name} = {target};', '']
    out += interface('SessionData', None, field_lines(SESSION_DATA))
    out += interface('TabSession', 'SessionData', field_lines(SHORT_FIELDS))
    out += interface('PersistedSession', 'SessionData',
                     field_lines(stored) + jsdoc(EXTRA_FIELDS[1], '  ') + [f'  {EXTRA_FIELDS[0]};'])
    out += interface('Session', 'PersistedSession', field_lines(COMPUTED))
    options, settings = [], []
    for key, (option_type, setting_type, doc) in OPTIONS.items():
        options += jsdoc(doc, '  ') + [f'  {key}?: {option_type};']
        settings += jsdoc(doc, '  ') + [f'  {key}: {setting_type};']
    out += interface('ConfigureOptions', None, options)
    out += interface('SessionSettings', None, settings)
    out += functions
    return '\n'.join(out).rstrip('\n') + '\n'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     epilog='Exit codes: 0 ok, 1 stale (--check), 2 the source cannot be declared.')
    parser.add_argument('--src', type=Path, default=SOURCE, help='Python module (default: py_src/session_utils.py)')
    parser.add_argument('--out', type=Path, default=OUTPUT, help='declaration file (default: dist/session-utils.d.ts)')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--check', action='store_true', help='exit 1 if --out differs from a fresh generation')
    mode.add_argument('--stdout', action='store_true', help='print the declarations instead of writing them')
    args = parser.parse_args(argv)
    try:
        text = render(args.src)
    except (TypesError, SyntaxError, OSError) as error:
        print(f'gen_types: {error}', file=sys.stderr)
        return 2
    if args.stdout:
        sys.stdout.write(text)
        return 0
    current = args.out.read_text(encoding='utf-8') if args.out.exists() else None
    if args.check:
        if current != text:
            diff = difflib.unified_diff((current or '').splitlines(), text.splitlines(),
                                        str(args.out), 'fresh', lineterm='', n=1)
            print('\n'.join(list(diff)[:40]), file=sys.stderr)
            print(f'gen_types: {args.out.name} is stale: run python scripts/gen_types.py', file=sys.stderr)
            return 1
        print(f'{args.out.name} is up to date')
        return 0
    if current != text:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding='utf-8')
        print(f'wrote {args.out}')
    else:
        print(f'{args.out.name} unchanged')
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""TypeScript declarations and the npm package.

- dist/session-utils.d.ts is generated from py_src/session_utils.py by
  scripts/gen_types.py and is up to date; every export has a declaration.
- `tsc --strict` accepts tests/types/usage.ts (every export, field and option,
  imported as 'session-utils') and tests/types/global.ts (the `sessionUtils`
  global of a classic script), and rejects wrong calls with the exact errors.
- The packed tarball holds exactly what a user needs, its types work when
  installed, and package.json's version is pyproject.toml's.
"""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))
import gen_types  # noqa: E402

TSC = ROOT / 'node_modules' / '.bin' / 'tsc'
DTS = ROOT / 'dist' / 'session-utils.d.ts'
SOURCE = ROOT / 'py_src' / 'session_utils.py'
TYPES = ROOT / 'tests' / 'types'
COMPILER = {'strict': True, 'noEmit': True, 'target': 'es2017', 'lib': ['es2017', 'dom'],
            'module': 'esnext', 'moduleResolution': 'bundler', 'skipDefaultLibCheck': True,
            'types': []}


def api() -> list[str]:
    tree = gen_types.ast.parse(SOURCE.read_text(encoding='utf-8'))
    return gen_types.public_api(tree, gen_types.module_lists(tree))


def tsc(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    if not TSC.exists():
        pytest.fail('node_modules/.bin/tsc is missing: run `npm ci`', pytrace=False)
    return subprocess.run([str(TSC), '--pretty', 'false', *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def errors(output: str) -> set[tuple[str, int, str]]:
    """{(file name, line, 'TS1234')} from tsc's output."""
    return {(Path(file).name, int(line), code)
            for file, line, code in re.findall(r'^(\S+?)\((\d+),\d+\): error (TS\d+)', output, re.M)}


def gen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / 'scripts' / 'gen_types.py'), *args],
                          capture_output=True, text=True, timeout=60)


# ------------------------------------------------------------ generation

def test_declarations_are_up_to_date():
    result = gen('--check')
    assert result.returncode == 0, result.stderr + '\nrun: python scripts/gen_types.py'
    assert DTS.read_text(encoding='utf-8') == gen_types.render(SOURCE)


def test_every_export_is_declared_and_nothing_else():
    text = DTS.read_text(encoding='utf-8')
    declared = list(dict.fromkeys(re.findall(r'^export function (\w+)\(', text, re.M)))
    assert declared == api()
    assert text.count('export as namespace sessionUtils;') == 1


def test_docstrings_and_parameters_come_from_the_source():
    text = DTS.read_text(encoding='utf-8')
    tree = gen_types.ast.parse(SOURCE.read_text(encoding='utf-8'))
    functions = {node.name: node for node in tree.body if isinstance(node, gen_types.ast.FunctionDef)}
    for name in api():
        node = functions[name]
        first_line = gen_types.ast.get_docstring(node).splitlines()[0]
        params = [argument.arg for argument in node.args.args]
        signature = re.findall(rf'^export function {name}\((.*)\): .*;$', text, re.M)[-1]
        assert re.findall(r'(\w+)\??:', re.sub(r'\([^()]*\)', '', signature)) == params, name
        assert f'{first_line}' in text, name


def write_module(tmp_path: Path, text: str) -> Path:
    path = tmp_path / 'session_utils.py'
    path.write_text(text, encoding='utf-8')
    return path


def test_an_export_without_types_fails_generation(tmp_path):
    text = SOURCE.read_text(encoding='utf-8').replace("'configure',", "'configure', 'newThing',")
    text += '\n\ndef newThing(count):\n    """A new export."""\n    return count\n'
    path = write_module(tmp_path, text)
    result = gen('--src', str(path), '--out', str(tmp_path / 'x.d.ts'))
    assert result.returncode == 2
    assert 'newThing(count) has no type' in result.stderr
    assert not (tmp_path / 'x.d.ts').exists()


def test_an_export_that_is_not_a_function_fails_generation(tmp_path):
    text = SOURCE.read_text(encoding='utf-8').replace("'configure',", "'configure', 'MINUTE',")
    result = gen('--src', str(write_module(tmp_path, text)), '--stdout')
    assert result.returncode == 2
    assert 'MINUTE is in __all__ but is not a module-level function' in result.stderr


def test_annotations_give_the_types_and_undefined_makes_a_parameter_optional(tmp_path):
    text = SOURCE.read_text(encoding='utf-8').replace("'configure',", "'configure', 'newThing',")
    text += ("\n\ndef newThing(count: 'number', label: 'string | undefined') -> 'Session[]':\n"
             '    """A new export.\n\n    With two lines of doc."""\n    return count\n')
    text = text.replace("def removeSession() -> 'void':", "def removeSession() -> 'boolean':")
    result = gen('--src', str(write_module(tmp_path, text)), '--stdout')
    assert result.returncode == 0, result.stderr
    assert ('/**\n * A new export.\n *\n * With two lines of doc.\n */\n'
            'export function newThing(count: number, label?: string): Session[];\n') in result.stdout
    assert 'export function removeSession(): boolean;' in result.stdout   # the annotation wins


def test_a_non_string_annotation_is_refused(tmp_path):
    text = SOURCE.read_text(encoding='utf-8').replace("def removeSession() -> 'void':", 'def removeSession() -> None:')
    result = gen('--src', str(write_module(tmp_path, text)), '--stdout')
    assert result.returncode == 2
    assert 'removeSession() return: annotate with a string holding a TypeScript type' in result.stderr


def test_a_new_session_field_without_a_type_fails_generation(tmp_path):
    text = SOURCE.read_text(encoding='utf-8')
    tree = gen_types.ast.parse(text)
    reserved = next(node for node in tree.body if isinstance(node, gen_types.ast.Assign)
                    and getattr(node.targets[0], 'id', '') == 'RESERVED')
    lines = text.splitlines(keepends=True)
    line = lines[reserved.lineno - 1]
    # Add a field named 'visits' whether RESERVED is a list or a regular expression.
    lines[reserved.lineno - 1] = (line.replace("'id',", "'id', 'visits',", 1) if "'id'," in line
                                  else line.replace('^(id|', '^(id|visits|', 1))
    assert lines[reserved.lineno - 1] != line
    result = gen('--src', str(write_module(tmp_path, ''.join(lines))), '--stdout')
    assert result.returncode == 2
    assert 'no type in FIELDS for visits' in result.stderr


def test_a_new_option_without_a_type_fails_generation(tmp_path):
    text = SOURCE.read_text(encoding='utf-8').replace("'secure': None}", "'secure': None, 'path': '/'}", 1)
    assert "'path': '/'" in text
    result = gen('--src', str(write_module(tmp_path, text)), '--stdout')
    assert result.returncode == 2
    assert 'configure options differ' in result.stderr and 'path' in result.stderr


def test_check_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / 'session-utils.d.ts'
    stale.write_text(DTS.read_text(encoding='utf-8').replace('export function configure', 'export function configur'))
    result = gen('--check', '--out', str(stale))
    assert result.returncode == 1
    assert 'session-utils.d.ts is stale' in result.stderr
    assert gen('--out', str(stale)).returncode == 0
    assert stale.read_text(encoding='utf-8') == DTS.read_text(encoding='utf-8')
    assert gen('--check', '--out', str(stale)).returncode == 0


def without_annotations(text: str) -> str:
    """The source with every public function's annotations removed (one-line headers)."""
    lines = text.splitlines(keepends=True)
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and (node.returns or any(a.annotation for a in node.args.args)):
            params = ', '.join(argument.arg for argument in node.args.args)
            lines[node.lineno - 1] = f'def {node.name}({params}):\n'
    return ''.join(lines)


def test_transcrypt_ignores_string_annotations(tmp_path):
    """The annotations gen_types reads cost nothing: Transcrypt emits the same JavaScript."""
    transcrypt = Path(sys.executable).parent / 'transcrypt'
    if not transcrypt.exists():
        pytest.skip('transcrypt is not installed in this Python')
    annotated = SOURCE.read_text(encoding='utf-8')
    plain = without_annotations(annotated)
    assert annotated != plain and "def getSession(minutes, persistedOnly):" in plain
    outputs = []
    for label, text in (('plain', plain), ('annotated', annotated)):
        folder = tmp_path / label
        folder.mkdir()
        (folder / 'session_utils.py').write_text(text, encoding='utf-8')
        subprocess.run([str(transcrypt), '-b', '-n', '-od', str(folder / 'out'), str(folder / 'session_utils.py')],
                       check=True, capture_output=True, timeout=120)
        js = (folder / 'out' / 'session_utils.js').read_text(encoding='utf-8')
        outputs.append(js.split('\n', 1)[1])            # drop the timestamp line
    assert outputs[0] == outputs[1]
    assert 'export var getSession = function (minutes, persistedOnly) {' in outputs[1]


# -------------------------------------------------------------- tsc

def test_usage_and_global_examples_compile_strict():
    """tests/types/tsconfig.json: --strict, imports resolved through package.json's exports."""
    usage = (TYPES / 'usage.ts').read_text(encoding='utf-8')
    for name in api():
        assert re.search(rf'\b{name}\(', usage), f'usage.ts never calls {name}'
    for field in gen_types.FIELDS:
        assert f'.{field.rstrip("?")}' in usage, f'usage.ts never reads .{field.rstrip("?")}'
    for option in gen_types.OPTIONS:
        assert re.search(rf'\b{option}[:,]', usage) and f'settings.{option}' in usage, option
    result = tsc('-p', str(TYPES / 'tsconfig.json'))
    assert result.returncode == 0, result.stdout + result.stderr


NEGATIVE = {
    # line -> (expected error, the statement)
    2: ('TS2769', "getSession('5');"),                          # no overload takes a string
    3: ('TS2353', "configure({ path: '/' });"),                 # unknown option
    4: ('TS2561', 'configure({ minute: 5 });'),                 # unknown option, near miss
    5: ('TS2820', "configure({ sameSite: 'lax' });"),
    6: ('TS2322', "configure({ secure: 'yes' });"),
    7: ('TS2345', "setSession(5, 'plan');"),                    # extra must be an object
    8: ('TS2322', 'export const a: number = getSession(5, true).elapsed;'),
    9: ('TS2345', "onSessionChange('callback');"),
    10: ('TS2339', 'sessionData().expires;'),
    11: ('TS2339', 'getTabSession().remaining;'),
    12: ('TS2339', 'removeSession().id;'),
    13: ('TS18047', 'onSessionChange((session) => session.id);'),   # null on 'remove'
    14: ('TS2367', "onSessionChange((session, reason) => reason === 'end');"),
    15: ('TS2686', 'sessionUtils.getSession();'),               # the global is for scripts only
    16: ('TS2554', 'getTabSession(true);'),
}


def test_wrong_calls_fail_with_the_expected_errors(tmp_path):
    lines = ["import { configure, getSession, getTabSession, onSessionChange, removeSession, "
             "sessionData, setSession } from 'session-utils';"]
    lines += [NEGATIVE[number][1] for number in sorted(NEGATIVE)]
    assert sorted(NEGATIVE) == list(range(2, len(lines) + 1))
    (tmp_path / 'wrong.ts').write_text('\n'.join(lines) + '\n')
    config = {'compilerOptions': {**COMPILER, 'paths': {'session-utils': [str(DTS)]}}, 'files': ['wrong.ts']}
    (tmp_path / 'tsconfig.json').write_text(json.dumps(config))
    result = tsc('-p', str(tmp_path / 'tsconfig.json'), cwd=tmp_path)
    assert result.returncode == 2
    assert errors(result.stdout) == {('wrong.ts', number, code) for number, (code, _) in NEGATIVE.items()}, result.stdout


# ------------------------------------------------------------ package

def package() -> dict:
    return json.loads((ROOT / 'package.json').read_text(encoding='utf-8'))


def test_package_version_is_pyproject_version():
    pyproject = tomllib.loads((ROOT / 'pyproject.toml').read_text(encoding='utf-8'))
    assert package()['version'] == pyproject['project']['version']
    assert re.fullmatch(r'\d+\.\d+\.\d+', package()['version'])


def test_package_fields():
    pkg = package()
    assert pkg['name'] == 'session-utils'
    assert pkg['license'] == 'MIT'
    assert pkg['sideEffects'] is False
    assert pkg['exports']['.'] == {'types': './dist/session-utils.d.ts',
                                   'import': './dist/session-utils.mjs',
                                   'default': './dist/session-utils.js'}
    assert list(pkg['exports']['.'])[0] == 'types'          # TypeScript needs it first
    assert pkg['main'] == pkg['unpkg'] == pkg['jsdelivr'] == './dist/session-utils.js'
    assert pkg['module'] == './dist/session-utils.mjs'
    assert pkg['types'] == './dist/session-utils.d.ts'
    assert pkg['scripts'] == {'build': 'python scripts/build.py', 'test': 'python -m pytest'}
    assert 'typescript' in pkg['devDependencies'] and pkg['keywords'] and pkg['description']
    lock = json.loads((ROOT / 'package-lock.json').read_text(encoding='utf-8'))
    assert lock['packages']['node_modules/typescript']['version'] == pkg['devDependencies']['typescript']
    for target in [pkg['main'], pkg['module'], pkg['types'], *pkg['exports']['.'].values()]:
        assert (ROOT / target).is_file(), target


EXPECTED_FILES = ['CHANGELOG.md', 'LICENSE', 'README.md', 'dist/session-utils.d.ts', 'dist/session-utils.js',
                  'dist/session-utils.js.map', 'dist/session-utils.mjs', 'dist/session-utils.mjs.map',
                  'package.json']


def npm() -> str:
    found = shutil.which('npm')
    if not found:
        pytest.fail('npm is not installed: install Node.js 20 with npm', pytrace=False)
    return found


def test_npm_pack_lists_exactly_what_a_user_needs():
    assert (ROOT / 'README.md').is_file(), 'README.md is missing: the package must ship one'
    result = subprocess.run([npm(), 'pack', '--dry-run', '--json', '--ignore-scripts'], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    files = sorted(entry['path'] for entry in json.loads(result.stdout)[0]['files'])
    assert files == EXPECTED_FILES


@pytest.fixture(scope='module')
def installed(tmp_path_factory) -> Path:
    """A consumer project with the packed tarball installed in node_modules/session-utils."""
    if not (ROOT / 'README.md').is_file():
        pytest.fail('README.md is missing: the package must ship one', pytrace=False)
    project = tmp_path_factory.mktemp('consumer')
    result = subprocess.run([npm(), 'pack', '--json', '--ignore-scripts', '--pack-destination', str(project)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    tarball = project / json.loads(result.stdout)[0]['filename']
    target = project / 'node_modules' / 'session-utils'
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            member.name = member.name.removeprefix('package/')
        archive.extractall(target, filter='data')
    return project


def test_installed_package_types_work_for_imports_and_scripts(installed):
    shutil.copy(TYPES / 'usage.ts', installed / 'usage.ts')
    (installed / 'usage.mts').write_text(
        "import { getSession, type Session } from 'session-utils';\nexport const s: Session = getSession();\n")
    (installed / 'script.ts').write_text(
        '/// <reference types="session-utils" />\n'
        'const visit: sessionUtils.Session = sessionUtils.getSession();\nconsole.log(visit.id);\n')
    for resolution, module, files in (('bundler', 'esnext', ['usage.ts', 'script.ts']),
                                      ('nodenext', 'nodenext', ['usage.mts'])):
        config = {'compilerOptions': {**COMPILER, 'moduleResolution': resolution, 'module': module},
                  'files': files}
        (installed / 'tsconfig.json').write_text(json.dumps(config))
        result = tsc('-p', str(installed / 'tsconfig.json'), '--traceResolution', cwd=installed)
        assert result.returncode == 0, resolution + '\n' + '\n'.join(
            line for line in result.stdout.splitlines() if 'error' in line)
        assert ("Module name 'session-utils' was successfully resolved to "
                f"'{installed / 'node_modules/session-utils/dist/session-utils.d.ts'}'") in result.stdout

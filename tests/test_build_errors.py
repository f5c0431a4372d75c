"""The build fed bad inputs: a documented exit code, one line, nothing half-written.

(The size report's own error cases are in test_size_report.py.)
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))
import build  # noqa: E402


def run_build(*args):
    return subprocess.run([sys.executable, str(ROOT / 'scripts' / 'build.py'), '--no-size-report', *args],
                          capture_output=True, text=True, timeout=120)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith('build: ')
    return lines[0]


def test_missing_source_is_exit_2_with_one_line(tmp_path):
    proc = run_build('--src', str(tmp_path / 'nowhere'), '--dist', str(tmp_path / 'dist'),
                     '--work', str(tmp_path / 'work'))
    assert proc.returncode == 2
    assert 'session_utils.py does not exist' in one_line(proc.stderr)
    assert not (tmp_path / 'dist').exists()


def test_python_syntax_error_is_exit_2_and_dist_untouched(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'session_utils.py').write_text("__all__ = ['f']\ndef f(:\n    pass\n", encoding='utf-8')
    dist = tmp_path / 'dist'
    dist.mkdir()
    (dist / 'session-utils.js').write_text('old', encoding='utf-8')
    proc = run_build('--src', str(src), '--dist', str(dist), '--work', str(tmp_path / 'work'))
    assert proc.returncode == 2
    one_line(proc.stderr)
    assert [p.name for p in dist.iterdir()] == ['session-utils.js']
    assert (dist / 'session-utils.js').read_text(encoding='utf-8') == 'old'


def test_unwritable_dist_is_exit_2_with_one_line(tmp_path):
    blocker = tmp_path / 'dist'
    blocker.write_text('a file where the folder should be', encoding='utf-8')
    proc = run_build('--dist', str(blocker), '--work', str(tmp_path / 'work'))
    assert proc.returncode == 2
    assert 'cannot write' in one_line(proc.stderr)
    assert blocker.read_text(encoding='utf-8') == 'a file where the folder should be'


def staged_and_old(tmp_path):
    staged, dist = tmp_path / 'staged', tmp_path / 'dist'
    staged.mkdir()
    dist.mkdir()
    for name in ('a.js', 'b.js', 'c.js'):
        (staged / name).write_bytes(b'new ' * 5000)
        (dist / name).write_bytes(b'old')
    return staged, dist


def test_an_interrupted_install_leaves_no_half_written_file(tmp_path, monkeypatch):
    staged, dist = staged_and_old(tmp_path)
    real_replace, calls = os.replace, []

    def replace_then_die(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise KeyboardInterrupt       # the person pressed Ctrl-C mid-install
        real_replace(source, target)

    monkeypatch.setattr(build.os, 'replace', replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        build.install(staged, dist)
    contents = {p.name: p.read_bytes() for p in dist.iterdir()}
    assert sorted(contents) == ['a.js', 'b.js', 'c.js']           # no .tmp file left behind
    assert contents['a.js'] == b'new ' * 5000
    assert contents['b.js'] == contents['c.js'] == b'old'


def test_a_failing_copy_leaves_the_old_file(tmp_path, monkeypatch):
    staged, dist = staged_and_old(tmp_path)

    def copy_half(source, target):
        Path(target).write_bytes(Path(source).read_bytes()[:7])   # half a file, then the disk is full
        raise OSError(28, 'No space left on device', str(target))

    monkeypatch.setattr(build.shutil, 'copyfile', copy_half)
    with pytest.raises(OSError):
        build.install(staged, dist)
    assert {p.name: p.read_bytes() for p in dist.iterdir()} == {n: b'old' for n in ('a.js', 'b.js', 'c.js')}


def test_install_skips_unchanged_files(tmp_path):
    staged, dist = staged_and_old(tmp_path)
    shutil.copyfile(staged / 'a.js', dist / 'a.js')
    before = (dist / 'a.js').stat().st_mtime_ns
    os.utime(dist / 'a.js', ns=(before - 10**9, before - 10**9))
    build.install(staged, dist)
    assert (dist / 'a.js').stat().st_mtime_ns == before - 10**9
    assert (dist / 'b.js').read_bytes() == b'new ' * 5000


def test_an_undefined_name_stops_the_build_naming_its_line(tmp_path):
    """A deleted helper compiles fine with Transcrypt; the guard stops the build at its first use."""
    source = (ROOT / 'py_src' / 'session_utils.py').read_text(encoding='utf-8')
    start = source.index('def elapsed(record):')
    broken = source[:start] + source[source.index('\n\n\n', start) + 3:]
    first_use = next(number for number, line in enumerate(broken.split('\n'), 1) if 'elapsed(record)' in line)
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'session_utils.py').write_text(broken, encoding='utf-8')
    proc = run_build('--src', str(src), '--dist', str(tmp_path / 'dist'), '--work', str(tmp_path / 'work'))
    assert proc.returncode == 2
    assert one_line(proc.stderr).startswith(f'build: py_src/session_utils.py:{first_use}: elapsed is not defined')
    assert not (tmp_path / 'dist').exists()


def test_undefined_names_sees_through_nested_scopes(tmp_path):
    assert build.undefined_names(ROOT / 'py_src' / 'session_utils.py') == []
    sample = tmp_path / 'sample.py'
    sample.write_text('x = 1\n'
                      'def f(a):\n'
                      '    def g():\n'
                      '        return a + x + y + JSON.parse(a)\n'   # a: enclosing, x: module, JSON: listed
                      '    return g() + windwo.top\n', encoding='utf-8')
    found = build.undefined_names(sample)
    assert [line.split(' is not defined')[0] for line in found] == ['py_src/sample.py:4: y',
                                                                     'py_src/sample.py:5: windwo']

"""Tests for scripts/size_report.py, run against a throwaway repo in tmp_path."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "size_report.py"
_spec = importlib.util.spec_from_file_location("size_report", SCRIPT)
size_report = importlib.util.module_from_spec(_spec)
sys.modules["size_report"] = size_report
_spec.loader.exec_module(size_report)

JS = "dist/session-utils.js"
MJS = "dist/session-utils.mjs"
BODY = "".join(f"function f{i}(a, b) {{ return a * {i} + b; }}\n" for i in range(40))
BUNDLES = {JS: BODY.encode(), MJS: ("export " + BODY.replace("\n", "\nexport ")).encode()}
PKG_START = "<!-- AUTO-GENERATED-CONTENT:START (pkgSize) -->"
TABLE_START = "<!-- AUTO-GENERATED-CONTENT:START (sizeTable) -->"
END = "<!-- AUTO-GENERATED-CONTENT:END -->"
PKG_LINE = f"A tiny session utility library in {PKG_START}`0 bytes`{END}."
README = f"# session-utils\n\n{PKG_LINE}\n\n## Size\n\n{TABLE_START}\nold table\n{END}\n\nFooter.\n"
BUDGETS = {"raw": 10_000, "gzip": 5_000, "brotli": 5_000}


def config_text(budgets: dict[str, dict[str, object]] | None = None, extra: str = "") -> str:
    budgets = budgets if budgets is not None else {JS: BUDGETS, MJS: BUDGETS}
    lines = ['[project]', 'name = "fake"', "", "[tool.session-utils.size]", 'readme = "README.md"']
    lines.append(extra)
    for path, metrics in budgets.items():
        lines.append(f'[tool.session-utils.size.budgets."{path}"]')
        lines += [f"{metric} = {value}" for metric, value in metrics.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "dist").mkdir()
    for path, data in BUNDLES.items():
        (tmp_path / path).write_bytes(data)
    (tmp_path / "README.md").write_text(README)
    (tmp_path / "pyproject.toml").write_text(config_text())
    return tmp_path


@pytest.fixture
def fresh(repo: Path) -> Path:
    """A repo whose README markers are already up to date."""
    assert run(repo, "--write") == 0
    return repo


def run(root: Path, *args: str) -> int:
    return size_report.main([*args, "--root", str(root)])


def readme_bytes(root: Path) -> bytes:
    return (root / "README.md").read_bytes()


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, 9, mtime=0))


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("size-report: ")]
    assert len(lines) == 1, err
    return lines[0]


def assert_error(root: Path, capsys, *args: str, match: str) -> None:
    """Exit 3, one clear stderr line matching ``match``, README untouched."""
    before = readme_bytes(root)
    assert run(root, *args) == 3
    out, err = capsys.readouterr()
    assert re.search(match, one_error_line(err)), err
    assert " — " in err  # every message says what to do
    assert readme_bytes(root) == before


# --------------------------------------------------------------------------
# Modes
# --------------------------------------------------------------------------


def test_ok_prints_one_row_per_file_and_metric(fresh: Path, capsys) -> None:
    assert run(fresh) == 0
    out, err = capsys.readouterr()
    rows = [line for line in out.splitlines() if line.startswith("dist/")]
    assert len(rows) == 6
    assert all(line.endswith(" ok") for line in rows)
    assert f"{gzip_size(BUNDLES[JS]):,} B" in out
    assert "all 6 sizes within budget" in out
    assert err == ""


def test_default_mode_notes_stale_markers_but_passes(repo: Path, capsys) -> None:
    assert run(repo) == 0
    out, _ = capsys.readouterr()
    assert "size markers are stale" in out
    assert readme_bytes(repo) == README.encode()


def test_over_budget_exits_1_with_one_line_hint(fresh: Path, capsys) -> None:
    gz = gzip_size(BUNDLES[JS])
    budgets = {JS: {**BUDGETS, "gzip": gz - 5}, MJS: BUDGETS}
    (fresh / "pyproject.toml").write_text(config_text(budgets))
    before = readme_bytes(fresh)
    assert run(fresh) == 1
    out, err = capsys.readouterr()
    assert one_error_line(err) == (
        f"size-report: {JS} gzip is {gz:,} B, 5 B over its {gz - 5:,} B budget — "
        "shrink the bundle or raise the budget in pyproject.toml [tool.session-utils.size]"
    )
    assert [line.split()[1] for line in out.splitlines() if line.endswith("OVER")] == ["gzip"]
    assert readme_bytes(fresh) == before


def test_budget_equal_to_size_passes(fresh: Path) -> None:
    budgets = {JS: {**BUDGETS, "gzip": gzip_size(BUNDLES[JS])}, MJS: BUDGETS}
    (fresh / "pyproject.toml").write_text(config_text(budgets))
    assert run(fresh) == 0


def test_check_stale_exits_2_shows_diff_and_does_not_write(repo: Path, capsys) -> None:
    os.utime(repo / "README.md", ns=(1_000_000_000, 1_000_000_000))
    assert run(repo, "--check") == 2
    out, err = capsys.readouterr()
    assert "-A tiny session utility library in" in out
    new_pkg = f"{PKG_START}`{gzip_size(BUNDLES[JS]):,} bytes`"
    assert f"+A tiny session utility library in {new_pkg}" in out
    assert "-old table" in out
    assert one_error_line(err).startswith("size-report: README.md size markers are stale — run: ")
    assert "--write" in err
    assert readme_bytes(repo) == README.encode()
    assert (repo / "README.md").stat().st_mtime_ns == 1_000_000_000


def test_check_passes_when_fresh(fresh: Path, capsys) -> None:
    assert run(fresh, "--check") == 0
    assert capsys.readouterr().err == ""


def test_check_over_budget_and_stale_exits_1_and_reports_both(repo: Path, capsys) -> None:
    (repo / "pyproject.toml").write_text(config_text({JS: {**BUDGETS, "raw": 1}, MJS: BUDGETS}))
    assert run(repo, "--check") == 1
    err = capsys.readouterr().err
    assert "over its 1 B budget" in err and "markers are stale" in err
    assert readme_bytes(repo) == README.encode()


def test_write_updates_markers_then_is_idempotent(repo: Path, capsys) -> None:
    assert run(repo, "--write") == 0
    text = (repo / "README.md").read_text()
    assert text.startswith("# session-utils\n\nA tiny session utility library in ")
    assert text.endswith(f"{END}\n\nFooter.\n")
    assert f"| `{JS}` | {len(BUNDLES[JS]):,} B / 10,000 B |" in text
    assert "old table" not in text
    assert "updated the size markers" in capsys.readouterr().out

    os.utime(repo / "README.md", ns=(1_000_000_000, 1_000_000_000))
    before = readme_bytes(repo)
    assert run(repo, "--write") == 0
    assert readme_bytes(repo) == before
    assert (repo / "README.md").stat().st_mtime_ns == 1_000_000_000
    assert "nothing written" in capsys.readouterr().out
    assert list(repo.glob(".README.md.*")) == []


def test_pkg_size_marker_is_gzip_9_size_of_js_bundle(fresh: Path) -> None:
    text = (fresh / "README.md").read_text()
    match = re.search(re.escape(PKG_START) + r"`([\d,]+) bytes`" + re.escape(END) + r"\.", text)
    assert match
    assert int(match.group(1).replace(",", "")) == len(gzip.compress(BUNDLES[JS], 9, mtime=0))


def test_write_keeps_crlf_line_endings(repo: Path) -> None:
    (repo / "README.md").write_bytes(README.replace("\n", "\r\n").encode())
    assert run(repo, "--write") == 0
    data = readme_bytes(repo)
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert run(repo, "--check") == 0


def test_write_still_enforces_budgets(repo: Path, capsys) -> None:
    (repo / "pyproject.toml").write_text(config_text({JS: {**BUDGETS, "brotli": 1}, MJS: BUDGETS}))
    assert run(repo, "--write") == 1
    assert "brotli is" in one_error_line(capsys.readouterr().err)
    assert "old table" not in (repo / "README.md").read_text()


def test_json_output_is_size_limit_shaped_and_alone_on_stdout(fresh: Path, capsys) -> None:
    assert run(fresh, "--json") == 0
    out, err = capsys.readouterr()
    entries = json.loads(out)
    assert [e["name"] for e in entries] == [
        f"{path} ({metric})" for path in (JS, MJS) for metric in ("raw", "gzip", "brotli")
    ]
    first_gzip = entries[1]
    assert first_gzip == {
        "name": f"{JS} (gzip)",
        "passed": True,
        "size": gzip_size(BUNDLES[JS]),
        "sizeLimit": 5_000,
        "metric": "gzip",
        "path": JS,
    }
    assert "change vs HEAD" in err  # the human table moved to stderr


def test_json_with_check_and_failures(repo: Path, capsys) -> None:
    (repo / "pyproject.toml").write_text(config_text({JS: {**BUDGETS, "raw": 1}, MJS: BUDGETS}))
    assert run(repo, "--json", "--check") == 1
    out, err = capsys.readouterr()
    passed = {e["name"]: e["passed"] for e in json.loads(out)}
    assert passed[f"{JS} (raw)"] is False and sum(not p for p in passed.values()) == 1
    assert "markers are stale" in err and "--- README.md (current)" in err


def test_json_stale_check_exits_2(repo: Path, capsys) -> None:
    assert run(repo, "--json", "--check") == 2
    out, _ = capsys.readouterr()
    assert all(e["passed"] for e in json.loads(out))


def test_json_error_is_reported_as_json(repo: Path, capsys) -> None:
    (repo / JS).unlink()
    assert run(repo, "--json") == 3
    out, err = capsys.readouterr()
    assert "does not exist" in json.loads(out)["error"]
    one_error_line(err)


# --------------------------------------------------------------------------
# Errors: exit 3, one line, README untouched
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [[], ["--check"], ["--write"]])
def test_missing_dist_file(repo: Path, capsys, mode: list[str]) -> None:
    (repo / MJS).unlink()
    assert_error(repo, capsys, *mode, match=rf"{MJS} does not exist — build it")


@pytest.mark.parametrize("marker", [PKG_START, TABLE_START])
def test_missing_marker(repo: Path, capsys, marker: str) -> None:
    (repo / "README.md").write_text(README.replace(marker, ""))
    assert_error(repo, capsys, "--write", match=r"README.md has no .*START.* marker — add")


@pytest.mark.parametrize("marker", [PKG_START, TABLE_START])
def test_duplicated_marker(repo: Path, capsys, marker: str) -> None:
    (repo / "README.md").write_text(README + f"\n{marker}x{END}\n")
    assert_error(repo, capsys, "--write", match=r"README.md has 2 .* markers — keep exactly one")


def test_unclosed_marker(repo: Path, capsys) -> None:
    (repo / "README.md").write_text(README.replace(f"`0 bytes`{END}", "`0 bytes`"))
    assert_error(repo, capsys, "--write", match=r"no .*END.* closing the \(pkgSize\) block")


def test_missing_readme(repo: Path, capsys) -> None:
    (repo / "README.md").unlink()
    assert run(repo, "--write") == 3
    assert "README.md not found" in one_error_line(capsys.readouterr().err)
    assert not (repo / "README.md").exists()


@pytest.mark.parametrize("value", ['"2000"', "-1", "0", "1.5", "true", "[1]"])
def test_malformed_budget(repo: Path, capsys, value: str) -> None:
    budgets = {JS: {**BUDGETS, "gzip": value}, MJS: BUDGETS}
    (repo / "pyproject.toml").write_text(config_text(budgets))
    assert_error(repo, capsys, "--write", match=r"gzip budget for .* must be a positive whole")


def test_unknown_metric(repo: Path, capsys) -> None:
    (repo / "pyproject.toml").write_text(config_text({JS: {**BUDGETS, "zstd": 10}, MJS: BUDGETS}))
    assert_error(repo, capsys, "--write", match=r"unknown metric 'zstd' .* only raw, gzip, brotli")


def test_missing_metric(repo: Path, capsys) -> None:
    (repo / "pyproject.toml").write_text(config_text({JS: {"raw": 1, "gzip": 1}, MJS: BUDGETS}))
    assert_error(repo, capsys, match=r"missing brotli budget for dist/session-utils.js — add it")


@pytest.mark.parametrize(
    "path", ["src/app.js", "dist/style.css", "dist/sub/x.js", "../dist/x.js", "/dist/x.js"]
)
def test_unknown_file_in_config(repo: Path, capsys, path: str) -> None:
    (repo / "pyproject.toml").write_text(config_text({JS: BUDGETS, MJS: BUDGETS, path: BUDGETS}))
    assert_error(repo, capsys, "--write", match=r"unknown file .* only bundles directly under dist")


def test_configured_bundle_that_does_not_exist(repo: Path, capsys) -> None:
    budgets = {JS: BUDGETS, MJS: BUDGETS, "dist/other.js": BUDGETS}
    (repo / "pyproject.toml").write_text(config_text(budgets))
    assert_error(repo, capsys, "--write", match=r"dist/other.js does not exist")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[project]\nname = 'x'\n", r"has no \[tool.session-utils.size\] table"),
        ("[tool.session-utils.size\n", r"is not valid TOML"),
        ("[tool.session-utils.size]\nreadme = 'README.md'\n", r"no budgets"),
        (config_text(extra="reademe = 'README.md'"), r"unknown key 'reademe'"),
        (config_text(extra="pkg-size = 'dist/x.js'"), r"pkg-size 'dist/x.js' has no budget"),
        (config_text(extra="readme = 3"), r"is not valid TOML"),  # duplicate key
        (config_text().replace('readme = "README.md"', "readme = 3"), r"readme .* non-empty"),
        (config_text({JS: BUDGETS}) + f'[tool.session-utils.size.budgets]\n"{MJS}" = 5\n',
         r"budget for dist/session-utils.mjs .* must be a table"),
        (config_text({}, extra=f'budgets = {{ "{JS}" = 5 }}'), rf"budget for {JS} .* a table"),
    ],
)
def test_config_errors(repo: Path, capsys, text: str, match: str) -> None:
    (repo / "pyproject.toml").write_text(text)
    assert_error(repo, capsys, "--write", match=match)


def test_missing_config_file(repo: Path, capsys) -> None:
    missing = str(repo / "nope.toml")
    assert_error(repo, capsys, "--config", missing, match=r"config file .* not found")


def test_read_only_readme_with_write(repo: Path, capsys, monkeypatch) -> None:
    readme = repo / "README.md"
    readme.chmod(0o444)
    if os.geteuid() == 0:  # root ignores file modes: emulate what a normal user would see
        real_access = os.access
        monkeypatch.setattr(
            os, "access",
            lambda p, mode, **kw: False if Path(p) == readme.resolve() and mode & os.W_OK
            else real_access(p, mode, **kw),
        )
    assert_error(repo, capsys, "--write", match=r"README.md is read-only.*chmod u\+w")
    assert list(repo.glob(".README.md.*")) == []


def test_permission_error_on_replace(repo: Path, capsys, monkeypatch) -> None:
    def deny(src, dst):
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", deny)
    assert_error(repo, capsys, "--write", match=r"README.md is read-only, nothing was written")
    assert list(repo.glob(".README.md.*")) == []


def test_interrupted_write_leaves_readme_intact(repo: Path, capsys, monkeypatch) -> None:
    def disk_full(src, dst):
        Path(src).write_bytes(b"trunc")  # the temp file is damaged, then the rename fails
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    assert_error(repo, capsys, "--write", match=r"writing README.md failed \(No space left")
    assert sorted(p.name for p in repo.iterdir()) == ["README.md", "dist", "pyproject.toml"]


def test_keyboard_interrupt_mid_write_leaves_readme_intact(repo: Path, monkeypatch) -> None:
    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(repo, "--write")
    assert readme_bytes(repo) == README.encode()
    assert sorted(p.name for p in repo.iterdir()) == ["README.md", "dist", "pyproject.toml"]


@pytest.mark.parametrize(
    "args", [["--bogus"], ["--write", "--check"], ["--base"], ["--base", "-x"], ["extra"]]
)
def test_usage_errors_exit_3(repo: Path, capsys, args: list[str]) -> None:
    assert_error(repo, capsys, *args, match=r"see python scripts/size_report.py --help")


def test_bad_root_is_an_error(tmp_path: Path, capsys) -> None:
    assert size_report.main(["--root", str(tmp_path / "missing")]) == 3
    assert "is not a directory" in one_error_line(capsys.readouterr().err)


def test_help_lists_exit_codes(capsys) -> None:
    assert size_report.main(["--help"]) == 0
    out = capsys.readouterr().out
    for code in ("0  ", "1  ", "2  ", "3  "):
        assert f"\n  {code}" in out
    assert "--write" in out and "--check" in out and "--json" in out


def test_script_runs_as_a_program(fresh: Path) -> None:
    ok = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "exit codes:" in ok.stdout
    bad = subprocess.run([sys.executable, str(SCRIPT), "--nope"], capture_output=True, text=True)
    assert bad.returncode == 3 and bad.stdout == ""
    check = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--json", "--root", str(fresh)],
        capture_output=True, text=True,
    )
    assert check.returncode == 0 and len(json.loads(check.stdout)) == 6


# --------------------------------------------------------------------------
# Change against a git ref
# --------------------------------------------------------------------------


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=root, check=True, capture_output=True,
    )


def change_column(out: str, path: str, metric: str) -> str:
    for line in out.splitlines():
        if line.startswith(path + " ") and line.split()[1] == metric:
            return re.split(r"\s{2,}", line)[-2]
    raise AssertionError(f"no row for {path} {metric} in:\n{out}")


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


@needs_git
def test_change_against_head_after_modifying_a_committed_bundle(fresh: Path, capsys) -> None:
    git(fresh, "init", "-q")
    git(fresh, "add", "dist", "README.md", "pyproject.toml")
    git(fresh, "commit", "-q", "-m", "base")
    (fresh / JS).write_bytes(BUNDLES[JS] + b"x" * 12)
    (fresh / "dist" / "extra.mjs").write_bytes(b"export const a = 1;\n")
    budgets = {JS: BUDGETS, MJS: BUDGETS, "dist/extra.mjs": BUDGETS}
    (fresh / "pyproject.toml").write_text(config_text(budgets))
    capsys.readouterr()

    assert run(fresh) == 0
    out = capsys.readouterr().out
    assert change_column(out, JS, "raw") == f"+12 B (+{12 / len(BUNDLES[JS]) * 100:.1f}%)"
    assert change_column(out, MJS, "gzip") == "0 B (0.0%)"
    assert change_column(out, "dist/extra.mjs", "raw") == "new"


@needs_git
def test_change_against_explicit_base(fresh: Path, capsys) -> None:
    git(fresh, "init", "-q")
    git(fresh, "add", "dist")
    git(fresh, "commit", "-q", "-m", "one")
    git(fresh, "tag", "v1")
    (fresh / JS).write_bytes(BUNDLES[JS][:-10])
    git(fresh, "commit", "-q", "-am", "two")
    capsys.readouterr()

    assert run(fresh, "--base", "v1") == 0
    out = capsys.readouterr().out
    assert "change vs v1" in out
    assert change_column(out, JS, "raw").startswith("-10 B (-")
    assert run(fresh) == 0
    assert change_column(capsys.readouterr().out, JS, "raw") == "0 B (0.0%)"


@needs_git
def test_unknown_base_ref_shows_na(fresh: Path, capsys) -> None:
    git(fresh, "init", "-q")
    assert run(fresh, "--base", "no-such-ref") == 0  # no commits yet either
    out = capsys.readouterr().out
    assert "cannot read git ref 'no-such-ref'" in out
    assert change_column(out, JS, "gzip") == "n/a"


def test_no_git_available_shows_na(fresh: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(fresh / "no-bin-here"))
    assert run(fresh) == 0
    assert change_column(capsys.readouterr().out, MJS, "brotli") == "n/a"

"""Report bundle sizes, enforce byte budgets and keep the README size markers fresh.

For every bundle listed in the config this measures three sizes:

* ``raw``    - the file's bytes on disk,
* ``gzip``   - ``len(gzip.compress(data, 9, mtime=0))``,
* ``brotli`` - ``len(brotli.compress(data, quality=11))``,

prints one table row per file and metric (size, budget, headroom, change
against a git ref, ``ok``/``OVER``) and fails when any size is over its budget.
Only the standard library and ``brotli`` are used.

Configuration (``pyproject.toml`` at the repo root, or ``--config PATH``)
-------------------------------------------------------------------------
::

    [tool.session-utils.size]
    readme = "README.md"                # optional, default "README.md"
    pkg-size = "dist/session-utils.js"  # optional, default shown: the bundle
                                        # whose gzip size fills (pkgSize)

    [tool.session-utils.size.budgets."dist/session-utils.js"]
    raw = 4500      # bytes
    gzip = 2005     # bytes, gzip -9
    brotli = 1800   # bytes, brotli quality 11

    [tool.session-utils.size.budgets."dist/session-utils.mjs"]
    raw = 4500
    gzip = 2005
    brotli = 1800

Rules (any violation is a config/file error, exit 3):

* ``budgets`` must list at least one bundle.  Keys are paths relative to the
  repo root and must name a bundle directly under ``dist/`` (``dist/*.js`` or
  ``dist/*.mjs``) that exists.
* Every bundle needs exactly the metrics ``raw``, ``gzip`` and ``brotli``
  (a missing or unknown metric name is an error).
* A budget is a positive integer number of bytes; floats, strings, booleans,
  zero and negative numbers are rejected.
* ``pkg-size`` must be one of the budgeted bundles.  Unknown keys in the
  ``[tool.session-utils.size]`` table are rejected (they are usually typos).

README markers
--------------
The README must contain each of these markdown-magic blocks exactly once::

    A tiny session utility library in <!-- AUTO-GENERATED-CONTENT:START (pkgSize) -->`1,987 bytes`<!-- AUTO-GENERATED-CONTENT:END -->.

    <!-- AUTO-GENERATED-CONTENT:START (sizeTable) -->
    | Bundle | Raw (size / budget) | gzip -9 (size / budget) | brotli q11 (size / budget) |
    | --- | ---: | ---: | ---: |
    | `dist/session-utils.js` | 4,321 B / 4,500 B | 1,987 B / 2,005 B | 1,701 B / 1,800 B |
    <!-- AUTO-GENERATED-CONTENT:END -->

``pkgSize`` holds the gzip -9 size of the ``pkg-size`` bundle, always written as
`` `N bytes` `` (backticks included) with a comma thousands separator, e.g.
`` `1,987 bytes` ``.  ``sizeTable`` holds one row per bundle.  Only the text
between a START marker and the next END marker is ever rewritten; the README's
line endings (LF or CRLF) are kept.  A missing, duplicated or unclosed marker is
an error (exit 3).

Modes
-----
default    Print the report and enforce budgets.  Never writes.  Stale markers
           are mentioned in a note but do not fail.
--check    Never writes.  Fails when a size is over budget or when a marker is
           stale; prints a unified diff of the README (current vs expected).
--write    Rewrites the markers, but only if their text changed (otherwise the
           README is not touched at all, mtime included).  The write is atomic:
           a temp file in the README's directory is written, fsynced and
           ``os.replace``d over the README, so an interrupted run never leaves
           a truncated README or a temp file behind.  Budgets are still
           enforced: the markers are written first (they document the real
           sizes), then the run exits 1 if anything is over budget.
--json     Print a JSON array in size-limit's ``--json`` shape on stdout, e.g.
           ``{"name": "dist/session-utils.js (gzip)", "passed": true,
           "size": 1987, "sizeLimit": 2005, "metric": "gzip",
           "path": "dist/session-utils.js"}``.  The table and all messages go
           to stderr.  On an exit-3 error stdout gets ``{"error": "..."}``
           (as size-limit does).  Combinable with --check or --write.
--base REF Compare against ``git show REF:path`` (default ``HEAD``).  A bundle
           missing from REF shows ``new``; without git, outside a repository
           or when REF does not resolve the change column shows ``n/a``.

Exit codes
----------
0  everything within budget (and, with --check, markers up to date)
1  at least one size is over its budget (takes precedence over 2)
2  README markers are stale (only with --check)
3  usage, config, file, README-marker or write error; nothing was written

Every failure prints exactly one ``size-report: ...`` line on stderr saying
what to do.  ``main(argv)`` returns the exit code instead of exiting, so
``scripts/build.py`` can call ``size_report.main(["--write"])`` in-process.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import gzip
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO

try:
    import brotli
except ImportError:  # reported as a clear exit-3 error when the report runs
    brotli = None

EXIT_OK = 0
EXIT_OVER_BUDGET = 1
EXIT_STALE = 2
EXIT_ERROR = 3

METRICS = ("raw", "gzip", "brotli")
METRIC_LABELS = {"raw": "Raw", "gzip": "gzip -9", "brotli": "brotli q11"}
CONFIG_TABLE = "[tool.session-utils.size]"
CONFIG_KEYS = ("readme", "pkg-size", "budgets")
DEFAULT_README = "README.md"
DEFAULT_PKG_SIZE = "dist/session-utils.js"
BUNDLE_RE = re.compile(r"dist/[^/\\]+\.(?:js|mjs)")
SCRIPT = "python scripts/size_report.py"
PREFIX = "size-report: "

MARKER_NAMES = ("pkgSize", "sizeTable")
ANY_START_RE = re.compile(r"<!--\s*AUTO-GENERATED-CONTENT:START\b")
END_RE = re.compile(r"<!--\s*AUTO-GENERATED-CONTENT:END\s*-->")
END_MARKER = "<!-- AUTO-GENERATED-CONTENT:END -->"


def start_marker(name: str) -> str:
    return f"<!-- AUTO-GENERATED-CONTENT:START ({name}) -->"


def start_re(name: str) -> re.Pattern[str]:
    return re.compile(rf"<!--\s*AUTO-GENERATED-CONTENT:START\s*\({name}\)\s*-->")


class SizeReportError(Exception):
    """A usage, config, file or README error: exit 3 with a one-line message."""


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    path: Path
    display: str  # how the config file is named in messages
    readme: str
    pkg_size: str
    budgets: dict[str, dict[str, int]]


@dataclass(frozen=True)
class Row:
    path: str
    metric: str
    size: int
    budget: int
    base: int | str  # size at the base ref, or "new" / "n/a"

    @property
    def over(self) -> bool:
        return self.size > self.budget

    @property
    def headroom(self) -> int:
        return self.budget - self.size


@dataclass
class Readme:
    path: Path
    display: str
    text: str
    spans: dict[str, tuple[int, int]]  # marker name -> content (start, end)

    @property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"


# --------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------


def load_config(path: Path, root: Path) -> Config:
    display = _display_path(path, root)
    table = _read_size_table(path, display)
    unknown = sorted(set(table) - set(CONFIG_KEYS))
    if unknown:
        raise SizeReportError(
            f"unknown key {unknown[0]!r} in {display} {CONFIG_TABLE} — "
            f"allowed keys are {', '.join(CONFIG_KEYS)}"
        )
    readme = _string_option(table, "readme", DEFAULT_README, display)
    pkg_size = _string_option(table, "pkg-size", DEFAULT_PKG_SIZE, display)
    budgets = _parse_budgets(table.get("budgets"), display)
    if pkg_size not in budgets:
        raise SizeReportError(
            f"pkg-size {pkg_size!r} has no budget in {display} {CONFIG_TABLE} — "
            f"add [tool.session-utils.size.budgets.\"{pkg_size}\"] or fix pkg-size"
        )
    return Config(path, display, readme, pkg_size, budgets)


def _read_size_table(path: Path, display: str) -> dict:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SizeReportError(
            f"config file {display} not found — create it with a {CONFIG_TABLE} "
            "table or pass --config PATH"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SizeReportError(f"{display} is not valid TOML ({exc}) — fix its syntax") from None
    except OSError as exc:
        raise SizeReportError(f"cannot read {display}: {exc.strerror} — check the path") from None
    table: Any = data
    for key in ("tool", "session-utils", "size"):
        table = table.get(key) if isinstance(table, dict) else None
    if not isinstance(table, dict):
        raise SizeReportError(
            f"{display} has no {CONFIG_TABLE} table — add one with budgets "
            "(see the docstring of scripts/size_report.py)"
        )
    return table


def _string_option(table: dict, key: str, default: str, display: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise SizeReportError(
            f"{key} in {display} {CONFIG_TABLE} must be a non-empty string, "
            f"got {value!r} — fix it"
        )
    return value


def _parse_budgets(budgets: object, display: str) -> dict[str, dict[str, int]]:
    where = f"{display} {CONFIG_TABLE}"
    if not isinstance(budgets, dict) or not budgets:
        raise SizeReportError(
            f"no budgets in {where} — add "
            f'[tool.session-utils.size.budgets."dist/<bundle>.js"] with raw, gzip and brotli'
        )
    parsed = {}
    for path, metrics in budgets.items():
        if not BUNDLE_RE.fullmatch(path):
            raise SizeReportError(
                f"unknown file {path!r} in {where} budgets — only bundles directly "
                "under dist/ (dist/*.js, dist/*.mjs) can have budgets; fix or remove it"
            )
        parsed[path] = _parse_metric_budgets(path, metrics, where)
    return parsed


def _parse_metric_budgets(path: str, metrics: object, where: str) -> dict[str, int]:
    table = f'[tool.session-utils.size.budgets."{path}"]'
    if not isinstance(metrics, dict):
        raise SizeReportError(
            f"budget for {path} in {where} must be a table with raw, gzip and "
            f"brotli, got {metrics!r} — write it as {table}"
        )
    for metric in metrics:
        if metric not in METRICS:
            raise SizeReportError(
                f"unknown metric {metric!r} for {path} in {where} — "
                f"use only {', '.join(METRICS)}"
            )
    for metric in METRICS:
        if metric not in metrics:
            raise SizeReportError(f"missing {metric} budget for {path} — add it to {table}")
        value = metrics[metric]
        if type(value) is not int or value <= 0:
            raise SizeReportError(
                f"{metric} budget for {path} must be a positive whole number of "
                f"bytes, got {value!r} — fix it in {table}"
            )
    return {metric: metrics[metric] for metric in METRICS}


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


def measure(data: bytes) -> dict[str, int]:
    return {
        "raw": len(data),
        "gzip": len(gzip.compress(data, 9, mtime=0)),
        "brotli": len(brotli.compress(data, quality=11)),
    }


def measure_bundles(root: Path, config: Config) -> dict[str, dict[str, int]]:
    if brotli is None:
        raise SizeReportError("the brotli module is not installed — run: pip install brotli")
    sizes = {}
    for path in config.budgets:
        try:
            sizes[path] = measure((root / path).read_bytes())
        except FileNotFoundError:
            raise SizeReportError(
                f"{path} does not exist — build it (python scripts/build.py) or "
                f"remove its budget from {config.display} {CONFIG_TABLE}"
            ) from None
        except OSError as exc:
            raise SizeReportError(
                f"cannot read {path}: {exc.strerror} — check the file"
            ) from None
    return sizes


def _git(root: Path, *args: str) -> bytes | None:
    """stdout of a git command, or None if git is missing or the command failed."""
    try:
        proc = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, check=False, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def measure_base(root: Path, ref: str, paths: list[str]) -> dict[str, dict[str, int] | str]:
    """Sizes of each bundle at ``ref``; "new" if absent there, "n/a" if unknowable."""
    if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") is None:
        return {path: "n/a" for path in paths}
    base: dict[str, dict[str, int] | str] = {}
    for path in paths:
        blob = _git(root, "show", f"{ref}:./{path}")
        base[path] = "new" if blob is None else measure(blob)
    return base


def build_rows(config: Config, sizes: dict, base: dict) -> list[Row]:
    rows = []
    for path, budgets in config.budgets.items():
        for metric in METRICS:
            then = base[path] if isinstance(base[path], str) else base[path][metric]
            rows.append(Row(path, metric, sizes[path][metric], budgets[metric], then))
    return rows


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------


def fmt_bytes(n: int) -> str:
    return f"{n:,} B"


def fmt_headroom(row: Row) -> str:
    return f"{row.headroom:,} B ({row.headroom / row.budget * 100:.1f}%)"


def fmt_change(row: Row) -> str:
    if isinstance(row.base, str):
        return row.base
    delta = row.size - row.base
    if delta == 0:
        return "0 B (0.0%)"
    if row.base == 0:
        return f"{delta:+,} B"
    return f"{delta:+,} B ({delta / row.base * 100:+.1f}%)"


def format_table(rows: list[Row], ref: str) -> str:
    header = ("file", "metric", "size", "budget", "headroom", f"change vs {ref}", "status")
    body = [
        (r.path, r.metric, fmt_bytes(r.size), fmt_bytes(r.budget), fmt_headroom(r),
         fmt_change(r), "OVER" if r.over else "ok")
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    left_aligned = {0, 1, 6}

    def line(cells: tuple[str, ...]) -> str:
        parts = [c.ljust(w) if i in left_aligned else c.rjust(w)
                 for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    return "\n".join([line(header), *(line(cells) for cells in body)])


def summary(rows: list[Row]) -> str:
    over = sum(r.over for r in rows)
    if over:
        return f"{PREFIX}{over} of {len(rows)} sizes over budget"
    return f"{PREFIX}all {len(rows)} sizes within budget"


def json_report(rows: list[Row]) -> str:
    return json.dumps(
        [
            {
                "name": f"{r.path} ({r.metric})",
                "passed": not r.over,
                "size": r.size,
                "sizeLimit": r.budget,
                "metric": r.metric,
                "path": r.path,
            }
            for r in rows
        ],
        indent=2,
    )


def over_budget_message(row: Row, config: Config) -> str:
    return (
        f"{row.path} {row.metric} is {fmt_bytes(row.size)}, {fmt_bytes(-row.headroom)} "
        f"over its {fmt_bytes(row.budget)} budget — shrink the bundle or raise the "
        f"budget in {config.display} {CONFIG_TABLE}"
    )


# --------------------------------------------------------------------------
# README markers
# --------------------------------------------------------------------------


def load_readme(root: Path, name: str) -> Readme:
    path = root / name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SizeReportError(
            f"{name} not found — create it with the (pkgSize) and (sizeTable) "
            "marker blocks or set readme in the config"
        ) from None
    except OSError as exc:
        raise SizeReportError(f"cannot read {name}: {exc.strerror} — check the file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SizeReportError(f"{name} is not valid UTF-8 — re-save it as UTF-8") from None
    spans = {marker: find_block(text, marker, name) for marker in MARKER_NAMES}
    return Readme(path, name, text, spans)


def find_block(text: str, marker: str, readme: str) -> tuple[int, int]:
    """(start, end) of the text between the ``marker`` START and its END."""
    starts = list(start_re(marker).finditer(text))
    if not starts:
        raise SizeReportError(
            f"{readme} has no {start_marker(marker)} marker — add the block "
            f"{start_marker(marker)}{END_MARKER}"
        )
    if len(starts) > 1:
        raise SizeReportError(
            f"{readme} has {len(starts)} {start_marker(marker)} markers — "
            "keep exactly one and delete the others"
        )
    begin = starts[0].end()
    end = END_RE.search(text, begin)
    nested = ANY_START_RE.search(text, begin, end.start() if end else len(text))
    if end is None or nested:
        raise SizeReportError(
            f"{readme} has no {END_MARKER} closing the ({marker}) block — "
            "add it right after the generated content"
        )
    return begin, end.start()


def marker_contents(config: Config, rows: list[Row], newline: str) -> dict[str, str]:
    pkg_gzip = next(r.size for r in rows if r.path == config.pkg_size and r.metric == "gzip")
    return {
        "pkgSize": f"`{pkg_gzip:,} bytes`",
        "sizeTable": newline + newline.join(size_table(rows)) + newline,
    }


def size_table(rows: list[Row]) -> list[str]:
    header = " | ".join(f"{METRIC_LABELS[m]} (size / budget)" for m in METRICS)
    lines = [f"| Bundle | {header} |", "| --- |" + " ---: |" * len(METRICS)]
    for path in dict.fromkeys(r.path for r in rows):
        cells = [
            f"{fmt_bytes(r.size)} / {fmt_bytes(r.budget)}" for r in rows if r.path == path
        ]
        lines.append(f"| `{path}` | " + " | ".join(cells) + " |")
    return lines


def render_readme(readme: Readme, contents: dict[str, str]) -> str:
    text = readme.text
    spans = sorted(readme.spans.items(), key=lambda item: item[1][0], reverse=True)
    for marker, (begin, end) in spans:
        text = text[:begin] + contents[marker] + text[end:]
    return text


def readme_diff(readme: Readme, expected: str) -> str:
    lines = difflib.unified_diff(
        readme.text.splitlines(keepends=True),
        expected.splitlines(keepends=True),
        fromfile=f"{readme.display} (current)",
        tofile=f"{readme.display} (expected)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see either the old or new file."""
    path = path.resolve()
    mode = stat.S_IMODE(path.stat().st_mode)
    if not os.access(path, os.W_OK):
        raise PermissionError(13, "Permission denied", str(path))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_readme(readme: Readme, expected: str) -> None:
    try:
        write_atomically(readme.path, expected.encode("utf-8"))
    except PermissionError:
        raise SizeReportError(
            f"{readme.display} is read-only, nothing was written — make it "
            f"writable (chmod u+w {readme.display}) and re-run with --write"
        ) from None
    except OSError as exc:
        raise SizeReportError(
            f"writing {readme.display} failed ({exc.strerror or exc}), it was left "
            "unchanged — fix the cause and re-run with --write"
        ) from None


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


class _ParserExit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """ArgumentParser that returns instead of exiting, and uses exit 3 for usage errors."""

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message, sys.stderr)
        raise _ParserExit(status)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{PREFIX}{message} — see {SCRIPT} --help\n")


def _ref(value: str) -> str:
    if not value or value.startswith("-"):
        raise argparse.ArgumentTypeError(f"invalid git ref {value!r}")
    return value


EPILOG = f"""\
exit codes:
  0  all sizes within budget (with --check: README markers also up to date)
  1  a size is over its budget (wins over 2)
  2  README size markers are stale (--check only)
  3  usage, config, missing file, README marker or write error (nothing written)

budgets live in pyproject.toml {CONFIG_TABLE}, e.g.
  [tool.session-utils.size.budgets."dist/session-utils.js"]
  raw = 4500
  gzip = 2005
  brotli = 1800
"""


def build_parser() -> _Parser:
    parser = _Parser(
        prog=SCRIPT,
        description="Measure bundle sizes (raw, gzip -9, brotli q11), enforce the byte "
        "budgets from pyproject.toml and keep the README size markers up to date.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true",
                      help="update the README markers if they changed (atomic write), "
                      "then enforce budgets")
    mode.add_argument("--check", action="store_true",
                      help="never write; also fail (exit 2) when README markers are stale")
    parser.add_argument("--json", action="store_true",
                        help="print size-limit style JSON on stdout; table and messages "
                        "go to stderr")
    parser.add_argument("--base", type=_ref, metavar="REF",
                        help="git ref to compare against (default: HEAD)")
    parser.add_argument("--config", type=Path, metavar="PATH",
                        help="TOML config file (default: ROOT/pyproject.toml)")
    parser.add_argument("--root", type=Path, metavar="DIR",
                        help="repository root (default: the parent of scripts/)")
    return parser


def _display_path(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _rerun_command(args: argparse.Namespace, flag: str) -> str:
    parts = [SCRIPT, flag]
    if args.root is not None:
        parts += ["--root", str(args.root)]
    if args.config is not None:
        parts += ["--config", str(args.config)]
    return " ".join(parts)


def _fail(message: str) -> None:
    print(PREFIX + message, file=sys.stderr)


def _resolve_root(args: argparse.Namespace) -> Path:
    root = args.root if args.root is not None else Path(__file__).resolve().parent.parent
    if not root.is_dir():
        raise SizeReportError(f"--root {root} is not a directory — pass the repository root")
    return root


def _update_markers(
    args: argparse.Namespace, readme: Readme, expected: str, out: TextIO
) -> str | None:
    """Write, diff or mention the markers per mode; returns a failure hint if --check fails."""
    stale = expected != readme.text
    hint = f"{readme.display} size markers are stale — run: {_rerun_command(args, '--write')}"
    if args.write and stale:
        write_readme(readme, expected)
        print(f"{PREFIX}updated the size markers in {readme.display}", file=out)
    elif args.write:
        print(f"{PREFIX}{readme.display} size markers are up to date, nothing written", file=out)
    elif args.check and stale:
        print(readme_diff(readme, expected), end="", file=out)
        return hint
    elif stale:
        print(f"{PREFIX}note: {hint}", file=out)
    return None


def run(args: argparse.Namespace, out: TextIO) -> int:
    # Everything that can fail with exit 3 is checked before anything is written.
    root = _resolve_root(args)
    config = load_config(args.config or root / "pyproject.toml", root)
    sizes = measure_bundles(root, config)
    readme = load_readme(root, config.readme)

    ref = args.base or "HEAD"
    base = measure_base(root, ref, list(config.budgets))
    if args.base and all(b == "n/a" for b in base.values()):
        print(f"{PREFIX}note: cannot read git ref {ref!r}; change column shows n/a", file=out)
    rows = build_rows(config, sizes, base)
    print(format_table(rows, ref), file=out)
    print(summary(rows), file=out)
    if args.json:
        print(json_report(rows))

    expected = render_readme(readme, marker_contents(config, rows, readme.newline))
    stale_hint = _update_markers(args, readme, expected, out)
    over = [row for row in rows if row.over]
    for row in over:
        _fail(over_budget_message(row, config))
    if stale_hint:
        _fail(stale_hint)
    if over:
        return EXIT_OVER_BUDGET
    return EXIT_STALE if stale_hint else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the size report; returns the exit code (see the module docstring)."""
    try:
        args = build_parser().parse_args(argv)
    except _ParserExit as exc:
        return exc.status
    try:
        return run(args, sys.stderr if args.json else sys.stdout)
    except SizeReportError as exc:
        _fail(str(exc))
        if args.json:
            print(json.dumps({"error": str(exc)}, indent=2))
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())

"""scripts/feature_cost.py: real builds without each feature, and its failure modes."""
from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / 'scripts' / 'feature_cost.py'
_spec = importlib.util.spec_from_file_location('feature_cost', SCRIPT)
feature_cost = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(feature_cost)

FEATURES = ['configure()', 'change events', 'duplicated-tab detection', 'SPA page sessions',
            'localStorage fallback', '0.2.4 copy clean-up']


def test_costs_come_from_real_builds_of_the_committed_source():
    done = subprocess.run([sys.executable, str(SCRIPT), '--json'], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # The unchanged build is the committed bundle, byte for byte (builds are reproducible).
    assert result['gzip'] == len(gzip.compress((ROOT / 'dist' / 'session-utils.js').read_bytes(), 9, mtime=0))
    assert [f['name'] for f in result['features']] == FEATURES
    for feature in result['features']:
        assert feature['cost'] == result['gzip'] - feature['gzipWithout'] > 0, feature
    assert result['gzipWithoutAll'] < min(f['gzipWithout'] for f in result['features'])
    assert done.stderr.count('building') == len(FEATURES) + 2      # one progress line per build


def test_a_recipe_whose_text_is_gone_exits_3_and_names_it(tmp_path, monkeypatch, capsys):
    source = feature_cost.SOURCE.read_text(encoding='utf-8')
    changed = tmp_path / 'session_utils.py'
    changed.write_text(source.replace("is_new = not page or href != page_href", "is_new = not page or page_href != href"),
                       encoding='utf-8')
    monkeypatch.setattr(feature_cost, 'SOURCE', changed)
    assert feature_cost.main([]) == 3
    error = capsys.readouterr().err
    assert error.startswith('feature-cost: stale recipe: SPA page sessions:') and error.count('\n') == 1


def test_a_failing_build_exits_2_with_one_line(monkeypatch, capsys):
    monkeypatch.setattr(feature_cost, 'recipes', lambda: {'broken': [('def now():', 'def now(:')]})
    assert feature_cost.main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ''
    assert captured.err.splitlines()[-1].startswith('feature-cost: build failed: ')

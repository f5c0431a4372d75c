"""Every code example in the README runs in Chromium, so none can rot.

```html blocks are served as pages (their `dist/...` paths point at the real
bundles); ```js blocks run as ES modules with `'session-utils'` resolved to
dist/session-utils.mjs. An example fails the test by throwing, by a failed
console.assert, or by any console error.
"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / 'README.md').read_text(encoding='utf-8')
EXAMPLES = re.findall(r'^```(html|js)\n(.*?)^```', README, re.M | re.S)


def test_the_readme_has_examples_of_both_kinds():
    kinds = [kind for kind, _ in EXAMPLES]
    assert kinds.count('html') >= 1 and kinds.count('js') >= 2


def as_page(kind: str, code: str) -> str:
    if kind == 'html':
        body = code.replace('src="dist/', 'src="/dist/')
    else:
        body = '<script type=module>\n' + code.replace("from 'session-utils'", "from '/dist/session-utils.mjs'") \
            + '\nwindow.exampleDone = true</script>'
    done = '' if kind == 'js' else '<script>window.exampleDone = true</script>'
    return f'<!doctype html><meta charset=utf-8><link rel=icon href="data:,">{body}{done}'


@pytest.mark.parametrize('index', range(len(EXAMPLES)))
def test_readme_example_runs(index, context, server):
    kind, code = EXAMPLES[index]
    context.route(f'{server}/readme-example.html', lambda route: route.fulfill(
        status=200, content_type='text/html', body=as_page(kind, code)))
    page = context.new_page()
    logs = []
    page.on('console', lambda message: logs.append(message.text))
    page.goto(f'{server}/readme-example.html')
    page.wait_for_function('window.exampleDone === true')
    if 'addEventListener' in code:
        page.mouse.click(5, 5)     # the quick start extends the session on click
    assert page.errors == []
    assert logs, 'the example printed nothing'
    assert page.evaluate('document.cookie').startswith('__session=')

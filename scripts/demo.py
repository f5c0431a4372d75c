#!/usr/bin/env python3
"""Serve the session-utils demo page: python scripts/demo.py [--port 8000]

Serves the repository root over http on 127.0.0.1 (cookies need an http
origin, not file://) and prints the demo's address; open it in a browser.
The page (demo/index.html) loads only /dist/session-utils.js, so it works
offline. Ctrl-C stops the server. Build dist/ first: python scripts/build.py
"""
from __future__ import annotations

import argparse
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_PATH = '/demo/'


class Handler(SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path in ('/', '/index.html'):          # the root goes to the demo
            self.send_response(302)
            self.send_header('Location', DEMO_PATH)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        super().do_GET()

    def end_headers(self):
        self.send_header('Cache-Control', 'no-cache')  # always the latest build
        super().end_headers()

    def guess_type(self, path):
        return 'text/javascript' if str(path).endswith('.mjs') else super().guess_type(path)

    def log_message(self, format, *args):
        sys.stderr.write(f'  {self.command} {self.path} {args[1] if len(args) > 1 else ""}\n')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     epilog='Ctrl-C stops the server.')
    parser.add_argument('--port', type=int, default=8000, help='port on 127.0.0.1 (default 8000; 0 picks a free one)')
    parser.add_argument('--quiet', action='store_true', help='do not log requests')
    args = parser.parse_args(argv)
    if not (ROOT / 'dist' / 'session-utils.js').is_file():
        print('demo: dist/session-utils.js is missing: run python scripts/build.py first', file=sys.stderr)
        return 2
    handler = partial(Handler, directory=str(ROOT))
    if args.quiet:
        handler = partial(type('QuietHandler', (Handler,), {'log_message': lambda *a: None}), directory=str(ROOT))
    try:
        httpd = ThreadingHTTPServer(('127.0.0.1', args.port), handler)
    except OSError as error:
        print(f'demo: cannot listen on 127.0.0.1:{args.port} ({error.strerror}): try --port 0', file=sys.stderr)
        return 2
    url = f'http://127.0.0.1:{httpd.server_address[1]}{DEMO_PATH}'
    print(f'session-utils demo: {url}  (Ctrl-C stops)', flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        print('\nstopped')
    finally:
        httpd.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())

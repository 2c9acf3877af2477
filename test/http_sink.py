#!/usr/bin/python3
"""A small HTTP endpoint for pg_cdp's e-mail API and webhook tests.

    /usr/bin/python3 test/http_sink.py --port P --dir D

Stores every POST as one JSON file D/req-NNNNNN.json:
{"path": ..., "headers": {name: value}, "body": "<the body as text>"},
written under a temporary name and renamed.  Answers 200 {"id": "NNNNNN"},
or the status given by a path /status/NNN (with {"error": "status NNN"}).
Prints "ready" when listening; exits cleanly on SIGTERM or SIGINT.
"""

import argparse
import json
import os
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    """Stores POST requests and answers as the path asks."""

    protocol_version = 'HTTP/1.1'
    counter = 0
    lock = threading.Lock()
    directory = '.'

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length)
        with Sink.lock:
            Sink.counter += 1
            n = Sink.counter
        record = {'path': self.path,
                  'headers': {k: v for k, v in self.headers.items()},
                  'body': body.decode('utf-8', 'replace')}
        tmp = os.path.join(Sink.directory, '.tmp-%06d' % n)
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(Sink.directory, 'req-%06d.json' % n))
        m = re.match(r'^/status/(\d{3})\b', self.path)
        status = int(m.group(1)) if m else 200
        if status == 200:
            answer = {'id': '%06d' % n}
        else:
            answer = {'error': 'status %d' % status}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--dir', required=True)
    parser.add_argument('--host', default='127.0.0.1')
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    Sink.directory = args.dir
    server = ThreadingHTTPServer((args.host, args.port), Sink)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print('ready', flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(0.2):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/python3
"""A small SMTP server for pg_cdp's delivery tests, built on aiosmtpd.

    /usr/bin/python3 test/smtp_server.py --port P --dir D
        [--tls-cert C --tls-key K] [--auth user:password] [--delay-ms N]

Every accepted message is stored in D as one file msg-NNNNNN.eml: the
envelope as X-Envelope-From / X-Envelope-To header lines, then the raw DATA.
It is written under a temporary name and renamed, so a reader never sees
half a message.  D/.sessions counts the connections that reached MAIL FROM.

Answers by the local part of the recipient: tempfail...@ gets
451 4.3.0, bounce...@ 550 5.1.1, reject...@ 554 5.7.1, slow...@ waits
--delay-ms first.  When D/.mode (read for every command) contains
"tempfail", every RCPT gets 451 4.3.0; when it contains "close", the server
closes the connection right after accepting a message.

Prints "ready" when listening; exits cleanly on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Handler:
    """aiosmtpd hooks: answers RCPT by recipient, stores DATA as files."""

    def __init__(self, directory, delay_ms):
        self.directory = directory
        self.delay = delay_ms / 1000.0
        self.count = 0
        self.sessions = 0
        self.lock = threading.Lock()

    def mode(self):
        """The contents of D/.mode, or '' when there is none."""
        try:
            with open(os.path.join(self.directory, '.mode')) as f:
                return f.read().strip()
        except OSError:
            return ''

    async def handle_MAIL(self, server, session, envelope, address, options):
        if not getattr(session, 'cdp_counted', False):
            session.cdp_counted = True
            with self.lock:
                self.sessions += 1
                self._write(os.path.join(self.directory, '.sessions'),
                            ('%d\n' % self.sessions).encode())
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return '250 2.1.0 Sender OK'

    async def handle_RCPT(self, server, session, envelope, address, options):
        local = address.split('@', 1)[0].lower()
        if self.mode() == 'tempfail' or local.startswith('tempfail'):
            return '451 4.3.0 Temporary failure, try again later'
        if local.startswith('bounce'):
            return '550 5.1.1 No such user here'
        if local.startswith('reject'):
            return '554 5.7.1 Message rejected by policy'
        if local.startswith('slow'):
            await asyncio.sleep(self.delay)
        envelope.rcpt_tos.append(address)
        return '250 2.1.5 Recipient OK'

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        head = ('X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n'
                % (envelope.mail_from, ', '.join(envelope.rcpt_tos)))
        self._write(os.path.join(self.directory, 'msg-%06d.eml' % n),
                    head.encode() + envelope.original_content)
        if self.mode() == 'close':
            asyncio.get_event_loop().call_soon(server.transport.close)
        return '250 2.0.0 Message accepted for delivery'

    def _write(self, path, data):
        tmp = os.path.join(self.directory, '.tmp-%d-%d' % (os.getpid(), threading.get_ident()))
        with open(tmp, 'wb') as f:
            f.write(data)
        os.rename(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--dir', required=True)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--tls-cert')
    parser.add_argument('--tls-key')
    parser.add_argument('--auth', help='user:password')
    parser.add_argument('--delay-ms', type=int, default=2000)
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    handler = Handler(args.dir, args.delay_ms)
    kwargs = {'ident': 'pg_cdp test SMTP server'}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        kwargs['tls_context'] = context
        kwargs['require_starttls'] = False
    if args.auth:
        user, password = args.auth.split(':', 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok, handled=False)

        kwargs['authenticator'] = authenticator
        kwargs['auth_require_tls'] = False
        kwargs['auth_required'] = True

    controller = Controller(handler, hostname=args.host, port=args.port,
                            **kwargs)
    controller.start()
    print('ready', flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(0.2):
        pass
    controller.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())

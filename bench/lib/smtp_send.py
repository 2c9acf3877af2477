#!/usr/bin/python3
"""The baseline of bench/journeys: a minimal SMTP client.

    /usr/bin/python3 bench/lib/smtp_send.py --port P --dir D --first F --count N

Reads the stored messages D/msg-F.eml ... D/msg-(F+N-1).eml that
test/smtp_server.py wrote (the envelope as X-Envelope-From / X-Envelope-To
lines, then the raw DATA), strips the two envelope lines, and sends the same
bytes to the same envelope again with smtplib over one connection to
127.0.0.1:P, one message after the other (MAIL, RCPT, DATA each), as fast as
the server answers.  Everything is read into memory before the clock starts.

Prints one line: "<messages> <seconds> <bytes>", the time from connecting
to the reply to QUIT.  Exits non-zero when a message is refused.
"""

import argparse
import os
import smtplib
import sys
import time


def load(directory, first, count):
    """The (from, [to], data) of the stored messages first..first+count-1."""
    out = []
    for n in range(first, first + count):
        with open(os.path.join(directory, 'msg-%06d.eml' % n), 'rb') as f:
            raw = f.read()
        envelope = {}
        while raw.startswith(b'X-Envelope-'):
            line, raw = raw.split(b'\r\n', 1)
            name, value = line.decode().split(':', 1)
            envelope[name] = value.strip()
        out.append((envelope['X-Envelope-From'],
                    [a.strip() for a in envelope['X-Envelope-To'].split(',')],
                    raw))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--dir', required=True)
    parser.add_argument('--first', type=int, required=True)
    parser.add_argument('--count', type=int, required=True)
    args = parser.parse_args()

    messages = load(args.dir, args.first, args.count)
    size = sum(len(m[2]) for m in messages)
    t0 = time.monotonic()
    smtp = smtplib.SMTP('127.0.0.1', args.port)
    for sender, rcpts, data in messages:
        refused = smtp.sendmail(sender, rcpts, data)
        if refused:
            print('refused: %r' % refused, file=sys.stderr)
            return 1
    smtp.quit()
    print('%d %.3f %d' % (len(messages), time.monotonic() - t0, size))
    return 0


if __name__ == '__main__':
    sys.exit(main())

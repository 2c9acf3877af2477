#!/usr/bin/python3
# Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
"""show_mail.py: print the first e-mail the demo's SMTP server received.

    /usr/bin/python3 demo/show_mail.py MAILDIR

MAILDIR holds one file per message (msg-NNNNNN.eml, written by
test/smtp_server.py: the envelope as X-Envelope-* lines, then the message).
Prints the envelope recipient, the main headers (decoded) and the plain-text
part; exits 1 when there is no message.
"""

import email
import email.policy
import os
import sys


def main(argv):
    """Print the first message of the directory argv[0]."""
    if len(argv) != 1:
        sys.stderr.write('usage: show_mail.py MAILDIR\n')
        return 2
    names = sorted(n for n in os.listdir(argv[0]) if n.startswith('msg-') and n.endswith('.eml'))
    if not names:
        sys.stderr.write('show_mail.py: no message in %s\n' % argv[0])
        return 1
    with open(os.path.join(argv[0], names[0]), 'rb') as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    print('  %s (of %d received so far)' % (names[0], len(names)))
    for h in ('X-Envelope-To', 'From', 'To', 'Subject', 'Date', 'Message-ID',
              'List-Unsubscribe', 'List-Unsubscribe-Post', 'Content-Type'):
        if msg[h] is not None:
            v = str(msg[h])
            if h == 'Content-Type':
                v = v.split(';')[0]
            print('  %s: %s' % (h, v))
    part = msg.get_body(preferencelist=('plain',))
    print()
    for line in (part.get_content() if part is not None else '(no text part)').splitlines():
        print('  | ' + line)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
# Copyright (c) 2026, the pg_cdp authors.  PostgreSQL licence.
"""report.py: the demo's charts, as SVG files and one HTML page.

    /usr/bin/python3 demo/report.py --funnel FUNNEL.csv --growth GROWTH.csv --out DIR [--title T]

FUNNEL.csv is the output of cdp.journey_funnel (one row, with a header),
GROWTH.csv has the columns reference_time, entered, exited, members (one row
per evaluation of the segment, from cdp.segment_refresh).  Writes
DIR/funnel.svg, DIR/growth.svg and DIR/story.html (both charts inline and
the figures as tables).  Standard library only.
"""

import argparse
import csv
import html
import os
import sys

BLUE = '#2f6db5'
GREY = '#9aa5b1'
GREEN = '#2e8b57'
RED = '#c0504d'
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'


def esc(s):
    """Text for SVG or HTML."""
    return html.escape(str(s), quote=True)


def num(v):
    """A CSV field as a number (empty: 0)."""
    if v is None or v == '':
        return 0
    f = float(v)
    return int(f) if f == int(f) else f


def funnel_svg(f):
    """The funnel of the treated group as bars, and conversion against the
    holdout group."""
    stages = [('treated members', f['treated']), ('e-mails sent (offer)', f['sent']),
              ('opened', f['opened']), ('clicked', f['clicked']), ('converted', f['converted'])]
    w, bar_h, gap, left, top = 760, 30, 12, 190, 50
    h = top + len(stages) * (bar_h + gap) + 150
    top_value = max([v for _, v in stages] + [1])
    scale = (w - left - 90) / top_value
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s>'
         % (w, h, w, h, FONT),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="10" y="26" font-size="18" font-weight="bold">The coupon journey: funnel of the e-mailed group</text>']
    for i, (label, v) in enumerate(stages):
        y = top + i * (bar_h + gap)
        o.append('<text x="%d" y="%d" font-size="14" text-anchor="end">%s</text>'
                 % (left - 10, y + bar_h * 0.68, esc(label)))
        o.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                 % (left, y, max(v * scale, 1), bar_h, GREEN if label == 'converted' else BLUE))
        pct = '' if i == 0 or not stages[0][1] else ' (%.0f%%)' % (100.0 * v / stages[0][1])
        o.append('<text x="%.1f" y="%d" font-size="14">%s%s</text>'
                 % (left + max(v * scale, 1) + 8, y + bar_h * 0.68, v, pct))
    # conversion: e-mailed against holdout
    y0 = top + len(stages) * (bar_h + gap) + 30
    o.append('<text x="10" y="%d" font-size="16" font-weight="bold">Conversion within 7 days</text>' % y0)
    rates = [('e-mailed group', f['conversion_rate'], GREEN), ('holdout (no e-mail)', f['holdout_conversion_rate'], GREY)]
    rscale = (w - left - 90) / max([r for _, r, _ in rates] + [0.01])
    for i, (label, r, colour) in enumerate(rates):
        y = y0 + 15 + i * (bar_h + gap)
        o.append('<text x="%d" y="%d" font-size="14" text-anchor="end">%s</text>'
                 % (left - 10, y + bar_h * 0.68, esc(label)))
        o.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                 % (left, y, max(r * rscale, 1), bar_h, colour))
        o.append('<text x="%.1f" y="%d" font-size="14">%.1f%%</text>'
                 % (left + max(r * rscale, 1) + 8, y + bar_h * 0.68, 100.0 * r))
    o.append('</svg>')
    return '\n'.join(o) + '\n'


def growth_svg(rows):
    """Members of the segment at each evaluation, with who entered and who
    left since the previous one."""
    w, h, left, right, top, bottom = 760, 360, 60, 20, 50, 70
    n = len(rows)
    top_value = max([r['members'] for r in rows] + [r['entered'] for r in rows] + [1])
    step = (w - left - right) / max(n, 1)
    ys = (h - top - bottom) / top_value
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s>'
         % (w, h, w, h, FONT),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="10" y="26" font-size="18" font-weight="bold">The segment "dwelling but not buying" over the week</text>',
         '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (left, h - bottom, w - right, h - bottom)]
    for i, r in enumerate(rows):
        x = left + i * step + step * 0.15
        bw = step * 0.7
        mh = r['members'] * ys
        o.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>'
                 % (x, h - bottom - mh, bw, max(mh, 0.5), BLUE))
        o.append('<text x="%.1f" y="%.1f" font-size="13" text-anchor="middle">%d</text>'
                 % (x + bw / 2, h - bottom - mh - 6, r['members']))
        o.append('<text x="%.1f" y="%d" font-size="12" text-anchor="middle">%s</text>'
                 % (x + bw / 2, h - bottom + 16, esc(r['label'])))
        o.append('<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="%s">+%d</text>'
                 % (x + bw / 2, h - bottom + 32, GREEN, r['entered']))
        o.append('<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="%s">-%d</text>'
                 % (x + bw / 2, h - bottom + 46, RED, r['exited']))
    o.append('<text x="%d" y="%d" font-size="11" fill="#555">members at each evaluation (bars); entered (+) and left (-) since the previous one</text>'
             % (left, h - 6))
    o.append('</svg>')
    return '\n'.join(o) + '\n'


def main(argv):
    """Read the two CSV files and write the charts and the page."""
    p = argparse.ArgumentParser(description='The demo report: SVG charts and an HTML page.')
    p.add_argument('--funnel', required=True)
    p.add_argument('--growth', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--title', default='pg_cdp demo')
    a = p.parse_args(argv)
    with open(a.funnel, newline='', encoding='utf-8') as fh:
        rows = list(csv.DictReader(fh))
    if len(rows) != 1:
        sys.stderr.write('report.py: %s must hold one row, not %d\n' % (a.funnel, len(rows)))
        return 1
    f = {k: num(v) for k, v in rows[0].items()}
    growth = []
    with open(a.growth, newline='', encoding='utf-8') as fh:
        for r in csv.DictReader(fh):
            growth.append({'label': r['reference_time'][5:16], 'entered': int(r['entered']),
                           'exited': int(r['exited']), 'members': int(r['members'])})
    fsvg, gsvg = funnel_svg(f), growth_svg(growth)
    with open(os.path.join(a.out, 'funnel.svg'), 'w', encoding='utf-8') as fh:
        fh.write(fsvg)
    with open(os.path.join(a.out, 'growth.svg'), 'w', encoding='utf-8') as fh:
        fh.write(gsvg)
    table = ''.join('<tr><th>%s</th><td>%s</td></tr>' % (esc(k), esc(rows[0][k])) for k in rows[0])
    gtable = ''.join('<tr><td>%s</td><td>%d</td><td>%d</td><td>%d</td></tr>'
                     % (esc(r['label']), r['entered'], r['exited'], r['members']) for r in growth)
    page = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>%s</title>\n'
            '<style>body{font-family:DejaVu Sans,Arial,sans-serif;max-width:820px;margin:2em auto;color:#222}'
            'table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}'
            'th{text-align:left;font-weight:normal;color:#555}</style></head><body>\n'
            '<h1>%s</h1>\n<p>Customers who dwelt on product pages without buying got a 20%%-off coupon '
            '(one in five held out), a reminder if they had not bought after the wait, and here is what '
            'happened.</p>\n%s\n<table>%s</table>\n%s\n'
            '<table><tr><th>evaluated at (UTC)</th><th>entered</th><th>left</th><th>members</th></tr>%s</table>\n'
            '</body></html>\n') % (esc(a.title), esc(a.title), fsvg, table, gsvg, gtable)
    with open(os.path.join(a.out, 'story.html'), 'w', encoding='utf-8') as fh:
        fh.write(page)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

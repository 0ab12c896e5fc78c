"""The office's assessment report (考评, point 19 of the work plan): per section (处室) and per
person, for a month or a quarter.

Why a package of its own: the report reads every service's raw records (`GET /records` of
review, liaison and news, admin only) and joins them, so it belongs to no single service
(a service never imports another) and it is not platform plumbing either (`civicpulse/` is the
library every service runs on; a report about the office's work would make the library know
every service's records). The console's 管理 page calls `build.build_report` the same way the
CLI does. No figure comes from Prometheus: metrics are sampled and reset on restart, the
services' records are the office's own account of what happened and when.

    period.py    a month or a quarter → [since, until) in office time
    sources.py   each service's `GET /records` over HTTP, with an admin token
    measures.py  pure: records → one table per measure, by section and by person
    charts.py    a PNG bar chart per measure (Chinese labels, a CJK font)
    workbook.py  the Excel workbook, one sheet per measure
    markdown.py  the Markdown report
    build.py     all of it into one directory
    cli.py       `civicpulse report assessment --month YYYY-MM | --quarter YYYYQn --out DIR`
"""

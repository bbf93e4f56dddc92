"""Human review of the corpus: a local web app to read attempts and label them, an audit sample
of the accepted entries, and what the labels become (a critic benchmark suite, the corpus's
measured precision, the critic's and the annotators' agreement).

  browse.py    what the app reads: runs, filtered pages of attempts, one problem, the queue
  render.py    untrusted text to safe HTML: LaTeX as MathML (allow-listed), highlighted Lean
  security.py  the middleware: loopback Host check, access token, CSRF, CSP and other headers
  app.py       the Starlette app: pages and the JSON API (``create_app``)
  audit.py     the stratified audit sample, drawn and stored (migration 5)
  labelled.py  labelled attempts and the majority decision over several annotators
  stats.py     Wilson intervals, the stratified estimate, Cohen's kappa
  report.py    ``formalize review report``: precision, critic agreement, annotator agreement
  suite.py     ``formalize review export``: labels as a generic JSONL critic suite

The web parts need the ``review`` extra (Starlette, Jinja2, uvicorn, latex2mathml); sampling,
the report and the export need nothing beyond the core package.
"""

"""How to install formalize and its extras: the one place every install hint comes from.

The distribution is ``formalize-lean`` (``formalize`` on PyPI is an unrelated package); the
command and the import package are both ``formalize``.
"""

from __future__ import annotations

DISTRIBUTION = "formalize-lean"
# Until the distribution is published, hints also say how to install from a checkout.
PUBLISHED = False


def install_hint(extra: str | None = None) -> str:
    """The command that installs formalize (with ``extra``), for error messages and docs."""
    suffix = f"[{extra}]" if extra else ""
    published = f"`pip install '{DISTRIBUTION}{suffix}'`"
    if PUBLISHED:
        return published
    return f"`pip install -e '.{suffix}'` in a checkout ({published} once it is on PyPI)"

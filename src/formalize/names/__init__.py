"""The name check (issue 22): a candidate's global names resolved against the declaration
index before Lean sees it, with did-you-mean suggestions for the ones that do not resolve."""

from formalize.names.check import (
    NAMES_SIGNAL,
    NameChecker,
    NameReport,
    NamesMode,
    Unresolved,
)
from formalize.names.scan import NameUse, Scan, scan
from formalize.names.suggest import NameIndex, edit_distance, suggest

__all__ = [
    "NAMES_SIGNAL",
    "NameChecker",
    "NameIndex",
    "NameReport",
    "NameUse",
    "NamesMode",
    "Scan",
    "Unresolved",
    "edit_distance",
    "scan",
    "suggest",
]

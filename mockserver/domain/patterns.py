"""User-supplied regular expressions (scenario rules, fault matches), compiled by RE2.

RE2 matches in time linear in the text whatever the pattern, so no scenario can stall the
server (``^(a+)+$`` is harmless), at the price of Python-only syntax such as look-arounds
and backreferences.
"""

from __future__ import annotations

from typing import Protocol

import re2

__all__ = ["MAX_PATTERN_CHARS", "Pattern", "compile_pattern"]

MAX_PATTERN_CHARS = 4096


class Pattern(Protocol):
    """A compiled regular expression: the source text and an unanchored search."""

    @property
    def pattern(self) -> str: ...

    def search(self, text: str) -> object | None: ...


def _re2_options() -> object:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every rejected pattern to stderr
    return options


_RE2_OPTIONS = _re2_options()


def compile_pattern(text: str) -> Pattern:
    """``text`` compiled by RE2; ``ValueError`` (with RE2's reason) if it is not valid."""
    if len(text) > MAX_PATTERN_CHARS:
        raise ValueError(f"longer than {MAX_PATTERN_CHARS} characters")
    try:
        compiled: Pattern = re2.compile(text, _RE2_OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        reason = str(reason)
        raise ValueError(reason if len(reason) <= 200 else reason[:200] + "...") from None
    return compiled

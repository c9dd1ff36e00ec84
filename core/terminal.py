"""Text bound for the user's terminal: names that come from files are shown, never obeyed."""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with control characters (newlines, carriage returns, terminal escapes) written as
    Python escapes (`\\n`, `\\x1b`), so a file name cannot break a line of a report, forge one, or
    drive the terminal. Printable text, accented and non-Latin letters included, is unchanged."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)

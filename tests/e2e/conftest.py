"""Fixtures of the browser tests (the checks themselves are in browser_checks.py)."""

from __future__ import annotations

import pytest
from browser_checks import Vocabulary, french_catalogue, read_vocabulary


@pytest.fixture(scope="session")
def vocabulary() -> Vocabulary:
    """The French catalogue's literal strings, read once per run."""
    return read_vocabulary(french_catalogue())

"""``python -m mockserver``."""

from __future__ import annotations

import sys

from mockserver.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())

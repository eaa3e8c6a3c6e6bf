"""``python -m openapi``: print, write, or check the generated OpenAPI document."""

from __future__ import annotations

import argparse
import difflib
import sys

from openapi.generator import DOCUMENT_PATH, render_document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m openapi",
        description="Generate the OpenAPI 3.1 document of the task automation API.",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--write", action="store_true", help=f"update the committed copy ({DOCUMENT_PATH.name})"
    )
    group.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when the committed copy differs from what the models produce",
    )
    args = parser.parse_args(argv)
    rendered = render_document()
    if args.write:
        DOCUMENT_PATH.write_text(rendered, encoding="utf-8")
        print(f"wrote {DOCUMENT_PATH}", file=sys.stderr)
        return 0
    if args.check:
        committed = DOCUMENT_PATH.read_text(encoding="utf-8") if DOCUMENT_PATH.exists() else ""
        if committed == rendered:
            print(f"{DOCUMENT_PATH} is current", file=sys.stderr)
            return 0
        diff = difflib.unified_diff(
            committed.splitlines(keepends=True),
            rendered.splitlines(keepends=True),
            fromfile=f"{DOCUMENT_PATH} (committed)",
            tofile="generated from openapi/models.py",
        )
        sys.stderr.writelines(diff)
        print(
            f"\n{DOCUMENT_PATH} is out of date: run `python -m openapi --write`",
            file=sys.stderr,
        )
        return 1
    sys.stdout.write(rendered)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

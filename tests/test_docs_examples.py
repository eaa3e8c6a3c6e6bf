"""Every command and code example of the README and docs/*.md runs as written.

How a block is run, and the two markers that change it, are in
:mod:`tests.support.doc_examples`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.doc_examples import (
    DOCUMENTS,
    RUNNABLE,
    SHOWN,
    Block,
    blocks,
    connect_error_in,
    run_block,
)

ALL_BLOCKS = [block for document in DOCUMENTS for block in blocks(document)]


def _params() -> list[object]:
    params: list[object] = []
    first_of: dict[tuple[str, str], str] = {}  # a block repeated on another page runs once
    for block in ALL_BLOCKS:
        if block.language not in RUNNABLE:
            continue
        marks: list[pytest.MarkDecorator] = [pytest.mark.e2e]
        first = first_of.setdefault((block.language, block.text), block.name)
        if block.not_tested is not None:
            marks.append(pytest.mark.skip(reason=f"not-tested: {block.not_tested}"))
        elif first != block.name:
            marks.append(pytest.mark.skip(reason=f"the same block as {first}, run there"))
        if block.slow is not None:
            marks.append(pytest.mark.slow)
        params.append(pytest.param(block, id=block.name, marks=marks))
    return params


@pytest.mark.parametrize("block", _params())
def test_docs_example_runs_as_written(block: Block, tmp_path: Path) -> None:
    result = run_block(block, tmp_path)
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, f"{block.name} exited {result.returncode}\n{output}"
    error = connect_error_in(result.stdout)
    assert error is None, f"{block.name} got an error answer: {error}\n{output}"


def test_docs_every_fence_names_its_language() -> None:
    """A block nobody can tell how to run would be left out silently."""
    known = (*RUNNABLE, *SHOWN)
    unknown = [f"{b.name}: ```{b.language}" for b in ALL_BLOCKS if b.language not in known]
    assert unknown == [], f"mark these {known}, or teach tests/support/doc_examples.py: {unknown}"


def test_docs_not_tested_blocks_are_rare_and_say_why() -> None:
    skipped = [block for block in ALL_BLOCKS if block.not_tested is not None]
    assert all(len(block.not_tested or "") >= 15 for block in skipped)
    # 8 today: install and tox, Development, a real deployment, the peer run, the fake's
    # 10-minute campaign, and three that tests of their own run (test_docs_journal.py,
    # test_proxy_docs.py). Keep it so.
    assert len(skipped) <= 8, [block.name for block in skipped]


def test_docs_runner_catches_a_failing_block(tmp_path: Path) -> None:
    """The runner itself: a block whose middle step fails, or that gets an error answer,
    does not pass."""
    document = tmp_path / "page.md"
    document.write_text(
        "```bash\nfalse | cat\necho fine\n```\n\n"
        "```bash\ncurl -s http://127.0.0.1:8080/gitpod.v1.EnvironmentAutomationService/GetTask"
        " -H 'Authorization: Bearer x' -H 'Content-Type: application/json' -d '{\"id\": \"x\"}'\n"
        "```\n\n"
        "```sh\nA=(1 2)\n```\n",
        encoding="utf-8",
    )
    failing, erring, bash_only = blocks(document)
    assert run_block(failing, tmp_path).returncode != 0
    answered = run_block(erring, tmp_path)
    assert answered.returncode == 0 and connect_error_in(answered.stdout) is not None
    assert run_block(bash_only, tmp_path).returncode != 0  # dash has no arrays

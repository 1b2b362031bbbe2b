"""The numbered notebooks run from a clean kernel, use the public API only, and carry no outputs."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Only the package itself and its documented researcher helpers; no reaching into internals.
PRIVATE_IMPORT = re.compile(r"^\s*(from\s+hrdiscourse\.|import\s+hrdiscourse\.)", re.M)


def _code(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("expected", [["01", "02", "03", "04"]])
def test_notebooks_are_numbered(expected: list[str]) -> None:
    assert [p.name[:2] for p in NOTEBOOKS] == expected


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = _code(nb)
    assert "import hrdiscourse" in code
    assert not PRIVATE_IMPORT.search(code), f"{path.name}: use the public API (import hrdiscourse)"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_execute_from_a_clean_kernel(path: Path) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
    )
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    # Every code cell ran and the last one produced something to look at.
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
    assert nb.cells[-1].outputs

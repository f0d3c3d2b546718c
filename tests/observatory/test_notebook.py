"""The relocation-potential notebook executes end to end on the fixture (so it cannot rot).

Any cell error fails the test (nbclient raises CellExecutionError); the executed copy is
written to tmp, the committed rendered notebook is left alone.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "relocation_potential.ipynb"


def test_relocation_potential_notebook_executes(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("RELOCMATCH_DATA", str(data_dir))
    monkeypatch.setenv("POTENTIAL_CHART_PNG", str(tmp_path / "chart.png"))
    for var in ("POTENTIAL_BOMS", "POTENTIAL_CATALOG", "POTENTIAL_REGION"):
        monkeypatch.delenv(var, raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:  # start from a clean slate, whatever the committed outputs are
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    nbformat.write(nb, tmp_path / "executed.ipynb")

    texts = []
    images = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            texts.append(out.get("text", "") + data.get("text/plain", "") + data.get("text/html", ""))
            images += "image/png" in data
    joined = "\n".join(texts)
    assert "Roulements" in joined and "3901" in joined  # the ranked table was displayed
    assert "1 lines without a code" in joined
    assert images >= 1  # the chart was drawn
    assert (tmp_path / "chart.png").stat().st_size > 10_000
    assert os.environ["RELOCMATCH_DATA"] == str(data_dir)

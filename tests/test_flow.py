"""The Prefect flow, for real: a temporary Prefect server, one task run per batch, outputs.

Starting Prefect's temporary server costs tens of seconds, so everything is checked in one
test: under ``pytest -n 2`` separate tests could land on both workers and start it twice.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from pdfkit import good_report

pytestmark = pytest.mark.slow


async def _task_run_names(flow_run_id: Any) -> list[tuple[str, bool]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return sorted((r.name, r.state is not None and r.state.is_completed()) for r in runs)


def _bundles(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "bundles").glob("*.json"))}


def test_convert_folder_flow(tmp_path: Path) -> None:
    from prefect.testing.utilities import prefect_test_harness

    from flows.prefect_flows import convert_folder

    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    good_report(inbox / "a.pdf", 0)
    good_report(inbox / "b.pdf", 1)
    (inbox / "c.pdf").write_bytes(b"not a pdf at all")

    with prefect_test_harness(server_startup_timeout=180):
        state = convert_folder(str(inbox), str(out), batch_size=2, workers=1, return_state=True)
        assert state.is_completed(), state
        report = state.result()
        runs = asyncio.run(_task_run_names(state.state_details.flow_run_id))

        # a second run of the flow: the ledger leaves nothing to convert
        before = _bundles(out)
        again = convert_folder(str(inbox), str(out), batch_size=2, workers=1, return_state=True)
        assert again.is_completed(), again
        runs_again = asyncio.run(_task_run_names(again.state_details.flow_run_id))

    # one task run per batch: 3 documents, batch_size=2 -> 2 batches
    batches = [(name, ok) for name, ok in runs if name.startswith("convert-batch")]
    assert batches == [("convert-batch-0", True), ("convert-batch-1", True)]
    assert any(name.startswith("plan-run") for name, _ in runs)
    assert any(name.startswith("finalize-run") for name, _ in runs)
    assert all(ok for _, ok in runs)

    # outputs
    assert sorted(_bundles(out)) == ["a.json", "b.json"]
    assert (out / "observations.parquet").exists()
    assert json.loads((out / "quarantine" / "c.reason.json").read_text())["reason"] == "not-a-pdf"
    on_disk = json.loads((out / "run_report.json").read_text())
    assert on_disk["documents_in"] == report["documents_in"] == 3
    assert (on_disk["converted"], on_disk["failed"]) == (2, 1)
    assert on_disk["orchestrator"] == "prefect"

    # incremental second run
    assert not [name for name, _ in runs_again if name.startswith("convert-batch")]
    assert _bundles(out) == before
    assert again.result()["documents_in"] == 3

"""The Prefect flow, for real: a temporary Prefect server, one task run per batch, outputs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pdfkit import good_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[None]:
    """One temporary Prefect API (own SQLite database) for this module."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def flow_run(prefect_server: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run ``convert_folder`` once on 3 documents (one bad) with batch_size=2."""
    from flows.prefect_flows import convert_folder

    base = tmp_path_factory.mktemp("flow")
    inbox, out = base / "in", base / "out"
    inbox.mkdir()
    good_report(inbox / "a.pdf", 0)
    good_report(inbox / "b.pdf", 1)
    (inbox / "c.pdf").write_bytes(b"not a pdf at all")
    state = convert_folder(str(inbox), str(out), batch_size=2, workers=1, return_state=True)
    assert state.is_completed(), state
    return {"state": state, "report": state.result(), "inbox": inbox, "out": out}


async def _task_runs(flow_run_id: Any) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        return list(await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))))


def test_flow_writes_bundles_parquet_report_and_quarantine(flow_run: dict[str, Any]) -> None:
    out: Path = flow_run["out"]
    report = flow_run["report"]
    assert sorted(p.name for p in (out / "bundles").glob("*.json")) == ["a.json", "b.json"]
    assert (out / "observations.parquet").exists()
    assert json.loads((out / "quarantine" / "c.reason.json").read_text())["reason"] == "not-a-pdf"
    on_disk = json.loads((out / "run_report.json").read_text())
    assert on_disk["documents_in"] == report["documents_in"] == 3
    assert on_disk["failed"] == 1
    assert on_disk["orchestrator"] == "prefect"


def test_one_task_run_per_batch(flow_run: dict[str, Any]) -> None:
    flow_run_id = flow_run["state"].state_details.flow_run_id
    runs = asyncio.run(_task_runs(flow_run_id))
    names = sorted(r.name for r in runs)
    batches = [n for n in names if n.startswith("convert-batch")]
    assert batches == ["convert-batch-0", "convert-batch-1"]  # 3 documents, batch_size=2
    assert all(r.state is not None and r.state.is_completed() for r in runs)
    assert any(n.startswith("plan-run") for n in names) and any(n.startswith("finalize-run") for n in names)


def test_second_flow_run_is_incremental(flow_run: dict[str, Any]) -> None:
    from flows.prefect_flows import convert_folder

    out: Path = flow_run["out"]
    before = {p.name: p.read_bytes() for p in (out / "bundles").glob("*.json")}
    state = convert_folder(str(flow_run["inbox"]), str(out), batch_size=2, workers=1, return_state=True)
    assert state.is_completed()
    runs = asyncio.run(_task_runs(state.state_details.flow_run_id))
    assert not [r for r in runs if r.name.startswith("convert-batch")]  # nothing left to convert
    assert {p.name: p.read_bytes() for p in (out / "bundles").glob("*.json")} == before
    assert state.result()["documents_in"] == 3

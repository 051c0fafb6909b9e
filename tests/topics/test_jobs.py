"""The topic map kept current by the job queue (both backends): an embedding job queues a
topic update, a worker runs it, and the refit kind rebuilds the map."""

from __future__ import annotations

from pathlib import Path

from paperstand import jobs
from paperstand.settings import Settings
from paperstand.store import Store
from tests.topics import slice as real


def test_embedding_queues_a_topic_update_that_a_worker_runs(store: Store, tmp_path: Path):
    settings = Settings(home=tmp_path, embedding_model="static-64", topics_clusters=3)
    papers = real.papers()[:40]
    store.upsert_papers(papers)
    worker = jobs.Worker(store, settings, name="w")
    assert {"topics-update", "topics-refit"} <= set(worker.kinds)

    jobs.enqueue(store, settings, "embed", {"ids": [p.id for p in papers]})
    assert worker.run_one().kind == "embed"
    queued = store.list_jobs(status="queued")
    assert [j.kind for j in queued] == ["topics-update"]
    assert queued[0].key.startswith("topics-update:")
    # Another embedding job in the same slot shares that update.
    jobs.enqueue(store, settings, "embed", {"ids": [papers[0].id]})
    worker.run_one()
    assert [j.kind for j in store.list_jobs(status="queued")] == ["topics-update"]

    # Due a minute later; run it now.
    job = store.list_jobs(status="queued")[0]
    update = jobs.KINDS["topics-update"].run(jobs.JobContext(job, store, settings))
    assert update["mode"] == "full" and update["papers"] == 40
    assert len(store.topics.points()) == 40

    refit = jobs.enqueue(store, settings, "topics-refit")
    assert refit is not None
    ran = worker.run_one()
    while ran is not None and ran.kind != "topics-refit":
        ran = worker.run_one()
    done = [j for j in store.list_jobs(status="done") if j.kind == "topics-refit"]
    assert done and done[0].result["mode"] == "full" and done[0].result["clusters"] == 3

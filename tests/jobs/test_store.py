"""Both job stores keep the same promises: one claim at a time, leases that run out, exactly-once segments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from awaaz.jobs.model import Job, JobError, JobStatus, new_job_id
from awaaz.jobs.redis_store import RedisJobStore
from awaaz.jobs.store import JobStore, SqliteJobStore
from awaaz.types import Segment, TranscribeOptions

NOW = 1_000_000.0


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    if request.param == "sqlite":
        sqlite = SqliteJobStore(tmp_path / "jobs.sqlite3")
        yield sqlite
        sqlite.close()
    else:
        url = request.getfixturevalue("redis_url")
        redis_store = RedisJobStore.from_url(url)
        yield redis_store
        redis_store.close()


def _job(created: float = NOW, **fields: object) -> Job:
    return Job(
        id=new_job_id(),
        status=JobStatus.QUEUED,
        created_at=created,
        options=TranscribeOptions(language="hi", word_timestamps=True),
        filename="a.mp3",
        **fields,  # type: ignore[arg-type]
    )


def _segment(k: int) -> Segment:
    return Segment(k, float(k), k + 1.0, f"खंड{k}")


def test_a_job_round_trips_and_lists_newest_first(store: JobStore) -> None:
    older, newer = _job(NOW), _job(NOW + 1, model="m", duration_s=12.5, callback_url="http://hooks/x")
    store.create(older)
    store.create(newer)
    assert store.get(newer.id) == newer
    assert [j.id for j in store.recent(10)] == [newer.id, older.id]
    assert [j.id for j in store.recent(10, before=NOW + 1)] == [older.id]
    assert store.get("job_" + "0" * 32) is None


def test_one_claim_at_a_time_until_the_lease_runs_out(store: JobStore) -> None:
    job = _job()
    store.create(job)
    assert store.claimable(NOW) == [job.id]
    claimed = store.claim(job.id, "a", NOW, 10)
    assert claimed is not None
    assert (claimed.status, claimed.attempts, claimed.started_at) == (JobStatus.RUNNING, 1, NOW)
    assert store.claim(job.id, "b", NOW + 5, 10) is None  # a holds it
    assert store.renew(job.id, "a", NOW + 5, 10)  # now until NOW + 15
    assert store.claim(job.id, "b", NOW + 12, 10) is None
    assert store.expired(NOW + 16) == [job.id]
    taken = store.claim(job.id, "b", NOW + 16, 10)  # a died: its lease ran out
    assert taken is not None
    assert taken.attempts == 2
    assert not store.renew(job.id, "a", NOW + 17, 10)  # a must stop
    assert not store.finish(job.id, "a", JobStatus.DONE, NOW + 17)
    assert store.finish(job.id, "b", JobStatus.DONE, NOW + 18, duration_s=9.5, language="hi")
    done = store.get(job.id)
    assert done is not None
    assert (done.status, done.finished_at, done.duration_s, done.language) == (
        JobStatus.DONE,
        NOW + 18,
        9.5,
        "hi",
    )
    assert store.claimable(NOW + 100) == []


def test_segments_land_exactly_once_and_only_from_the_lease_holder(store: JobStore) -> None:
    job = _job(duration_s=10.0)
    store.create(job)
    assert store.add_segments(job.id, "w", 0, [_segment(0)], 1.0) == -1  # not claimed by w
    store.claim(job.id, "w", NOW, 10)
    assert store.add_segments(job.id, "w", 0, [_segment(0), _segment(1)], 2.0) == 2
    assert store.add_segments(job.id, "w", 1, [_segment(1), _segment(2)], 3.0) == 1  # index 1 is there
    assert store.add_segments(job.id, "w", 0, [Segment(0, 0.0, 1.0, "दूसरा")], 1.0) == 0
    assert store.add_segments(job.id, "other", 3, [_segment(3)], 4.0) == -1
    assert [s.text for s in store.segments(job.id)] == ["खंड0", "खंड1", "खंड2"]
    assert store.segment_writes(job.id) == 3
    stored = store.get(job.id)
    assert stored is not None
    assert (stored.segments, stored.progress_s, stored.progress) == (3, 3.0, 0.3)


def test_cancel_stops_a_running_job_and_leaves_a_finished_one(store: JobStore) -> None:
    running, done = _job(), _job()
    for job in (running, done):
        store.create(job)
        store.claim(job.id, "w", NOW, 10)
    store.finish(done.id, "w", JobStatus.FAILED, NOW + 1, error=JobError("bad", "broken", "bad_input"))
    cancelled = store.cancel(running.id, NOW + 2)
    assert cancelled is not None
    assert cancelled.status is JobStatus.CANCELLED
    assert not store.renew(running.id, "w", NOW + 3, 10)
    failed = store.cancel(done.id, NOW + 4)
    assert failed is not None
    assert failed.status is JobStatus.FAILED
    assert failed.error == JobError("bad", "broken", "bad_input")
    assert store.cancel("job_" + "1" * 32, NOW) is None


def test_released_leases_and_expired_jobs_are_deleted_on_request(store: JobStore) -> None:
    job, old = _job(), _job()
    store.create(job)
    store.create(old)
    store.claim(job.id, "dead", NOW, 3600)
    assert store.release_leases() == 1
    assert store.claim(job.id, "new", NOW + 1, 10) is not None
    store.claim(old.id, "w", NOW, 10)
    store.add_segments(old.id, "w", 0, [_segment(0)], 1.0)
    store.finish(old.id, "w", JobStatus.DONE, NOW + 5)
    assert store.finished_before(NOW + 6) == [old.id]
    store.delete(old.id)
    assert store.get(old.id) is None
    assert store.segments(old.id) == []
    assert store.finished_before(NOW + 6) == []


def test_the_tally_counts_live_jobs_and_every_end_once(store: JobStore) -> None:
    jobs = [_job(NOW + k) for k in range(5)]
    for job in jobs:
        store.create(job)
    assert store.tally() == {"queued": 5, "running": 0, "done": 0, "failed": 0, "cancelled": 0}
    for job in jobs[:3]:
        store.claim(job.id, "w", NOW, 10)
    store.finish(jobs[0].id, "w", JobStatus.DONE, NOW + 1)
    assert not store.finish(jobs[0].id, "w", JobStatus.DONE, NOW + 2)  # ended once: counted once
    store.finish(jobs[1].id, "w", JobStatus.FAILED, NOW + 1, error=JobError("bad", "broken", "bad_input"))
    store.cancel(jobs[2].id, NOW + 1)
    store.cancel(jobs[2].id, NOW + 2)  # already cancelled: not counted again
    store.cancel(jobs[3].id, NOW + 1)
    assert store.tally() == {"queued": 1, "running": 0, "done": 1, "failed": 1, "cancelled": 2}
    store.delete(jobs[0].id)  # retention forgets the job, not that it ended
    assert store.tally()["done"] == 1

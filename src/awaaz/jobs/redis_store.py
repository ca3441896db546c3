"""Jobs in Redis, the state every API process and Celery worker reaches (``AWAAZ_QUEUE=celery``).

Keys (prefix ``awaaz:``): ``job:<id>`` a hash of the job's fields; ``job:<id>:segments`` a hash of index to
segment; sorted sets ``jobs`` (by creation), ``queued`` (by creation), ``running`` (by lease end) and
``finished`` (by end); ``outcomes`` a hash counting ended jobs per status. Claims, renewals, ends and
cancels are Lua scripts, so each is atomic; a segment is written with HSETNX, so writing it twice changes
nothing (see :mod:`awaaz.jobs.store`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from awaaz.jobs.model import (
    Job,
    JobError,
    JobStatus,
    error_from_json,
    error_to_json,
    options_from_json,
    options_to_json,
    segment_from_json,
    segment_to_json,
)
from awaaz.jobs.store import tally_of
from awaaz.types import Segment

PREFIX = "awaaz:"
OUTAGE_S = 30.0
"""How long store calls wait for Redis to come back before failing."""

_CLAIM = """
local job = KEYS[1]
local status = redis.call('HGET', job, 'status')
if not status then return 0 end
local now, until_ = tonumber(ARGV[2]), tonumber(ARGV[2]) + tonumber(ARGV[3])
local lease = tonumber(redis.call('HGET', job, 'lease_until') or '0')
if status == 'queued' or (status == 'running' and lease < now) then
  redis.call('HSET', job, 'status', 'running', 'lease_owner', ARGV[1], 'lease_until', until_)
  redis.call('HSETNX', job, 'started_at', ARGV[2])
  redis.call('HINCRBY', job, 'attempts', 1)
  redis.call('ZADD', KEYS[2], until_, ARGV[4])
  redis.call('ZREM', KEYS[3], ARGV[4])
  return 1
end
return 0
"""

_RENEW = """
local job = KEYS[1]
if redis.call('HGET', job, 'status') == 'running' and redis.call('HGET', job, 'lease_owner') == ARGV[1] then
  local until_ = tonumber(ARGV[2]) + tonumber(ARGV[3])
  redis.call('HSET', job, 'lease_until', until_)
  redis.call('ZADD', KEYS[2], until_, ARGV[4])
  return 1
end
return 0
"""

_FINISH = """
local job = KEYS[1]
if redis.call('HGET', job, 'status') ~= 'running' or redis.call('HGET', job, 'lease_owner') ~= ARGV[1] then
  return 0
end
redis.call('HSET', job, 'status', ARGV[2], 'finished_at', ARGV[3])
redis.call('HDEL', job, 'lease_owner', 'lease_until')
if ARGV[4] ~= '' then redis.call('HSET', job, 'error', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', job, 'duration_s', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', job, 'language', ARGV[6]) end
redis.call('ZREM', KEYS[2], ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[7])
redis.call('HINCRBY', KEYS[4], ARGV[2], 1)
return 1
"""

_CANCEL = """
local job = KEYS[1]
local status = redis.call('HGET', job, 'status')
if status == 'queued' or status == 'running' then
  redis.call('HSET', job, 'status', 'cancelled', 'finished_at', ARGV[1])
  redis.call('HDEL', job, 'lease_owner', 'lease_until')
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[4], ARGV[2])
  redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])
  redis.call('HINCRBY', KEYS[5], 'cancelled', 1)
end
return 1
"""

_ADD = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' or redis.call('HGET', KEYS[1], 'lease_owner') ~= ARGV[2] then
  return -1
end
local written = 0
for i = 3, #ARGV, 2 do
  written = written + redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('HINCRBY', KEYS[1], 'segment_writes', written)
redis.call('HSET', KEYS[1], 'segments', redis.call('HLEN', KEYS[2]))
local progress = tonumber(redis.call('HGET', KEYS[1], 'progress_s') or '0')
if tonumber(ARGV[1]) > progress then redis.call('HSET', KEYS[1], 'progress_s', ARGV[1]) end
return written
"""


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


class RedisJobStore:
    """:class:`~awaaz.jobs.store.JobStore` over one Redis database."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)
        self._finish = client.register_script(_FINISH)
        self._cancel = client.register_script(_CANCEL)
        self._add = client.register_script(_ADD)

    @classmethod
    def from_url(cls, url: str, outage_s: float = OUTAGE_S) -> RedisJobStore:
        """A store on the Redis at ``url`` (``redis://host:port/db``) that rides out an outage (a restart,
        a failover) of up to about ``outage_s``: each call is retried with backoff meanwhile. Every write
        is safe to repeat (segments are written once; a repeated end or claim changes nothing)."""
        retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=max(1, math.ceil(outage_s / 1.0)) + 5)
        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            retry=retry,
            retry_on_error=[redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError],
        )
        return cls(client)

    @staticmethod
    def _key(job_id: str) -> str:
        return f"{PREFIX}job:{job_id}"

    def create(self, job: Job) -> None:
        fields: dict[Any, Any] = {
            "id": job.id,
            "status": job.status.value,
            "created_at": job.created_at,
            "options": options_to_json(job.options),
            "filename": job.filename,
            "progress_s": 0.0,
            "segments": 0,
            "attempts": 0,
            "segment_writes": 0,
        }
        optional = {"model": job.model, "callback_url": job.callback_url, "duration_s": job.duration_s}
        fields.update({name: value for name, value in optional.items() if value is not None})
        pipe = self.redis.pipeline()
        pipe.hset(self._key(job.id), mapping=fields)
        pipe.zadd(f"{PREFIX}jobs", {job.id: job.created_at})
        if job.status is JobStatus.QUEUED:
            pipe.zadd(f"{PREFIX}queued", {job.id: job.created_at})
        pipe.execute()

    def get(self, job_id: str) -> Job | None:
        data = cast(dict[str, str], self.redis.hgetall(self._key(job_id)))
        if not data:
            return None
        return Job(
            id=data["id"],
            status=JobStatus(data["status"]),
            created_at=float(data["created_at"]),
            options=options_from_json(data["options"]),
            model=data.get("model"),
            filename=data.get("filename", ""),
            callback_url=data.get("callback_url"),
            started_at=_float(data.get("started_at")),
            finished_at=_float(data.get("finished_at")),
            duration_s=_float(data.get("duration_s")),
            progress_s=float(data.get("progress_s", 0.0)),
            segments=int(data.get("segments", 0)),
            error=error_from_json(data.get("error")),
            attempts=int(data.get("attempts", 0)),
            language=data.get("language"),
        )

    def recent(self, limit: int, before: float | None = None) -> list[Job]:
        top = "+inf" if before is None else f"({before}"
        ids = cast(list[str], self.redis.zrevrangebyscore(f"{PREFIX}jobs", top, "-inf", start=0, num=limit))
        return [job for job_id in ids if (job := self.get(job_id)) is not None]

    def claimable(self, now: float, limit: int = 16) -> list[str]:
        queued = cast(list[str], self.redis.zrange(f"{PREFIX}queued", 0, limit - 1))
        return (queued + self.expired(now))[:limit]

    def expired(self, now: float) -> list[str]:
        return cast(list[str], self.redis.zrangebyscore(f"{PREFIX}running", "-inf", f"({now}"))

    def claim(self, job_id: str, owner: str, now: float, lease_s: float) -> Job | None:
        keys = [self._key(job_id), f"{PREFIX}running", f"{PREFIX}queued"]
        if not self._claim(keys=keys, args=[owner, now, lease_s, job_id]):
            return None
        return self.get(job_id)

    def renew(self, job_id: str, owner: str, now: float, lease_s: float) -> bool:
        keys = [self._key(job_id), f"{PREFIX}running"]
        return bool(self._renew(keys=keys, args=[owner, now, lease_s, job_id]))

    def add_segments(
        self, job_id: str, owner: str, first_index: int, segments: Sequence[Segment], progress_s: float
    ) -> int:
        args: list[Any] = [progress_s, owner]
        for offset, segment in enumerate(segments):
            args += [first_index + offset, segment_to_json(segment)]
        keys = [self._key(job_id), f"{self._key(job_id)}:segments"]
        return int(self._add(keys=keys, args=args))

    def set_duration(self, job_id: str, duration_s: float) -> None:
        self.redis.hset(self._key(job_id), "duration_s", duration_s)

    def finish(
        self,
        job_id: str,
        owner: str,
        status: JobStatus,
        now: float,
        *,
        error: JobError | None = None,
        duration_s: float | None = None,
        language: str | None = None,
    ) -> bool:
        keys = [self._key(job_id), f"{PREFIX}running", f"{PREFIX}finished", f"{PREFIX}outcomes"]
        args = [
            owner,
            status.value,
            now,
            error_to_json(error) or "",
            "" if duration_s is None else duration_s,
            language or "",
            job_id,
        ]
        return bool(self._finish(keys=keys, args=args))

    def cancel(self, job_id: str, now: float) -> Job | None:
        queued = f"{PREFIX}queued"
        keys = [self._key(job_id), f"{PREFIX}running", f"{PREFIX}finished", queued, f"{PREFIX}outcomes"]
        self._cancel(keys=keys, args=[now, job_id])
        return self.get(job_id)

    def tally(self) -> dict[str, int]:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcard(f"{PREFIX}queued")
        pipe.zcard(f"{PREFIX}running")
        pipe.hgetall(f"{PREFIX}outcomes")
        queued, running, ended = pipe.execute()
        return tally_of([("queued", queued), ("running", running), *cast(dict[str, str], ended).items()])

    def segments(self, job_id: str) -> list[Segment]:
        stored = cast(dict[str, str], self.redis.hgetall(f"{self._key(job_id)}:segments"))
        return [segment_from_json(stored[k]) for k in sorted(stored, key=int)]

    def segment_writes(self, job_id: str) -> int:
        return int(cast(str | None, self.redis.hget(self._key(job_id), "segment_writes")) or 0)

    def release_leases(self) -> int:
        running = cast(list[str], self.redis.zrange(f"{PREFIX}running", 0, -1))
        for job_id in running:
            self.redis.hset(self._key(job_id), "lease_until", 0)
            self.redis.zadd(f"{PREFIX}running", {job_id: 0})
        return len(running)

    def finished_before(self, before: float) -> list[str]:
        return cast(list[str], self.redis.zrangebyscore(f"{PREFIX}finished", "-inf", f"({before}"))

    def delete(self, job_id: str) -> None:
        pipe = self.redis.pipeline()
        pipe.delete(self._key(job_id), f"{self._key(job_id)}:segments")
        for index in ("jobs", "queued", "running", "finished"):
            pipe.zrem(f"{PREFIX}{index}", job_id)
        pipe.execute()

    def close(self) -> None:
        """Close the connection pool."""
        self.redis.close()

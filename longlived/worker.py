"""An RQ worker whose work horse lives for many jobs, in the app a subclass gives.

RQ forks a horse per job, so that a job that crashes its process takes nothing else down.
Here a fork cost 24 ms per job (RQ's own no-op job costs 5 ms without it), and each new horse
compiled every SQL statement anew: applying a notification cost 80 ms, of which 14 were work.
So the app is built and warmed once, in the worker, before the horse is forked; the horse
then runs job after job, each handed to it over a pipe, until it has run `WORKER_HORSE_JOBS`
of them. The worker watches it as RQ watches a horse: a horse that dies, by a crash, a kill
or the job's timeout, fails its job alone, as in RQ, and the next job gets a new horse.
"""

from __future__ import annotations

import contextlib
import os
import random
from multiprocessing.connection import Connection, Pipe
from typing import Any

from flask import Flask
from rq import Queue
from rq.executions import Execution
from rq.job import Job
from rq.worker import Worker

from longlived.warmup import warm

# A job sent to the horse: (job id, queue name, execution id); None: stop.
Order = tuple[str, str, str] | None


class HorseWorker(Worker):
    horse_jobs = int(os.environ.get("WORKER_HORSE_JOBS", "500"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        warm(self.jobs_app())
        self._horse: tuple[int, Connection] | None = None
        self._finished = False
        self._retiring = False  # the horse leaves after the job it reported last

    @staticmethod
    def jobs_app() -> Flask:
        """The app the jobs run in: this process's one, which the horses inherit."""
        raise NotImplementedError

    # The worker's side.

    def fork_work_horse(self, job: Job, queue: Queue) -> None:
        if self._horse is not None and self._retiring:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._horse[0], 0)
            self._horse = None
        if self._horse is None or not self._alive(self._horse[0]):
            self._horse, self._retiring = self._fork(), False
        pid, connection = self._horse
        self._horse_pid = pid
        self._finished = False
        execution = self.execution
        assert execution is not None
        connection.send((job.id, queue.name, execution.id))
        self.procline(f"Horse {pid} runs {job.id}")  # type: ignore[no-untyped-call]

    def wait_for_horse(self) -> tuple[int | None, int | None, Any]:
        """RQ waits here for the horse to exit; this horse says when its job is done.

        An exit status of 0 tells RQ that the job ended by itself (the horse has already
        recorded how); any other, that the horse died in it.
        """
        if self._horse is None:
            return None, None, None
        pid, connection = self._horse
        if self._finished:
            return pid, os.EX_OK, None
        try:
            # RQ's monitoring interval interrupts the wait, as it would a waitpid; the
            # message itself is read only once it is there.
            connection.poll(None)
            self._retiring = not connection.recv()
            self._finished = True
            return pid, os.EX_OK, None
        except (EOFError, OSError):
            pass  # the horse died in the job
        self._horse = None
        with contextlib.suppress(ChildProcessError):
            return os.wait4(pid, 0)
        return pid, None, None

    def teardown(self) -> None:
        if self._horse is not None and not self.is_horse:
            pid, connection = self._horse
            with contextlib.suppress(OSError):
                connection.send(None)
            connection.close()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self._horse = None
        super().teardown()  # type: ignore[no-untyped-call]

    def _fork(self) -> tuple[int, Connection]:
        ours, theirs = Pipe()
        pid = os.fork()
        if pid == 0:
            ours.close()
            os.setpgrp()
            self._serve(theirs)
        theirs.close()
        return pid, ours

    @staticmethod
    def _alive(pid: int) -> bool:
        with contextlib.suppress(ChildProcessError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            return done == 0
        return False

    # The horse's side.

    def _serve(self, connection: Connection) -> None:
        """Run the jobs the worker sends, one at a time, then exit."""
        random.seed()
        self.setup_work_horse_signals()  # type: ignore[no-untyped-call]
        self._is_horse = True
        app = self.jobs_app()
        with app.app_context():
            # The pools' connections are the worker's: forget them without closing them.
            for engine in app.extensions["sqlalchemy"].engines.values():
                engine.dispose(close=False)
        code = 0
        try:
            for left in range(self.horse_jobs - 1, -1, -1):
                try:
                    order: Order = connection.recv()
                except (EOFError, OSError):
                    break  # the worker is gone
                if order is None:
                    break
                self._run(*order)
                connection.send(left > 0)  # False: this horse leaves now
        except BaseException:
            # Outside the job itself (which RQ records): the worker reads this as a horse
            # that died in the job, and fails it.
            code = 1
        finally:
            os._exit(code)

    def _run(self, job_id: str, queue_name: str, execution_id: str) -> None:
        os.environ["RQ_JOB_ID"] = job_id
        job = self.job_class.fetch(job_id, connection=self.connection, serializer=self.serializer)
        queue = self.queue_class(
            queue_name,
            connection=self.connection,
            job_class=self.job_class,
            serializer=self.serializer,
            death_penalty_class=self.death_penalty_class,
        )
        execution = Execution.fetch(execution_id, job.id, connection=self.connection)
        self.execution = execution
        self.perform_job(job, queue, execution)

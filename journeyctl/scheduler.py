"""Runs a plan's steps in dependency order, several at once where their inputs allow.

A step starts once every step it reads from has finished, on a connection of its own (up to
`concurrency` of them: the run's own and workers opened as needed). The first failure, or
Ctrl-C, starts nothing more, interrupts the running steps where the client can, waits for them,
and re-raises: the caller then drops the run's staging tables with nothing still writing them.
"""

from __future__ import annotations

import graphlib
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Sequence

from journeyctl.connectors.base import Connector
from journeyctl.render import Step

Build = Callable[[Connector, Step], None]


def run_steps(connector: Connector, steps: Sequence[Step], build: Build, concurrency: int) -> None:
    """`build(connection, step)` for every step, each after the steps in its `after`."""
    if concurrency <= 1:
        for step in steps:
            build(connector, step)
        return
    order = {s.stage: i for i, s in enumerate(steps)}
    by_name = {s.stage: s for s in steps}
    graph = graphlib.TopologicalSorter({s.stage: [a for a in s.after if a in by_name] for s in steps})
    graph.prepare()
    idle, opened, ready = [connector], [], []
    running: dict[Future, tuple[str, Connector]] = {}
    with ThreadPoolExecutor(concurrency, thread_name_prefix="journeyctl-stage") as pool:
        try:
            while graph.is_active():
                ready = sorted([*ready, *graph.get_ready()], key=order.__getitem__)
                while ready and (idle or len(running) < concurrency):
                    if not idle:
                        opened.append(connector.worker())
                        idle.append(opened[-1])
                    worker, name = idle.pop(), ready.pop(0)
                    running[pool.submit(build, worker, by_name[name])] = (name, worker)
                for future in wait(running, return_when=FIRST_COMPLETED).done:
                    name, worker = running.pop(future)
                    idle.append(worker)
                    future.result()  # a failed step raises here
                    graph.done(name)
        except BaseException:
            for _, worker in running.values():
                worker.interrupt()
            wait(running)
            raise
        finally:
            for worker in opened:
                worker.close()

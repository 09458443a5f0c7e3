"""Forked worker processes that end with the process that forked them.

Ingestion reads files, and validation judges rows, in worker processes forked from a run that holds the
warehouse writer lock. A worker left running after its parent was killed would keep the inherited file
descriptors, the lock among them, and block every later run: on Linux the kernel sends each worker
SIGKILL when the parent dies; elsewhere a thread in the worker notices within half a second.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

_PR_SET_PDEATHSIG = 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def end_with_parent(parent_pid: int) -> None:
    """In a worker: arrange to end as soon as the process `parent_pid` is gone."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="instep-parent-watch", daemon=True).start()


def _start(parent_pid: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    end_with_parent(parent_pid)
    if initializer is not None:
        initializer(*initargs)


def forked_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A pool of `workers` forked processes (they start with this process's modules and state) that end
    with this process; `initializer(*initargs)` runs in each once it is started."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start,
        initargs=(os.getpid(), initializer, initargs),
    )

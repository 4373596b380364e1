"""The hosts of one training job as one XGBoost collective: rendezvous at the master's tracker, reductions.

The master host runs ``xgboost.tracker.RabitTracker`` on ``master_address:master_port``; every
host (the master too) joins it with ``xgboost.collective``, retrying until the tracker
listens. XGBoost then trains as one model over every host's shard: histograms, gradients
and evaluation metrics are summed across hosts at each round. A single-host job gets a
``LocalGroup`` whose reductions are the identity, so the training code is the same.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opensage.algorithms.base import TrainingEnvironment
from opensage.errors import AlgorithmError

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

_RETRY_PAUSE_S = 0.2


class Group(ABC):
    """The hosts training together; reductions combine one array per host, element-wise."""

    rank: int
    size: int

    @property
    def is_master(self) -> bool:
        return self.rank == 0

    @abstractmethod
    def sum(self, values: np.ndarray) -> np.ndarray:
        """The element-wise sum of ``values`` over every host."""

    @abstractmethod
    def max(self, values: np.ndarray) -> np.ndarray:
        """The element-wise maximum of ``values`` over every host."""

    def failed_hosts(self, failed_here: bool) -> list[int]:
        """The ranks of every host that reports a failure (each host calls this at the same point)."""
        import numpy as np

        flags = np.zeros(self.size, dtype=np.float64)
        flags[self.rank] = 1.0 if failed_here else 0.0
        return [int(rank) for rank in np.flatnonzero(self.sum(flags))]


class LocalGroup(Group):
    """A single host: every reduction is the identity."""

    rank = 0
    size = 1

    def sum(self, values: np.ndarray) -> np.ndarray:
        return values

    def max(self, values: np.ndarray) -> np.ndarray:
        return values


class CollectiveGroup(Group):
    """Hosts joined in XGBoost's collective (``xgboost.collective`` must be initialised)."""

    def __init__(self, rank: int, size: int) -> None:
        self.rank = rank
        self.size = size

    def sum(self, values: np.ndarray) -> np.ndarray:
        from xgboost import collective

        return collective.allreduce(values, collective.Op.SUM)

    def max(self, values: np.ndarray) -> np.ndarray:
        from xgboost import collective

        return collective.allreduce(values, collective.Op.MAX)


@contextmanager
def host_group(env: TrainingEnvironment, timeout_s: float) -> Iterator[Group]:
    """The group of ``env``'s hosts, joined for the duration of the block.

    Raises ``AlgorithmError`` when the hosts cannot all join within ``timeout_s`` seconds.
    """
    if len(env.hosts) == 1:
        yield LocalGroup()
        return
    if env.master_port <= 0:
        raise AlgorithmError("Distributed training needs the master's port (TrainingEnvironment.master_port)")
    tracker = _start_tracker(env, timeout_s) if env.is_master else None
    try:
        with contextlib.ExitStack() as joined:
            _join(env, timeout_s, joined)
            yield _checked_group(env)
    finally:
        if tracker is not None:
            _stop_tracker(tracker, timeout_s)


def _start_tracker(env: TrainingEnvironment, timeout_s: float) -> Any:
    from xgboost.core import XGBoostError
    from xgboost.tracker import RabitTracker

    try:
        tracker = RabitTracker(
            n_workers=len(env.hosts),
            host_ip=env.master_address,
            port=env.master_port,
            sortby="task",
            timeout=max(1, round(timeout_s)),
        )
        tracker.start()
    except (XGBoostError, OSError, ValueError) as exc:
        raise AlgorithmError(
            f"Cannot start the training cluster's tracker on {env.master_address}:{env.master_port}: "
            f"{_first_line(exc)}"
        ) from exc
    logger.info(
        "Started the tracker for %d hosts on %s:%d", len(env.hosts), env.master_address, env.master_port
    )
    return tracker


def _stop_tracker(tracker: Any, timeout_s: float) -> None:
    from xgboost.core import XGBoostError

    try:
        tracker.wait_for(timeout=max(1, round(timeout_s)))
    except XGBoostError as exc:
        logger.warning("The tracker stopped with an error: %s", _first_line(exc))
    # An error here was reported by wait_for already; freeing the tracker is all that is left.
    with contextlib.suppress(XGBoostError):
        tracker.free()


def _join(env: TrainingEnvironment, timeout_s: float, joined: contextlib.ExitStack) -> None:
    """Enter XGBoost's CommunicatorContext on ``joined``, retrying while the tracker is not listening yet.

    Hosts start at their own pace; a failed attempt leaves nothing to undo, so the next one
    starts afresh. The collective stays joined until ``joined`` closes.
    """
    from xgboost import collective
    from xgboost.core import XGBoostError

    deadline = time.monotonic() + timeout_s
    args: dict[str, str | int] = {
        "dmlc_tracker_uri": env.master_address,
        "dmlc_tracker_port": env.master_port,
        # Zero-padded so that the tracker's sort by task id gives every host its SageMaker rank.
        "dmlc_task_id": f"{env.host_rank:06d}",
        "dmlc_retry": 1,
    }
    while True:
        try:
            with warnings.catch_warnings():
                # XGBoost warns at every refused connection; the loop below is the retry.
                warnings.simplefilter("ignore")
                joined.enter_context(collective.CommunicatorContext(**args))
            return
        except XGBoostError as exc:
            if time.monotonic() >= deadline:
                raise AlgorithmError(_join_failure(env, timeout_s, exc)) from exc
        time.sleep(_RETRY_PAUSE_S)


def _join_failure(env: TrainingEnvironment, timeout_s: float, exc: Exception) -> str:
    where = f"{env.master_address}:{env.master_port}"
    if env.is_master:
        return (
            f"Not every one of the {len(env.hosts)} hosts ({', '.join(env.hosts)}) joined the training "
            f"cluster at {where} within {timeout_s:g} s: {_first_line(exc)}"
        )
    return (
        f"Host {env.current_host} could not join the training cluster of {env.hosts[0]} at {where} within "
        f"{timeout_s:g} s: {_first_line(exc)}"
    )


def _checked_group(env: TrainingEnvironment) -> CollectiveGroup:
    from xgboost import collective

    rank, size = collective.get_rank(), collective.get_world_size()
    if (rank, size) != (env.host_rank, len(env.hosts)):
        raise AlgorithmError(
            f"Host {env.current_host} got rank {rank} of {size} from the tracker, expected "
            f"{env.host_rank} of {len(env.hosts)}"
        )
    logger.info("Host %s joined the training cluster as rank %d of %d", env.current_host, rank, size)
    return CollectiveGroup(rank, size)


def _first_line(exc: BaseException) -> str:
    """XGBoost's error text without its timestamp, source location and stack trace."""
    from opensage.algorithms.xgboost.errors import clean_xgboost_message

    return clean_xgboost_message(str(exc))

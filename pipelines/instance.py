"""The workspace's one Dagster instance: `$INSTEP_WORKSPACE/dagster` (`var/dagster` by default).

`instep run`, `instep release` and `instep ui` all record into it, so the UI shows the runs, the
materialisations and the check results of the command line. Its `dagster.yaml` is the repository's,
copied in whenever it differs: the project's file is the one to edit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from instep.settings import REPO_ROOT, Settings

INSTANCE_CONFIG = REPO_ROOT / "dagster.yaml"


def prepare_dagster_home(settings: Settings) -> Path:
    """The instance folder with the project's instance settings in it."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = INSTANCE_CONFIG.read_bytes()
    target = home / "dagster.yaml"
    if not target.is_file() or target.read_bytes() != config:
        staged = target.with_name(f".dagster.yaml.{os.getpid()}")
        staged.write_bytes(config)
        staged.replace(target)  # two runs starting at once never read half a file
    return home


@contextmanager
def workspace_instance(settings: Settings) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.from_config(str(prepare_dagster_home(settings))) as instance:
        yield instance

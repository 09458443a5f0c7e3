"""`instep` commands run in the test's own process, as Click runs them: the rules' modules (Great
Expectations among them), Dagster and the asset graph are imported once per test process instead of once
per command. Tests of what only a process of its own shows (the command's imports, two runs at once, a
kill) start one."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence

from click.testing import CliRunner

from pipelines.cli import main


def invoke_instep(argv: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """The command's exit status, standard output and standard error.

    An unexpected exception propagates (where the real command would print a traceback, the test
    fails); `sys.exit` becomes the exit status as it would in a process of its own.
    """
    result = CliRunner().invoke(main, list(argv), env=dict(env), catch_exceptions=False)
    return subprocess.CompletedProcess(list(argv), result.exit_code, result.stdout, result.stderr)

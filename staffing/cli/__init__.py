"""Command line: one module per command; `main` turns errors into one line and an exit code."""

from __future__ import annotations

import errno
import signal
import sys
import threading
import warnings

import click

from ..errors import StaffingError, StaffingWarning
from . import calibrate, capacity, check, compare, erlang, export, forecast, optimise, requirements, simulate, sweep, validate  # noqa: F401,E501  (register)
from .app import cli

__all__ = ["cli", "main", "run"]


class Interrupted(BaseException):
    """Ctrl-C (SIGINT) or SIGTERM: unwinds like KeyboardInterrupt, so every temporary output is
    removed on the way out, without click's blank line or a traceback."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


_interrupted = False


def _on_signal(signum, frame):
    global _interrupted
    _interrupted = True
    # the first signal unwinds; more of them while cleaning up would interrupt the cleaning
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Interrupted(signum)


def _quiet_unraisable(hook):
    """After an interrupt, finalisers interrupted half-way (zip files, generators) would each
    print an "Exception ignored" block: say nothing, the one line is enough."""
    def quiet(unraisable):
        if _interrupted or isinstance(unraisable.exc_value, (Interrupted, KeyboardInterrupt)):
            return
        hook(unraisable)
    return quiet


def _os_error_line(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else ""
    problem = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        problem = "no space left on the device: nothing was written"
    elif exc.errno == errno.ENAMETOOLONG:
        problem = "file name too long"
    return f"{where}: {problem}" if where else problem


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the click group, turn errors into one line and an exit code."""
    _SHOWN.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("always", StaffingWarning)
        warnings.showwarning = _show_warning
        return _main(argv)


_SHOWN: dict = {}  # the run's warning texts, in the order shown


def say_warning(text: str) -> None:
    """Print `warning: text` once per run and keep it for the manifest (`shown_warnings`)."""
    if text not in _SHOWN:  # once per run, wherever it is raised
        _SHOWN[text] = None
        click.echo(f"warning: {text}", err=True)


def shown_warnings() -> list[str]:
    """The warnings this run has printed so far, in order: StaffingWarnings and those given
    to `say_warning`."""
    return list(_SHOWN)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, StaffingWarning):
        say_warning(str(message))
    else:
        click.echo(warnings.formatwarning(message, category, filename, lineno, line), err=True,
                   nl=False)


def _main(argv: list[str] | None) -> int:
    """Run with signals handled, turning errors into one line and an exit code.

    Exit codes: 0 ok, 2 bad input or an output that cannot be written, 3 infeasible, 4 solver
    failure, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
    """
    global _interrupted
    _interrupted = False
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    hook, sys.unraisablehook = sys.unraisablehook, _quiet_unraisable(sys.unraisablehook)
    try:
        return _run(argv)
    except Interrupted as exc:
        name = "terminated (SIGTERM)" if exc.signum == signal.SIGTERM else "interrupted"
        click.echo(f"{name}: stopped, temporary files removed", err=True)
        return 128 + exc.signum
    finally:
        for sig, old in handlers.items():
            signal.signal(sig, old)
        if not _interrupted:  # else finalisers still to run at exit stay quiet too
            sys.unraisablehook = hook


def _run(argv) -> int:
    try:
        cli.main(args=argv, prog_name="staffing", standalone_mode=False)
    except StaffingError as exc:
        lines = str(exc).splitlines() or [""]
        click.echo(f"error: {lines[0]}" + (f" (and {len(lines) - 1} more problem"
                                            f"{'s' if len(lines) > 2 else ''} in the input)"
                                            if len(lines) > 1 else ""), err=True)
        for line in getattr(exc, "details", ()):
            click.echo(line, err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except OSError as exc:  # an output that cannot be written: read-only, full, name too long
        click.echo(f"error: {_os_error_line(exc)}", err=True)
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:  # usage errors: bad option values, missing args
        click.echo(f"error: {exc.format_message()}", err=True)
        return 2
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())

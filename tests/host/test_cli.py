"""The ``micropos`` command: every mistake is one line on stderr that says what to do; every option is explained."""
from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from micropos import cli, paths
from micropos.errors import MicroposError, SetupError

MICROPOS = paths.Path(sys.executable).parent / "micropos"


@pytest.mark.parametrize(("args", "message"), [
    (["acquirer", "--seed", "missing.csv", "--db", "{tmp}/ledger.db"],
     "micropos: cannot read the seed CSV missing.csv: No such file or directory"),
    (["acquirer", "--fault", "sometimes", "--db", "{tmp}/ledger.db"],
     "micropos: fault 'sometimes': unknown kind 'sometimes' "
     "(one of delay, drop, close, garbage, code, badmac, nocode)"),
    (["acquirer", "--refund-window-days", "-1", "--db", "{tmp}/ledger.db"],
     "micropos: --refund-window-days must be 0 or more, not -1"),
    (["emulator", "--acquirer", "nowhere", "--script", "{tmp}/none.txt"],
     "micropos: cannot read script {tmp}/none.txt: No such file or directory"),
    (["log", "export", "--flash", "{tmp}/none.img"], "micropos: no flash image {tmp}/none.img"),
    (["flash", "--board", "emulator", "--port", "/dev/null", "--firmware", "{tmp}"],
     "micropos: no flashing recipe for board 'emulator' (known: esp32_devkitc)"),
])
def test_a_mistake_is_one_line_that_says_what_is_wrong(tmp_path, micropos_cli, args, message):
    proc = micropos_cli(*(a.format(tmp=tmp_path) for a in args), timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.startswith(message.format(tmp=tmp_path)), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_every_host_error_is_a_micropos_error():
    from micropos import iso8583, journal_format, mac
    from micropos.acquirer import faults, ledger
    from micropos.vboard import VirtualBoardError

    for error in (iso8583.ProfileError, iso8583.FramingError, ledger.LedgerError, ledger.SeedError,
                  faults.FaultSpecError, mac.DukptError, mac.MacError, journal_format.JournalFormatError,
                  VirtualBoardError):
        assert issubclass(error, MicroposError), error


def test_a_missing_unix_port_says_how_to_set_up(monkeypatch):
    monkeypatch.setattr(paths.sys, "executable", "/nowhere/bin/python")
    monkeypatch.setattr(paths.shutil, "which", lambda name: None)
    with pytest.raises(SetupError, match="micropython \\(the unix port\\) is not installed: run 'make test'"):
        paths.micropython()


def _actions(parser: argparse.ArgumentParser, where: str):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                yield f"{where} {choice.dest}", choice.help
            for name, sub in action.choices.items():
                yield from _actions(sub, f"{where} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield f"{where} {'/'.join(action.option_strings) or action.dest}", action.help


def test_every_subcommand_and_option_has_help():
    missing = [where for where, text in _actions(cli.build_parser(), "micropos") if not text]
    assert not missing


def test_the_emulator_help_lists_the_keys_in_both_languages(micropos_cli):
    out = micropos_cli("emulator", "--help", timeout=30).stdout
    for line in ("Enter", "ENTER (确认)", "CANCEL (取消)", "CLEAR (清除)", "FUNC", "UP / DOWN"):
        assert line in out


def test_a_virtual_board_starts_without_a_flag_and_prints_its_pty(tmp_path):
    proc = subprocess.Popen([str(MICROPOS), "board", "--fs", str(tmp_path / "fs")], stdout=subprocess.PIPE,
                            text=True, cwd=paths.ROOT)
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.startswith("/dev/pts/"), port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode in (0, -15)


def test_the_cli_answers_help_without_a_traceback():
    proc = subprocess.run([sys.executable, "-m", "micropos.cli", "--help"], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 0 and "acquirer" in proc.stdout and "emulator" in proc.stdout

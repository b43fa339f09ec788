"""Every command documents itself with an example, as sqlite-utils insists."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli

COMMANDS = sorted(cli.commands)


def test_core_commands_exist():
    assert {"init", "tasks", "demo"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_with_example(name):
    res = CliRunner().invoke(cli, [name, "--help"])
    assert res.exit_code == 0, res.output
    assert "Ví dụ:" in res.output, f"'kehoach-xl {name} --help' shows no example"
    assert f"kehoach-xl {name}" in res.output.split("Ví dụ:", 1)[1]
    summary = (cli.commands[name].help or "").strip().splitlines()[0]
    assert len(summary) > 10


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_help(name):
    for param in cli.commands[name].params:
        if param.param_type_name == "option" and param.name != "help":
            assert param.help, f"option --{param.name} of '{name}' has no help"


# A command is named like the library function it wraps (sqlite-utils' rule).
FUNCTION_FOR = {"import": "import_plan", "xlsm": "build_xlsm"}


@pytest.mark.parametrize("name", COMMANDS)
def test_command_wraps_public_function_of_the_same_name(name):
    import kehoach_xl

    fn = getattr(kehoach_xl, FUNCTION_FOR.get(name, name))
    assert callable(fn) and fn.__doc__

"""dispatch/subcommands.py: listing, choosing and refusing a subcommand."""

from dispatch.subcommands import choose, usage

TABLE = {"ingest": ("m.ingest", "validate inputs"), "watch": ("m.watch", "raise alerts")}


def test_the_usage_lists_every_name_aligned_with_what_it_does():
    text = usage("prog", "process", TABLE, "more help")
    assert text.splitlines() == ["usage: prog <process> [options]", "", "processes:",
                                 "  ingest  validate inputs", "  watch   raise alerts", "", "more help"]


def test_a_known_name_is_chosen_with_its_own_arguments():
    assert choose(["watch", "--once", "-v"], "prog", "process", TABLE, "") == ("watch", ["--once", "-v"])


def test_help_exits_0_and_an_unknown_name_exits_2_naming_it(capsys):
    assert choose([], "prog", "process", TABLE, "") == 0
    assert choose(["--help"], "prog", "process", TABLE, "") == 0
    assert "usage: prog <process>" in capsys.readouterr().out
    assert choose(["ingst"], "prog", "kind", TABLE, "", "bridge") == 2
    assert "prog: no bridge called 'ingst'" in capsys.readouterr().err

"""``jaxor serve-sim single``: table, plots, and errors that name the bad argument."""

from jaxor.cli import main


def test_single_prints_table_and_writes_plots(tmp_path, capsys):
    rc = main(["--no-cache", "serve-sim", "single", "--trace", "synthetic", "--n", "40", "--policy", "fcfs,a-min",
               "--memory", "700", "--max-batch", "6", "--window", "5", "--alpha", "0.3", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "| fcfs |" in out and "| a-min |" in out
    for f in ("latency_cdf.png", "kv_memory.png", "queue_length.png", "table.md"):
        assert (tmp_path / f).stat().st_size > 0


def test_single_reports_bad_arguments(tmp_path, capsys):
    assert main(["--no-cache", "serve-sim", "single", "--policy", "lifo", "--out", str(tmp_path)]) == 2
    assert "policy" in capsys.readouterr().out
    assert main(["--no-cache", "serve-sim", "single", "--trace", "azure-code", "--memory", "100", "--n", "50",
                 "--out", str(tmp_path)]) == 2
    assert "prompt" in capsys.readouterr().out

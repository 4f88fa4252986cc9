"""``gxm registry`` commands: import with progress, load-factors, recompute, history, template."""

from __future__ import annotations

from sqlalchemy import func, select

from registry.models import UsageLog


def test_cli_import_recompute_history(world, app, session, tmp_path):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    path = tmp_path / "logs.csv"
    path.write_text(
        "contract_number,serial_or_pin,log_date,runtime_h,fuel_litres\nPRJ-A,D-1,2024-05-01,8,100\n"
        "PRJ-A,D-1,2024-05-02,8,-1\n"
    )
    contractor = str(world.contractor.organisation_id)
    failed = runner.invoke(args=["registry", "import", str(path), "--contractor", contractor])
    assert failed.exit_code == 1 and "row 3 fuel_litres: must not be negative" in failed.output
    assert session.scalar(select(func.count(UsageLog.id))) == 0
    ok = runner.invoke(
        args=["registry", "import", str(path), "--contractor", contractor, "--mode", "accept_valid"]
    )
    assert ok.exit_code == 0, ok.output
    assert "stored 1, rejected 1" in ok.output
    again = runner.invoke(
        args=["registry", "import", str(path), "--contractor", contractor, "--mode", "accept_valid"]
    )
    assert "Already imported" in again.output
    assert session.scalar(select(func.count(UsageLog.id))) == 1
    assert "added 0" in runner.invoke(args=["registry", "load-factors"]).output
    out = runner.invoke(args=["registry", "recompute", "--reason", "check", "--all"])
    assert out.exit_code == 0 and "recomputed 1 logs" in out.output
    history = runner.invoke(args=["registry", "history", "--contractor", contractor])
    assert "PRJ-A" in history.output
    template = tmp_path / "t.xlsx"
    assert (
        runner.invoke(args=["registry", "template", str(template)]).exit_code == 0 and template.stat().st_size
    )
    unknown = runner.invoke(args=["registry", "import", str(path), "--contractor", "nobody"])
    assert unknown.exit_code != 0 and "No contractor" in unknown.output

from datetime import date

from micropos.acquirer.ledger import Ledger
from micropos.demo import demo_rows


def test_demo_sales_are_recent_and_refundable(tmp_path):
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        ledger.seed_rows(demo_rows(date.today()), source="demo")
        sales = ledger.refundable_sales()
    assert sorted(s.rrn for s in sales) == ["612345678901", "612345678902", "612345678903"]
    assert all((date.today() - s.date).days <= 3 for s in sales)
    assert all(s.remaining == s.amount for s in sales)


def test_make_run_without_a_terminal_says_what_to_do_instead(micropos_cli):
    proc = micropos_cli("demo", stdin=open("/dev/null"))
    assert proc.returncode == 1
    assert "needs a terminal" in proc.stderr and "--script" in proc.stderr

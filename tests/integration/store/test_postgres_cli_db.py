"""``ccms db status|migrate`` on PostgreSQL and, for comparison, on SQLite.

They run through ``ccms.cli.main`` with ``--debug``, so that an error is raised as is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.store.conftest import PgSchema, postgres_server_url

from ccms.cli import main
from ccms.cli.command import EXIT_USAGE
from ccms.errors import StoreUnavailableError
from ccms.store.migrations import migrations

pytestmark = pytest.mark.integration


def run(argv: list[str], environ: dict[str, str] | None = None) -> int:
    return main(["--debug", *argv], environ or {})


def lines(out: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in out.splitlines())


@pytest.mark.postgres
def test_postgres_status_then_migrate(
    pg_schema: PgSchema, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["db", "status", "--store", pg_schema.url]) == 0
    status = lines(capsys.readouterr().out)
    names = [m.name for m in migrations("ccms.store.postgres.migrations")]
    latest = str(max(m.version for m in migrations("ccms.store.postgres.migrations")))
    assert names[:2] == ["0001_initial", "0002_change_seq"]
    assert status["current version"] == "0"
    assert status["latest version"] == latest
    assert status["pending"] == ", ".join(names)
    assert not pg_schema.admin(
        "SELECT 1 FROM pg_tables WHERE schemaname = %s", pg_schema.name
    )  # status changed nothing
    assert run(["db", "migrate"], {"CCMS_STORE": pg_schema.url}) == 0
    assert capsys.readouterr().out.endswith(f"migrated from version 0 to {latest}\n")
    assert run(["db", "status"], {"CCMS_STORE": pg_schema.url}) == 0
    status = lines(capsys.readouterr().out)
    assert (status["current version"], status["pending"]) == (latest, "none")
    assert run(["db", "migrate", "--store", pg_schema.url]) == 0
    assert f"already at version {latest}" in capsys.readouterr().out


@pytest.mark.postgres
def test_postgres_unreachable_is_an_error_without_the_password(pg_schema: PgSchema) -> None:
    url = pg_schema.url_via(1).replace("postgres@", "postgres:s3cret@")
    with pytest.raises(StoreUnavailableError) as caught:
        run(["db", "status", "--store", url])
    assert "s3cret" not in caught.value.message


@pytest.mark.postgres
def test_postgres_status_of_a_missing_schema_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    missing = PgSchema(postgres_server_url())  # never created
    assert main(["db", "status", "--store", missing.url], {}) == EXIT_USAGE
    assert capsys.readouterr().err.endswith(" names no existing schema\n")


def test_sqlite_status_then_migrate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "ccms.db"
    url = f"sqlite:///{db}"
    names = {m.version: m.name for m in migrations("ccms.store.sqlite.migrations")}
    assert names[1] == "0001_initial"
    with pytest.raises(StoreUnavailableError, match="does not exist"):
        run(["db", "status", "--store", url])
    assert not db.exists()  # status never creates the file
    assert run(["db", "migrate", "--store", url]) == 0
    assert capsys.readouterr().out.endswith(f"migrated from version 0 to {max(names)}\n")
    assert run(["db", "status"], {"CCMS_STORE": url}) == 0
    status = lines(capsys.readouterr().out)
    assert (status["current version"], status["latest version"]) == (str(max(names)),) * 2
    assert status["pending"] == "none"


def test_sqlite_status_of_a_missing_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "ccms.db"
    assert main(["db", "status", "--store", f"sqlite:///{db}"], {}) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"ccms: no store at sqlite:///{db}: {db} does not exist"
        " (ccms serve or ccms db migrate creates it)\n"
    )
    assert not db.exists()


@pytest.mark.parametrize("action", ["status", "migrate"])
def test_sqlite_store_in_a_missing_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    db = tmp_path / "nowhere" / "ccms.db"
    assert main(["db", action, "--store", f"sqlite:///{db}"], {}) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f"ccms: the directory {db.parent} of the store sqlite:///{db} does not exist\n")
    assert not db.parent.exists()

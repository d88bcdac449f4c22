"""Print where the demo's data is and how many rows each table holds.

Usage: .meltano/loaders/target-duckdb/venv/bin/python scripts/demo_summary.py output/xero.duckdb

Runs with the target-duckdb plugin's own Python, which already has the duckdb package, so the demo
needs nothing more installed.
"""

from __future__ import annotations

import sys
from pathlib import Path


def table_row_counts(connection, schema: str = "xero") -> dict[str, int]:
    """Rows per table of ``schema`` in the open database, by table name."""
    # Names are qualified with the catalog: a file named xero.duckdb is catalog "xero", which a bare
    # "xero.invoices" could mean as well as the schema.
    (catalog,) = connection.execute("select current_database()").fetchone()
    tables = connection.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
        "order by table_name",
        [catalog, schema],
    ).fetchall()
    return {  # the names come from the database's own catalog, quoted as identifiers
        name: connection.execute(f'select count(*) from "{catalog}"."{schema}"."{name}"').fetchone()[0]  # noqa: S608
        for (name,) in tables
    }


def render(db_path: Path, counts: dict[str, int], schema: str = "xero") -> str:
    width = max([len("table"), *map(len, counts)])
    lines = [
        f"The demo data is in {db_path} (DuckDB, schema {schema!r}).",
        "",
        f"  {'table':<{width}}  {'rows':>8}",
    ]
    lines += [f"  {name:<{width}}  {rows:>8}" for name, rows in counts.items()]
    lines += [
        f"  {'total':<{width}}  {sum(counts.values()):>8}",
        "",
        "Query it, for example:",
        f"  .meltano/loaders/target-duckdb/venv/bin/python -c \"import duckdb; "  # noqa: S608 - a hint for the user
        # The connection must outlive the relation it prints (duckdb 1.0 closes it once unreferenced).
        f"db = duckdb.connect('{db_path}', read_only=True); "
        f"print(db.sql('select * from {db_path.stem}.{schema}.invoices limit 5'))\"",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    import duckdb  # the target-duckdb plugin venv has it

    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    db_path = Path(argv[1]).resolve()
    if not db_path.exists():
        print(f"error: {db_path} does not exist: the pipeline loaded nothing", file=sys.stderr)
        return 1
    with duckdb.connect(str(db_path), read_only=True) as connection:
        counts = table_row_counts(connection)
    if not counts:
        print(f"error: {db_path} has no tables in schema 'xero'", file=sys.stderr)
        return 1
    print(render(db_path, counts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

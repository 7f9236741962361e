"""PostgreSQL for the tests: the private cluster (simulator.pg_cluster), per-test databases, both engines.

The server runs as a non-root system user (``postgres`` or ``nobody``: PostgreSQL refuses root)
when the tests run as root, with ``fsync = off`` and ``synchronous_commit = off`` (test speed: a
lost commit only matters if the machine crashes mid-test; production keeps both on; the
benchmark's cluster has both on). A template database holds the migrated schema; each test gets
a database of its own that equals it (``Pool``: a ``CREATE DATABASE ... TEMPLATE`` copy, reused
after being emptied back to the template's rows). ``both_engines`` parametrizes the tests of
modules marked so over SQLite and PostgreSQL.
"""

from __future__ import annotations

import psycopg
import pytest

from simulator.pg_cluster import TEMPLATE, Cluster, binaries

__all__ = ["ENGINES", "TEMPLATE", "Cluster", "Pool", "binaries", "both_engines"]

ENGINES = ["sqlite", pytest.param("postgres", id="pg")]


def both_engines(metafunc: pytest.Metafunc) -> None:
    """``pytest_generate_tests``: a test marked ``both_engines`` (a module's ``pytestmark``)
    that uses ``settings`` (through the ``engine`` fixture) runs on SQLite and on PostgreSQL;
    one also marked ``sqlite_only`` on SQLite alone."""
    mark = metafunc.definition.get_closest_marker
    if "engine" in metafunc.fixturenames and mark("both_engines") and not mark("sqlite_only"):
        metafunc.parametrize("engine", ENGINES, indirect=True)


class Pool:
    """Test databases: a copy of the template per test, reused once its test has ended.

    ``CREATE DATABASE ... TEMPLATE`` costs 0.3-1 s on a loaded machine; emptying a used copy
    (``TRUNCATE`` every table, then the template's own rows back, sequences reset) costs a few
    tens of ms and leaves it equal to the template. A copy that cannot be emptied (a test left
    a transaction open) is dropped and replaced.
    """

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.free: list[str] = []
        self.made = 0
        with psycopg.connect(cluster.url(TEMPLATE)) as conn:
            tables = [str(r[0]) for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename != 'schema_migrations' ORDER BY tablename")]
            self.tables = tables
            self.rows = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
            self.sequences = [(str(t), str(c)) for t, c in conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND is_identity = 'YES'")]

    def take(self) -> str:
        while self.free:
            name = self.free.pop()
            if self._empty(name):
                return name
            self._drop(name)
        self.made += 1
        name = f"t_{self.made}"
        with psycopg.connect(self.cluster.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return name

    def give_back(self, name: str) -> None:
        self.free.append(name)

    def _empty(self, name: str) -> bool:
        try:
            with psycopg.connect(self.cluster.url(name)) as conn:
                conn.execute("SET lock_timeout = '2s'")
                conn.execute(f"TRUNCATE {', '.join(self.tables)} RESTART IDENTITY")
                for table, rows in self.rows.items():
                    if rows:
                        marks = ", ".join(["%s"] * len(rows[0]))
                        with conn.cursor() as cur:
                            cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
                for table, column in self.sequences:
                    conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                                 f"COALESCE((SELECT max({column}) FROM {table}), 0) + 1, false)")
            return True
        except psycopg.Error:
            return False

    def _drop(self, name: str) -> None:
        with psycopg.connect(self.cluster.url(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")

"""Alembic environment: the engine is passed in by `runner.core.db` (never read from a file).

On SQLite, foreign keys are off while migrations run: batch mode rebuilds a table (copy, drop,
rename), and dropping a table that others reference would fail with them on. The pragma is a
no-op inside a transaction, so it is set before the first one; the references are checked before
the migrations commit, and foreign keys are back on before the connection returns to the pool.
"""

from alembic import context

from runner.core.tables import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows with broken references: {broken[:5]}")
        if connection.in_transaction():
            connection.commit()
    except BaseException:
        if sqlite:
            connection.invalidate()  # never back to the pool with foreign keys off
        raise
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")

-- zjtx on PostgreSQL: the database, the role that owns its schema, and the role the application runs as.
-- docs/deployment.md ("数据库角色 Database roles").
--
-- Why two roles: the owner of a table can `ALTER TABLE audit_log DISABLE TRIGGER ...` or drop the triggers that keep
-- the audit trail append-only. The application (dashboard, scheduler, CLI) therefore connects as `app`, which owns
-- nothing; `zjtx init` migrates as `owner` (database.owner_url / ZJTX_OWNER_DATABASE_URL) and then grants `app` only
-- what it needs (registry/db_roles.py): SELECT/INSERT on audit_log, SELECT on alembic_version, SELECT/INSERT/UPDATE/
-- DELETE on the other tables, USAGE on sequences. Never TRUNCATE, TRIGGER, REFERENCES or ownership.
--
-- Run once, as a superuser:
--   psql -U postgres -f deploy/postgresql/roles.sql [-v owner=zjtx_owner] [-v app=zjtx_app] [-v database=zjtx]
-- then give both roles a password without it entering a shell history:
--   psql -U postgres -c '\password zjtx_owner'      psql -U postgres -c '\password zjtx_app'
\set ON_ERROR_STOP on
\if :{?owner}
\else
  \set owner zjtx_owner
\endif
\if :{?app}
\else
  \set app zjtx_app
\endif
\if :{?database}
\else
  \set database zjtx
\endif

-- Ordinary login roles: no superuser (it bypasses every privilege), no role or database creation.
CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;

CREATE DATABASE :"database" OWNER :"owner" ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
-- TEMPORARY: ingestion stages updates in a temporary table.
GRANT CONNECT, TEMPORARY ON DATABASE :"database" TO :"app";

\connect :"database"
-- The schema belongs to the database's owner (PostgreSQL 15+: pg_database_owner); only the owner creates in it.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
-- Tables and sequences the owner creates later can be read and appended to at once; the rest of the app's rights
-- (UPDATE/DELETE where allowed: never on audit_log) are granted table by table by `zjtx init` after each migration.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app";

-- The service's own database role (seed §9.1), with the password given on the
-- command line instead of written here:
--
--   psql "$OWNER_DATABASE_URL" -v app_password="$MESSAGING_SERVICE_PASSWORD" -f infra/postgres/roles.sql
--
-- Run it as the role that owns the schema (the one that ran the migrations),
-- after the migrations: grants on "ALL TABLES" cover the tables that exist
-- now, and the default privileges at the end cover tables later migrations
-- create. Safe to run again (for instance to rotate the password).
--
-- messaging_service can read and write rows but not change the schema, so it
-- cannot run migrations: start one node (or a migration job) with the owner's
-- URL when a release adds migrations, then the nodes with this role.

\set ON_ERROR_STOP on

\if :{?app_password}
\else
  \echo 'roles.sql: pass the password with -v app_password=...'
  SELECT 1 / 0 AS app_password_missing;
\endif

SELECT 'CREATE ROLE messaging_service LOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'messaging_service')
\gexec

-- psql substitutes :'app_password' as a quoted literal; the server stores its
-- SCRAM hash (password_encryption), never the text.
ALTER ROLE messaging_service WITH LOGIN PASSWORD :'app_password';

GRANT USAGE ON SCHEMA public TO messaging_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO messaging_service;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO messaging_service;

REVOKE TRUNCATE, REFERENCES ON ALL TABLES IN SCHEMA public FROM messaging_service;

-- As in the seed: conversations are deactivated (is_active, archival), never
-- deleted by the service; a delete would cascade to every message.
REVOKE DELETE ON conversations FROM messaging_service;

-- The seed grants the trigger function; the jobs also call these. (Functions
-- are executable by PUBLIC by default; the grants keep working if an operator
-- revokes that.)
GRANT EXECUTE ON FUNCTION update_conversation_timestamp() TO messaging_service;
GRANT EXECUTE ON FUNCTION cleanup_expired_messages() TO messaging_service;
GRANT EXECUTE ON FUNCTION count_unread_messages(UUID, UUID) TO messaging_service;
GRANT EXECUTE ON PROCEDURE archive_inactive_conversations(INTEGER) TO messaging_service;

-- Tables, sequences and functions that later migrations create (as this same
-- owner role) get the same rights without re-running this file.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO messaging_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO messaging_service;

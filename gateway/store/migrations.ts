import type { Knex } from 'knex';

/**
 * Schema migrations, in code so the gateway ships as one unit. Append new
 * entries; never edit one that has shipped.
 */
const migrations: Record<string, Knex.Migration> = {
  '0001_tickets': {
    async up(knex) {
      await knex.schema.createTable('tickets', (t) => {
        t.string('id').primary();
        t.string('key').notNullable();
        t.string('state').notNullable();
        t.integer('version').notNullable();
        t.string('priority').notNullable();
        t.string('area').nullable();
        t.string('asset').nullable();
        t.string('fault').notNullable();
        t.bigInteger('opened_at').notNullable();
        t.bigInteger('updated_at').notNullable();
        t.text('doc').notNullable();
        t.index(['fault', 'state']);
        t.index(['state', 'priority']);
      });
      // At most one live (not closed, not merged) ticket per key, whatever the writer.
      await knex.raw("CREATE UNIQUE INDEX tickets_one_live_per_key ON tickets(key) WHERE state NOT IN ('closed', 'merged')");
      await knex.schema.createTable('ticket_events', (t) => {
        t.increments('seq');
        t.string('ticket_id').notNullable().references('tickets.id');
        t.integer('version').notNullable();
        t.bigInteger('at').notNullable();
        t.string('action').notNullable();
        t.string('by').notNullable();
        t.text('data').nullable();
        t.index(['ticket_id', 'seq']);
        t.index(['at']);
      });
      await knex.schema.createTable('outbox', (t) => {
        t.increments('seq');
        t.string('ticket_id').notNullable().references('tickets.id');
        t.integer('version').notNullable();
        t.bigInteger('created_at').notNullable();
        t.integer('attempts').notNullable().defaultTo(0);
        t.bigInteger('next_attempt_at').nullable();
        t.bigInteger('parked_at').nullable();
        t.text('last_error').nullable();
        t.index(['ticket_id', 'version']);
        t.index(['parked_at', 'seq']);
      });
    },
    async down(knex) {
      await knex.schema.dropTable('outbox');
      await knex.schema.dropTable('ticket_events');
      await knex.schema.dropTable('tickets');
    },
  },
  '0002_forward': {
    async up(knex) {
      // Rows are picked by due time; a new row is due when written (store.save sets next_attempt_at).
      await knex('outbox').whereNull('next_attempt_at').update({ next_attempt_at: knex.ref('created_at') });
      await knex.raw('CREATE INDEX outbox_due ON outbox(parked_at, next_attempt_at, ticket_id)');
      // Small key/value state of the gateway itself (the sync cursor).
      await knex.schema.createTable('meta', (t) => {
        t.string('key').primary();
        t.text('value').notNullable();
      });
      // Changes from central the lifecycle or the conflict policy refused: kept, never lost.
      await knex.schema.createTable('sync_log', (t) => {
        t.increments('seq');
        t.bigInteger('at').notNullable();
        t.string('ticket_id').notNullable();
        t.string('action').notNullable();
        t.string('by').notNullable();
        t.string('source').notNullable();
        t.string('code').notNullable();
        t.text('message').notNullable();
        t.text('change').notNullable();
        t.index(['at']);
      });
    },
    async down(knex) {
      await knex.schema.dropTable('sync_log');
      await knex.schema.dropTable('meta');
      await knex.raw('DROP INDEX outbox_due');
    },
  },
  '0003_notify': {
    async up(knex) {
      // Notifications waiting for their webhook (gateway/notify): written in the ticket change's transaction,
      // deleted after the receiver's 2xx. Read per channel in id order (index channel, parked_at, id).
      await knex.schema.createTable('notifications', (t) => {
        t.increments('id');
        t.string('channel').notNullable();
        t.string('ticket_id').notNullable().references('tickets.id');
        t.integer('version').notNullable();
        t.string('kind').notNullable();
        t.string('state').notNullable();
        t.text('event').notNullable();
        t.bigInteger('created_at').notNullable();
        t.integer('attempts').notNullable().defaultTo(0);
        t.bigInteger('next_attempt_at').notNullable();
        t.bigInteger('parked_at').nullable();
        t.string('code').nullable();
        t.text('last_error').nullable();
        // When an admin last put it back in line: its maxAge counts from then, not from the event.
        t.bigInteger('retried_at').nullable();
        t.index(['channel', 'parked_at', 'id'], 'notifications_line');
        t.unique(['ticket_id', 'version', 'channel']);
      });
    },
    async down(knex) {
      await knex.schema.dropTable('notifications');
    },
  },
  '0003_metrics': {
    async up(knex) {
      // andon_tickets_open counts per state, priority and area from this index alone, not from the rows
      // (with 20k live tickets a scrape's count fell from ~22 ms to ~5 ms; bench/scrape).
      await knex.raw('CREATE INDEX tickets_open_counts ON tickets(state, priority, area)');
    },
    async down(knex) {
      await knex.raw('DROP INDEX tickets_open_counts');
    },
  },
  '0004_reports': {
    async up(knex) {
      // The response-time report (gateway/store/reports.ts) reads the tickets opened in a period.
      await knex.raw('CREATE INDEX tickets_opened_at ON tickets(opened_at)');
    },
    async down(knex) {
      await knex.raw('DROP INDEX tickets_opened_at');
    },
  },
  '0005_retention': {
    async up(knex) {
      // store.retention finds closed tickets by their last change (gateway/store/retention.ts).
      await knex.raw('CREATE INDEX tickets_state_updated_at ON tickets(state, updated_at)');
    },
    async down(knex) {
      await knex.raw('DROP INDEX tickets_state_updated_at');
    },
  },
  '0006_history_index': {
    async up(knex) {
      // A ticket's history read by version (= index + 1): pages, and what central or a stream is missing.
      await knex.raw('CREATE INDEX ticket_events_ticket_version ON ticket_events(ticket_id, version)');
    },
    async down(knex) {
      await knex.raw('DROP INDEX ticket_events_ticket_version');
    },
  },
  '0007_members': {
    async up(knex) {
      // A flood ticket's members are rows of their own (appended, never rewritten): recording one more
      // costs the same whether the ticket has 1 member or 500. The doc keeps everything else.
      await knex.raw('ALTER TABLE tickets ADD COLUMN member_count integer NOT NULL DEFAULT 0');
      await knex.raw(
        `CREATE TABLE ticket_members (
           ticket_id varchar(255) NOT NULL REFERENCES tickets(id),
           n integer NOT NULL,
           asset varchar(255),
           fault varchar(255) NOT NULL,
           at varchar(255) NOT NULL,
           PRIMARY KEY (ticket_id, n)
         ) WITHOUT ROWID`,
      );
      // Carry existing docs over: their members become rows, in order; the doc keeps an empty list in their place.
      await knex.raw(
        `INSERT INTO ticket_members (ticket_id, n, asset, fault, at)
           SELECT t.id, m.key, json_extract(m.value, '$.asset'), json_extract(m.value, '$.fault'), json_extract(m.value, '$.at')
           FROM tickets t, json_each(t.doc, '$.members') m
           WHERE json_type(t.doc, '$.members') = 'array'`,
      );
      await knex.raw(
        `UPDATE tickets SET member_count = COALESCE(json_array_length(doc, '$.members'), 0), doc = json_set(doc, '$.members', json('[]'))
           WHERE json_type(doc, '$.members') IS NOT NULL`,
      );
    },
    async down(knex) {
      await knex.raw(
        `UPDATE tickets SET doc = json_set(doc, '$.members', (
           SELECT json_group_array(json_object('asset', asset, 'fault', fault, 'at', at)) FROM (SELECT * FROM ticket_members m WHERE m.ticket_id = tickets.id ORDER BY n)))`,
      );
      await knex.schema.dropTable('ticket_members');
      await knex.raw('ALTER TABLE tickets DROP COLUMN member_count');
    },
  },
  '0008_recurrence': {
    async up(knex) {
      // A fault that comes back after its ticket was closed finds that ticket by key (the previous fix).
      await knex.raw('CREATE INDEX tickets_key_state_updated_at ON tickets(key, state, updated_at)');
    },
    async down(knex) {
      await knex.raw('DROP INDEX tickets_key_state_updated_at');
    },
  },
  '0010_audit': {
    async up(knex) {
      // Who did what, when and from where (gateway/audit): appended, never changed. AUTOINCREMENT: a seq
      // is never given twice, also after retention deleted the newest rows' predecessors.
      await knex.raw(
        `CREATE TABLE audit (
           seq integer PRIMARY KEY AUTOINCREMENT,
           at bigint NOT NULL,
           actor varchar(255),
           action varchar(255) NOT NULL,
           outcome varchar(255) NOT NULL,
           target varchar(255),
           origin varchar(255),
           code varchar(255),
           details text
         )`,
      );
      await knex.raw('CREATE INDEX audit_at ON audit(at)');
      await knex.raw('CREATE INDEX audit_actor_at ON audit(actor, at)');
      await knex.raw('CREATE INDEX audit_action_at ON audit(action, at)');
      // Append-only in the schema too: no row changes, and rows leave only below the retention horizon,
      // which only moves forward (store.auditRetention, gateway/store/audit.ts).
      await knex.raw('CREATE TABLE audit_horizon (id integer PRIMARY KEY CHECK (id = 1), before bigint NOT NULL)');
      await knex.raw('INSERT INTO audit_horizon (id, before) VALUES (1, 0)');
      await knex.raw("CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END");
      await knex.raw(
        `CREATE TRIGGER audit_delete_below_horizon BEFORE DELETE ON audit WHEN old.at >= (SELECT before FROM audit_horizon WHERE id = 1)
         BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: only retention deletes them, below its horizon'); END`,
      );
      await knex.raw(
        `CREATE TRIGGER audit_horizon_forward BEFORE UPDATE ON audit_horizon WHEN new.before < old.before
         BEGIN SELECT RAISE(ABORT, 'the audit retention horizon only moves forward'); END`,
      );
    },
    async down(knex) {
      await knex.raw('DROP TABLE audit_horizon');
      await knex.raw('DROP TABLE audit');
    },
  },
  '0011_knowledge': {
    async up(knex) {
      // The knowledge base (gateway/store/knowledge.ts): resolved and closed tickets' texts in an FTS5 index
      // with the trigram tokenizer (Chinese without spaces, English words), its rows keyed by knowledge_docs.n;
      // the knowledge entries' labels as rows (similar cases prefer a shared label). Kept by the store's save,
      // in the ticket change's transaction.
      await knex.raw(
        `CREATE TABLE knowledge_docs (
           n integer PRIMARY KEY,
           ticket_id varchar(255) NOT NULL UNIQUE,
           asset varchar(255),
           fault varchar(255) NOT NULL,
           resolved_at bigint,
           has_entry integer NOT NULL DEFAULT 0
         )`,
      );
      await knex.raw("CREATE VIRTUAL TABLE knowledge_fts USING fts5(title, resolution, root_cause, symptom, diagnosis, solution, labels, tokenize = 'trigram')");
      await knex.raw('CREATE TABLE knowledge_labels (label varchar(255) NOT NULL, ticket_id varchar(255) NOT NULL, PRIMARY KEY (label, ticket_id)) WITHOUT ROWID');
      await knex.raw('CREATE INDEX knowledge_labels_ticket ON knowledge_labels(ticket_id)');
      // The tickets resolved or closed before: indexed now (their title, resolution and root cause; entries if any).
      await knex.raw(
        `INSERT INTO knowledge_docs (ticket_id, asset, fault, resolved_at, has_entry)
           SELECT id, asset, fault, CAST(ROUND((julianday(json_extract(doc, '$.resolvedAt')) - 2440587.5) * 86400000) AS INTEGER),
                  COALESCE(json_type(doc, '$.knowledge') = 'object', 0)
             FROM tickets WHERE state IN ('resolved', 'closed') ORDER BY updated_at`,
      );
      await knex.raw(
        `INSERT INTO knowledge_fts (rowid, title, resolution, root_cause, symptom, diagnosis, solution, labels)
           SELECT k.n, json_extract(t.doc, '$.title'), json_extract(t.doc, '$.resolution'), json_extract(t.doc, '$.rootCause'),
                  json_extract(t.doc, '$.knowledge.symptom'), json_extract(t.doc, '$.knowledge.diagnosis'), json_extract(t.doc, '$.knowledge.solution'),
                  (SELECT group_concat(value, ' ') FROM json_each(t.doc, '$.knowledge.labels'))
             FROM knowledge_docs k JOIN tickets t ON t.id = k.ticket_id`,
      );
      await knex.raw(
        `INSERT OR IGNORE INTO knowledge_labels (label, ticket_id)
           SELECT l.value, t.id FROM tickets t, json_each(t.doc, '$.knowledge.labels') l
            WHERE t.state IN ('resolved', 'closed') AND json_type(t.doc, '$.knowledge.labels') = 'array'`,
      );
    },
    async down(knex) {
      await knex.raw('DROP TABLE knowledge_labels');
      await knex.raw('DROP TABLE knowledge_fts');
      await knex.raw('DROP TABLE knowledge_docs');
    },
  },
  '0012_sessions': {
    async up(knex) {
      // Sign-in sessions (gateway/store/sessions.ts): the cookie's value is never stored, only its sha256.
      await knex.raw(
        `CREATE TABLE sessions (
           id_hash varchar(64) PRIMARY KEY,
           subject varchar(255) NOT NULL,
           name varchar(255) NOT NULL,
           role varchar(32) NOT NULL,
           csrf varchar(64) NOT NULL,
           created_at bigint NOT NULL,
           expires_at bigint NOT NULL
         ) WITHOUT ROWID`,
      );
      await knex.raw('CREATE INDEX sessions_expires_at ON sessions(expires_at)');
    },
    async down(knex) {
      await knex.raw('DROP TABLE sessions');
    },
  },
  '0013_warnings': {
    async up(knex) {
      // Early warnings (gateway/tickets/warnings.ts), one row each, written with the ticket version that
      // raised or settled it: the warnings report and each cause's precision read these, not the docs.
      await knex.raw(
        `CREATE TABLE warnings (
           id varchar(255) PRIMARY KEY,
           ticket_id varchar(255) NOT NULL REFERENCES tickets(id),
           cause varchar(255) NOT NULL,
           effect varchar(255) NOT NULL,
           at bigint NOT NULL,
           expected_by bigint NOT NULL,
           lead_seconds real NOT NULL,
           outcome varchar(255) NOT NULL,
           settled_at bigint,
           actual_lead_seconds real
         )`,
      );
      await knex.raw('CREATE INDEX warnings_at ON warnings(at)');
      await knex.raw('CREATE INDEX warnings_pair_settled ON warnings(cause, effect, settled_at)');
    },
    async down(knex) {
      await knex.raw('DROP TABLE warnings');
    },
  },
};

export const migrationSource: Knex.MigrationSource<string> = migrationsUntil('\uffff');

/** The migrations up to and including `last` (by name): an older gateway's schema, for upgrade tests. */
export function migrationsUntil(last: string): Knex.MigrationSource<string> {
  return {
    getMigrations: async () => Object.keys(migrations).filter((name) => name <= last).sort(),
    getMigrationName: (name) => name,
    getMigration: async (name) => migrations[name] as Knex.Migration,
  };
}

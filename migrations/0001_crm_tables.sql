-- CRM tables in D1. prospects, campaigns and mailboxes are replicas of Supabase;
-- emails, job_queue and failed_tasks are written here by the Worker.
-- Timestamps are TEXT in one canonical fixed-width UTC form, 'YYYY-MM-DDTHH:MM:SS.ffffffZ',
-- so text comparison is time comparison. Booleans are INTEGER 0/1.

CREATE TABLE IF NOT EXISTS prospects (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  city          TEXT,
  country       TEXT,
  contact_name  TEXT,
  contact_email TEXT,
  contact_title TEXT,
  phone         TEXT,
  website       TEXT,
  linkedin_url  TEXT,
  stage         TEXT NOT NULL DEFAULT 'new',
  tier          TEXT,
  score         INTEGER NOT NULL DEFAULT 0,
  lead_source   TEXT,
  email_bounced INTEGER NOT NULL DEFAULT 0,
  archived      INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);
CREATE INDEX IF NOT EXISTS prospects_contact_email ON prospects (contact_email);

CREATE TABLE IF NOT EXISTS campaigns (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  description    TEXT,
  status         TEXT NOT NULL DEFAULT 'draft',
  daily_limit    INTEGER NOT NULL DEFAULT 50,
  sequence_steps INTEGER NOT NULL DEFAULT 1,
  starts_on      TEXT,
  ends_on        TEXT,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS mailboxes (
  id             TEXT PRIMARY KEY,
  email          TEXT NOT NULL,
  display_name   TEXT,
  provider       TEXT NOT NULL DEFAULT 'smtp',
  daily_limit    INTEGER NOT NULL DEFAULT 50,
  sent_today     INTEGER NOT NULL DEFAULT 0,
  warmup_enabled INTEGER NOT NULL DEFAULT 0,
  status         TEXT NOT NULL DEFAULT 'active',
  health_score   INTEGER,
  last_used_at   TEXT,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS emails (
  id          TEXT PRIMARY KEY,
  prospect_id TEXT,
  campaign_id TEXT,
  subject     TEXT,
  body        TEXT,
  to_email    TEXT NOT NULL,
  from_email  TEXT NOT NULL,
  message_id  TEXT,
  direction   TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'queued',
  sent_at     TEXT,
  opened_at   TEXT,
  clicked_at  TEXT,
  replied_at  TEXT,
  bounced_at  TEXT,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);
CREATE INDEX IF NOT EXISTS emails_prospect_id ON emails (prospect_id);
CREATE INDEX IF NOT EXISTS emails_campaign_id ON emails (campaign_id);
CREATE INDEX IF NOT EXISTS emails_message_id ON emails (message_id);

CREATE TABLE IF NOT EXISTS job_queue (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  kind         TEXT NOT NULL,
  payload      TEXT NOT NULL DEFAULT '{}',
  status       TEXT NOT NULL DEFAULT 'pending',
  attempts     INTEGER NOT NULL DEFAULT 0,
  run_after    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);
CREATE INDEX IF NOT EXISTS job_queue_status_run_after ON job_queue (status, run_after);

CREATE TABLE IF NOT EXISTS failed_tasks (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  kind       TEXT NOT NULL,
  payload    TEXT NOT NULL DEFAULT '{}',
  error      TEXT NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  failed_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);

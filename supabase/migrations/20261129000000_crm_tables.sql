-- CRM tables. Supabase is the source of truth for prospects, campaigns, mailboxes and
-- inbox_items; emails are replicated here from D1 for the dashboard and analytics.
-- Apply with the Supabase CLI (`supabase db push`) or `psql -f` in name order.
-- gen_random_uuid() is built into Postgres 13+; no extension needed.

create table if not exists public.prospects (
  id            uuid primary key default gen_random_uuid(),
  name          text not null,
  city          text,
  country       text,
  contact_name  text,
  contact_email text,
  contact_title text,
  phone         text,
  website       text,
  linkedin_url  text,
  stage         text not null default 'new',
  tier          text,
  score         integer not null default 0,
  lead_source   text,
  email_bounced boolean not null default false,
  archived      boolean not null default false,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);

create table if not exists public.campaigns (
  id             uuid primary key default gen_random_uuid(),
  name           text not null,
  description    text,
  status         text not null default 'draft'
                 check (status in ('draft', 'active', 'paused', 'completed', 'archived')),
  daily_limit    integer not null default 50,
  sequence_steps integer not null default 1,
  starts_on      date,
  ends_on        date,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now()
);

create table if not exists public.mailboxes (
  id             uuid primary key default gen_random_uuid(),
  email          text not null unique,
  display_name   text,
  provider       text not null default 'smtp',
  daily_limit    integer not null default 50,
  sent_today     integer not null default 0,
  warmup_enabled boolean not null default false,
  status         text not null default 'active'
                 check (status in ('active', 'paused', 'error')),
  health_score   integer,
  last_used_at   timestamptz,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now()
);

-- No foreign keys to prospects/campaigns: emails arrive from the edge, possibly before the
-- prospect they belong to; orphans are reported by the integrity checks, not refused here.
create table if not exists public.emails (
  id          uuid primary key,
  prospect_id uuid,
  campaign_id uuid,
  subject     text,
  body        text,
  to_email    text not null,
  from_email  text not null,
  message_id  text,
  direction   text not null check (direction in ('inbound', 'outbound')),
  status      text not null default 'queued'
              check (status in ('queued', 'sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced', 'failed')),
  sent_at     timestamptz,
  opened_at   timestamptz,
  clicked_at  timestamptz,
  replied_at  timestamptz,
  bounced_at  timestamptz,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

create table if not exists public.inbox_items (
  id          uuid primary key default gen_random_uuid(),
  mailbox_id  uuid,
  prospect_id uuid,
  from_email  text not null,
  subject     text,
  snippet     text,
  received_at timestamptz not null default now(),
  is_read     boolean not null default false,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

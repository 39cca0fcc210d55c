-- Demo CRM data for the local stack, applied once when the local Supabase database is created.
-- Deterministic ids (md5 → uuid) so the D1 email seed can refer to prospects and campaigns.

insert into public.campaigns (id, name, description, status, daily_limit, sequence_steps, starts_on)
select md5('campaign-' || g)::uuid,
       'Campaign ' || g,
       'Outreach wave ' || g,
       (array['draft', 'active', 'active', 'paused', 'completed'])[1 + g % 5],
       25 + g * 5,
       1 + g % 4,
       date '2026-09-01' + g
from generate_series(1, 20) g;

insert into public.mailboxes (id, email, display_name, provider, daily_limit, sent_today, warmup_enabled, status, health_score)
select md5('mailbox-' || g)::uuid,
       'sender' || g || '@crm.example',
       'Sender ' || g,
       (array['smtp', 'gmail', 'outlook'])[1 + g % 3],
       50,
       g * 3,
       g % 2 = 0,
       (array['active', 'active', 'paused', 'error'])[1 + g % 4],
       60 + g * 3
from generate_series(1, 10) g;

insert into public.prospects (id, name, city, country, contact_name, contact_email, contact_title, phone, website,
                              stage, tier, score, lead_source, email_bounced, archived)
select md5('prospect-' || g)::uuid,
       (array['Hotel', 'Resort', 'Inn', 'Lodge', 'Suites'])[1 + g % 5] || ' ' || (array['Alpha', 'Bravo', 'Coral', 'Dune', 'Ember', 'Fjord', 'Grove'])[1 + g % 7] || ' ' || g,
       (array['Lisbon', 'Porto', 'Madrid', 'Seville', 'Nice', 'Rome', 'Athens'])[1 + g % 7],
       (array['PT', 'PT', 'ES', 'ES', 'FR', 'IT', 'GR'])[1 + g % 7],
       'Contact ' || g,
       'contact' || g || '@prospect.example',
       (array['GM', 'Owner', 'Sales Director', 'Revenue Manager'])[1 + g % 4],
       '+351 21 000 ' || lpad(g::text, 4, '0'),
       'https://prospect' || g || '.example',
       (array['new', 'contacted', 'engaged', 'meeting', 'won', 'lost'])[1 + g % 6],
       (array['A', 'B', 'C'])[1 + g % 3],
       g % 100,
       (array['import', 'referral', 'website', 'event'])[1 + g % 4],
       g % 53 = 0,
       g % 97 = 0
from generate_series(1, 2000) g;

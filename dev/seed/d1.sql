-- Demo emails written at the edge, applied once to the local D1 database by `npm start`.
-- They enter the outbox through the D1 triggers and reach the local Supabase by themselves.
WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 300)
INSERT INTO emails (id, prospect_id, campaign_id, subject, body, to_email, from_email, message_id, direction, status, sent_at, opened_at)
SELECT
  lower(printf('%08x-%04x-4%03x-8%03x-%012x', 3000000 + g, g, g, g, g)),
  NULL,
  NULL,
  'Partnership idea #' || g,
  'Hello, we would love to show you what our platform can do for your property.',
  'contact' || g || '@prospect.example',
  'sender' || (1 + g % 10) || '@crm.example',
  '<demo-' || g || '@crm.example>',
  CASE WHEN g % 10 = 0 THEN 'inbound' ELSE 'outbound' END,
  CASE WHEN g % 7 = 0 THEN 'opened' ELSE 'sent' END,
  strftime('%Y-%m-%dT%H:%M:%f', 'now', '-' || g || ' minutes') || '000Z',
  CASE WHEN g % 7 = 0 THEN strftime('%Y-%m-%dT%H:%M:%f', 'now', '-' || (g / 2) || ' minutes') || '000Z' END
FROM n;

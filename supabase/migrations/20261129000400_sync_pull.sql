-- The pull's read path (issue 10): one request reads a page of a table's rows along the
-- (updated_at, key) keyset and, once the rows reach their end within that page, the first page
-- of the table's tombstones along (deleted_at, id). A quiet cycle (nothing new) costs one
-- request instead of two, and the last page of rows brings the deletes with it.
--
-- sync_pull_page() accepts only tables registered in public.sync_tables, checks every column
-- asked for against the table's real columns (pg_attribute), quotes every name it puts into SQL
-- (names come from the catalog, never from the request), compares the key in its own type (the
-- keyset index serves the read) and is callable by service_role only. Idempotent.

create or replace function public.sync_pull_page(
  p_table text,
  p_columns text[],
  p_rows boolean,
  p_after_ts timestamptz,
  p_after_key text,
  p_tombstones boolean,
  p_tombstones_after_ts timestamptz,
  p_tombstones_after_id bigint,
  p_limit integer
) returns jsonb
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  target  record;
  missing text;
  others  text[];
  rows    jsonb := '[]';
  n       integer := 0;
  tombs   jsonb := null;
begin
  select * into target from sync_private.reconcile_target(p_table);
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception 'sync_pull_page: p_limit must be between 1 and 1000, got %', p_limit using errcode = '22023';
  end if;
  select c into missing from unnest(p_columns) c
  where not exists (select 1 from pg_attribute a where a.attrelid = target.rel and a.attname = c and a.attnum > 0 and not a.attisdropped)
  limit 1;
  if missing is not null then
    raise exception 'sync_pull_page: column %.% does not exist', p_table, missing using errcode = '42703';
  end if;
  if not exists (select 1 from pg_attribute a where a.attrelid = target.rel and a.attname = 'updated_at' and a.attnum > 0 and not a.attisdropped) then
    raise exception 'sync_pull_page: %.updated_at does not exist', p_table using errcode = '42703';
  end if;
  others := array(select a.attname::text from pg_attribute a
                  where a.attrelid = target.rel and a.attnum > 0 and not a.attisdropped and a.attname <> all (p_columns));

  if p_rows then
    -- The row comparison keeps the key in its own type: the (updated_at, key) order is the
    -- index's, and a text comparison would order integers wrongly.
    execute format(
      'select coalesce(jsonb_agg(to_jsonb(t) - $4 order by t.updated_at, t.%2$I), ''[]''), count(*)::int
         from (select * from %1$s
                where $1::timestamptz is null or (updated_at, %2$I) > ($1, $2::%3$s)
                order by updated_at, %2$I
                limit $3) t',
      target.rel, target.key_column, target.key_type)
    into rows, n
    using p_after_ts, p_after_key, p_limit, others;
  end if;

  -- The deletes come once the rows are read to their end (here, or in an earlier request).
  if p_tombstones and (not p_rows or n < p_limit) then
    select coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'row_id', s.row_id, 'deleted_at', s.deleted_at) order by s.deleted_at, s.id), '[]')
    into tombs
    from (select id, row_id, deleted_at from public.sync_tombstones
           where table_name = p_table
             and (p_tombstones_after_ts is null or (deleted_at, id) > (p_tombstones_after_ts, p_tombstones_after_id))
           order by deleted_at, id
           limit p_limit) s;
  end if;

  return jsonb_build_object('rows', rows, 'tombstones', tombs);
end;
$$;

-- Only the engine (service_role) may call it. The local stand-in has none of these roles, so
-- each is touched only where it exists.
revoke all on function public.sync_pull_page(text, text[], boolean, timestamptz, text, boolean, timestamptz, bigint, integer) from public;
do $$
declare
  r text;
begin
  foreach r in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_roles where rolname = r) then
      execute format('revoke all on function public.sync_pull_page(text, text[], boolean, timestamptz, text, boolean, timestamptz, bigint, integer) from %I', r);
    end if;
  end loop;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    grant execute on function public.sync_pull_page(text, text[], boolean, timestamptz, text, boolean, timestamptz, bigint, integer) to service_role;
  end if;
end;
$$;

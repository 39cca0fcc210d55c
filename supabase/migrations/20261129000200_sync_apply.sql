-- The sync engine's write path into Supabase and the versioning rules both sides share.
--
-- * sync_apply_push(): one request per push page. The decision (versions, tombstones, policy)
--   and the write happen in one transaction, fenced by the run's lease epoch, so a page is
--   never half-applied, an edit in between is never overwritten unseen, and a run that lost
--   its lease cannot write.
-- * set_updated_at(): a write on top of a version always yields a strictly newer version
--   (max(now, previous + 1 µs)), and the engine's own writes keep the version they carry.
-- * Tombstones: a re-inserted key clears its tombstone (a tombstone never deletes a row that
--   exists) and is stamped after it; a delete is stamped after the version it deleted.
-- * sync_register_table(): what a table needs to be synced; the only way the functions above
--   accept a table.
-- Idempotent: safe to apply again.

-- Tables the sync functions may touch, with their key column. Filled by sync_register_table().
create table if not exists public.sync_tables (
  table_name    text primary key,
  key_column    text not null,
  registered_at timestamptz not null default now()
);

-- The newest lease epoch seen per synced table: a push from an older epoch is refused.
create table if not exists public.sync_fences (
  entity     text primary key,
  epoch      bigint not null,
  updated_at timestamptz not null default now()
);

-- Clearing a re-inserted key's tombstone looks it up by row.
create index if not exists sync_tombstones_row on public.sync_tombstones (table_name, row_id);

-- Sync bookkeeping is for the engine (service_role bypasses RLS), never for API clients.
alter table public.sync_tables enable row level security;
alter table public.sync_fences enable row level security;
alter table public.sync_tombstones enable row level security;

create or replace function public.set_updated_at() returns trigger
language plpgsql as $$
begin
  -- The sync engine writes versions exactly as they are: re-sending one changes nothing.
  if current_setting('sync.applying', true) = 'on' then
    return new;
  end if;
  -- A writer that leaves updated_at alone gets a version strictly newer than the one it wrote
  -- on, even when that one came from a clock running ahead (hybrid-logical-clock style).
  -- An explicit updated_at is kept as written.
  if new.updated_at is not distinct from old.updated_at then
    new.updated_at := greatest(now(), old.updated_at + interval '1 microsecond');
  end if;
  return new;
end;
$$;

-- security definer: the tombstone table has RLS on, and an app user's delete must still record one.
create or replace function public.record_tombstone() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  old_row jsonb := to_jsonb(old);
  key_column text := coalesce(tg_argv[0], 'id');
  version timestamptz := (old_row ->> 'updated_at')::timestamptz;
  reinserted boolean;
begin
  -- One statement that deletes and re-inserts the key (a CTE) fires this after the insert: the
  -- key exists again, so no tombstone; the new row is stamped after the version it replaced.
  -- The key is compared in its own type (read back through the row type), so the primary key
  -- index serves the lookup.
  execute format('select exists (select 1 from %1$I.%2$I where %3$I = (jsonb_populate_record(null::%1$I.%2$I, $1)).%3$I)',
                 tg_table_schema, tg_table_name, key_column)
    into reinserted using jsonb_build_object(key_column, old_row -> key_column);
  if reinserted then
    if version is not null and current_setting('sync.applying', true) is distinct from 'on' then
      execute format('update %1$I.%2$I set updated_at = greatest(updated_at, $1) where %3$I = (jsonb_populate_record(null::%1$I.%2$I, $2)).%3$I',
                     tg_table_schema, tg_table_name, key_column)
        using version + interval '2 microseconds', jsonb_build_object(key_column, old_row -> key_column);
    end if;
    return old;
  end if;
  -- Stamped after the version it deletes, so a replica holding that version lets it go.
  insert into public.sync_tombstones (table_name, row_id, deleted_at)
  values (tg_table_name, old_row ->> key_column,
          greatest(now(), coalesce(version + interval '1 microsecond', now())));
  return old;
end;
$$;

create or replace function public.stamp_reinsert() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  deleted timestamptz;
begin
  -- A re-insert is a write on top of the deletion: strictly newer than it, as every write on
  -- top of a version is (the deleted version may have come from a clock running ahead).
  if current_setting('sync.applying', true) is distinct from 'on' then
    select max(s.deleted_at) into deleted from public.sync_tombstones s
    where s.table_name = tg_table_name and s.row_id = to_jsonb(new) ->> coalesce(tg_argv[0], 'id');
    if deleted is not null then
      new.updated_at := greatest(new.updated_at, deleted + interval '1 microsecond');
    end if;
  end if;
  return new;
end;
$$;

-- An AFTER trigger, so that in one statement that deletes and re-inserts a key it runs after
-- the delete's record_tombstone (AFTER triggers fire in event order at the end of the statement).
create or replace function public.clear_tombstone() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  -- The key exists again (a delete + re-insert, or an import that started before the delete):
  -- its tombstone must not delete it in a replica.
  delete from public.sync_tombstones
  where table_name = tg_table_name and row_id = to_jsonb(new) ->> coalesce(tg_argv[0], 'id');
  return null;
end;
$$;

/* Installs what incremental sync needs on a table and registers it for the sync functions. */
create or replace function public.sync_register_table(p_table text, p_key text default 'id') returns void
language plpgsql as $$
begin
  if to_regclass(format('public.%I', p_table)) is null then
    raise exception 'sync_register_table: no table public.%', p_table;
  end if;
  execute format('drop trigger if exists set_updated_at on public.%I', p_table);
  execute format('create trigger set_updated_at before update on public.%I
                    for each row execute function public.set_updated_at()', p_table);
  execute format('drop trigger if exists record_tombstone on public.%I', p_table);
  execute format('create trigger record_tombstone after delete on public.%I
                    for each row execute function public.record_tombstone(%L)', p_table, p_key);
  execute format('drop trigger if exists clear_tombstone on public.%I', p_table);
  execute format('create trigger clear_tombstone after insert on public.%I
                    for each row execute function public.clear_tombstone(%L)', p_table, p_key);
  execute format('drop trigger if exists stamp_reinsert on public.%I', p_table);
  execute format('create trigger stamp_reinsert before insert on public.%I
                    for each row execute function public.stamp_reinsert(%L)', p_table, p_key);
  execute format('create index if not exists %I on public.%I (updated_at, %I)', p_table || '_keyset', p_table, p_key);
  insert into public.sync_tables (table_name, key_column) values (p_table, p_key)
  on conflict (table_name) do update set key_column = excluded.key_column;
end;
$$;

-- The push's building blocks live outside the API schema: PostgREST never exposes them, and
-- only sync_apply_push (which checks the registry and the fence first) calls them.
create schema if not exists sync_private;
revoke all on schema sync_private from public;

/* Adds two push results: counters summed, lists concatenated. */
create or replace function sync_private.merge_push_results(a jsonb, b jsonb) returns jsonb
language sql immutable as $$
  select jsonb_build_object(
    'written',   (a ->> 'written')::int + (b ->> 'written')::int,
    'deleted',   (a ->> 'deleted')::int + (b ->> 'deleted')::int,
    'unchanged', (a ->> 'unchanged')::int + (b ->> 'unchanged')::int,
    'conflicts', (a -> 'conflicts') || (b -> 'conflicts'),
    'winners',   (a -> 'winners') || (b -> 'winners'))
$$;

/*
 * Decides and applies a set of changes to one registered table in one statement, after locking
 * the rows they touch. Each change: {op: 'upsert'|'delete', id, ts, row}; ts is the edge version
 * (the row's updated_at, or when it was deleted). Returns counters, the conflicts, and the
 * winners the replica must take (Supabase's row, or its deletion) when Supabase's version wins.
 */
create or replace function sync_private.apply_changes(p_table text, p_key text, p_policy text, p_changes jsonb)
returns jsonb
language plpgsql set search_path = public, pg_temp as $$
declare
  rel       regclass := format('public.%I', p_table)::regclass;
  key_type  text;
  cols      text;
  updates   text;
  upsert    text := 'select 1 where false';
  result    jsonb;
begin
  select format_type(a.atttypid, a.atttypmod) into key_type
  from pg_attribute a where a.attrelid = rel and a.attname = p_key and not a.attisdropped;

  -- The columns the rows carry (the registry's), in table order; never names from elsewhere.
  select string_agg(quote_ident(a.attname), ', ' order by a.attnum),
         string_agg(format('%1$I = excluded.%1$I', a.attname), ', ' order by a.attnum) filter (where a.attname <> p_key)
  into cols, updates
  from pg_attribute a
  where a.attrelid = rel and a.attnum > 0 and not a.attisdropped
    and exists (select 1 from jsonb_array_elements(p_changes) x where (x -> 'row') ? a.attname);

  -- Lock first: the next statement's snapshot then sees the latest committed versions, and no
  -- other writer can change them before this transaction ends.
  execute format('select count(*) from (select 1 from %s where %I = any ($1::%s[]) for update) locked', rel, p_key, key_type)
  using array(select x ->> 'id' from jsonb_array_elements(p_changes) x);

  if cols is not null then
    upsert := format(
      'insert into %1$s (%2$s) select %2$s from jsonb_populate_recordset(null::%1$s,
         (select jsonb_agg(d.row) from decided d where d.action = ''write''))
       on conflict (%3$I) do update set %4$s returning 1',
      rel, cols, p_key, coalesce(updates, format('%1$I = excluded.%1$I', p_key)));
  end if;

  execute format($sql$
    with c as (
      select x ->> 'op' as op, x ->> 'id' as id, (x ->> 'ts')::timestamptz as ts, x -> 'row' as row
      from jsonb_array_elements($1) x
    ),
    cur as (
      select t.%2$I::text as id, t.updated_at as ts, to_jsonb(t) as row,
             to_jsonb(jsonb_populate_record(t, c.row)) = to_jsonb(t) as same
      from %1$s t join c on t.%2$I = c.id::%3$s
    ),
    tomb as (
      select s.row_id as id, max(s.deleted_at) as deleted_at
      from public.sync_tombstones s
      where s.table_name = $3 and s.row_id in (select c.id from c)
      group by s.row_id
    ),
    decided as (
      select c.op, c.id, c.ts, c.row, cur.ts as cur_ts, cur.row as cur_row,
             case when cur.id is null then tomb.deleted_at end as deleted_at,
             case
               when c.op = 'upsert' and cur.id is null
                    and tomb.deleted_at > c.ts and $2 = 'last-write-wins' then 'keep-deleted'
               when c.op = 'upsert' and cur.ts > c.ts and $2 = 'last-write-wins' then 'keep'
               when c.op = 'upsert' and cur.ts = c.ts and cur.same then 'unchanged'
               when c.op = 'upsert' then 'write'
               when cur.id is null then 'gone'
               when cur.ts > c.ts and $2 = 'last-write-wins' then 'keep'
               else 'delete'
             end as action
      from c left join cur on cur.id = c.id left join tomb on tomb.id = c.id
    ),
    written as (%4$s),
    deleted as (
      delete from %1$s t using decided d where d.action = 'delete' and t.%2$I = d.id::%3$s returning 1
    )
    select jsonb_build_object(
      'written',   (select count(*) from written),
      'deleted',   (select count(*) from deleted),
      'unchanged', (select count(*) from decided where action in ('unchanged', 'gone')),
      'conflicts', coalesce((
         select jsonb_agg(jsonb_build_object(
           'id', id, 'op', op,
           'winner', case when action like 'keep%%' then 'supabase' else 'd1' end,
           'supabase_ts', coalesce(cur_ts, deleted_at), 'supabase_deleted', cur_ts is null,
           'd1_ts', ts))
         from decided
         where action like 'keep%%' or coalesce(cur_ts, deleted_at) > ts and action in ('write', 'delete')), '[]'),
      'winners', coalesce((
         select jsonb_agg(jsonb_build_object('id', id, 'row', cur_row, 'deleted_at', deleted_at))
         from decided where action like 'keep%%'), '[]'))
  $sql$, rel, p_key, key_type, upsert)
  into result
  using p_changes, p_policy, p_table;
  return result;
end;
$$;

/*
 * Applies one push page to a registered table: {op, id, ts, row} changes as a JSON array.
 * Refuses an epoch older than the newest seen for the table (HTTP 409, code PT409). A row
 * Supabase rejects (a data or constraint error) is reported in `rejected` with its error, and
 * the rest of the page still applies.
 */
-- security definer: it runs as the migrations' owner, who alone may use sync_private.
create or replace function public.sync_apply_push(p_table text, p_epoch bigint, p_policy text, p_changes jsonb)
returns jsonb
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  key_column text;
  fence      bigint;
  result     jsonb;
  change     jsonb;
  rejected   jsonb := '[]';
begin
  select t.key_column into key_column from public.sync_tables t where t.table_name = p_table;
  if key_column is null then
    raise exception 'sync_apply_push: table % is not registered for sync', p_table
      using hint = 'apply supabase/migrations (sync_register_table)';
  end if;
  if p_policy is null or p_policy not in ('last-write-wins', 'source-wins') then
    raise exception 'sync_apply_push: unknown conflict policy %', p_policy;
  end if;
  if jsonb_typeof(p_changes) is distinct from 'array' then
    raise exception 'sync_apply_push: p_changes must be a JSON array';
  end if;

  -- The fence row also serialises concurrent pushes of one table.
  insert into public.sync_fences as f (entity, epoch) values (p_table, p_epoch)
  on conflict (entity) do update set epoch = greatest(f.epoch, excluded.epoch), updated_at = now()
  returning f.epoch into fence;
  if fence > p_epoch then
    raise exception 'sync fenced: epoch % of % is older than epoch %', p_epoch, p_table, fence
      using errcode = 'PT409', hint = 'a newer run of this entity holds the lease';
  end if;

  perform set_config('sync.applying', 'on', true);
  begin
    result := sync_private.apply_changes(p_table, key_column, p_policy, p_changes);
  exception when data_exception or integrity_constraint_violation then
    -- Some change is refused: apply change by change, so a bad row costs only itself.
    result := '{"written":0,"deleted":0,"unchanged":0,"conflicts":[],"winners":[]}';
    for change in select value from jsonb_array_elements(p_changes) loop
      begin
        result := sync_private.merge_push_results(result,
          sync_private.apply_changes(p_table, key_column, p_policy, jsonb_build_array(change)));
      exception when data_exception or integrity_constraint_violation then
        rejected := rejected || jsonb_build_array(jsonb_build_object('id', change ->> 'id', 'code', sqlstate, 'message', sqlerrm));
      end;
    end loop;
  end;
  perform set_config('sync.applying', 'off', true);
  return result || jsonb_build_object('rejected', rejected);
end;
$$;

select public.sync_register_table(t) from unnest(array['prospects', 'campaigns', 'mailboxes', 'emails', 'inbox_items']) t;

-- Only the engine (service_role) may call the sync functions or read their bookkeeping.
-- Supabase grants new functions and tables to anon and authenticated by default. The local
-- stand-in has none of these roles, so each is touched only where it exists.
revoke all on function public.sync_apply_push(text, bigint, text, jsonb) from public;
revoke all on function sync_private.apply_changes(text, text, text, jsonb) from public;
revoke all on function sync_private.merge_push_results(jsonb, jsonb) from public;
revoke all on function public.sync_register_table(text, text) from public;
do $$
declare
  r text;
begin
  foreach r in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_roles where rolname = r) then
      execute format('revoke all on function public.sync_apply_push(text, bigint, text, jsonb) from %I', r);
      execute format('revoke all on function public.sync_register_table(text, text) from %I', r);
      execute format('revoke all on public.sync_tables, public.sync_fences, public.sync_tombstones from %I', r);
    end if;
  end loop;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    grant execute on function public.sync_apply_push(text, bigint, text, jsonb) to service_role;
    grant select on public.sync_tables, public.sync_fences, public.sync_tombstones to service_role;
  end if;
end;
$$;

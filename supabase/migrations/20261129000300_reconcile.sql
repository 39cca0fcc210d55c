-- Anti-entropy reconciliation (issue 9): digests of key ranges, so a clean table is verified
-- with one request and the Worker descends only into the ranges that differ (src/integrity/).
--
-- * sync_range_digests(): per key-prefix bucket, (count, sum of the first 64 bits of
--   md5(canonical row text)) mod 2^64. Sums merge: a bucket's digest is the sum of its
--   sub-buckets', and a row counted twice never cancels out (unlike xor).
-- * sync_range_rows(): (key, version, first 64 bits of md5 as hex) of every row in some buckets:
--   the descent into the buckets that differ.
-- * sync_read_rows(): the registry's columns of chosen rows, by key: what a repair applies.
--
-- All three accept only tables registered in public.sync_tables, check every column against the
-- table's real columns (pg_attribute) and its type against the registry's, and quote every
-- name they put into SQL (names come from pg_attribute, never from the request). Callable by
-- service_role only. Idempotent: safe to apply again.

create schema if not exists sync_private;
revoke all on schema sync_private from public;

/* The registered table, its key column and the key column's type; raises for anything else. */
create or replace function sync_private.reconcile_target(p_table text, out rel regclass, out key_column text, out key_type text)
language plpgsql stable set search_path = public, pg_temp as $$
begin
  select t.key_column into key_column from public.sync_tables t where t.table_name = p_table;
  if key_column is null then
    raise exception 'sync reconcile: table % is not registered for sync', p_table
      using hint = 'apply supabase/migrations (sync_register_table)';
  end if;
  rel := format('public.%I', p_table)::regclass;
  select format_type(a.atttypid, null) into key_type
  from pg_attribute a where a.attrelid = rel and a.attname = key_column and a.attnum > 0 and not a.attisdropped;
  if key_type is null then
    raise exception 'sync reconcile: %.% (its registered key) does not exist', p_table, key_column;
  end if;
end;
$$;

/*
 * The SQL expression (over alias t) for one column's value in the D1 representation: uuids lower
 * case, timestamps 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (UTC, microseconds), booleans 0/1, integers in
 * decimal, dates YYYY-MM-DD, text as is; NULL stays NULL. The column must exist in the table and
 * its type fit the registry's type. The name in the result is pg_attribute's, quoted.
 */
create or replace function sync_private.d1_value_sql(p_rel regclass, p_name text, p_type text) returns text
language plpgsql stable set search_path = public, pg_temp as $$
declare
  att_name name;
  att_type text;
  c        text;
  expr     text;
begin
  select a.attname, format_type(a.atttypid, null) into att_name, att_type
  from pg_attribute a
  where a.attrelid = p_rel and a.attname = p_name and a.attnum > 0 and not a.attisdropped;
  if att_name is null then
    raise exception 'sync reconcile: % has no column %', p_rel, coalesce(p_name, '(null)');
  end if;
  c := format('t.%I', att_name);
  -- Infinite times have no canonical form (the pull quarantines them): their own text keeps
  -- them distinct from NULL.
  expr := case
    when p_type = 'uuid' and att_type in ('uuid', 'text') then format('lower(%s::text)', c)
    when p_type = 'text' and att_type in ('text', 'character varying') then format('%s::text', c)
    when p_type = 'integer' and att_type in ('smallint', 'integer', 'bigint') then format('%s::text', c)
    when p_type = 'boolean' and att_type = 'boolean' then format('%s::int::text', c)
    when p_type = 'date' and att_type = 'date' then
      format('case when isfinite(%1$s) then to_char(%1$s, ''YYYY-MM-DD'') else %1$s::text end', c)
    when p_type = 'timestamp' and att_type = 'timestamp with time zone' then
      format('case when isfinite(%1$s) then to_char(%1$s at time zone ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'') else %1$s::text end', c)
    when p_type = 'timestamp' and att_type = 'timestamp without time zone' then
      format('case when isfinite(%1$s) then to_char(%1$s, ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"'') else %1$s::text end', c)
  end;
  if expr is null then
    raise exception 'sync reconcile: %.% is %, which does not fit registry type %', p_rel, att_name, att_type, coalesce(p_type, '(null)');
  end if;
  return expr;
end;
$$;

/*
 * The canonical row text, as an SQL expression over alias t. Defined once for both sides; the
 * Worker's twin is canonicalRowText() in src/integrity/row-text.ts, and both must stay
 * byte-identical. Per registry column, in registry order, concatenated with no separator:
 *   NULL      → '~'
 *   any other → '<n>:<value>', <value> the column's D1 text (d1_value_sql) and <n> its length
 *               in UTF-8 bytes (octet_length: Supabase databases are UTF8), in decimal.
 * Every field starts with '~' or a digit and says where it ends, so NULL, '' ('0:'), the text
 * 'null' ('4:null') and '~' ('1:~') are distinct and no value can move a boundary.
 * p_columns: the registry's columns, [{"name": ..., "type": ...}, ...] in registry order.
 */
create or replace function sync_private.row_text_sql(p_rel regclass, p_columns jsonb) returns text
language plpgsql stable set search_path = public, pg_temp as $$
declare
  col    jsonb;
  value  text;
  fields text[] := '{}';
begin
  if jsonb_typeof(p_columns) is distinct from 'array' or jsonb_array_length(p_columns) = 0 then
    raise exception 'sync reconcile: p_columns must be a non-empty JSON array of {name, type}';
  end if;
  for col in select x from jsonb_array_elements(p_columns) x loop
    if jsonb_typeof(col) is distinct from 'object' then
      raise exception 'sync reconcile: each column must be a {name, type} object';
    end if;
    value := sync_private.d1_value_sql(p_rel, col ->> 'name', col ->> 'type');
    fields := fields || format('coalesce(octet_length(%1$s)::text || '':'' || %1$s, ''~'')', value);
  end loop;
  -- || rather than concat(): a function takes at most 100 arguments, a table may have more columns.
  return '(' || array_to_string(fields, ' || ') || ')';
end;
$$;

/*
 * FROM clause over alias t: the whole table, or (p_filtered) only the rows whose key starts with
 * one of the prefixes in $1 (a JSON array of text). A uuid key is read by index ranges (a hex
 * prefix p covers rpad(p, 32, '0') .. rpad(p, 32, 'f')); a prefix that cannot start a canonical
 * uuid selects nothing. Prefixes are deduplicated; the caller sends prefixes that do not nest.
 */
create or replace function sync_private.range_source_sql(p_rel regclass, p_key text, p_key_type text, p_filtered boolean) returns text
language plpgsql immutable set search_path = public, pg_temp as $$
begin
  if not p_filtered then
    return format('from %s t', p_rel);
  end if;
  if p_key_type = 'uuid' then
    return format($sql$from (select distinct p from jsonb_array_elements_text($1) p where p ~ '^[0-9a-f]{1,8}$') r
      join %1$s t on t.%2$I between rpad(r.p, 32, '0')::uuid and rpad(r.p, 32, 'f')::uuid$sql$, p_rel, p_key);
  end if;
  return format($sql$from (select distinct p from jsonb_array_elements_text($1) p where p <> '') r
    join %1$s t on left(t.%2$I::text, length(r.p)) = r.p$sql$, p_rel, p_key);
end;
$$;

/* Checks a JSON array of prefixes (or null for the whole table). */
create or replace function sync_private.check_prefixes(p_prefixes jsonb) returns void
language plpgsql immutable set search_path = public, pg_temp as $$
begin
  if p_prefixes is not null and jsonb_typeof(p_prefixes) is distinct from 'array' then
    raise exception 'sync reconcile: p_prefixes must be a JSON array of key prefixes (or null)';
  end if;
  if p_prefixes is not null and jsonb_array_length(p_prefixes) > 65536 then
    raise exception 'sync reconcile: at most 65536 prefixes per request';
  end if;
end;
$$;

/*
 * Digests of the key-prefix buckets of a registered table: {"total": rows, "buckets":
 * [[prefix, count, sum], ...]} ordered by prefix, where prefix is the key's first p_prefix_len
 * characters (1..8) and sum is Σ first 64 bits of md5(canonical row text), mod 2^64, in decimal.
 * p_prefixes (a JSON array, or null for the whole table) limits it to the rows under them.
 */
-- security definer: it runs as the migrations' owner, who alone may use sync_private.
create or replace function public.sync_range_digests(p_table text, p_columns jsonb, p_prefix_len int, p_prefixes jsonb)
returns jsonb
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  target record;
  result jsonb;
begin
  select * into target from sync_private.reconcile_target(p_table);
  if p_prefix_len is null or p_prefix_len not between 1 and 8 then
    raise exception 'sync reconcile: p_prefix_len must be 1..8, not %', p_prefix_len;
  end if;
  perform sync_private.check_prefixes(p_prefixes);
  execute format($sql$
    select jsonb_build_object(
      'total', coalesce(sum(b.n), 0),
      'buckets', coalesce(jsonb_agg(jsonb_build_array(b.p, b.n, b.s::text) order by b.p), '[]'))
    from (
      select left(t.%1$I::text, $2) as p, count(*) as n,
             mod(mod(sum(('x' || left(md5(%2$s), 16))::bit(64)::bigint), 18446744073709551616)
                 + 18446744073709551616, 18446744073709551616) as s
      %3$s
      group by 1
    ) b
  $sql$, target.key_column, sync_private.row_text_sql(target.rel, p_columns),
         sync_private.range_source_sql(target.rel, target.key_column, target.key_type, p_prefixes is not null))
  into result
  using p_prefixes, p_prefix_len;
  return result;
end;
$$;

/*
 * The rows under some key prefixes, as [[key, version, hash], ...]: version is p_version's D1
 * text (a registry column, usually updated_at) and hash the first 64 bits of md5(canonical row
 * text) as 16 hex digits, the same bits the digests sum.
 */
create or replace function public.sync_range_rows(p_table text, p_columns jsonb, p_version text, p_prefixes jsonb)
returns jsonb
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  target  record;
  version jsonb;
  result  jsonb;
begin
  select * into target from sync_private.reconcile_target(p_table);
  perform sync_private.check_prefixes(p_prefixes);
  if p_prefixes is null then
    raise exception 'sync reconcile: sync_range_rows needs p_prefixes';
  end if;
  select x into version from jsonb_array_elements(p_columns) x where x ->> 'name' = p_version limit 1;
  if version is null then
    raise exception 'sync reconcile: the version column % is not among p_columns', coalesce(p_version, '(null)');
  end if;
  execute format($sql$
    select coalesce(jsonb_agg(jsonb_build_array(t.%1$I::text, %2$s, left(md5(%3$s), 16))), '[]')
    %4$s
  $sql$, target.key_column, sync_private.d1_value_sql(target.rel, version ->> 'name', version ->> 'type'),
         sync_private.row_text_sql(target.rel, p_columns),
         sync_private.range_source_sql(target.rel, target.key_column, target.key_type, true))
  into result
  using p_prefixes;
  return result;
end;
$$;

/*
 * The registry's columns (p_columns) of the rows with the given keys (a JSON array of text, at
 * most 10,000), as a JSON array of objects shaped like PostgREST rows. Keys that cannot be keys
 * of the table (a non-uuid for a uuid key) are skipped, not an error.
 */
create or replace function public.sync_read_rows(p_table text, p_columns jsonb, p_keys jsonb)
returns jsonb
language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  target  record;
  names   text[];
  others  text[];
  keys    text;
  result  jsonb;
begin
  select * into target from sync_private.reconcile_target(p_table);
  if jsonb_typeof(p_keys) is distinct from 'array' or jsonb_array_length(p_keys) > 10000 then
    raise exception 'sync reconcile: p_keys must be a JSON array of at most 10000 keys';
  end if;
  perform sync_private.row_text_sql(target.rel, p_columns); -- checks every column and its type
  names := array(select x ->> 'name' from jsonb_array_elements(p_columns) x);
  others := array(select a.attname::text from pg_attribute a
                  where a.attrelid = target.rel and a.attnum > 0 and not a.attisdropped and a.attname <> all (names));
  keys := case when target.key_type = 'uuid'
    then $k$array(select k::uuid from jsonb_array_elements_text($1) k
                  where k ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')$k$
    else 'array(select jsonb_array_elements_text($1))' end;
  execute format('select coalesce(jsonb_agg(to_jsonb(t) - $2), ''[]'') from %s t where t.%I%s = any (%s)',
                 target.rel, target.key_column, case when target.key_type = 'uuid' then '' else '::text' end, keys)
  into result
  using p_keys, others;
  return result;
end;
$$;

-- Only the engine (service_role) may call them. The local stand-in has none of these roles, so
-- each is touched only where it exists.
revoke all on function public.sync_range_digests(text, jsonb, int, jsonb) from public;
revoke all on function public.sync_range_rows(text, jsonb, text, jsonb) from public;
revoke all on function public.sync_read_rows(text, jsonb, jsonb) from public;
revoke all on function sync_private.reconcile_target(text) from public;
revoke all on function sync_private.d1_value_sql(regclass, text, text) from public;
revoke all on function sync_private.row_text_sql(regclass, jsonb) from public;
revoke all on function sync_private.range_source_sql(regclass, text, text, boolean) from public;
revoke all on function sync_private.check_prefixes(jsonb) from public;
do $$
declare
  r text;
begin
  foreach r in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_roles where rolname = r) then
      execute format('revoke all on function public.sync_range_digests(text, jsonb, int, jsonb) from %I', r);
      execute format('revoke all on function public.sync_range_rows(text, jsonb, text, jsonb) from %I', r);
      execute format('revoke all on function public.sync_read_rows(text, jsonb, jsonb) from %I', r);
    end if;
  end loop;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    grant execute on function public.sync_range_digests(text, jsonb, int, jsonb) to service_role;
    grant execute on function public.sync_range_rows(text, jsonb, text, jsonb) to service_role;
    grant execute on function public.sync_read_rows(text, jsonb, jsonb) to service_role;
  end if;
end;
$$;

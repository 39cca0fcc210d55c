-- What incremental sync relies on: an updated_at that moves on every write, a keyset
-- index per synced table, and tombstones so deletes can be pulled like rows.

-- updated_at is set to now() on every update unless the writer set it explicitly. The sync
-- engine's push writes the edge row's own updated_at, so a pushed row carries the time of
-- the edge write (last-write-wins compares like with like) and is not echoed back.
create or replace function public.set_updated_at() returns trigger
language plpgsql as $$
begin
  if new.updated_at is not distinct from old.updated_at then
    new.updated_at := now();
  end if;
  return new;
end;
$$;

create table if not exists public.sync_tombstones (
  id         bigint generated always as identity primary key,
  table_name text not null,
  row_id     text not null,
  deleted_at timestamptz not null default now()
);
create index if not exists sync_tombstones_keyset
  on public.sync_tombstones (table_name, deleted_at, id);

create or replace function public.record_tombstone() returns trigger
language plpgsql as $$
begin
  insert into public.sync_tombstones (table_name, row_id) values (tg_table_name, old.id::text);
  return old;
end;
$$;

do $$
declare
  t text;
begin
  foreach t in array array['prospects', 'campaigns', 'mailboxes', 'emails', 'inbox_items'] loop
    execute format('drop trigger if exists set_updated_at on public.%I', t);
    execute format(
      'create trigger set_updated_at before update on public.%I
         for each row execute function public.set_updated_at()', t);
    execute format('drop trigger if exists record_tombstone on public.%I', t);
    execute format(
      'create trigger record_tombstone after delete on public.%I
         for each row execute function public.record_tombstone()', t);
    execute format('create index if not exists %I on public.%I (updated_at, id)', t || '_keyset', t);
  end loop;
end;
$$;

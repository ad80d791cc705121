import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../../logger.ts'
import { BASE_COLUMNS, EVENTS_DIR, TMP_EXT, type PropertyType } from '../layout.ts'
import { RESCUED_COLUMN } from './event-columns.ts'
import { publish } from './files.ts'
import type { ParquetWriter } from './parquet-writer.ts'
import { literal } from './sql.ts'

/*
 * The established type of every property column, per event name: the first flush that sees a
 * column decides its type (the type most of that file's values have; ties go to the first value),
 * and from then on every file of that event, from any partition and any tenant, writes the column
 * with that type. A value of another type goes to the rescue column (./event-columns.ts,
 * RESCUED_COLUMN). Kept in `<root>/events/_column_types.json`, written (temp file, fsync, rename)
 * before the files of the flush that established a type are published, so a replay after a crash
 * finds the same types. A warehouse written before this file existed is read once: each column gets
 * the type most of its files have (ties: DOUBLE, BOOLEAN, VARCHAR; the old sink wrote a conflict as
 * VARCHAR, so VARCHAR is the weakest claim).
 */

export const COLUMN_TYPES_FILE = '_column_types.json'

interface Stored {
  version: 1
  /** event → lower-cased column name → type */
  events: Record<string, Record<string, PropertyType>>
}

const TYPES: readonly PropertyType[] = ['DOUBLE', 'BOOLEAN', 'VARCHAR']

export class ColumnTypes {
  private readonly byEvent = new Map<string, Map<string, PropertyType>>()
  private dirty = false

  private constructor(private readonly path: string | null) {}

  /** Types kept in memory only (a transcoder used on its own, as in tests). */
  static inMemory(): ColumnTypes {
    return new ColumnTypes(null)
  }

  /** The event's established types (lower-cased column name → type); FileBuild reads it. */
  of(event: string): Map<string, PropertyType> {
    let m = this.byEvent.get(event)
    if (!m) this.byEvent.set(event, (m = new Map()))
    return m
  }

  /** Records a column's type unless one is established already (the first claim stands). */
  establish(event: string, lname: string, type: PropertyType): void {
    const m = this.of(event)
    if (m.has(lname)) return
    m.set(lname, type)
    this.dirty = true
  }

  /** Writes in order: flushes of several partitions may persist at once, through one temp file. */
  private writing: Promise<void> = Promise.resolve()

  /** Writes the file if a type was established since the last write; resolves once what is known now is durable. */
  persist(): Promise<void> {
    const run = this.writing.then(() => this.write())
    this.writing = run.catch(() => undefined)
    return run
  }

  private async write(): Promise<void> {
    if (!this.dirty || this.path === null) return
    this.dirty = false
    const byName = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : 1)
    // fromEntries defines own properties: an event or column named `__proto__` is kept like any other.
    const events = Object.fromEntries(
      [...this.byEvent]
        .filter(([, m]) => m.size > 0)
        .sort(byName)
        .map(([event, m]) => [event, Object.fromEntries([...m].sort(byName))]),
    ) as Stored['events']
    const stored: Stored = { version: 1, events }
    const dir = join(this.path, '..')
    await mkdir(dir, { recursive: true })
    const tmp = this.path + TMP_EXT
    try {
      writeFileSync(tmp, JSON.stringify(stored, null, 1) + '\n')
      await publish([{ tmp, path: this.path, dir }])
    } catch (err) {
      this.dirty = true
      throw err
    }
  }

  /** Loads the root's types; a warehouse without the file gets them from its event files' footers. */
  static async load(root: string, duck: () => Promise<ParquetWriter>, logger?: Logger): Promise<ColumnTypes> {
    const path = join(root, EVENTS_DIR, COLUMN_TYPES_FILE)
    const types = new ColumnTypes(path)
    if (existsSync(path)) {
      const stored = JSON.parse(readFileSync(path, 'utf8')) as Stored
      for (const [event, cols] of Object.entries(stored.events)) {
        const m = types.of(event)
        for (const [name, type] of Object.entries(cols)) if (TYPES.includes(type)) m.set(name, type)
      }
      return types
    }
    if (!existsSync(join(root, EVENTS_DIR))) return types
    try {
      await types.seed(root, await duck())
      await types.persist()
    } catch (err) {
      // Types are then established by the next rows instead; the views cast (docs/warehouse.md).
      logger?.warn({ err }, 'warehouse sink: could not read the column types of the existing files')
    }
    return types
  }

  private async seed(root: string, duck: ParquetWriter): Promise<void> {
    const glob = join(root, EVENTS_DIR, '*', '*', '*.parquet')
    const fixed = [...BASE_COLUMNS.map((c) => c.name), 'dt', RESCUED_COLUMN].map(literal).join(', ')
    const rows = await duck.rows(
      `SELECT regexp_extract(file_name, '/event=([^/]+)/[^/]+$', 1) AS event, lower(name) AS name, duckdb_type AS type, count(*) AS files
       FROM parquet_schema(${literal(glob)}) WHERE num_children IS NULL AND name NOT IN (${fixed}) AND duckdb_type IN ('DOUBLE', 'BOOLEAN', 'VARCHAR')
       GROUP BY ALL`,
    )
    const votes = new Map<string, Map<PropertyType, number>>()
    for (const [event, name, type, files] of rows) {
      const key = JSON.stringify([String(event), String(name)])
      let v = votes.get(key)
      if (!v) votes.set(key, (v = new Map()))
      v.set(type as PropertyType, Number(files))
    }
    for (const [key, v] of votes) {
      const [event, name] = JSON.parse(key) as [string, string]
      if (event === '') continue
      let best: PropertyType | null = null
      // In preference order: a later type must have more files to win.
      for (const t of TYPES) if ((v.get(t) ?? 0) > (best === null ? 0 : v.get(best)!)) best = t
      if (best !== null) this.establish(event, name, best)
    }
  }
}

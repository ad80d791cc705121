import pg from 'pg'

/** The Postgres the tests use: this machine's server (trust auth, database `test`) unless overridden. */
export const TEST_POSTGRES = process.env.TAGSTREAM_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test'

let counter = 0

/** A schema of its own for one test file, so files running side by side never see each other's rows. */
export function testSchema(label: string): { schema: string; url: string; truncate(): Promise<void>; drop(): Promise<void> } {
  const schema = `tagstream_test_${label}_${process.pid}_${Date.now().toString(36)}_${counter++}`
  const url = `${TEST_POSTGRES}${TEST_POSTGRES.includes('?') ? '&' : '?'}schema=${schema}`
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  return {
    schema,
    url,
    // The state store's tables and the players adapter's, whichever of them this test created.
    truncate: () =>
      admin(
        `DO $$ DECLARE t text; BEGIN FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = '${schema}' AND tablename IN ('users', 'checkpoints', 'players', 'game_outbox') LOOP EXECUTE format('TRUNCATE %I.%I', '${schema}', t); END LOOP; END $$`,
      ),
    drop: () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`),
  }
}

/** Runs one statement against the test server (for setup that the store itself never does). */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES })
  await client.connect()
  try {
    return (await client.query<R>(text, params)).rows
  } finally {
    await client.end()
  }
}

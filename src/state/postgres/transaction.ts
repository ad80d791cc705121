import type pg from 'pg'

/** Runs `work` between BEGIN and COMMIT on one pooled connection; any throw rolls back and rethrows. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  // The server may end the session between two statements (idle_in_transaction_session_timeout after
  // this process was paused): pg reports that as an 'error' event on the checked-out client, which
  // would crash the process unheard. The next statement fails with it instead.
  const onError = (err: Error) => (broken = err)
  client.on('error', onError)
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    // A connection that cannot even roll back is in an unknown state: drop it from the pool.
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr))
    })
    throw err
  } finally {
    client.off('error', onError)
    client.release(broken)
  }
}

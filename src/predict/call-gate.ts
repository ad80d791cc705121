import type { DuckDBConnection, DuckDBDataChunk } from '@duckdb/node-api'
import type { ViewConnection } from '../warehouse/query/build-views.ts'

/*
 * A prediction run's thread may be terminated (a server closing while a model is being fitted, which
 * no signal can interrupt), but never while a native call is going: a worker terminated with a DuckDB
 * query in flight aborts the whole process (measured: SIGABRT, `terminate called after throwing an
 * instance of 'Napi::Error'`; the demo's Ctrl-C once ended that way), and one terminated inside an
 * append would leave the append's outcome unknown. The gate is one shared word: the thread passes
 * through it for every DuckDB call and every append of predictions, and the server closes it only
 * between calls, after which no call starts.
 */

const OPEN = 0
const IN_CALL = 1
const CLOSED = 2

/** Why a stopped run failed, as its record says. */
export const STOPPED = 'stopped: the server closed before the run ended'

/** Thrown by a call that met a closed gate: the run was stopped. */
export class RunStopped extends Error {
  override readonly name = 'RunStopped'
}

/** One run's gate; both sides hold one over the same shared memory. */
export class CallGate {
  private readonly word: Int32Array

  /** `memory`: the same 4 shared bytes on both sides (the server makes them and hands them to the thread). */
  constructor(readonly memory: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.word = new Int32Array(memory, 0, 1)
  }

  /** The run's side: `call` while the gate is open; RunStopped once it is closed. Calls do not overlap. */
  async pass<T>(call: () => Promise<T>): Promise<T> {
    const was = Atomics.compareExchange(this.word, 0, OPEN, IN_CALL)
    if (was === CLOSED) throw new RunStopped(STOPPED)
    if (was !== OPEN) throw new Error('a run made two native calls at once: its gate admits one')
    try {
      return await call()
    } finally {
      Atomics.store(this.word, 0, OPEN)
    }
  }

  /** The server's side: closes the gate if no call is going (true), for good; false while one is. */
  close(): boolean {
    const was = Atomics.compareExchange(this.word, 0, OPEN, CLOSED)
    return was === OPEN || was === CLOSED
  }
}

/** The part of a DuckDB connection a prediction run uses. */
export interface RunConnection extends ViewConnection {
  stream(sql: string): Promise<{ fetchChunk(): Promise<DuckDBDataChunk | null> }>
}

/** `conn` with every call, a streamed result's chunks included, through `gate`. */
export function gatedConnection(conn: DuckDBConnection, gate: CallGate): RunConnection {
  return {
    run: (sql) => gate.pass(() => conn.run(sql)),
    runAndReadAll: (sql) => gate.pass(() => conn.runAndReadAll(sql)),
    async stream(sql) {
      const result = await gate.pass(() => conn.stream(sql))
      return { fetchChunk: () => gate.pass(() => result.fetchChunk()) }
    },
  }
}

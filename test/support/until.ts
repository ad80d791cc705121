/**
 * Polls `probe` until it gives a value (anything but null, undefined or false) and returns it; throws
 * naming `what` once `timeoutMs` has passed. For waiting on what a server does in its own time
 * (an engine thread, a sink, a relay) without sleeping a guessed amount.
 */
export async function until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 15_000, pollMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const got = await probe()
    if (got !== null && got !== undefined && got !== false) return got
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Tail } from '../api/sse-tail.ts'
import { tempDir } from '../support/ndjson.ts'

const tmp = tempDir()
afterAll(() => tmp.remove())

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** `tagstream demo` as a user starts it, in its own process; stdout is collected as it comes. */
class Demo {
  readonly proc: ChildProcess
  out = ''
  err = ''
  readonly exited: Promise<number | null>
  /** The signal that ended the process, when one did (code null). */
  signal: NodeJS.Signals | null = null

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, ['bin/tagstream.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc.stdout!.on('data', (c: Buffer) => void (this.out += c.toString()))
    this.proc.stderr!.on('data', (c: Buffer) => void (this.err += c.toString()))
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, signal) => {
        this.signal = signal
        resolve(code)
      }),
    )
  }

  async line(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const m = pattern.exec(this.out)
      if (m) return m
      if (this.proc.exitCode !== null) throw new Error(`demo exited with ${this.proc.exitCode}: ${this.out}${this.err}`)
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}: ${this.out}${this.err}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  /** SIGINT, then the exit code and how long the exit took. */
  async interrupt(): Promise<{ code: number | null; ms: number }> {
    const t0 = Date.now()
    this.proc.kill('SIGINT')
    const code = await Promise.race([this.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))])
    if (code === 'hung') {
      this.proc.kill('SIGKILL')
      throw new Error(`demo did not exit within 15 s of SIGINT: ${this.out}${this.err}`)
    }
    return { code, ms: Date.now() - t0 }
  }
}

describe('tagstream demo (npm start)', () => {
  const data = join(tmp.dir, 'demo-data')

  it('serves live traffic in which users enter and leave segments, and stops cleanly on Ctrl-C', async () => {
    const port = await freePort()
    const started = Date.now()
    const demo = new Demo(['--data', data, 'demo', '--port', String(port)])
    try {
      const key = (await demo.line(/dev API key \(tenant "default", all scopes\): (\S+)/, 30_000))[1]!
      const api = (await demo.line(/API: +(http:\/\/\S+)/, 1_000))[1]!
      expect(api).toBe(`http://127.0.0.1:${port}`)
      expect(demo.out).toContain(`dashboard:  ${api}/#key=${key}`)
      expect(demo.out).toContain(`API docs:   ${api}/docs`)
      const headers = { authorization: `Bearer ${key}` }

      // Every entry and exit since the start, through the public stream.
      const ac = new AbortController()
      const tail = new Tail(await fetch(`${api}/v1/segment-changes?from=earliest`, { headers, signal: ac.signal }), ac)
      const changes = () => tail.events.map((e) => e.record as { change: string; segment: string })
      const left = () => 60_000 - (Date.now() - started)
      await tail.until('a segment entry and a segment exit', () => changes().some((c) => c.change === 'entered') && changes().some((c) => c.change === 'exited'), left())
      tail.close()

      // Events went through the collector and the Game API, and the engine placed users in segments.
      const metrics = await (await fetch(`${api}/metrics`)).text()
      const ingested = [...metrics.matchAll(/^tagstream_ingest_events_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0)
      expect(ingested).toBeGreaterThan(100)
      const segments = (await (await fetch(`${api}/v1/segments`, { headers })).json()) as { segments: Array<{ name: string; size: number }> }
      expect(segments.segments.map((s) => s.name)).toContain('cart_abandoner')
      expect(segments.segments.some((s) => s.size > 0)).toBe(true)
      // The game simulator registered players through the Game API (ids p1…p100, in random order).
      let player: { id: string; name: string } | undefined
      for (let n = 1; n <= 100 && !player; n++) player = ((await (await fetch(`${api}/game/players/p${n}`, { headers })).json()) as { player?: { id: string; name: string } }).player
      expect(player?.name).toMatch(/^[a-z]+\d+$/)
      await demo.line(/\] events [\d,]+ \(\d+\/s\) · segment entries [\d,]+ · exits [\d,]+ · notifications [\d,]+ · largest: \w+ \d+/, 10_000)
    } finally {
      const { code, ms } = await demo.interrupt()
      // Once in CI the demo ended by a signal here (code null): say which, with its output, if again.
      expect(code, `exit code (signal ${demo.signal}); stdout: ${demo.out.slice(-2000)}\nstderr: ${demo.err.slice(-4000)}`).toBe(0)
      expect(ms).toBeLessThan(10_000)
    }
    expect(demo.out).toMatch(/stopped\. [\d,]+ events stored/)
    expect(existsSync(join(data, 'segments.yaml'))).toBe(true)
  }, 90_000)

  it('restarts on the same data with the same keys, and --fresh starts over', async () => {
    const keyOf = async (args: string[]) => {
      const demo = new Demo(['--data', data, 'demo', '--port', '0', ...args])
      try {
        const key = (await demo.line(/dev API key \(tenant "default", all scopes\): (\S+)/, 30_000))[1]!
        await demo.line(/\] events [1-9][\d,]* /, 15_000)
        return key
      } finally {
        const { code } = await demo.interrupt()
        expect(code, `exit code (signal ${demo.signal}); stderr: ${demo.err.slice(-4000)}`).toBe(0)
      }
    }
    const first = (JSON.parse(readFileSync(join(data, 'demo.json'), 'utf8')) as { dev: string }).dev
    expect(await keyOf([])).toBe(first)
    expect(await keyOf(['--fresh'])).not.toBe(first)
  }, 90_000)

  it('refuses to wipe a directory it did not create, and a busy port it was given', async () => {
    const mine = join(tmp.dir, 'precious')
    mkdirSync(mine)
    writeFileSync(join(mine, 'thesis.txt'), 'do not delete')
    const wipe = new Demo(['--data', mine, 'demo', '--fresh'])
    expect(await wipe.exited).toBe(2)
    expect(wipe.err).toContain('--fresh wipes only a directory the demo created')
    expect(existsSync(join(mine, 'thesis.txt'))).toBe(true)

    const busy = createServer()
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r))
    const port = (busy.address() as { port: number }).port
    try {
      const taken = new Demo(['--data', join(tmp.dir, 'busy'), 'demo', '--port', String(port)])
      expect(await taken.exited).toBe(2)
      expect(taken.err).toContain(`port ${port} on 127.0.0.1 is in use`)
    } finally {
      busy.close()
    }
  }, 60_000)
})

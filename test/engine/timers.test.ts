import { describe, expect, it } from 'vitest'
import { TimerQueue } from '../../src/engine/timers.ts'

interface User {
  key: string
  timerAt: number
}

function drain(q: TimerQueue<User>): string[] {
  const out: string[] = []
  for (let t = q.peekItem(); t !== undefined; t = q.peekItem()) {
    out.push(`${q.peekAt()}:${t.key}`)
    q.pop()
  }
  return out
}

describe('TimerQueue', () => {
  it('pops timers in time order', () => {
    const q = new TimerQueue<User>()
    for (const [at, key] of [
      [30, 'a'],
      [10, 'b'],
      [20, 'c'],
      [5, 'd'],
      [25, 'e'],
    ] as const)
      q.add(at, { key, timerAt: at })
    expect(q.size).toBe(5)
    expect(q.peekAt()).toBe(5)
    expect(drain(q)).toEqual(['5:d', '10:b', '20:c', '25:e', '30:a'])
    expect(q.peekItem()).toBeUndefined()
    expect(q.peekAt()).toBe(Infinity)
    q.pop()
    expect(q.size).toBe(0)
  })

  it('breaks ties by user key, not by insertion order, so a restored partition fires in the same order', () => {
    const keys = ['t:m', 't:b', 't:z', 't:a']
    const forward = new TimerQueue<User>()
    const backward = new TimerQueue<User>()
    for (const key of keys) forward.add(100, { key, timerAt: 100 })
    for (const key of [...keys].reverse()) backward.add(100, { key, timerAt: 100 })
    const expected = ['100:t:a', '100:t:b', '100:t:m', '100:t:z']
    expect(drain(forward)).toEqual(expected)
    expect(drain(backward)).toEqual(expected)
  })

  it('keeps superseded entries: the caller tells the current one by the user timerAt', () => {
    const q = new TimerQueue<User>()
    const u = { key: 'u', timerAt: 50 }
    q.add(50, u)
    u.timerAt = 20
    q.add(20, u)
    expect(q.peekAt()).toBe(20)
    expect(q.peekItem()?.timerAt).toBe(20)
    q.pop()
    expect(q.peekAt()).toBe(50)
    expect(q.peekItem()?.timerAt).not.toBe(50)
  })

  it('orders many random timers like a sort by (time, key)', () => {
    const q = new TimerQueue<User>()
    const all: Array<[number, string]> = []
    let s = 7
    // Past the initial 1,024 slots: the arrays grow.
    for (let i = 0; i < 5_000; i++) {
      s = (s * 48271) % 2147483647
      const at = s % 50
      const key = `k${s % 97}`
      all.push([at, key])
      q.add(at, { key, timerAt: at })
    }
    all.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    expect(drain(q)).toEqual(all.map(([at, key]) => `${at}:${key}`))
  })
})

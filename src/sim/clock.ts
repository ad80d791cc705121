/**
 * Where generated events get their `ts`. A spread clock makes a file the same every time it is
 * written; the wall clock makes a live stream whose windows slide while you watch.
 */
export type Clock = () => number

/** The i-th call returns end − span + span·(i+1)/count: `count` increasing times ending at `end`. */
export function spreadClock(end: number, spanMs: number, count: number): Clock {
  let i = 0
  const start = end - spanMs
  const step = spanMs / Math.max(count, 1)
  return () => Math.round(start + step * ++i)
}

export const wallClock: Clock = () => Date.now()

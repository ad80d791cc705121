import { describe, expect, test } from 'vitest'
import { formatDuration, parseDuration } from '../../src/rules/index.ts'

describe('parseDuration', () => {
  test.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms })
  })

  test.each([
    ['1.5h', 'durations are whole numbers: write 90m, not 1.5h'],
    ['1h30m', 'use a single unit: write 90m, not 1h30m'],
    ['120', 'add a unit: s, m, h or d'],
    ['2x', undefined],
    ['5ms', undefined],
    ['h', undefined],
    ['99999999999999999d', 'too large'],
  ])('%s is refused', (text, hint) => {
    expect(parseDuration(text)).toEqual({ ok: false, hint })
  })
})

describe('formatDuration', () => {
  test.each([
    [7_200_000, '2h'],
    [5_400_000, '90m'],
    [86_400_000, '1d'],
    [90_000, '90s'],
    [0, '0s'],
    [-60_000, '-1m'],
  ])('%d ms prints as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})

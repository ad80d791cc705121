import { describe, expect, it } from 'vitest'
import { MAX_BARS, MAX_LINES, planChart } from '../../web/src/report-chart.ts'

// Which chart the dashboard draws for a warehouse result, on the shapes the reports return.

describe('planChart', () => {
  it('bars for a text column and a count (popular_events)', () => {
    const plan = planChart(
      [
        { name: 'event_type', type: 'VARCHAR' },
        { name: 'events', type: 'BIGINT' },
      ],
      [
        ['spin', 920],
        ['buy_weapon', 131],
      ],
    )
    expect(plan).toEqual({ kind: 'bars', labels: ['spin', 'buy_weapon'], values: [920, 131], label: 'events', truncated: false })
  })

  it('bars labelled by every text column, height from the first number (avg_price_by_type, items_by_type_status)', () => {
    expect(
      planChart(
        [
          { name: 'type', type: 'VARCHAR' },
          { name: 'avg_cost', type: 'DOUBLE' },
          { name: 'purchases', type: 'BIGINT' },
        ],
        [
          ['sword', 12.5, 3],
          ['shield', 9, 2],
        ],
      ),
    ).toMatchObject({ kind: 'bars', labels: ['sword', 'shield'], values: [12.5, 9], label: 'avg_cost' })
    expect(
      planChart(
        [
          { name: 'status', type: 'VARCHAR' },
          { name: 'type', type: 'VARCHAR' },
          { name: 'num_items', type: 'BIGINT' },
        ],
        [
          ['ok', 'sword', 4],
          [null, 'hat', '7'],
        ],
      ),
    ).toMatchObject({ labels: ['ok · sword', 'null · hat'], values: [4, 7] })
  })

  it('only numbers: buckets labelled by the first column, height from the last (wealth_distribution)', () => {
    const plan = planChart(
      [
        { name: 'min_wealth', type: 'DOUBLE' },
        { name: 'below', type: 'DOUBLE' },
        { name: 'players', type: 'BIGINT' },
      ],
      [
        [0, 1, 5],
        [10, 100, 8],
      ],
    )
    expect(plan).toMatchObject({ kind: 'bars', labels: ['0', '10'], values: [5, 8], label: 'players' })
    // One row of numbers is a summary (first_login_to_first_purchase): no chart.
    expect(
      planChart(
        [
          { name: 'users', type: 'BIGINT' },
          { name: 'mean_seconds', type: 'DOUBLE' },
        ],
        [[3, 12.5]],
      ),
    ).toBeNull()
  })

  it('lines over days, one per numeric column (daily_active_users)', () => {
    const plan = planChart(
      [
        { name: 'day', type: 'DATE' },
        { name: 'users', type: 'BIGINT' },
        { name: 'events', type: 'BIGINT' },
      ],
      [
        ['2026-11-22', 40, 1000],
        ['2026-11-21', 30, 900],
      ],
    )
    const d21 = Date.UTC(2026, 10, 21) / 1000
    expect(plan).toEqual({
      kind: 'lines',
      x: [d21, d21 + 86_400],
      series: [
        { label: 'users', values: [30, 40] },
        { label: 'events', values: [900, 1000] },
      ],
    })
  })

  it('one line per group over time, gaps where a group has no row (segment_sizes_over_time)', () => {
    const cols = [
      { name: 'segment', type: 'VARCHAR' },
      { name: 'hour', type: 'TIMESTAMP' },
      { name: 'entered', type: 'BIGINT' },
      { name: 'exited', type: 'BIGINT' },
      { name: 'members', type: 'HUGEINT' },
    ]
    const plan = planChart(cols, [
      ['buyer', '2026-11-22T10:00:00.000Z', 5, 0, 5],
      ['spinner', '2026-11-22T10:00:00.000Z', 9, 1, 8],
      ['spinner', '2026-11-22T11:00:00.000Z', 2, 0, 10],
    ])
    const h10 = Date.parse('2026-11-22T10:00:00Z') / 1000
    expect(plan).toEqual({
      kind: 'lines',
      x: [h10, h10 + 3600],
      series: [
        { label: 'buyer · members', values: [5, null] },
        { label: 'spinner · members', values: [8, 10] },
      ],
    })
  })

  it('bounds what it draws, and draws nothing without numbers or rows', () => {
    const many = Array.from({ length: MAX_BARS + 5 }, (_, i) => [`e${i}`, i])
    const bars = planChart(
      [
        { name: 'e', type: 'VARCHAR' },
        { name: 'n', type: 'INTEGER' },
      ],
      many,
    )
    expect(bars).toMatchObject({ kind: 'bars', truncated: true })
    expect(bars?.kind === 'bars' && bars.labels.length).toBe(MAX_BARS)
    const groups = Array.from({ length: MAX_LINES + 3 }, (_, i) => [`g${i}`, '2026-01-01', i])
    const lines = planChart(
      [
        { name: 'g', type: 'VARCHAR' },
        { name: 'd', type: 'DATE' },
        { name: 'n', type: 'BIGINT' },
      ],
      groups,
    )
    expect(lines?.kind === 'lines' && lines.series.length).toBe(MAX_LINES)
    expect(planChart([{ name: 'a', type: 'VARCHAR' }], [['x']])).toBeNull()
    expect(
      planChart(
        [
          { name: 'a', type: 'VARCHAR' },
          { name: 'n', type: 'BIGINT' },
        ],
        [],
      ),
    ).toBeNull()
  })
})

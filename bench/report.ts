import { execSync } from 'node:child_process'
import { cpus, totalmem, type as osType, release } from 'node:os'
import { leaseBroker, type BrokerLease } from '../scripts/kafka/lease.ts'

export interface Figure {
  name: string
  value: number
  unit: string
  /** e.g. '≥ 1,000,000 events/s' */
  target?: string
  met?: boolean
  notes?: string
}

export interface Section {
  title: string
  description: string
  figures: Figure[]
}

export function fmt(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US')
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 })
}

export function machine(): string[] {
  const cpu = cpus()
  let commit = 'unknown'
  try {
    const git = (args: string) =>
      execSync(`git ${args}`, { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
    commit = git('rev-parse HEAD')
    // Measured code that differs from the commit is said so: the figures belong to the working tree.
    if (git('status --porcelain --untracked-files=no -- src bench bin package.json') !== '') commit += ' (with uncommitted changes to src, bench, bin or package.json)'
  } catch {
    // not a git checkout
  }
  return [
    `- Date: ${new Date().toISOString()}`,
    `- Commit: ${commit}`,
    `- CPU: ${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    `- Memory: ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `- OS: ${osType()} ${release()}; Node ${process.version}`,
  ]
}

export function renderReport(sections: Section[]): string {
  const lines = ['# Benchmarks', '', 'Written by `npm run bench`; every figure below was measured in the same run on this machine.', '', ...machine(), '']
  for (const s of sections) {
    lines.push(`## ${s.title}`, '', s.description, '', '| measure | value | target | met |', '| --- | ---: | --- | --- |')
    for (const f of s.figures) {
      const met = f.met === undefined ? '' : f.met ? 'yes' : '**no**'
      lines.push(`| ${f.name}${f.notes ? ` (${f.notes})` : ''} | ${fmt(f.value)} ${f.unit} | ${f.target ?? ''} | ${met} |`)
    }
    lines.push('')
  }
  return lines.join('\n')
}

/**
 * Runs a section that needs Kafka with the local broker of scripts/kafka/start.sh leased (started
 * when none runs; the lease keeps another user of the checkout from stopping it mid-run), or on the
 * broker BENCH_KAFKA names, which is nobody's to lease.
 */
export async function onBroker<T>(measure: () => Promise<T>): Promise<T> {
  const lease: BrokerLease | null = process.env.BENCH_KAFKA ? null : await leaseBroker()
  try {
    if (lease?.error) throw new Error(lease.error)
    return await measure()
  } finally {
    await lease?.release()
  }
}

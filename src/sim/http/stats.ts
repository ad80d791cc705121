/** What a sender did; the CLI prints it as JSON at the end and the progress bar shows it live. */
export interface SendStats {
  /** Events handed to the server (requests for the game). */
  sent: number
  /** Events the server stored: accepted by the collector, or written by a game action. */
  accepted: number
  /** Events the collector rejected (each is in the dead-letter log with its reason). */
  rejected: number
  /** Events the collector dropped as duplicates. */
  duplicates: number
  /** Game actions the game refused on purpose: 402 insufficient funds, 409 already a member or already registered. */
  refused: number
  /** Game answers that differ from what the simulator's model of the player expected. */
  unexpected: number
  requests: number
  /** Requests retried after 429 or 503. */
  retries: number
  /** The first few problems reported by the server, for the summary. */
  samples: string[]
}

export function newStats(): SendStats {
  return { sent: 0, accepted: 0, rejected: 0, duplicates: 0, refused: 0, unexpected: 0, requests: 0, retries: 0, samples: [] }
}

export function sample(stats: SendStats, text: string): void {
  if (stats.samples.length < 5) stats.samples.push(text)
}

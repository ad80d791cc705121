/**
 * A refusal the game API answers with a precise 4xx (or a 5xx it can explain). Thrown by the
 * parsers and handlers, caught once in the route module, sent in the shared error shape.
 */
export class GameError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    options?: { cause: unknown },
  ) {
    super(message, options)
    this.name = 'GameError'
  }
}

export const missingField = (field: string, aliases: readonly string[] = []): GameError =>
  new GameError(400, 'missing_field', `${field} is required${aliases.length > 0 ? ` (or ${aliases.join(', ')})` : ''}`, field)

export const invalidField = (field: string, reason: string): GameError => new GameError(400, 'invalid_field', `${field} ${reason}`, field)

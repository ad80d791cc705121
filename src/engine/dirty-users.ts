import type { UserState } from './user-state.ts'

/**
 * The users changed since the last checkpoint took them: what the next checkpoint writes. Each
 * user carries the epoch it was last added in (UserState.dirtyEpoch), so adding one already in the
 * set is a comparison, not a Set lookup per event.
 */
export class DirtyUsers {
  private users: UserState[] = []
  private epoch = 1

  add(user: UserState): void {
    if (user.dirtyEpoch !== this.epoch) {
      user.dirtyEpoch = this.epoch
      this.users.push(user)
    }
  }

  get count(): number {
    return this.users.length
  }

  /** The users added since the last call, and an empty set. */
  take(): UserState[] {
    const out = this.users
    this.users = []
    this.epoch++
    return out
  }
}

import type { UserState } from './user-state.ts'

/**
 * The users changed since the last checkpoint took them: what the next checkpoint writes. Each
 * user carries the epoch it was last added in (UserState.dirtyEpoch), so adding one already in the
 * set is a comparison, not a Set lookup per event.
 */
export class DirtyUsers {
  private users: UserState[] = []
  private epoch = 1
  private activeEpoch = 1
  private active = 0

  add(user: UserState): void {
    if (user.dirtyEpoch !== this.epoch) {
      user.dirtyEpoch = this.epoch
      this.users.push(user)
    }
  }

  /**
   * Adds a user an event was applied to, and counts it once per progress interval: the active users
   * of seed 000's progress line (takeActive).
   */
  addActive(user: UserState): void {
    this.add(user)
    if (user.activeEpoch !== this.activeEpoch) {
      user.activeEpoch = this.activeEpoch
      this.active++
    }
  }

  /** Users an event was applied to since the last call. */
  takeActive(): number {
    const n = this.active
    this.active = 0
    this.activeEpoch++
    return n
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

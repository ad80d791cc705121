import type { RouteModule } from '../context.ts'

/** Placeholder until the game API is written. */
export const gameRoutes: RouteModule = () => {}

/**
 * Event names interned to small integers, so a user's per-event counts are an array slot rather than
 * a property on a dictionary-mode object. Shared by every engine in the process; ids never leave it
 * (checkpoints store names).
 */
const ids = new Map<string, number>()
const names: string[] = []

export function eventNameId(name: string): number {
  let id = ids.get(name)
  if (id === undefined) {
    id = names.length
    ids.set(name, id)
    names.push(name)
  }
  return id
}

export function eventNameOf(id: number): string {
  return names[id]!
}

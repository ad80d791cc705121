/** Strings as a PLAIN page holds them: a 4-byte little-endian length, then the bytes. */
export const plainStrings = (strings: readonly string[]): Buffer =>
  Buffer.concat(
    strings.map((s) => {
      const b = Buffer.from(s, 'utf8')
      const len = Buffer.alloc(4)
      len.writeUInt32LE(b.length)
      return Buffer.concat([len, b])
    }),
  )

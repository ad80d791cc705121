import { Option, type Command } from 'commander'
import { flagName, flagParser, processEnv, readEnv, type Env } from './read-setting.ts'
import type { Setting } from './settings.ts'

/** A flag built from the table, with the command's own wording: the env hook and the docs generator look it up. */
export interface SettingFlag {
  setting: Setting<unknown>
  doc: string
  defaultText: string
}

const SETTING_OF = new WeakMap<Option, SettingFlag>()
/** Options whose flag text is handed over raw, parsed later with the variable (`tagstream worker`). */
const RAW = new WeakSet<Option>()
const HOOKED = new WeakSet<Command>()

export function settingOf(option: Option): SettingFlag | undefined {
  return SETTING_OF.get(option)
}

export interface SettingOptionOverrides<T> {
  /** The command's own wording, when it differs from the table's doc line. */
  doc?: string
  /** Commander's default (shown in --help as the table's defaultText). Without it the option stays undefined and the command applies its default. */
  default?: T
  /** The command's own default text, when it differs from the table's. */
  defaultText?: string
  /** Keep the flag's text as typed; the command parses flag and variable together with readFlagOrEnv. */
  raw?: boolean
}

/**
 * Adds a setting's flag to a command. The flag is parsed by the table's parser (errors name the
 * flag); the variable is parsed by the same parser in a preAction hook, only when the flag was
 * not given, so a flag always wins and a bad variable is reported as
 * `TAGSTREAM_PORT=99999: …`. Commander's own `.env()` is not used because its parser cannot tell a
 * flag from a variable, and its message would not name the variable the way ours does.
 */
export function addSetting<T>(cmd: Command, s: Setting<T>, o: SettingOptionOverrides<T> = {}): Command {
  if (s.flag === undefined) throw new Error(`${s.env} has no flag`)
  const defaultText = o.defaultText ?? s.defaultText
  const defaultNote = o.default === undefined ? `; default ${defaultText}` : ''
  const doc = o.doc ?? s.doc
  const option = new Option(s.flag, `${doc} (env ${s.env}${defaultNote})`)
  if (o.raw) RAW.add(option)
  else option.argParser(flagParser(s.flag, s.parse))
  if (o.default !== undefined) option.default(o.default, defaultText)
  SETTING_OF.set(option, { setting: s as Setting<unknown>, doc, defaultText })
  cmd.addOption(option)
  if (!o.raw && !HOOKED.has(cmd)) {
    HOOKED.add(cmd)
    cmd.hook('preAction', () => applyEnv(cmd, processEnv()))
  }
  return cmd
}

/** Sets each option of `cmd` that has a variable and no flag on the command line from that variable. */
export function applyEnv(cmd: Command, env: Env): void {
  for (const option of cmd.options) {
    const s = SETTING_OF.get(option)?.setting
    if (s === undefined || RAW.has(option)) continue
    const key = option.attributeName()
    const source = cmd.getOptionValueSource(key)
    if (source === 'cli' || source === 'env') continue
    const value = readEnv(s, env)
    if (value !== undefined) cmd.setOptionValueWithSource(key, value, 'env')
  }
}

export { flagName }

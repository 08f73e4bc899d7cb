/** The default logger: one line per event on stderr, `debug` left out unless asked for. */
import type { Logger, LogLevel } from './types.ts'

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

export function stderrLogger(minLevel: LogLevel = 'info'): Logger {
  return (level, message, fields) => {
    if (RANK[level] < RANK[minLevel]) return
    const ctx = [
      fields.group != null ? `group=${fields.group}` : null,
      fields.member != null ? `member=${fields.member}` : null,
      fields.generation != null && fields.generation !== -1 ? `generation=${fields.generation}` : null,
    ]
      .filter((s) => s !== null)
      .join(' ')
    process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} cohort-consumer${ctx ? ` [${ctx}]` : ''} ${message}\n`)
  }
}

/** A logger that drops everything (tests, or callers with their own metrics). */
export const silentLogger: Logger = () => {}

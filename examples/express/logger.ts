/**
 * A tiny structured logger: one JSON object per line, `level`, `time`, `msg` and fields.
 * Swap it for pino (`(level, msg, fields) => pinoLogger[level](fields, msg)`) in a real service.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/** Writes JSON lines to stdout (errors and warnings to stderr). */
export const jsonLogger: Logger = (level, message, fields = {}) => {
  const line = JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields }, errorReplacer);
  if (level === 'error' || level === 'warn') process.stderr.write(`${line}\n`);
  else process.stdout.write(`${line}\n`);
};

/** Discards everything (tests). */
export const silentLogger: Logger = () => {};

/** Errors are not JSON-serializable by default; logs keep their name, message, code and stack. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const { code } = value as { code?: unknown };
    const cause = value.cause === undefined ? {} : { cause: value.cause };
    return { name: value.name, message: value.message, ...(code !== undefined ? { code } : {}), stack: value.stack, ...cause };
  }
  return value;
}

/**
 * The one quoting function for every value that reaches a shell, an EnvironmentFile or a unit file.
 * POSIX single quotes: nothing inside is expanded. systemd reads single-quoted EnvironmentFile values
 * the same way as long as they hold no single quote, which validation guarantees for those values.
 */
export function shellQuote(value: string): string {
  if (value.includes('\u0000')) throw new Error('a NUL byte cannot be quoted for a shell');
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A shell variable or function name made from `prefix` and free text: every character a name cannot hold
 * becomes '_'. Valid input only ever needs '-' replaced; anything else is a second line of defence.
 */
export function shellName(prefix: string, text: string): string {
  return `${prefix}${text.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

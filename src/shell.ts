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

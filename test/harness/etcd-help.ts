/** Reading `etcd --help`: its flags with their help text, and whether the help calls a flag deprecated. */

/** flag -> its help text, from `etcd --help`, each prefixed with the heading of its section. */
export function helpFlags(text: string): Map<string, string> {
  const flags = new Map<string, string>();
  let current: string | null = null;
  let section = '';
  for (const line of text.split('\n')) {
    const flag = /^\s{2}--([a-z0-9-]+)\b/.exec(line)?.[1];
    if (flag) {
      current = flag;
      flags.set(flag, `[${section}]\n${line}`);
    } else if (current && /^\s{4}\S/.test(line)) flags.set(current, `${flags.get(current) ?? ''}\n${line}`);
    else {
      current = null;
      if (/^\S.*:\s*$/.test(line)) section = line;
    }
  }
  return flags;
}

/**
 * Whether the help calls the flag itself deprecated: in its text ("Deprecated in v3.6", "Will be
 * deprecated in v3.5") or by its section ("TO BE DEPRECATED:"); a value being deprecated ("'capnslog'
 * will be deprecated") is not the flag.
 */
export function deprecatedInHelp(help: string): boolean {
  return help
    .split('\n')
    .some((line) => /deprecat/i.test(line) && !/'[^']+' (will be |is )?deprecated/i.test(line));
}

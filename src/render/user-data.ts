/**
 * The YAML layout of cloud-init user-data (nodes/<name>/user-data.yaml): write_files entries and runcmd
 * items as block scalars that read back byte for byte, so templates/user-data.yaml.hbs holds layout only.
 * What user-data installs and runs is the model's (src/model/install.ts).
 * cloud-init reference: https://cloudinit.readthedocs.io/en/22.4/reference/modules.html (write_files, runcmd).
 */
import type { CloudInitStep, InstallFile } from '../model/types.js';

/** Text a YAML literal block cannot carry as is: control characters, CR, BOM, or leading white space. */
const NOT_LITERAL = /[^\t\n\x20-\x7e\u0085\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]|\ufeff|^[\s]/u;

/**
 * `text` as a YAML block scalar whose lines are indented by `indent` spaces: `|` when it ends with one
 * newline, `|-` with none, `|+` with more, so it reads back byte for byte. Text a literal block cannot hold
 * becomes a double-quoted scalar instead (JSON is valid YAML).
 */
export function yamlBlock(text: string, indent: number): string {
  if (text === '' || NOT_LITERAL.test(text)) return JSON.stringify(text);
  const chomping = !text.endsWith('\n') ? '-' : text.endsWith('\n\n') ? '+' : '';
  const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  const pad = ' '.repeat(indent);
  return `|${chomping}${lines.map((line) => `\n${line === '' ? '' : pad + line}`).join('')}`;
}

/** A write_files entry: what the member's overlay holds at `path`, with its owner and mode. */
export interface UserDataFile {
  path: string;
  owner: string;
  permissions: string;
  /** The contents as a YAML scalar (a literal block, indented for its place in the list). */
  content: string;
  /** `b64` for a binary file (the DER CRL), whose content is then base64 (cloud-init's write_files encoding). */
  encoding: 'b64' | null;
}

/** Indentation of a write_files entry's content lines, and of a runcmd item's lines (see the template). */
export const FILE_CONTENT_INDENT = 6;
export const RUNCMD_INDENT = 4;

/** The write_files entries of a member's overlay files, in their order. */
export function userDataFiles(files: readonly { file: InstallFile; contents: string }[]): UserDataFile[] {
  return files.map(({ file, contents }) => ({
    path: file.path,
    owner: `${file.user}:${file.group}`,
    permissions: file.modeText,
    ...(file.content === 'crl' ? { content: JSON.stringify(contents), encoding: 'b64' as const } : { content: yamlBlock(contents, FILE_CONTENT_INDENT), encoding: null }),
  }));
}

/** The runcmd items of the install steps, each with the comment that says why it runs. */
export function userDataRuncmd(steps: readonly CloudInitStep[]): { why: string; item: string }[] {
  return steps.map((s) => ({ why: s.why, item: yamlBlock(`${s.script}\n`, RUNCMD_INDENT) }));
}

/**
 * Blocks of user ids for the live clusters, unique among every test process running at once (the live
 * files run side by side): a block is claimed by creating its directory under /run/etcd-gen-test-uids
 * (mkdir is atomic, so two processes never both get one), with the claiming pid inside for whoever looks.
 * A block is given back when its cluster's test ends; one a killed process left behind stays claimed
 * until /run is emptied (a reboot) and is skipped, never taken over while its etcd may still run.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const CLAIMS = '/run/etcd-gen-test-uids';

/**
 * Claims the first free block of SIZE uids at or after block START (counted in blocks from FIRST_UID),
 * wrapping around within COUNT blocks. Returns the block's first uid and a function giving it back.
 * Throws when every block is taken.
 */
export function claimUidBlock(firstUid: number, size: number, count: number, start: number): { base: number; release: () => void } {
  mkdirSync(CLAIMS, { recursive: true });
  for (let i = 0; i < count; i++) {
    const base = firstUid + ((start + i) % count) * size;
    const claim = path.join(CLAIMS, String(base));
    try {
      mkdirSync(claim);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    writeFileSync(path.join(claim, 'pid'), `${process.pid}\n`);
    return { base, release: () => rmSync(claim, { recursive: true, force: true }) };
  }
  throw new Error(`every block of ${size} uids from ${firstUid} is claimed in ${CLAIMS}: remove the claims of test runs that are gone`);
}

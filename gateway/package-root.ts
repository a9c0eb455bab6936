import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root folder (the one with package.json), found the same way
 * from the sources (`gateway/`) and from the build (`dist/gateway/`). Files the
 * gateway reads at run time that are not code (the board, config/*.yaml,
 * package.json) stay there and are not copied into dist/.
 */
export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** A path inside the package (`fromRoot('config', 'demo.yaml')`). */
export const fromRoot = (...parts: string[]): string => join(PACKAGE_ROOT, ...parts);

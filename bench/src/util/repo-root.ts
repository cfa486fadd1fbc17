/** The workspace root, found from this file's location so the bench runs from any cwd. */
import { fileURLToPath } from 'node:url';

export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url));
export const benchRoot: string = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Drives the fuzzing connections: each draws the next recipe index, builds the
 * frame for its own identity and sends it, until the run has sent its frames.
 * The driver keeps the 1008 rule from firing by chance (after 15 frames that
 * might not decode it slips in a ping), runs deliberate streaks on a quiet
 * connection and interleaved bursts, and sweeps frames that waited too long.
 */
import { buildFrame } from '../generate/build-frame.ts';
import { fillerPing, interleavedFrames, streakFrames } from '../generate/fixed-frames.ts';
import { recipeAt } from '../generate/frame-arbitrary.ts';
import type { Oracle } from '../oracle/judge.ts';
import { now } from '../../util/time.ts';
import type { FuzzConnection } from './fuzz-connection.ts';
import type { FuzzIdentity } from './identity.ts';

/** Frames that might not decode in a row before the driver sends one that surely does (the node closes at 20). */
const BAD_RUN_GUARD = 15;

export interface DriveOptions {
  seed: number;
  frames: number;
  oracle: Oracle;
  /** Stops the run early (the node died). */
  aborted: () => boolean;
}

export interface Lane {
  connection: FuzzConnection;
  identity: FuzzIdentity;
}

export async function drive(lanes: readonly Lane[], options: DriveOptions): Promise<void> {
  const { oracle } = options;
  let nextIndex = 0;
  let nextTracking = 1;
  const tracking = (): number => nextTracking++;
  const sweeper = setInterval(() => {
    const at = now();
    for (const lane of lanes) lane.connection.sweep(at);
  }, 1000);
  const run = async ({ connection, identity }: Lane): Promise<void> => {
    while (oracle.tally.frames < options.frames && !options.aborted()) {
      const index = nextIndex++;
      const recipe = recipeAt(options.seed, index);
      if (recipe.streak === true) {
        oracle.tally.streaks++;
        await connection.streak(streakFrames(recipe.binary, tracking, index));
        continue;
      }
      if (recipe.interleaved === true) {
        oracle.tally.interleaved++;
        await connection.burst(interleavedFrames(recipe.binary, identity, tracking, index));
        continue;
      }
      const frame = buildFrame(recipe, identity, tracking(), index);
      if (frame.decodes !== 'object' && connection.badRun >= BAD_RUN_GUARD) {
        oracle.tally.fillerPings++;
        await connection.send(fillerPing(frame.binary, tracking(), index));
      }
      await connection.send(frame);
    }
  };
  try {
    await Promise.all(lanes.map(run));
  } finally {
    clearInterval(sweeper);
  }
}

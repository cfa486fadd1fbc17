/**
 * Violations of the oracle, grouped: the same property broken by the same kind
 * of frame is one entry with a count, keeping the smallest frame that showed it
 * (the minimal reproduction) with what is needed to regenerate it (seed, index).
 */
import type { WireFrame } from '../generate/build-frame.ts';
import type { Property } from './properties.ts';

export interface FrameEvidence {
  seed: number;
  index: number;
  tracking: number;
  encoding: 'json' | 'msgpack';
  labels: readonly string[];
  bytes: number;
  /** The frame's text (JSON) or hex (MessagePack), cut at 2,000 characters. */
  frame: string;
  /** The whole frame as hex, when it is at most 64 KiB. */
  hex: string | null;
}

export interface Violation {
  property: Property;
  /** What was observed against what the contract says. */
  detail: string;
  count: number;
  example: FrameEvidence | null;
}

const SHOWN_CHARS = 2000;
const FULL_HEX_BYTES = 64 * 1024;

export function evidenceOf(frame: WireFrame, seed: number): FrameEvidence {
  const text = frame.binary ? frame.bytes.toString('hex') : frame.bytes.toString('utf8');
  return {
    seed,
    index: frame.index,
    tracking: frame.tracking,
    encoding: frame.binary ? 'msgpack' : 'json',
    labels: frame.labels,
    bytes: frame.bytes.length,
    frame: text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}… (${frame.bytes.length} bytes)` : text,
    hex: frame.bytes.length <= FULL_HEX_BYTES ? frame.bytes.toString('hex') : null,
  };
}

export class ViolationLog {
  private readonly byKey = new Map<string, Violation>();
  total = 0;

  constructor(private readonly seed: number) {}

  /**
   * Records one violation: `reason` says what broke (it groups), `observed` what
   * the node sent (it does not), `frame` is the frame that showed it, if one did.
   */
  record(property: Property, reason: string, frame: WireFrame | null, observed?: string): void {
    this.total++;
    const detail = observed === undefined ? reason : `${reason}; observed ${observed}`;
    // Group by property, the kind of the first thing done to the frame (not its op, target or field) and the reason.
    const kind = frame === null ? '' : (frame.labels[2] ?? frame.labels[0] ?? '').split(':')[0];
    const key = `${property}\u0000${kind}\u0000${reason.replace(/\d+/g, '#')}`;
    const known = this.byKey.get(key);
    if (known === undefined) {
      this.byKey.set(key, { property, detail, count: 1, example: frame === null ? null : evidenceOf(frame, this.seed) });
      return;
    }
    known.count++;
    if (frame !== null && (known.example === null || frame.bytes.length < known.example.bytes)) {
      known.example = evidenceOf(frame, this.seed);
      known.detail = detail;
    }
  }

  list(): Violation[] {
    return [...this.byKey.values()].sort((a, b) => a.property.localeCompare(b.property) || b.count - a.count);
  }
}

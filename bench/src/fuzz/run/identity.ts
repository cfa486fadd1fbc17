/**
 * Who a fuzzing connection is, for the placeholders of a recipe: its user, the
 * conversations it is a member of, conversations that exist without it, the
 * other fuzz users, and the node's limits from `hello`.
 */
import type { FrameNode, IdForm, Ref } from '../frame/frame-node.ts';
import { bin, bool, map, nil, num, str } from '../frame/frame-node.ts';

export interface FuzzLimits {
  max_frame_bytes: number;
  max_content_bytes: number;
  max_metadata_bytes: number;
}

export interface FuzzIdentity {
  userId: string;
  own: readonly string[];
  foreign: readonly string[];
  peers: readonly string[];
  limits: FuzzLimits;
}

const pick = <T>(items: readonly T[], index: number): T => {
  const item = items[index % items.length];
  if (item === undefined) throw new Error('nothing to pick from');
  return item;
};

/** A request id in the given form, carrying tracking number `t` wherever the form lets it. */
export function requestIdNode(form: IdForm, t: number): FrameNode {
  switch (form) {
    case 'int':
      return num(t);
    case 'negative-int':
      return num(-t);
    case 'int-as-float':
      return { t: 'num', v: t, width: 'f64', json: `${t}.0` };
    case 'int-as-int64':
      return num(t, 'i64');
    case 'string':
      return str(`f${t}`);
    case 'string-128':
      return str(`f${t}.`.padEnd(128, 'x'));
    case 'string-nul':
      return str(`f${t}\u0000nul`);
    case 'string-lone-surrogate':
      return str(`f${t}\ud800`);
    case 'string-not-utf8':
      return { t: 'utf8', bytes: Buffer.concat([Buffer.from(`f${t}`), Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80])]) };
    case 'string-129':
      return str(`f${t}.`.padEnd(129, 'x'));
    case 'fraction':
      return num(t + 0.5);
    case 'unsafe-int':
      return num(2 ** 53 + 2 * t, 'u64');
    case 'nan':
      // JSON has no NaN: there the slot gets an infinity spelled T e400, as unusable as an id, and a
      // reader that takes the digits before the exponent for the id gives itself away by answering T.
      return { t: 'num', v: NaN, json: `${t}e400` };
    case 'bool':
      return bool(true);
    case 'nil':
      return nil;
    case 'array':
      return { t: 'arr', items: [num(t)] };
    case 'map':
      return map([['id', num(t)]]);
    case 'bin':
      return bin(Buffer.from(`f${t}`));
  }
}

/** Resolves a recipe's placeholders for one connection and one frame. */
export function resolverFor(identity: FuzzIdentity, tracking: number): (ref: Ref) => FrameNode {
  return (ref) => {
    switch (ref.kind) {
      case 'request-id':
        return requestIdNode(ref.form, tracking);
      case 'own-conversation':
        return str(pick(identity.own, ref.pick));
      case 'foreign-conversation':
        return str(pick(identity.foreign, ref.pick));
      case 'peer-user':
        return str(pick(identity.peers, ref.pick));
      case 'self-user':
        return str(identity.userId);
      case 'pad': {
        const limit = identity.limits[`max_${ref.limit}_bytes`];
        const size = Math.floor(limit * ref.factor) + ref.extra;
        return ref.as === 'bin' ? bin(Buffer.alloc(size, 0x61)) : str('p'.repeat(size));
      }
    }
  };
}

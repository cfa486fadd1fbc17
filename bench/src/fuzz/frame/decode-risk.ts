/**
 * Whether a tree certainly decodes to what it says. Some parts may or may not get
 * through a decoder (deep nesting meets recursion limits, extension values meet
 * msgpackr's extension table, a str body that is not UTF-8 meets a strict or a
 * lenient string decoder, `NaN` is no JSON): for those the fuzzer does not
 * predict whether the node sees an object, only that its answer is documented.
 */
import type { FrameNode } from './frame-node.ts';

/** Nesting deeper than this may hit a recursive decoder's stack. */
const SAFE_DEPTH = 64;

export function mayNotDecode(node: FrameNode, binary: boolean): boolean {
  switch (node.t) {
    case 'nest':
      return node.depth > SAFE_DEPTH || mayNotDecode(node.leaf, binary);
    case 'ext':
    case 'raw':
    case 'utf8':
      return true;
    case 'num':
      return !binary && node.json === undefined && Number.isNaN(node.v);
    case 'repeat':
      return mayNotDecode(node.item, binary);
    case 'arr':
      return node.items.some((item) => mayNotDecode(item, binary));
    case 'map':
      return node.entries.some(([k, v]) => mayNotDecode(k, binary) || mayNotDecode(v, binary));
    default:
      return false;
  }
}

/** Whether a JSON frame holds a bare NaN token (no JSON spelling given): JSON.parse refuses it, so the frame is no object. */
export function hasBareNaN(node: FrameNode): boolean {
  switch (node.t) {
    case 'num':
      return node.json === undefined && Number.isNaN(node.v);
    case 'nest':
      return hasBareNaN(node.leaf);
    case 'repeat':
      return hasBareNaN(node.item);
    case 'arr':
      return node.items.some(hasBareNaN);
    case 'map':
      return node.entries.some(([k, v]) => hasBareNaN(k) || hasBareNaN(v));
    default:
      return false;
  }
}

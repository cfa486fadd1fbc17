/**
 * The fuzzer's model of a frame: a tree that can say what ordinary encoders
 * cannot. A map is a list of entries, so a key may repeat; a string may carry a
 * verbatim JSON spelling (`"\u006fp"`) or bytes that are not UTF-8; a number may
 * be forced into a MessagePack width (an integer as float64, a small one as
 * int64); huge nesting and huge arrays stay compact until they are encoded.
 * Placeholders (`ref`) stand for what only the connection knows: its request id,
 * its conversations, its peers, the node's limits.
 */

/** How a number is written in MessagePack; `auto` is the shortest exact form. */
export type NumberWidth = 'auto' | 'f32' | 'f64' | 'i64' | 'u64';

export type FrameNode =
  | { t: 'nil' }
  | { t: 'bool'; v: boolean }
  /** `json`: verbatim JSON spelling (`1e400`, `-0`, `1.0`, `NaN`); MessagePack ignores it. */
  | { t: 'num'; v: number; width?: NumberWidth; json?: string }
  | { t: 'bigint'; v: bigint }
  /** `json`: verbatim JSON spelling, quotes included; `mp`: a wider string header than needed. */
  | { t: 'str'; v: string; json?: string; mp?: 'str8' | 'str16' | 'str32' }
  /** A string whose bytes are sent as they are (possibly not UTF-8): a MessagePack str, or between quotes in JSON. */
  | { t: 'utf8'; bytes: Uint8Array }
  /** Bytes: MessagePack bin, JSON base64 (the protocol's byte fields). */
  | { t: 'bin'; bytes: Uint8Array }
  | { t: 'arr'; items: FrameNode[] }
  | { t: 'map'; entries: FrameEntry[] }
  /** `depth` containers inside each other around `leaf`: `[[[…]]]` or `{"a":{"a":…}}`. */
  | { t: 'nest'; depth: number; container: 'arr' | 'map'; leaf: FrameNode }
  /** An array of `count` copies of `item`. */
  | { t: 'repeat'; count: number; item: FrameNode }
  /** A MessagePack extension value (msgpackr gives several a meaning); JSON writes `null`. */
  | { t: 'ext'; type: number; data: Uint8Array }
  /** Verbatim encoded bytes for each encoding (headers that lie about their length, say). */
  | { t: 'raw'; msgpack: Uint8Array; json: string }
  | { t: 'ref'; ref: Ref };

export type FrameEntry = readonly [key: FrameNode, value: FrameNode];

/** How the request id is written, so the oracle knows which `re` to expect back. */
export type IdForm =
  | 'int'
  | 'negative-int'
  | 'int-as-float'
  | 'int-as-int64'
  | 'string'
  | 'string-128'
  | 'string-nul'
  | 'string-lone-surrogate'
  | 'string-not-utf8'
  | 'string-129'
  | 'fraction'
  | 'unsafe-int'
  | 'nan'
  | 'bool'
  | 'nil'
  | 'array'
  | 'map'
  | 'bin';

export type Ref =
  | { kind: 'request-id'; form: IdForm }
  /** One of the connection's own conversations (it is an active member). */
  | { kind: 'own-conversation'; pick: number }
  /** A conversation that exists and the connection's user is not a member of. */
  | { kind: 'foreign-conversation'; pick: number }
  /** Another user the fuzzer knows (a fuzz peer). */
  | { kind: 'peer-user'; pick: number }
  | { kind: 'self-user' }
  /** Filler sized from the node's limits: `factor` × the limit, plus `extra` bytes. */
  | { kind: 'pad'; limit: 'frame' | 'content' | 'metadata'; factor: number; extra: number; as: 'str' | 'bin' };

export const nil: FrameNode = { t: 'nil' };
export const bool = (v: boolean): FrameNode => ({ t: 'bool', v });
export const num = (v: number, width?: NumberWidth): FrameNode => (width === undefined ? { t: 'num', v } : { t: 'num', v, width });
export const str = (v: string): FrameNode => ({ t: 'str', v });
export const bin = (bytes: Uint8Array): FrameNode => ({ t: 'bin', bytes });
export const arr = (items: FrameNode[]): FrameNode => ({ t: 'arr', items });
export const ref = (r: Ref): FrameNode => ({ t: 'ref', ref: r });

/** A map from plain string keys, in order. */
export const map = (fields: ReadonlyArray<readonly [string, FrameNode]>): FrameNode => ({
  t: 'map',
  entries: fields.map(([k, v]) => [str(k), v] as const),
});

/** The plain string a key node spells, or null for other keys. */
export const keyName = (key: FrameNode): string | null => (key.t === 'str' ? key.v : null);

/** The entries of a map node (an empty list for anything else). */
export const entriesOf = (node: FrameNode): readonly FrameEntry[] => (node.t === 'map' ? node.entries : []);

/** The value under the first entry named `name`, if any. */
export function valueOf(node: FrameNode, name: string): FrameNode | undefined {
  return entriesOf(node).find(([k]) => keyName(k) === name)?.[1];
}

/** A copy of a map with `name`'s value replaced (appended when missing). */
export function withField(node: FrameNode, name: string, value: FrameNode): FrameNode {
  const entries = entriesOf(node);
  const at = entries.findIndex(([k]) => keyName(k) === name);
  if (at < 0) return { t: 'map', entries: [...entries, [str(name), value]] };
  return { t: 'map', entries: entries.map((e, i) => (i === at ? ([e[0], value] as const) : e)) };
}

/** A copy of a map without the entries named `name`. */
export const withoutField = (node: FrameNode, name: string): FrameNode => ({
  t: 'map',
  entries: entriesOf(node).filter(([k]) => keyName(k) !== name),
});

/** A copy of a map with one more entry at `position` (0: first, so a byte-level peek meets it first). */
export function withEntryAt(node: FrameNode, position: number, entry: FrameEntry): FrameNode {
  const entries = [...entriesOf(node)];
  entries.splice(Math.max(0, Math.min(position, entries.length)), 0, entry);
  return { t: 'map', entries };
}

/** Whether a map repeats a key name at its top level (however the key is spelled on the wire). */
export function hasRepeatedKey(node: FrameNode): boolean {
  const names = entriesOf(node).map(([k]) => keyName(k)).filter((k): k is string => k !== null);
  return new Set(names).size !== names.length;
}

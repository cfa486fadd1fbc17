/**
 * Writes a frame tree as JSON text, byte for byte as the tree says: repeated keys
 * stay repeated, verbatim spellings are kept (`"\u006fp"`, `1e400`, `NaN`), and
 * `utf8` strings put their bytes between the quotes unchecked, so a text frame can
 * carry invalid UTF-8. Huge nesting is written iteratively (no recursion per level).
 */
import type { FrameNode, Ref } from './frame-node.ts';

export type Resolver = (ref: Ref) => FrameNode;

export function encodeJson(node: FrameNode, resolve: Resolver): Buffer {
  const parts: Array<string | Uint8Array> = [];
  write(node, resolve, parts);
  // Runs of text become one buffer each: most frames are all text, and one conversion is far cheaper than hundreds.
  const buffers: Uint8Array[] = [];
  let text = '';
  for (const part of parts) {
    if (typeof part === 'string') text += part;
    else {
      buffers.push(Buffer.from(text, 'utf8'), part);
      text = '';
    }
  }
  if (buffers.length === 0) return Buffer.from(text, 'utf8');
  buffers.push(Buffer.from(text, 'utf8'));
  return Buffer.concat(buffers);
}

function numberText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  // JSON has no infinities; a literal past float64's range parses to one.
  if (v === Infinity) return '1e400';
  if (v === -Infinity) return '-1e400';
  return Object.is(v, -0) ? '-0' : String(v);
}

/** `count` copies of `item` joined by commas, as one buffer. */
function repeated(item: Buffer, count: number): Buffer {
  const out = Buffer.alloc(count * (item.length + 1) - 1, ',');
  for (let i = 0; i < count; i++) item.copy(out, i * (item.length + 1));
  return out;
}

function write(node: FrameNode, resolve: Resolver, out: Array<string | Uint8Array>): void {
  switch (node.t) {
    case 'nil':
    case 'ext':
      out.push('null');
      return;
    case 'bool':
      out.push(node.v ? 'true' : 'false');
      return;
    case 'num':
      out.push(node.json ?? numberText(node.v));
      return;
    case 'bigint':
      out.push(node.v.toString());
      return;
    case 'str':
      out.push(node.json ?? JSON.stringify(node.v));
      return;
    case 'utf8':
      out.push('"', node.bytes, '"');
      return;
    case 'bin':
      out.push(`"${Buffer.from(node.bytes).toString('base64')}"`);
      return;
    case 'arr':
      out.push('[');
      node.items.forEach((item, i) => {
        if (i > 0) out.push(',');
        write(item, resolve, out);
      });
      out.push(']');
      return;
    case 'map':
      out.push('{');
      node.entries.forEach(([key, value], i) => {
        if (i > 0) out.push(',');
        // JSON keys are strings: a non-string key is written as the string of its text.
        if (key.t === 'str' || key.t === 'utf8') write(key, resolve, out);
        else out.push(JSON.stringify(encodeJson(key, resolve).toString('utf8')));
        out.push(':');
        write(value, resolve, out);
      });
      out.push('}');
      return;
    case 'nest': {
      const [open, close] = node.container === 'arr' ? ['[', ']'] : ['{"a":', '}'];
      out.push(open.repeat(node.depth));
      write(node.leaf, resolve, out);
      out.push(close.repeat(node.depth));
      return;
    }
    case 'repeat': {
      if (node.count === 0) {
        out.push('[]');
        return;
      }
      out.push('[', repeated(encodeJson(node.item, resolve), node.count), ']');
      return;
    }
    case 'raw':
      out.push(node.json);
      return;
    case 'ref':
      write(resolve(node.ref), resolve, out);
      return;
  }
}

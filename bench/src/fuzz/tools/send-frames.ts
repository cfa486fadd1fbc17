/**
 * Replays frames against a running node and prints everything it answers, to
 * check a violation the fuzzer reported (or its fix) by hand:
 *
 *   pnpm exec tsx bench/src/fuzz/tools/send-frames.ts --url ws://127.0.0.1:8080/ws --jwt-secret dev-secret \
 *     --text '{"id":1,"op":"ping","op":"conv.group"}' --hex 81a26f70a470696e67
 *
 * Frames go out pipelined on one connection (`--enc json|msgpack` for its events):
 * every --text, then every --text-hex (a text frame given as hex, for bytes that
 * are not UTF-8), every --hex, every --hex-file (hex in a file, for big frames);
 * then it waits `--wait` ms. In a frame, `{own}` becomes a direct
 * conversation of the sender, `{foreign}` one it is not a member of, `{peer}`
 * the other user of `{own}`. Hex frames are binary (MessagePack), text frames text.
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { BenchSocket } from '../../wire/bench-socket.ts';
import { mintToken } from '../../wire/tokens.ts';
import { decodeServerFrame } from '../oracle/server-frames.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:8080/ws' },
    'jwt-secret': { type: 'string', default: 'dev-secret' },
    enc: { type: 'string', default: 'json' },
    text: { type: 'string', multiple: true, default: [] },
    hex: { type: 'string', multiple: true, default: [] },
    'text-hex': { type: 'string', multiple: true, default: [] },
    'hex-file': { type: 'string', multiple: true, default: [] },
    wait: { type: 'string', default: '2000' },
  },
});

async function setUp(url: string, secret: string): Promise<{ token: string; own: string; foreign: string; peer: string }> {
  const [me, peer, a, b] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const connect = async (id: string): Promise<BenchSocket> => BenchSocket.connect({ url, token: await mintToken(id, secret) });
  const [meSocket, aSocket] = await Promise.all([connect(me), connect(a)]);
  const conversationOf = (reply: Record<string, unknown>): string => (reply['conversation'] as { id: string }).id;
  const own = conversationOf(await meSocket.call('conv.direct', { user_id: peer }));
  const foreign = conversationOf(await aSocket.call('conv.direct', { user_id: b }));
  await Promise.all([meSocket.close(), aSocket.close()]);
  return { token: await mintToken(me, secret), own, foreign, peer };
}

async function main(): Promise<void> {
  const url = values.url;
  const { token, own, foreign, peer } = await setUp(url, values['jwt-secret']);
  const fill = (text: string): string => text.replaceAll('{own}', own).replaceAll('{foreign}', foreign).replaceAll('{peer}', peer);
  // Hex frames may name the placeholders too, as the hex of their text: replace in the decoded bytes.
  const fromHex = (hex: string, binary: boolean): { binary: boolean; bytes: Buffer } => ({ binary, bytes: Buffer.from(fill(Buffer.from(hex.trim(), 'hex').toString('latin1')), 'latin1') });
  const frames = [
    ...values.text.map((t) => ({ binary: false, bytes: Buffer.from(fill(t), 'utf8') })),
    ...values['text-hex'].map((h) => fromHex(h, false)),
    ...values.hex.map((h) => fromHex(h, true)),
    ...values['hex-file'].map((file) => fromHex(readFileSync(file, 'utf8'), true)),
  ];
  const ws = new WebSocket(`${url}?enc=${values.enc}`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  ws.binaryType = 'nodebuffer';
  const started = Date.now();
  const stamp = (): string => `+${String(Date.now() - started).padStart(5)} ms`;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    let shown: string;
    try {
      shown = JSON.stringify(decodeServerFrame(data, isBinary));
    } catch {
      shown = `(undecodable) ${data.toString('hex')}`;
    }
    process.stdout.write(`${stamp()} ← ${isBinary ? 'binary' : 'text'} ${shown.slice(0, 2000)}\n`);
    if (shown.includes('"ev":"hello"')) {
      for (const frame of frames) {
        const shownFrame = frame.binary ? frame.bytes.toString('hex') : frame.bytes.toString('utf8');
        process.stdout.write(`${stamp()} → ${frame.binary ? 'binary' : 'text'} ${frame.bytes.length} bytes ${shownFrame.slice(0, 300)}\n`);
        ws.send(frame.bytes, { binary: frame.binary });
      }
    }
  });
  ws.on('close', (code, reason) => process.stdout.write(`${stamp()} closed ${code} ${reason.toString()}\n`));
  ws.on('error', (err) => process.stdout.write(`${stamp()} error ${err.message}\n`));
  await new Promise((resolve) => setTimeout(resolve, Number(values.wait)));
  if (ws.readyState === WebSocket.OPEN) ws.close(1000);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

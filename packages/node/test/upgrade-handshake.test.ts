import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import t from 'tap';
import { startTestNode } from './helpers/test-node.ts';

/** Resolves with what the server sent until `hello` (a WebSocket frame after the 101) arrived, or the server ended the connection. */
function handshake(port: number, token: string, connectionHeader: string): Promise<{ upgraded: boolean; frame: boolean; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const done = (ended: boolean): void => {
      const headEnd = received.indexOf('\r\n\r\n');
      socket.destroy();
      resolve({ upgraded: received.subarray(0, 12).toString() === 'HTTP/1.1 101', frame: headEnd > 0 && received.length > headEnd + 4, ended });
    };
    socket.setTimeout(10_000, () => reject(new Error('no answer within 10 s')));
    socket.on('connect', () =>
      socket.write(
        `GET /ws?enc=json&token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: ${connectionHeader}\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd > 0 && received.length > headEnd + 4) done(false);
    });
    socket.on('end', () => done(true));
    socket.on('error', reject);
  });
}

// Regression: the upgrade used to be completed after the token check, corked from
// outside uWebSockets.js's callback; this build then read the HTTP response state
// from memory the new WebSocket had taken over and could close the socket right
// after the 101 (clients saw 1006 before hello, ~5 % of connects at start-up). A
// request saying `Connection: close` made it close every time, which is what this
// test sends; the upgrade is now answered inside the upgrade callback.
t.test('an accepted upgrade always gets its hello, even when the request says Connection: close', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const port = Number(new URL(n.node.wsUrl).port);
  for (const header of ['Upgrade', 'close', 'Upgrade, close']) {
    const results = await Promise.all(Array.from({ length: 20 }, async () => handshake(port, await n.token(randomUUID()), header)));
    t.equal(results.filter((r) => r.upgraded && r.frame).length, 20, `Connection: ${header}: 20 of 20 got 101 and then hello`);
  }
});

t.test('a refused token gets 401 with its reason, and no WebSocket', async (t) => {
  const n = await startTestNode(t, { workers: 1 });
  const port = Number(new URL(n.node.wsUrl).port);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('connect', () =>
      socket.write(`GET /ws?token=not-a-token HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`),
    );
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('unauthorized')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
  });
  t.match(answer, /^HTTP\/1\.1 401 Unauthorized/, '401');
  t.match(answer, /unauthorized: malformed/, 'the reason in the body');
});

/**
 * Opening the WebSocket: URL, credentials and encoding (PROTOCOL.md §2).
 * Node 20 has no stable global WebSocket, so the `ws` package is the default.
 */
import WebSocket from 'ws';
import type { Encoding } from '@whispr/protocol';

export type WebSocketConstructor = typeof WebSocket;

export interface SocketOptions {
  /** ws://host:port/ws (or wss://). Existing query parameters are kept. */
  url: string;
  token: string;
  encoding: Encoding;
  /** The Authorization header is the default: query strings end up in access logs. */
  tokenIn: 'header' | 'query';
  WebSocketImpl?: WebSocketConstructor | undefined;
}

export function socketUrl(options: Pick<SocketOptions, 'url' | 'token' | 'encoding' | 'tokenIn'>): string {
  const url = new URL(options.url);
  url.searchParams.set('enc', options.encoding);
  if (options.tokenIn === 'query') url.searchParams.set('token', options.token);
  return url.toString();
}

export function openSocket(options: SocketOptions): WebSocket {
  const Impl = options.WebSocketImpl ?? WebSocket;
  const headers: Record<string, string> =
    options.tokenIn === 'header' ? { authorization: `Bearer ${options.token}` } : {};
  // perMessageDeflate off: the server does not negotiate it and it costs CPU on small frames.
  return new Impl(socketUrl(options), { headers, perMessageDeflate: false });
}

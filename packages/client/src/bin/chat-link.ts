/**
 * The chat's connection, kept up: when the server closes it (node restart 1001,
 * slow reader 4008, token expiry 4001, a dropped network) the link reconnects
 * with backoff and lets the session catch up with sync before commands resume.
 */
import type { Encoding } from '@whispr/protocol';
import { WhisprClient } from '../client.ts';
import { WhisprUpgradeError } from '../errors.ts';
import type { CloseInfo } from '../events.ts';
import { mintDevToken } from '../token.ts';

export interface ChatLinkOptions {
  url: string;
  encoding: Encoding;
  userId: string;
  secret: string;
  /** Attaches event handlers; runs synchronously before any event of the new connection is delivered. */
  attach: (client: WhisprClient) => void;
  /** Runs after every reconnect, before commands use the new connection (catch-up). */
  resume: (client: WhisprClient) => Promise<void>;
  status: (line: string) => void;
  /** Reconnecting failed for good. */
  giveUp: (err: Error) => void;
}

const MAX_ATTEMPTS = 30;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class ChatLink {
  private connection: Promise<WhisprClient> | undefined;
  private closing = false;
  /** While set, closes are the reconnect loop's business (it retries), not a new outage. */
  private reconnecting = false;

  constructor(private readonly options: ChatLinkOptions) {}

  /** The first connection; rejects (no retry) when the node cannot be reached or refuses the token. */
  start(): Promise<WhisprClient> {
    this.connection = this.open();
    return this.connection;
  }

  /** The connection to use now; waits while a reconnect is under way. */
  client(): Promise<WhisprClient> {
    if (this.connection === undefined) return Promise.reject(new Error('not started'));
    return this.connection;
  }

  async close(): Promise<void> {
    this.closing = true;
    const client = await this.connection?.catch(() => undefined);
    if (client?.isOpen) await client.close(1000, 'bye');
  }

  private async open(): Promise<WhisprClient> {
    // A fresh token each time: the previous one may be what expired (close 4001).
    const token = await mintDevToken({ userId: this.options.userId, secret: this.options.secret });
    const client = await WhisprClient.connect({ url: this.options.url, token, encoding: this.options.encoding });
    this.options.attach(client);
    client.on('close', (info) => this.onClose(info));
    return client;
  }

  private onClose(info: CloseInfo): void {
    if (this.closing || this.reconnecting) return;
    this.options.status(`! connection closed (${info.code}${info.reason ? ` ${info.reason}` : ''}), reconnecting…`);
    const reconnecting = this.reconnect();
    this.connection = reconnecting;
    reconnecting.catch((err: unknown) => this.options.giveUp(err instanceof Error ? err : new Error(String(err))));
  }

  private async reconnect(): Promise<WhisprClient> {
    this.reconnecting = true;
    try {
      let lastError: unknown;
      for (let attempt = 0; attempt < MAX_ATTEMPTS && !this.closing; attempt++) {
        await sleep(Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt));
        let client: WhisprClient | undefined;
        try {
          client = await this.open();
          await this.options.resume(client);
          this.options.status('! reconnected');
          return client;
        } catch (err) {
          // A refused token will not get better by retrying.
          if (err instanceof WhisprUpgradeError) throw err;
          lastError = err;
          if (client?.isOpen) await client.close(1000, 'retrying').catch(() => undefined);
        }
      }
      throw new Error(this.closing ? 'closed while reconnecting' : `could not reconnect after ${MAX_ATTEMPTS} attempts`, {
        cause: lastError,
      });
    } finally {
      this.reconnecting = false;
    }
  }
}

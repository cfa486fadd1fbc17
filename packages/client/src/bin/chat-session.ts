/**
 * The terminal chat's state and behaviour: which conversation is current, what
 * has been shown (deduplicated through a SyncTracker), read receipts for what
 * was shown, and one handler per command.
 */
import type { Conversation, ConversationSummary, Message } from '@whispr/protocol';
import type { WhisprClient } from '../client.ts';
import { WhisprRequestError } from '../errors.ts';
import { SyncTracker } from '../sync-tracker.ts';
import { userIdFromName } from '../token.ts';
import type { ChatArgs } from './chat-args.ts';
import { CHAT_HELP, parseChatLine, type ChatCommand } from './chat-commands.ts';
import { ChatLink } from './chat-link.ts';
import { conversationLabel, formatListEntry, formatMessage } from './chat-view.ts';

export interface ChatSessionOptions extends Omit<ChatArgs, 'secret'> {
  /** The HS256 secret the session's tokens are signed with. */
  secret: string;
  print: (line: string) => void;
  /** The connection is gone for good. */
  fatal: (err: Error) => void;
}

const HISTORY_PAGE = 20;
/** Receipts are batched briefly: a burst of messages costs one receipt.read, not one each. */
const READ_FLUSH_MS = 50;
/** Startup lists at most this many conversations (pages of 100) before catching up. */
const STARTUP_CONVERSATIONS_MAX = 1000;

export class ChatSession {
  private readonly selfId: string;
  private readonly link: ChatLink;
  private readonly tracker = new SyncTracker();
  private readonly names = new Map<string, string>();
  private readonly conversations = new Map<string, Conversation>();
  private current: string | undefined;
  /** Conversation ids in the order of the last /list, for /switch. */
  private listing: string[] = [];
  private readonly shownUpTo = new Map<string, number>();
  private readonly readSent = new Map<string, number>();
  private readFlush: NodeJS.Timeout | undefined;
  /** Set by quit(): the last receipts are being sent and the connection is closing. */
  private quitting = false;

  constructor(private readonly options: ChatSessionOptions) {
    this.selfId = userIdFromName(options.name);
    this.names.set(this.selfId, options.name);
    this.link = new ChatLink({
      url: options.url,
      encoding: options.encoding,
      userId: this.selfId,
      secret: options.secret,
      attach: (client) => this.attach(client),
      resume: (client) => this.catchUp(client),
      status: (line) => this.print(line),
      giveUp: (err) => options.fatal(err),
    });
  }

  /** Connects, lists conversations and shows what is unread. */
  async start(): Promise<void> {
    const client = await this.link.start();
    this.print(`connected as ${this.options.name} (${this.selfId}) to ${client.hello.node}`);
    const summaries = await this.listAll(client);
    for (const { conversation, unread_count } of summaries) {
      // Everything older than the unread ones counts as seen: startup shows what is new, not all history.
      this.tracker.seed(conversation.id, Math.max(0, conversation.last_seq - unread_count));
    }
    this.listing = summaries.map((summary) => summary.conversation.id);
    this.current = this.listing[0];
    await this.catchUp(client);
    if (this.current !== undefined) this.print(`-- current: ${this.label(this.current)} (/list to see all, /help for commands)`);
    else this.print('-- no conversations yet: /direct <name> or /group <title> <names…> (/help for commands)');
  }

  /** Runs one input line. Resolves false when the session should end. */
  async handleLine(line: string): Promise<boolean> {
    const command = parseChatLine(line);
    try {
      return await this.run(command);
    } catch (err) {
      this.print(`! ${describeError(err)}`);
      return true;
    }
  }

  async quit(): Promise<void> {
    this.quitting = true;
    await this.flushReads().catch(() => undefined);
    await this.link.close();
  }

  private async run(command: ChatCommand): Promise<boolean> {
    switch (command.kind) {
      case 'empty':
        return true;
      case 'quit':
        return false;
      case 'help':
        this.print(CHAT_HELP);
        return true;
      case 'invalid':
        this.print(`! ${command.problem}`);
        return true;
      case 'send':
        await this.send(command.text);
        return true;
      case 'direct':
        await this.openDirect(command.name);
        return true;
      case 'group':
        await this.openGroup(command.title, command.members);
        return true;
      case 'list':
        await this.list();
        return true;
      case 'switch':
        this.switchTo(command.index);
        return true;
      case 'history':
        await this.history();
        return true;
    }
  }

  private async send(text: string): Promise<void> {
    if (this.current === undefined) {
      this.print('! no current conversation: /direct <name> or /group <title> <names…> first');
      return;
    }
    const client = await this.link.client();
    // The message shows up through its msg.new echo, in the same order as everyone else sees it.
    await client.send(this.current, { content: text });
  }

  private async openDirect(name: string): Promise<void> {
    const userId = userIdFromName(name);
    if (userId === this.selfId) {
      this.print('! that is you; a direct conversation needs someone else');
      return;
    }
    this.names.set(userId, name);
    const client = await this.link.client();
    const { conversation } = await client.direct(userId);
    this.enter(conversation);
  }

  private async openGroup(title: string, members: string[]): Promise<void> {
    const userIds = members.map((name) => {
      const userId = userIdFromName(name);
      this.names.set(userId, name);
      return userId;
    });
    const client = await this.link.client();
    const { conversation } = await client.group(
      userIds.filter((id) => id !== this.selfId),
      { name: title },
    );
    this.enter(conversation);
  }

  private enter(conversation: Conversation): void {
    this.remember(conversation);
    // Opening an existing conversation does not replay its past: /history does.
    if (!this.tracker.tracks(conversation.id)) this.tracker.seed(conversation.id, conversation.last_seq);
    this.current = conversation.id;
    const count = conversation.last_seq > 0 ? ` (${conversation.last_seq} messages, /history to see the last ones)` : '';
    this.print(`-- now in ${this.label(conversation.id)}${count}`);
  }

  private async list(): Promise<void> {
    // Unread counts should not include what is already on screen.
    await this.flushReads();
    const client = await this.link.client();
    const { conversations } = await client.list({ limit: 100 });
    this.listing = conversations.map((summary) => {
      this.remember(summary.conversation);
      return summary.conversation.id;
    });
    if (conversations.length === 0) this.print('-- no conversations yet');
    conversations.forEach((summary, i) => {
      const id = summary.conversation.id;
      this.print(formatListEntry(i + 1, this.label(id), summary.unread_count, id === this.current));
    });
  }

  private switchTo(index: number): void {
    const id = this.listing[index - 1];
    if (id === undefined) {
      this.print(`! no conversation ${index} in the last /list`);
      return;
    }
    this.current = id;
    this.print(`-- now in ${this.label(id)}`);
  }

  private async history(): Promise<void> {
    if (this.current === undefined) {
      this.print('! no current conversation');
      return;
    }
    const client = await this.link.client();
    const { messages, has_more } = await client.history(this.current, { limit: HISTORY_PAGE });
    if (has_more) this.print('-- (older messages not shown)');
    if (messages.length === 0) this.print('-- no messages yet');
    for (const message of messages) {
      this.tracker.observe(message);
      this.show(message);
    }
  }

  private attach(client: WhisprClient): void {
    client.on('msg.new', ({ message }) => {
      if (this.tracker.observe(message)) this.show(message);
    });
    client.on('conv.updated', ({ conversation }) => {
      const isNew = !this.conversations.has(conversation.id);
      this.remember(conversation);
      if (!isNew) return;
      this.print(`-- you are in a new conversation: ${this.label(conversation.id)}`);
      // With nowhere to type into yet, the first conversation that shows up is the obvious one.
      if (this.current === undefined) this.enter(conversation);
    });
    client.on('receipt', (receipt) => {
      if (receipt.kind !== 'read' || receipt.user_id === this.selfId || receipt.conversation_id !== this.current) return;
      this.print(`   (${this.nameOf(receipt.user_id)} has read up to #${receipt.up_to_seq})`);
    });
    client.on('error', (err) => this.print(`! ${err.message}`));
  }

  /** Fetches what arrived while this client was away and shows it. */
  private async catchUp(client: WhisprClient): Promise<void> {
    const missed = await this.tracker.catchUp(client);
    for (const message of missed) this.show(message);
  }

  private async listAll(client: WhisprClient): Promise<ConversationSummary[]> {
    const all: ConversationSummary[] = [];
    let before: number | null = null;
    do {
      const page = await client.list({ limit: 100, before });
      for (const summary of page.conversations) this.remember(summary.conversation);
      all.push(...page.conversations);
      before = page.next;
    } while (before !== null && all.length < STARTUP_CONVERSATIONS_MAX);
    return all;
  }

  private show(message: Message): void {
    const here = message.conversation_id === this.current;
    this.print(formatMessage(message, this.names, here ? null : this.label(message.conversation_id)));
    this.noteShown(message.conversation_id, message.seq);
  }

  /** Records that the user has seen up to seq, so a receipt.read goes out for it. */
  private noteShown(conversationId: string, seq: number): void {
    if (seq <= (this.shownUpTo.get(conversationId) ?? 0)) return;
    this.shownUpTo.set(conversationId, seq);
    if (this.quitting) return;
    this.readFlush ??= setTimeout(() => {
      this.flushReads().catch((err: unknown) => this.print(`! read receipt: ${describeError(err)}`));
    }, READ_FLUSH_MS);
  }

  private async flushReads(): Promise<void> {
    if (this.readFlush !== undefined) clearTimeout(this.readFlush);
    this.readFlush = undefined;
    const due = [...this.shownUpTo].filter(([id, seq]) => seq > (this.readSent.get(id) ?? 0));
    if (due.length === 0) return;
    const client = await this.link.client();
    await Promise.all(
      due.map(async ([id, seq]) => {
        await client.markRead(id, seq);
        this.readSent.set(id, Math.max(seq, this.readSent.get(id) ?? 0));
      }),
    );
  }

  private remember(conversation: Conversation): void {
    this.conversations.set(conversation.id, conversation);
  }

  private label(conversationId: string): string {
    const conversation = this.conversations.get(conversationId);
    return conversation ? conversationLabel(conversation, this.selfId, this.names) : `#${conversationId.slice(0, 8)}`;
  }

  private nameOf(userId: string): string {
    return this.names.get(userId) ?? userId.slice(0, 8);
  }

  private print(line: string): void {
    this.options.print(line);
  }
}

function describeError(err: unknown): string {
  if (err instanceof WhisprRequestError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * A bounded memory of ids of messages that belong to this actor's conversation,
 * so that msg.send's reply_to_id is checked without a PostgreSQL round trip
 * when it names a recent message (the common case: replying to what is on the
 * screen). Filled by sends the actor committed and by reads it served; an id it
 * does not know is looked up (ConversationActor.checkReplyTarget) and then
 * remembered. Only ids read back for THIS conversation go in, so a message of
 * another conversation is never found here.
 *
 * 128 ids, the oldest forgotten first: like RecentSends, every entry outlives
 * several young-generation collections, so a long memory per actor costs every
 * scavenge; a reply to anything older costs one indexed look-up.
 */
export class KnownMessages {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 128) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
  }

  addAll(ids: Iterable<string>): void {
    for (const id of ids) this.add(id);
  }

  /** Forgets everything (the conversation was loaded again: trust nothing from before). */
  clear(): void {
    this.ids.clear();
  }

  get size(): number {
    return this.ids.size;
  }
}

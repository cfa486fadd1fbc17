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
  /**
   * The same ids in arrival order, as a ring: the oldest is found at `next`
   * without iterating the Set, whose deleted entries stay in its table until it
   * is rebuilt (taking "the first" of a Set that keeps deleting its oldest
   * walks over all of them: that cost showed in every send's profile).
   */
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(private readonly capacity = 128) {
    this.ring = new Array<string | undefined>(capacity).fill(undefined);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    const oldest = this.ring[this.next];
    if (oldest !== undefined) this.ids.delete(oldest);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.ids.add(id);
  }

  addAll(ids: Iterable<string>): void {
    for (const id of ids) this.add(id);
  }

  /** Forgets everything (the conversation was loaded again: trust nothing from before). */
  clear(): void {
    this.ids.clear();
    this.ring.fill(undefined);
    this.next = 0;
  }

  get size(): number {
    return this.ids.size;
  }
}

/**
 * A minimal typed event emitter. Node's EventEmitter would do, but its typing is
 * loose and it throws when 'error' has no listener; for a client whose 'error'
 * is informational (the 'close' that follows carries the consequence) that would
 * crash programs that only care about messages.
 */

type Handler<P> = (payload: P) => void;

export class TypedEmitter<Events extends object> {
  private readonly handlers = new Map<keyof Events, Set<Handler<never>>>();

  on<E extends keyof Events>(event: E, handler: Handler<Events[E]>): this {
    let set = this.handlers.get(event);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler as Handler<never>);
    return this;
  }

  off<E extends keyof Events>(event: E, handler: Handler<Events[E]>): this {
    this.handlers.get(event)?.delete(handler as Handler<never>);
    return this;
  }

  once<E extends keyof Events>(event: E, handler: Handler<Events[E]>): this {
    const wrapper: Handler<Events[E]> = (payload) => {
      this.off(event, wrapper);
      handler(payload);
    };
    return this.on(event, wrapper);
  }

  listenerCount(event: keyof Events): number {
    return this.handlers.get(event)?.size ?? 0;
  }

  /**
   * Calls every handler. A throwing handler must not stop the others nor the
   * socket's read loop, so its error is handed to `onHandlerError`.
   */
  protected emit<E extends keyof Events>(event: E, payload: Events[E], onHandlerError: (err: unknown) => void): void {
    const set = this.handlers.get(event);
    if (set === undefined) return;
    for (const handler of [...set]) {
      try {
        (handler as Handler<Events[E]>)(payload);
      } catch (err) {
        onHandlerError(err);
      }
    }
  }
}

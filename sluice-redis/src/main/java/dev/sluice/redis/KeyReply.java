package dev.sluice.redis;

/**
 * What the script answered for one key, decoded once from Lettuce's reply by
 * {@link Script#decode}: whether the operation applied (a take admitted, a refund found a
 * bucket), and per limit {@code i} the two integers {@code a(i), r(i)} with
 * {@code now - emptyAt = a(i) - r(i)/den} microseconds, where {@code emptyAt} is the bucket's
 * empty instant after the operation (or, for a refused take, the one it was measured against).
 * {@link BucketMath} turns them into permits and waits. Immutable.
 */
final class KeyReply {

  /** {@link #redirect()}: the state is in the bucket of another policy the call listed. */
  static final int IN_OTHER = 3;
  /** {@link #redirect()}: the state moved to the bucket of a policy the call did not list. */
  static final int MOVED_UNKNOWN = 4;

  private final boolean applied;
  private final long[] spans;
  private final int redirect;
  private final int source;
  private final long now;
  private final byte[] raw;

  /** {@link #reservation()}: reserved; {@link #wait} is the wait, {@link #raw} the values. */
  static final int RESERVED = 5;
  /** {@link #reservation()}: not reserved, the wait ({@link #wait}) is beyond the bound. */
  static final int TOO_LONG = 6;

  /** The flag of a take that was admitted and whose lease was granted (op '5'). */
  static final int LEASED = 7;

  private int reservation;
  private long wait;
  private int split;
  private long flag;

  /**
   * A reply to a take, a look, a refund, a lease or a give-back: its raw flag (1 applied, 7
   * admitted and leased; for a look, minus the permits held by leases) and its spans.
   */
  static KeyReply of(long flag, long[] spans) {
    KeyReply r = new KeyReply(flag == 1 || flag == LEASED, spans);
    r.flag = flag;
    return r;
  }

  /** A take with a lease (op '5'): whether the lease was granted. */
  boolean leased() {
    return flag == LEASED;
  }

  /** A look: the permits held by unexpired leases on the key, in Redis. */
  long held() {
    return flag < 0 ? -flag : 0;
  }

  /** For {@link #RESERVED}: where the value written ends in {@link #raw()}, and the value before begins. */
  int split() {
    return split;
  }

  /** A reply to a reservation: {@link #RESERVED} or {@link #TOO_LONG}. */
  static KeyReply reservation(int kind, long waitMicros, long now, int split, byte[] raw,
      int limits) {
    KeyReply r = new KeyReply(kind == RESERVED, new long[2 * limits], 0, 0, now, raw);
    r.reservation = kind;
    r.wait = waitMicros;
    r.split = split;
    return r;
  }

  /** 0, or for a reservation {@link #RESERVED} or {@link #TOO_LONG}. */
  int reservation() {
    return reservation;
  }

  /** For a reservation: the wait until due, in whole microseconds (rounded up). */
  long waitMicros() {
    return wait;
  }

  /** {@code spans} holds {@code a, r} per limit and is not copied: callers pass a new array. */
  KeyReply(boolean applied, long[] spans) {
    this(applied, spans, 0, 0, 0, null);
  }

  private KeyReply(boolean applied, long[] spans, int redirect, int source, long now,
      byte[] raw) {
    this.applied = applied;
    this.spans = spans;
    this.redirect = redirect;
    this.source = source;
    this.now = now;
    this.raw = raw;
  }

  /** Nothing was decided: the key's state is elsewhere ({@link #IN_OTHER}, {@link #MOVED_UNKNOWN}). */
  static KeyReply redirect(int kind, int source, long now, byte[] raw, int limits) {
    return new KeyReply(false, new long[2 * limits], kind, source, now, raw);
  }

  /** 0 for a decision, else why there is none: {@link #IN_OTHER} or {@link #MOVED_UNKNOWN}. */
  int redirect() {
    return redirect;
  }

  /** For {@link #IN_OTHER}: which of the call's keys holds the state (1 for the first other). */
  int source() {
    return source;
  }

  /** For {@link #IN_OTHER}: the script's now, in µs, when it read {@link #raw}. */
  long now() {
    return now;
  }

  /** The other bucket's value as read ({@link #IN_OTHER}), or the tombstone ({@link #MOVED_UNKNOWN}). */
  byte[] raw() {
    return raw;
  }

  /** A take: admitted. A refund: the key existed (a missing key is full: nothing to give back). */
  boolean applied() {
    return applied;
  }

  int limits() {
    return spans.length / 2;
  }

  /** Whole microseconds from the empty instant to the script's {@code now}, rounded up. */
  long a(int limit) {
    return spans[2 * limit];
  }

  /** The numerator (below the limit's {@code den}) taken off {@link #a} to make it exact. */
  long r(int limit) {
    return spans[2 * limit + 1];
  }
}

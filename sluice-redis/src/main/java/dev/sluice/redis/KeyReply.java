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

  private final boolean applied;
  private final long[] spans;

  /** {@code spans} holds {@code a, r} per limit and is not copied: callers pass a new array. */
  KeyReply(boolean applied, long[] spans) {
    this.applied = applied;
    this.spans = spans;
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

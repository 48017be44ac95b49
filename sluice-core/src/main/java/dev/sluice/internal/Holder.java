package dev.sluice.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The state of one bucket: a single {@code long} for a one-limit policy with a whole-nanosecond
 * interval, or an immutable {@code long[]} for every other policy. 24 bytes with compressed
 * oops either way (12-byte header, a 4-byte reference, an 8-byte long).
 *
 * <h2>Retirement</h2>
 * A store that drops a bucket must first <em>retire</em> it: one compare-and-set from the exact
 * state it judged (full, or evictable) to a sentinel, {@link #RETIRED_BITS} or
 * {@link #RETIRED_MULTI}. A retired holder is final: every engine path that would write it sees
 * the sentinel instead of a state and reports it (the store then looks the key up again), so a
 * request racing with an eviction is applied to the live bucket, never to a detached one whose
 * decision would be lost. Without it, a request admitted on a holder just removed from the map
 * would be forgotten and the key's next request would get a fresh bucket: over-admission.
 *
 * <p>{@link #RETIRED_MULTI} is a unique array, compared by identity, so it cannot collide with a
 * state. {@link #RETIRED_BITS} is a {@code long} and could in principle equal a real empty
 * instant (one ticker reading in 2<sup>64</sup>); {@link #live} moves such an instant one
 * nanosecond later before it is stored, which can only delay a permit by that nanosecond.
 */
public final class Holder {

  static final VarHandle EMPTY_AT;
  static final VarHandle EMPTY_AT_PARTS;

  /** The retired state of a one-{@code long} holder (an arbitrary constant: sqrt(2)'s bits). */
  static final long RETIRED_BITS = 0x6A09_E667_F3BC_C909L;

  /** The retired state of a {@code long[]} holder, compared by identity. */
  static final long[] RETIRED_MULTI = new long[0];

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      EMPTY_AT = lookup.findVarHandle(Holder.class, "emptyAt", long.class);
      EMPTY_AT_PARTS = lookup.findVarHandle(Holder.class, "emptyAtParts", long[].class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The instant the bucket is (or was) empty, in ticker nanoseconds. */
  volatile long emptyAt;

  /** For the general engine: per limit, the empty instant's whole nanoseconds and its fraction. */
  volatile long[] emptyAtParts;

  Holder(long emptyAt) {
    this.emptyAt = emptyAt;
  }

  Holder(long[] emptyAtParts) {
    this.emptyAtParts = emptyAtParts;
  }

  /**
   * An empty instant safe to store: {@code emptyAt}, or {@code emptyAt + 1} in the one case in 2<sup>64</sup>
   * where {@code emptyAt} equals {@link #RETIRED_BITS} (one nanosecond later: conservative).
   */
  static long live(long emptyAt) {
    return emptyAt == RETIRED_BITS ? emptyAt + 1 : emptyAt;
  }
}

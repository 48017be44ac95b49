package dev.sluice.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The state of one bucket, and the {@link Engine} (so the policy) it was written under: a single
 * {@code long} ({@link LongHolder}) for a one-limit policy with a whole-nanosecond interval, or an
 * immutable {@code long[]} ({@link PartsHolder}) for every other policy. 24 bytes with compressed
 * oops either way (12-byte header, the 4-byte engine reference, an 8-byte long or a 4-byte
 * reference). The engine never changes: a bucket whose policy changes is <em>moved</em> to a
 * new holder under the new engine (see below).
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
 * <h2>Moving</h2>
 * A bucket whose policy changed is converted by one compare-and-set from the exact state it was
 * converted from to a second sentinel, {@link #MOVED_BITS} or {@link #MOVED_MULTI}; the store
 * applies the converting call to the converted holder while it is still private, then replaces
 * the holder in its map with it. A request that meets a moved
 * holder looks the key up again (and never removes the holder: its replacement is on its way),
 * so no decision is applied to the old state after the conversion read it, and no decision
 * mixes the two policies.
 *
 * <p>{@link #RETIRED_MULTI} is a unique array, compared by identity, so it cannot collide with a
 * state. {@link #RETIRED_BITS} and {@link #MOVED_BITS} are {@code long}s and could in principle equal
 * a real empty instant (two ticker readings in 2<sup>64</sup>); {@link #live} moves such an
 * instant one or two nanoseconds later before it is stored, which can only delay a permit by that nanosecond.
 */
public abstract sealed class Holder permits LongHolder, PartsHolder {

  /** The retired state of a one-{@code long} holder (an arbitrary constant: sqrt(2)'s bits). */
  static final long RETIRED_BITS = 0x6A09_E667_F3BC_C909L;

  /** The moved state of a one-{@code long} holder: the next value, so one check covers both. */
  static final long MOVED_BITS = RETIRED_BITS + 1;

  /** The retired state of a {@code long[]} holder, compared by identity. */
  static final long[] RETIRED_MULTI = new long[0];

  /** The moved state of a {@code long[]} holder, compared by identity. */
  static final long[] MOVED_MULTI = new long[0];

  /** The engine whose policy this bucket's state was written under. */
  final Engine engine;

  Holder(Engine engine) {
    this.engine = engine;
  }

  /**
   * The engine this bucket was written under.
   *
   * @return the engine
   */
  public final Engine engine() {
    return engine;
  }

  /**
   * Whether this holder was moved to a new policy's holder (its replacement is, or is about to
   * be, in the store's map).
   *
   * @return true once moved
   */
  abstract boolean moved();

  /**
   * An empty instant safe to store: {@code emptyAt}, or one or two nanoseconds later in the two
   * cases in 2<sup>64</sup> where {@code emptyAt} equals a sentinel (later: conservative).
   */
  static long live(long emptyAt) {
    return emptyAt == RETIRED_BITS ? emptyAt + 2 : emptyAt == MOVED_BITS ? emptyAt + 1 : emptyAt;
  }

  /** Whether a one-{@code long} state is a sentinel (retired or moved). */
  static boolean dead(long emptyAt) {
    return emptyAt == RETIRED_BITS || emptyAt == MOVED_BITS;
  }
}

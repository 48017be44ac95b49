package dev.sluice.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The state of one bucket: a single {@code long} for a one-limit policy with a whole-nanosecond
 * interval, or an immutable {@code long[]} for every other policy. 24 bytes with compressed
 * oops either way (12-byte header, a 4-byte reference, an 8-byte long).
 */
public final class Holder {

  static final VarHandle BITS;
  static final VarHandle MULTI;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      BITS = lookup.findVarHandle(Holder.class, "bits", long.class);
      MULTI = lookup.findVarHandle(Holder.class, "multi", long[].class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The instant the bucket is (or was) empty, in ticker nanoseconds. */
  volatile long bits;

  /** For the general engine: per limit, the empty instant's whole nanoseconds and its fraction. */
  volatile long[] multi;

  Holder(long bits) {
    this.bits = bits;
  }

  Holder(long[] multi) {
    this.multi = multi;
  }
}

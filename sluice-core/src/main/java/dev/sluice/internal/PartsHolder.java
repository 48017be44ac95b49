package dev.sluice.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bucket of the general engine: per limit, the empty instant's whole nanoseconds and its
 * fraction, in an immutable array swapped by compare-and-set.
 */
final class PartsHolder extends Holder {

  static final VarHandle EMPTY_AT_PARTS;

  static {
    try {
      EMPTY_AT_PARTS =
          MethodHandles.lookup().findVarHandle(PartsHolder.class, "emptyAtParts", long[].class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Per limit, the empty instant's whole nanoseconds and fraction numerator; or a sentinel. */
  volatile long[] emptyAtParts;

  PartsHolder(Engine engine, long[] emptyAtParts) {
    super(engine);
    this.emptyAtParts = emptyAtParts;
  }

  @Override
  boolean moved() {
    return emptyAtParts == MOVED_MULTI;
  }
}

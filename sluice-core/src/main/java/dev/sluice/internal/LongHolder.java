package dev.sluice.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** A bucket of the one-limit, whole-nanosecond engine: its empty instant in one {@code long}. */
final class LongHolder extends Holder {

  static final VarHandle EMPTY_AT;

  static {
    try {
      EMPTY_AT = MethodHandles.lookup().findVarHandle(LongHolder.class, "emptyAt", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The instant the bucket is (or was) empty, in ticker nanoseconds, or a sentinel. */
  volatile long emptyAt;

  LongHolder(Engine engine, long emptyAt) {
    super(engine);
    this.emptyAt = emptyAt;
  }

  @Override
  boolean moved() {
    return emptyAt == MOVED_BITS;
  }
}

package dev.sluice.spi;

/**
 * Thrown by a {@link RateStore} (or used to complete its future exceptionally) when it cannot
 * decide: the backend failed, did not answer within the deadline, its circuit breaker is open,
 * or the store is closed. The limiter then follows its {@link dev.sluice.FailureMode}. A store
 * that throws this has applied the request at most once, and it must never retry it: a remote
 * call that missed its deadline may still have run once on the server (its permits are then
 * taken though the caller was answered by the failure mode), but a command that may have run is
 * never sent again, so nothing is counted twice.
 */
public final class StoreUnavailableException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what failed
   * @param cause the underlying failure, or null
   */
  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Creates the exception.
   *
   * @param message what failed
   */
  public StoreUnavailableException(String message) {
    super(message);
  }
}

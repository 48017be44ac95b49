package dev.sluice.http;

import java.util.Optional;
import java.util.function.Function;

/** Helpers for the built-in resolvers. */
final class Resolvers {

  private Resolvers() {}

  /** A resolver that says what it looks for. */
  static final class Named implements KeyResolver {
    private final String description;
    private final Function<RequestView, Optional<String>> resolve;

    Named(String description, Function<RequestView, Optional<String>> resolve) {
      this.description = description;
      this.resolve = resolve;
    }

    @Override
    public Optional<String> resolve(RequestView request) {
      return resolve.apply(request);
    }

    @Override
    public String describe() {
      return description;
    }

    @Override
    public String toString() {
      return "KeyResolver[" + description + "]";
    }
  }

  /**
   * Material that is null, empty, blank or longer than {@link Keys#MAX_MATERIAL} is no key (the
   * length is checked first, so a huge material costs nothing more).
   */
  static Optional<String> present(Optional<String> material) {
    return material != null && material.isPresent()
        && material.get().length() <= Keys.MAX_MATERIAL && !material.get().isBlank()
        ? material : Optional.empty();
  }

  /** A header value a built-in resolver may take as material: at most {@link Keys#MAX_VALUE}. */
  static boolean bounded(String value) {
    return value.length() <= Keys.MAX_VALUE;
  }

  /** The token of a {@code Bearer} credential. */
  static Optional<String> bearer(String authorization) {
    if (authorization.length() <= 7 || !bounded(authorization)
        || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    int i = 7;
    while (i < authorization.length() && authorization.charAt(i) == ' ') {
      i++;
    }
    String token = authorization.substring(i);
    return token.isBlank() ? Optional.empty() : Optional.of("bearer:" + token);
  }
}

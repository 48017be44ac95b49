package dev.sluice.servlet;

import jakarta.servlet.http.HttpServletRequest;
import java.security.Principal;
import java.util.Enumeration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Says whose bucket a request draws on: request in, key material out, or empty when the request
 * carries no key (then {@link MissingKey} decides).
 *
 * <p>{@link RateLimitFilter} hashes whatever a resolver returns (SHA-256, 43 characters of
 * base64url) before the key reaches a store or a log, whatever its size or bytes. The built-in
 * resolvers prefix their material with its kind ({@code ip:}, {@code header:x-api-key:},
 * {@code bearer:}, {@code principal:}), so an API key can never collide with an address. Any
 * function is a resolver:
 *
 * <pre>{@code
 * KeyResolver tenant = request -> Optional.ofNullable(request.getHeader("X-Tenant"));
 * KeyResolver perKeyElsePerIp = KeyResolver.header("X-API-Key").orElse(KeyResolver.clientIp());
 * }</pre>
 *
 * <p>Resolvers must be thread-safe and should be cheap: they run on every limited request.
 */
@FunctionalInterface
public interface KeyResolver {

  /**
   * The key material of {@code request}.
   *
   * @param request the request
   * @return the material, or empty if the request has no key
   */
  Optional<String> resolve(HttpServletRequest request);

  /**
   * The socket peer's address; forwarding headers are ignored. Never empty.
   *
   * @return the resolver
   */
  static KeyResolver clientIp() {
    return clientIp(TrustedProxies.none());
  }

  /**
   * The client address: the socket peer, or, when the peer is one of {@code proxies}, the
   * first untrusted hop of their forwarding header walked from the right. Never empty.
   *
   * @param proxies the trusted proxies
   * @return the resolver
   */
  static KeyResolver clientIp(TrustedProxies proxies) {
    Objects.requireNonNull(proxies, "proxies");
    return request -> Optional.of("ip:" + ClientIp.of(request, proxies));
  }

  /**
   * The value of a request header, such as an API key. Empty when the header is absent, empty,
   * or repeated (a repeated key header is ambiguous: which one does the application honour?).
   *
   * @param name the header name, an RFC 9110 token
   * @return the resolver
   * @throws IllegalArgumentException if {@code name} is not a token
   */
  static KeyResolver header(String name) {
    Objects.requireNonNull(name, "name");
    if (!name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}")) {
      throw new IllegalArgumentException(
          "header name \"" + name + "\" must be 1 to 256 token characters (RFC 9110)");
    }
    String prefix = "header:" + name.toLowerCase(Locale.ROOT) + ":";
    return request -> Resolvers.single(request, name).map(v -> prefix + v);
  }

  /**
   * The token of an {@code Authorization: Bearer <token>} header (scheme case-insensitive).
   * Empty when there is no such header, another scheme, an empty token, or several
   * {@code Authorization} headers. The token is not validated: put the limiter after
   * authentication, or combine it with {@link #clientIp}, if unauthenticated tokens matter.
   *
   * @return the resolver
   */
  static KeyResolver bearerToken() {
    return request -> Resolvers.single(request, "Authorization").flatMap(Resolvers::bearer);
  }

  /**
   * The name of the authenticated principal ({@link HttpServletRequest#getUserPrincipal()}).
   * Empty for anonymous requests.
   *
   * @return the resolver
   */
  static KeyResolver principal() {
    return request -> {
      Principal p = request.getUserPrincipal();
      return p == null || p.getName() == null ? Optional.empty()
          : Optional.of("principal:" + p.getName());
    };
  }

  /**
   * This resolver, or {@code other} when this one finds no key.
   *
   * @param other the fallback
   * @return the combined resolver
   */
  default KeyResolver orElse(KeyResolver other) {
    Objects.requireNonNull(other, "other");
    return request -> {
      Optional<String> k = resolve(request);
      return k.isPresent() ? k : other.resolve(request);
    };
  }

  /**
   * Both keys together (for example an API key per client address): empty unless both are
   * present. The two materials are length-prefixed, so distinct pairs never collide.
   *
   * @param other the second resolver
   * @return the combined resolver
   */
  default KeyResolver and(KeyResolver other) {
    Objects.requireNonNull(other, "other");
    return request -> resolve(request).flatMap(a -> other.resolve(request)
        .map(b -> "and:" + a.length() + ":" + a + b));
  }
}

/** Helpers for the built-in resolvers. */
final class Resolvers {

  private Resolvers() {}

  /** The only value of a header, non-empty; empty if absent, empty or repeated. */
  static Optional<String> single(HttpServletRequest request, String name) {
    Enumeration<String> values = request.getHeaders(name);
    if (values == null || !values.hasMoreElements()) {
      return Optional.empty();
    }
    String v = values.nextElement();
    if (values.hasMoreElements() || v == null || v.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(v);
  }

  /** The token of a {@code Bearer} credential. */
  static Optional<String> bearer(String authorization) {
    if (authorization.length() <= 7 || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    int i = 7;
    while (i < authorization.length() && authorization.charAt(i) == ' ') {
      i++;
    }
    return i == authorization.length() ? Optional.empty()
        : Optional.of("bearer:" + authorization.substring(i));
  }
}

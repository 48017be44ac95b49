package dev.sluice.http;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Says whose bucket a request draws on: request in, key material out, or empty when the request
 * carries no key (then {@link MissingKey} decides). Material that is empty or blank counts as no
 * key, never as one shared bucket.
 *
 * <p>{@link HttpLimiter} hashes whatever a resolver returns (SHA-256, 43 characters of
 * base64url) before the key reaches a store or a log, whatever its bytes; material longer than
 * 65,536 characters is no key, and is not read. The built-in
 * resolvers prefix their material with its kind ({@code ip:}, {@code header:x-api-key:},
 * {@code bearer:}, {@code principal:}), so an API key can never collide with an address. Any
 * function is a resolver:
 *
 * <pre>{@code
 * KeyResolver tenant = request -> Optional.ofNullable(request.singleHeader("X-Tenant"));
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
  Optional<String> resolve(RequestView request);

  /**
   * What this resolver looks for, for the 403 problem a request without a key gets: for example
   * {@code "header X-API-Key"}. Custom resolvers may override it.
   *
   * @return a short description
   */
  default String describe() {
    return "a key";
  }

  /**
   * The socket peer's address, keyed by network (IPv4 /32, IPv6 /64); forwarding headers are
   * ignored. Never empty.
   *
   * @return the resolver
   */
  static KeyResolver clientIp() {
    return clientIp(TrustedProxies.none());
  }

  /**
   * The client address, keyed by network (IPv4 /32, IPv6 /64: a client owning a /64 has one
   * bucket, not 2<sup>64</sup>): the socket peer, or, when the peer is one of {@code proxies},
   * the first untrusted hop of their forwarding header walked from the right. Never empty.
   *
   * @param proxies the trusted proxies
   * @return the resolver
   */
  static KeyResolver clientIp(TrustedProxies proxies) {
    return clientIp(proxies, 32, 64);
  }

  /**
   * The client address as {@link #clientIp(TrustedProxies)}, keyed by the given network
   * prefixes. IPv4-mapped IPv6 addresses ({@code ::ffff:a.b.c.d}) count as IPv4.
   *
   * @param proxies the trusted proxies
   * @param ipv4PrefixBits 1 to 32 (32: one bucket per address)
   * @param ipv6PrefixBits 1 to 128 (default 64, one bucket per subnet)
   * @return the resolver
   * @throws IllegalArgumentException if a prefix is out of range
   */
  static KeyResolver clientIp(TrustedProxies proxies, int ipv4PrefixBits, int ipv6PrefixBits) {
    Objects.requireNonNull(proxies, "proxies");
    if (ipv4PrefixBits < 1 || ipv4PrefixBits > 32) {
      throw new IllegalArgumentException(
          "IPv4 prefix (/" + ipv4PrefixBits + ") must be from /1 to /32");
    }
    if (ipv6PrefixBits < 1 || ipv6PrefixBits > 128) {
      throw new IllegalArgumentException(
          "IPv6 prefix (/" + ipv6PrefixBits + ") must be from /1 to /128");
    }
    return new Resolvers.Named("the client address", request ->
        Optional.of("ip:" + ClientIp.of(request, proxies, ipv4PrefixBits, ipv6PrefixBits)));
  }

  /**
   * The value of a request header, such as an API key. Empty when the header is absent, empty,
   * blank, or repeated (a repeated key header is ambiguous: which one does the application honour?),
   * and when it is longer than 8,192 characters: no key is that long, and reading no further
   * keeps the work per request independent of the header's size.
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
    return new Resolvers.Named("header " + name, request ->
        Optional.ofNullable(request.singleHeader(name))
            .filter(v -> Resolvers.bounded(v) && !v.isBlank())
            .map(v -> prefix + v));
  }

  /**
   * The token of an {@code Authorization: Bearer <token>} header (scheme case-insensitive).
   * Empty when there is no such header, another scheme, an empty token, several
   * {@code Authorization} headers, or one longer than 8,192 characters. The token is not validated: put the limiter after
   * authentication, or combine it with {@link #clientIp}, if unauthenticated tokens matter.
   *
   * @return the resolver
   */
  static KeyResolver bearerToken() {
    return new Resolvers.Named("an Authorization: Bearer token", request ->
        Optional.ofNullable(request.singleHeader("Authorization")).flatMap(Resolvers::bearer));
  }

  /**
   * The name of the authenticated principal. Empty for anonymous requests.
   *
   * @return the resolver
   */
  static KeyResolver principal() {
    return new Resolvers.Named("an authenticated principal", request -> {
      String p = request.principal();
      return p == null || p.isBlank() ? Optional.empty() : Optional.of("principal:" + p);
    });
  }

  /**
   * This resolver, or {@code other} when this one finds no key.
   *
   * @param other the fallback
   * @return the combined resolver
   */
  default KeyResolver orElse(KeyResolver other) {
    Objects.requireNonNull(other, "other");
    return new Resolvers.Named(describe() + " or " + other.describe(), request -> {
      Optional<String> k = Resolvers.present(resolve(request));
      return k.isPresent() ? k : other.resolve(request);
    });
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
    return new Resolvers.Named(describe() + " and " + other.describe(), request ->
        Resolvers.present(resolve(request)).flatMap(a -> Resolvers.present(other.resolve(request))
            .map(b -> "and:" + a.length() + ":" + a + b)));
  }
}

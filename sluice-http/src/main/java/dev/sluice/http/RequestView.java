package dev.sluice.http;

import java.util.List;

/**
 * What the HTTP layer reads of a request, whatever the framework: a framework adapter implements
 * it over its own request type (a servlet request, a WebFlux exchange), usually as a small
 * wrapper made per request.
 *
 * <p>Implementations return what the server has already parsed and normalized: the method as
 * sent, the path decoded and normalized (so {@code /api/%2e%2e/health} cannot pass for
 * {@code /health}), header values in the order received.
 */
public interface RequestView {

  /**
   * The request method, such as {@code GET}.
   *
   * @return the method
   */
  String method();

  /**
   * The decoded, normalized path within the application, starting with {@code /}.
   *
   * @return the path
   */
  String path();

  /**
   * Every value of header {@code name} (case-insensitive), in the order received; one entry per
   * field line.
   *
   * @param name the header name
   * @return the values, empty if the header is absent
   */
  List<String> headers(String name);

  /**
   * The socket peer's address as text (an IP literal, or whatever the server reports for a
   * non-IP socket), or null if unknown.
   *
   * @return the peer address, or null
   */
  String remoteAddress();

  /**
   * The name of the authenticated principal, or null for an anonymous request.
   *
   * @return the principal's name, or null
   */
  String principal();

  /**
   * The only value of header {@code name}: null when it is absent, empty, or repeated (a
   * repeated key header is ambiguous).
   *
   * @param name the header name
   * @return the value, or null
   */
  default String singleHeader(String name) {
    List<String> values = headers(name);
    if (values.size() != 1) {
      return null;
    }
    String v = values.get(0);
    return v == null || v.isEmpty() ? null : v;
  }
}

package dev.sluice.http;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * The proxies whose forwarding header {@link KeyResolver#clientIp(TrustedProxies)} believes: a
 * list of CIDR ranges, IPv4 and IPv6, and the one header those proxies write.
 *
 * <p>Only the socket peer is known for certain. When it lies in a trusted range, the header is
 * walked from right to left (nearest hop first), skipping hops that are themselves trusted; the
 * first untrusted hop is the client. If the walk meets anything it cannot parse (garbage,
 * {@code unknown}, an obfuscated identifier), or runs out of hops, or passes
 * {@value ClientIp#MAX_HOPS} hops, the socket peer is the client. Entries left of the first
 * untrusted hop are never read, so whatever a client writes into the header itself is ignored.
 *
 * <p>Name exactly one header: if your proxies write {@code X-Forwarded-For}, a client-supplied
 * {@code Forwarded} passes through them untouched and must not be believed, and vice versa.
 *
 * <pre>{@code
 * TrustedProxies proxies = TrustedProxies.of("10.0.0.0/8", "fd00::/8")
 *     .header(TrustedProxies.Header.X_FORWARDED_FOR);
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class TrustedProxies {

  /** The forwarding header trusted proxies write. */
  public enum Header {
    /** {@code X-Forwarded-For: <client>, <proxy1>, <proxy2>} (the default). */
    X_FORWARDED_FOR("X-Forwarded-For"),
    /** {@code Forwarded: for=<client>, for=<proxy1>} (RFC 7239). */
    FORWARDED("Forwarded");

    private final String fieldName;

    Header(String fieldName) {
      this.fieldName = fieldName;
    }

    /**
     * The header field name.
     *
     * @return the name, e.g. {@code X-Forwarded-For}
     */
    public String fieldName() {
      return fieldName;
    }
  }

  private static final TrustedProxies NONE =
      new TrustedProxies(List.of(), List.of(), Header.X_FORWARDED_FOR);

  private final List<String> ranges;
  private final List<Cidr> cidrs;
  private final Header header;

  private TrustedProxies(List<String> ranges, List<Cidr> cidrs, Header header) {
    this.ranges = ranges;
    this.cidrs = cidrs;
    this.header = header;
  }

  /**
   * No trusted proxies: the client is always the socket peer.
   *
   * @return the empty list
   */
  public static TrustedProxies none() {
    return NONE;
  }

  /**
   * Trusts the given ranges, reading {@code X-Forwarded-For}.
   *
   * @param cidrs ranges such as {@code 10.0.0.0/8}, {@code 2001:db8::/32}, or single addresses
   *     ({@code 127.0.0.1} means {@code /32}, {@code ::1} means {@code /128})
   * @return the trusted proxies
   * @throws IllegalArgumentException if a range is not an IP literal with an optional prefix
   *     length within the address size
   */
  public static TrustedProxies of(String... cidrs) {
    Objects.requireNonNull(cidrs, "cidrs");
    return of(Arrays.asList(cidrs));
  }

  /**
   * Trusts the given ranges, reading {@code X-Forwarded-For}.
   *
   * @param cidrs ranges, as for {@link #of(String...)}
   * @return the trusted proxies
   * @throws IllegalArgumentException if a range is malformed
   */
  public static TrustedProxies of(Collection<String> cidrs) {
    Objects.requireNonNull(cidrs, "cidrs");
    List<String> texts = new ArrayList<>();
    List<Cidr> parsed = new ArrayList<>();
    for (String c : cidrs) {
      Objects.requireNonNull(c, "cidr");
      String t = c.strip();
      parsed.add(Cidr.parse(t));
      texts.add(t);
    }
    return new TrustedProxies(List.copyOf(texts), List.copyOf(parsed), Header.X_FORWARDED_FOR);
  }

  /**
   * These ranges, reading another header.
   *
   * @param forwardingHeader the header the trusted proxies write
   * @return new trusted proxies
   */
  public TrustedProxies header(Header forwardingHeader) {
    return new TrustedProxies(ranges, cidrs, Objects.requireNonNull(forwardingHeader, "header"));
  }

  /**
   * The header walked when the peer is trusted.
   *
   * @return the header
   */
  public Header header() {
    return header;
  }

  /**
   * The ranges, as given.
   *
   * @return the ranges
   */
  public List<String> ranges() {
    return ranges;
  }

  /**
   * Whether {@code address} lies in a trusted range. IPv4-mapped IPv6 addresses count as IPv4.
   *
   * @param address an address
   * @return true if trusted
   */
  public boolean contains(InetAddress address) {
    Objects.requireNonNull(address, "address");
    if (cidrs.isEmpty()) {
      return false;
    }
    byte[] a = address.getAddress();
    for (Cidr c : cidrs) {
      if (c.contains(a)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether no range is trusted.
   *
   * @return true if the socket peer is always the client
   */
  public boolean isEmpty() {
    return cidrs.isEmpty();
  }

  @Override
  public String toString() {
    return "TrustedProxies" + ranges + " via " + header.fieldName();
  }

  /** One range: a network address and a prefix length. */
  private static final class Cidr {
    private final byte[] network;
    private final int prefix;

    private Cidr(byte[] network, int prefix) {
      this.network = network;
      this.prefix = prefix;
    }

    static Cidr parse(String text) {
      int slash = text.indexOf('/');
      String addr = slash < 0 ? text : text.substring(0, slash);
      InetAddress a = InetAddresses.parse(addr);
      if (a == null) {
        throw new IllegalArgumentException(
            "trusted proxy range \"" + text + "\" must be an IPv4 or IPv6 literal with an optional"
                + " /prefix, e.g. 10.0.0.0/8 or 2001:db8::/32");
      }
      byte[] bytes = a.getAddress();
      int max = bytes.length * 8;
      int prefix = max;
      if (slash >= 0) {
        String p = text.substring(slash + 1);
        if (!p.matches("[0-9]{1,3}")) {
          throw new IllegalArgumentException(
              "trusted proxy range \"" + text + "\": prefix length \"" + p
                  + "\" must be a number from 0 to " + max);
        }
        prefix = Integer.parseInt(p);
        if (prefix > max) {
          throw new IllegalArgumentException(
              "trusted proxy range \"" + text + "\": prefix length " + prefix + " exceeds " + max
                  + " for an IPv" + (max == 32 ? "4" : "6") + " address");
        }
      }
      for (int bit = prefix; bit < max; bit++) {
        bytes[bit >> 3] &= (byte) ~(0x80 >>> (bit & 7));
      }
      return new Cidr(bytes, prefix);
    }

    boolean contains(byte[] a) {
      if (a.length != network.length) {
        return false;
      }
      int full = prefix >> 3;
      for (int i = 0; i < full; i++) {
        if (a[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix & 7;
      if (rest == 0) {
        return true;
      }
      int mask = (0xFF << (8 - rest)) & 0xFF;
      return (a[full] & mask) == (network[full] & mask);
    }
  }
}

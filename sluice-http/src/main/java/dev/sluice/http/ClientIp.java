package dev.sluice.http;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;

/**
 * Finds the client address: the socket peer, unless the peer is a trusted proxy; then the
 * forwarding header is walked from the right. See {@link TrustedProxies} for the rules.
 *
 * <p>The walk reads the header from its right end and stops at the first untrusted hop, or at an
 * element longer than {@value #MAX_ELEMENT} characters (malformed: the peer is used), so it reads
 * at most {@value #MAX_HOPS} elements of bounded length, whatever the header's size, and nothing a
 * client wrote to the left (an unbalanced quote, a megabyte of commas) can change the outcome.
 */
final class ClientIp {

  /** The most hops walked before giving up and using the peer. */
  static final int MAX_HOPS = 32;

  private static final int MAX_NODE = 64;

  /**
   * The longest element (between two commas) walked: longer is malformed, and the walk stops
   * there, so that it reads at most {@code MAX_HOPS x (MAX_ELEMENT + 1)} characters.
   */
  static final int MAX_ELEMENT = 1024;

  private ClientIp() {}

  /**
   * The client address of {@code request} as text (the JDK's canonical form).
   *
   * @param request the request
   * @param proxies the trusted proxies
   * @return the address
   */
  static String of(RequestView request, TrustedProxies proxies) {
    return of(request, proxies, 32, 64);
  }

  /**
   * The client address of {@code request} as text, keyed by network prefix: the first
   * {@code v4Bits} bits of an IPv4 address, the first {@code v6Bits} of an IPv6 one (the rest
   * zeroed, and {@code /bits} appended when not the whole address). IPv4-mapped IPv6 addresses
   * ({@code ::ffff:a.b.c.d}) count as IPv4.
   *
   * @param request the request
   * @param proxies the trusted proxies
   * @param v4Bits 0 to 32
   * @param v6Bits 0 to 128
   * @return the address or network
   */
  static String of(RequestView request, TrustedProxies proxies, int v4Bits, int v6Bits) {
    String peerText = request.remoteAddress();
    if (proxies.isEmpty() && v4Bits == 32 && peerText != null && peerText.indexOf(':') < 0
        && peerText.indexOf('[') < 0) {
      return peerText; // the container's text for an IPv4 peer, as is: nothing to mask
    }
    InetAddress peer = InetAddresses.parse(peerText);
    if (peer == null) {
      return String.valueOf(peerText); // not an IP socket; the container's text is all there is
    }
    InetAddress client = proxies.isEmpty() || !proxies.contains(peer)
        ? peer : walk(peer, request.headers(proxies.header().fieldName()), proxies);
    return prefix(client, v4Bits, v6Bits);
  }

  /** The network of {@code a} as text: the address itself for a whole-address prefix. */
  static String prefix(InetAddress a, int v4Bits, int v6Bits) {
    byte[] bytes = a.getAddress();
    int bits = a instanceof Inet4Address ? v4Bits : v6Bits;
    if (bits == bytes.length * 8) {
      return a.getHostAddress();
    }
    for (int i = 0; i < bytes.length; i++) {
      int keep = Math.max(0, Math.min(8, bits - 8 * i));
      bytes[i] &= (byte) (0xff00 >>> keep);
    }
    return InetAddresses.byAddress(bytes).getHostAddress() + "/" + bits;
  }

  /**
   * Walks the header field lines (in the order received) from the right.
   *
   * @param peer the socket peer, a trusted proxy
   * @param lines the field lines
   * @param proxies the trusted proxies and the header syntax
   * @return the client address: the first untrusted hop, or {@code peer}
   */
  static InetAddress walk(InetAddress peer, List<String> lines, TrustedProxies proxies) {
    long read = 0; // characters looked at, counted once on the way out (Keys#countReads)
    boolean forwarded = proxies.header() == TrustedProxies.Header.FORWARDED;
    int hops = 0;
    for (int l = lines.size() - 1; l >= 0; l--) {
      String line = lines.get(l);
      int end = line.length();
      int i = end - 1;
      boolean inQuote = false;
      while (true) {
        if (end - i > MAX_ELEMENT + 1) {
          return counted(peer, read); // longer than any address: malformed, read no further
        }
        read++;
        if (i < 0 || (!inQuote && line.charAt(i) == ',')) {
          if (inQuote || ++hops > MAX_HOPS) {
            return counted(peer, read);
          }
          InetAddress hop = forwarded ? forwardedFor(line, i + 1, end) : xffNode(line, i + 1, end);
          if (hop == null) {
            return counted(peer, read); // malformed, "unknown" or obfuscated: trust ends here
          }
          if (!proxies.contains(hop)) {
            return counted(hop, read);
          }
          if (i < 0) {
            break;
          }
          end = i;
        } else if (forwarded && line.charAt(i) == '"') {
          if (!inQuote) {
            inQuote = true;
          } else if (backslashesBefore(line, i) % 2 == 0) {
            inQuote = false;
          }
        }
        i--;
      }
    }
    return counted(peer, read); // every hop was trusted: the chain is too short to name a client
  }

  /** {@code client}, once the walk's work is counted for this thread. */
  private static InetAddress counted(InetAddress client, long read) {
    Keys.countReads(read);
    return client;
  }

  private static int backslashesBefore(String s, int i) {
    int n = 0;
    while (i - 1 - n >= 0 && s.charAt(i - 1 - n) == '\\') {
      n++;
    }
    return n;
  }

  /** One X-Forwarded-For entry: IPv4, IPv4:port, IPv6, [IPv6] or [IPv6]:port. */
  static InetAddress xffNode(String s, int from, int to) {
    while (from < to && isOws(s.charAt(from))) {
      from++;
    }
    while (to > from && isOws(s.charAt(to - 1))) {
      to--;
    }
    if (to - from > MAX_NODE || from == to) {
      return null;
    }
    return node(s.substring(from, to), false);
  }

  /** The {@code for} parameter of one Forwarded element, as an address. */
  static InetAddress forwardedFor(String s, int from, int to) {
    int i = skipOws(s, from, to);
    String forValue = null;
    while (true) {
      int nameStart = i;
      while (i < to && isTchar(s.charAt(i))) {
        i++;
      }
      if (i == nameStart || i >= to || s.charAt(i) != '=') {
        return null;
      }
      boolean isFor = i - nameStart == 3 && s.regionMatches(true, nameStart, "for", 0, 3);
      i++;
      String value;
      if (i < to && s.charAt(i) == '"') {
        StringBuilder sb = new StringBuilder();
        i++;
        while (true) {
          if (i >= to || sb.length() > MAX_NODE) {
            return null;
          }
          char c = s.charAt(i);
          if (c == '\\') {
            if (i + 1 >= to) {
              return null;
            }
            sb.append(s.charAt(i + 1));
            i += 2;
          } else if (c == '"') {
            i++;
            break;
          } else {
            sb.append(c);
            i++;
          }
        }
        value = sb.toString();
      } else {
        int valueStart = i;
        while (i < to && isTchar(s.charAt(i))) {
          i++;
        }
        if (i == valueStart) {
          return null;
        }
        value = s.substring(valueStart, i);
      }
      if (isFor) {
        if (forValue != null) {
          return null; // two "for" in one element
        }
        forValue = value;
      }
      i = skipOws(s, i, to);
      if (i >= to) {
        break;
      }
      if (s.charAt(i) != ';') {
        return null;
      }
      i = skipOws(s, i + 1, to);
    }
    return forValue == null || forValue.length() > MAX_NODE ? null : node(forValue, true);
  }

  /**
   * A node: {@code [v6]}, {@code [v6]:port}, {@code v4}, {@code v4:port}; bare {@code v6} only
   * outside Forwarded (RFC 7239 requires brackets there).
   */
  private static InetAddress node(String v, boolean forwarded) {
    if (v.isEmpty()) {
      return null;
    }
    if (v.charAt(0) == '[') {
      int close = v.indexOf(']');
      if (close < 0 || !isPortSuffix(v, close + 1, forwarded)) {
        return null;
      }
      String inner = v.substring(1, close);
      return inner.indexOf(':') < 0 ? null : InetAddresses.parse(inner);
    }
    int colon = v.indexOf(':');
    if (colon < 0) {
      return InetAddresses.parse(v);
    }
    if (v.indexOf(':', colon + 1) < 0) {
      if (!isPortSuffix(v, colon, forwarded)) {
        return null;
      }
      byte[] v4 = InetAddresses.ipv4(v, 0, colon);
      return v4 == null ? null : InetAddresses.parse(v.substring(0, colon));
    }
    return forwarded ? null : InetAddresses.parse(v);
  }

  /** Empty, or ":" then 1-5 digits (or, in Forwarded, an obfuscated port "_token"). */
  private static boolean isPortSuffix(String v, int at, boolean forwarded) {
    if (at == v.length()) {
      return true;
    }
    if (v.charAt(at) != ':' || at + 1 == v.length()) {
      return false;
    }
    String port = v.substring(at + 1);
    if (forwarded && port.charAt(0) == '_') {
      return true;
    }
    return port.length() <= 5 && port.chars().allMatch(c -> c >= '0' && c <= '9');
  }

  private static int skipOws(String s, int i, int to) {
    while (i < to && isOws(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static boolean isOws(char c) {
    return c == ' ' || c == '\t';
  }

  /** RFC 9110 tchar. */
  private static boolean isTchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      return true;
    }
    return "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}

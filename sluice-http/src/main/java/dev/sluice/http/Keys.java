package dev.sluice.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * Turns key material into the fixed-length key a store sees: SHA-256 over the UTF-16 code units
 * of the material (two bytes per {@code char}, so every string, including lone surrogates, NUL,
 * CR/LF and decoded invalid UTF-8, maps injectively to bytes), in unpadded base64url: always
 * {@value #LENGTH} characters from {@code [A-Za-z0-9_-]}, whatever the input's size.
 *
 * <p>Hashing is a pseudonym, not encryption: a short, guessable material such as an IPv4 address
 * can be found again by trying every candidate. It keeps header values and tokens, which may be
 * secrets, out of stores and logs, and keeps keys small.
 */
final class Keys {

  /** Length of every hashed key. */
  static final int LENGTH = 43;

  /**
   * The longest header value a built-in resolver takes as key material (8,192 characters, the
   * default limit of a whole request header in Jetty and Tomcat): a longer one is no key. So the
   * work on a key header does not grow with its size.
   */
  static final int MAX_VALUE = 8192;

  /**
   * The longest key material hashed (65,536 characters: built-in materials combined with
   * {@link KeyResolver#and} stay far below it): longer material, from any resolver, is no key.
   */
  static final int MAX_MATERIAL = 65_536;

  private static final int CHUNK = 1024;
  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();
  private static final ThreadLocal<Hasher> HASHER = ThreadLocal.withInitial(Hasher::new);

  private Keys() {}

  /**
   * Hashes key material.
   *
   * @param material any string
   * @return 43 characters of base64url
   */
  static String hash(String material) {
    return HASHER.get().hash(material);
  }

  /**
   * Counts {@code n} characters of request text read on this thread (key material hashed,
   * forwarding headers walked): the work {@link #reads()} reports, so that a test can show it
   * does not grow with a header's size.
   */
  static void countReads(long n) {
    HASHER.get().reads += n;
  }

  /** Characters of request text read on this thread so far (see {@link #countReads}). */
  static long reads() {
    return HASHER.get().reads;
  }

  /** One digest and one buffer per thread. */
  private static final class Hasher {
    private final MessageDigest sha256;
    private final byte[] buffer = new byte[2 * CHUNK];
    private final byte[] digest = new byte[32];
    private final byte[] text = new byte[LENGTH];
    /** Characters hashed and walked on this thread: work, counted for tests. */
    long reads;

    Hasher() {
      try {
        sha256 = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every Java platform provides SHA-256", e);
      }
    }

    String hash(String material) {
      int n = material.length();
      reads += n;
      for (int start = 0; start < n; start += CHUNK) {
        int m = Math.min(CHUNK, n - start);
        for (int j = 0; j < m; j++) {
          char c = material.charAt(start + j);
          buffer[2 * j] = (byte) (c >>> 8);
          buffer[2 * j + 1] = (byte) c;
        }
        sha256.update(buffer, 0, 2 * m);
      }
      try {
        sha256.digest(digest, 0, digest.length); // also resets
      } catch (java.security.DigestException e) {
        throw new IllegalStateException("a SHA-256 digest is 32 bytes", e);
      }
      BASE64URL.encode(digest, text);
      return new String(text, 0, LENGTH, StandardCharsets.ISO_8859_1); // one string, no copies
    }
  }
}

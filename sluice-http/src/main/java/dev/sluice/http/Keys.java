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

  /** One digest and one buffer per thread. */
  private static final class Hasher {
    private final MessageDigest sha256;
    private final byte[] buffer = new byte[2 * CHUNK];
    private final byte[] digest = new byte[32];
    private final byte[] text = new byte[LENGTH];

    Hasher() {
      try {
        sha256 = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every Java platform provides SHA-256", e);
      }
    }

    String hash(String material) {
      int n = material.length();
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

package rtpath.flink;

/** Validation of UTF-8 byte sequences as RFC 3629 defines them. */
final class Utf8 {

    private Utf8() {}

    /**
     * Returns whether {@code bytes} is well-formed UTF-8: no overlong forms, no surrogates
     * (U+D800 to U+DFFF), nothing above U+10FFFF and no truncated sequence.
     */
    static boolean isValid(byte[] bytes) {
        int i = 0;
        while (i < bytes.length) {
            int lead = bytes[i] & 0xff;
            if (lead < 0x80) {
                i++;
                continue;
            }
            int continuations;
            // The allowed range of the byte after the lead byte (RFC 3629, section 4).
            int low = 0x80;
            int high = 0xbf;
            if (lead >= 0xc2 && lead <= 0xdf) {
                continuations = 1;
            } else if (lead >= 0xe0 && lead <= 0xef) {
                continuations = 2;
                if (lead == 0xe0) {
                    low = 0xa0;
                } else if (lead == 0xed) {
                    high = 0x9f;
                }
            } else if (lead >= 0xf0 && lead <= 0xf4) {
                continuations = 3;
                if (lead == 0xf0) {
                    low = 0x90;
                } else if (lead == 0xf4) {
                    high = 0x8f;
                }
            } else {
                return false;
            }
            if (i + continuations >= bytes.length) {
                return false;
            }
            int second = bytes[i + 1] & 0xff;
            if (second < low || second > high) {
                return false;
            }
            for (int k = 2; k <= continuations; k++) {
                int next = bytes[i + k] & 0xff;
                if (next < 0x80 || next > 0xbf) {
                    return false;
                }
            }
            i += continuations + 1;
        }
        return true;
    }
}

package dev.umbra.crypto.webtty;

import dev.umbra.crypto.MalformedInputException;

/** The terminal stream a WebTTY payload belongs to; its wire name is bound into the payload AAD. */
public enum Stream {
    STDIN("stdin"),
    STDOUT("stdout"),
    STDERR("stderr");

    private final String wireName;

    Stream(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Stream fromWireName(String name) {
        for (Stream s : values()) {
            if (s.wireName.equals(name)) {
                return s;
            }
        }
        throw new MalformedInputException("unknown WebTTY stream: " + name);
    }
}

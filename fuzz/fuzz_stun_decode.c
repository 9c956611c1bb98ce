/*
 * fuzz_stun_decode: any bytes into the STUN decoder, then every typed reader
 * and both integrity checks (short-term and long-term keys) on what decoded,
 * and the 420 answer where the decoder asked for one.
 */
#include <stdint.h>
#include <string.h>

#include "stun/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_stun_msg m;
    int rc = mxrtc_stun_decode(&m, data, size);
    if (rc != MXRTC_OK && rc != MXRTC_ERR_UNKNOWN_ATTRIBUTE) return 0;
    if (rc == MXRTC_ERR_UNKNOWN_ATTRIBUTE && m.cls == MXRTC_STUN_REQUEST) {
        uint8_t out[512];
        (void)mxrtc_stun_build_unknown_attributes(&m, out, sizeof out);
    }
    mxrtc_addr a;
    uint32_t u32;
    uint64_t u64;
    const char *text;
    size_t len;
    int code;
    uint16_t list[16];
    const uint8_t *bytes;
    (void)mxrtc_stun_get_xor_addr(&m, MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &a);
    (void)mxrtc_stun_get_xor_addr(&m, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &a);
    (void)mxrtc_stun_get_xor_addr(&m, MXRTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &a);
    (void)mxrtc_stun_get_addr(&m, MXRTC_STUN_ATTR_MAPPED_ADDRESS, &a);
    (void)mxrtc_stun_get_addr(&m, MXRTC_STUN_ATTR_ALTERNATE_SERVER, &a);
    (void)mxrtc_stun_get_u32(&m, MXRTC_STUN_ATTR_PRIORITY, &u32);
    (void)mxrtc_stun_get_u32(&m, MXRTC_STUN_ATTR_LIFETIME, &u32);
    (void)mxrtc_stun_get_u64(&m, MXRTC_STUN_ATTR_ICE_CONTROLLING, &u64);
    (void)mxrtc_stun_get_text(&m, MXRTC_STUN_ATTR_USERNAME, &text, &len);
    (void)mxrtc_stun_get_text(&m, MXRTC_STUN_ATTR_REALM, &text, &len);
    (void)mxrtc_stun_get_text(&m, MXRTC_STUN_ATTR_NONCE, &text, &len);
    (void)mxrtc_stun_get_error(&m, &code, &text, &len);
    (void)mxrtc_stun_get_unknown_attributes(&m, list, 16, &len);
    (void)mxrtc_stun_get_password_algorithms(&m, list, 16, &len);
    (void)mxrtc_stun_get_channel(&m, list);
    (void)mxrtc_stun_get_data(&m, &bytes, &len);

    /* Integrity with the RFC 5769 short-term password and a long-term key. */
    mxrtc_stun_key key;
    mxrtc_stun_key_short_term(&key, "VOkJxbRl1RmTxUk/WvJxBt", 22);
    (void)mxrtc_stun_check_integrity(&m, &key);
    mxrtc_stun_key_long_term(&key, MXRTC_STUN_PASSWORD_MD5, "user", 4, "example.org", 11, "pass", 4);
    (void)mxrtc_stun_check_integrity(&m, &key);
    return 0;
}

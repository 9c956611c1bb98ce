/*
 * /voip/turnServer answers: Synapse's full answer, its `{}` when TURN is not
 * configured, missing fields, wrong types, odd URIs skipped, and the
 * refresh time before the ttl runs out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "matrix/turn_servers.h"

static int parse(mxrtc_turn_servers *s, const char *j, mxrtc_time_us now, const char **why) {
    return mxrtc_turn_servers_parse(s, j, strlen(j), now, why);
}

static void synapse_answer(void **state) {
    (void)state;
    mxrtc_turn_servers s;
    const char *j =
        "{\"username\":\"1732570000:@alice:example.org\",\"password\":\"x1Y2z3w4V5u6T7s8R9q0P1o2N3m=\","
        "\"uris\":[\"turn:turn.example.org:3478?transport=udp\",\"turn:turn.example.org:3478?transport=tcp\","
        "\"turns:turn.example.org:5349?transport=tcp\"],\"ttl\":86400}";
    assert_int_equal(parse(&s, j, 1000000, NULL), MXRTC_OK);
    assert_int_equal(s.uri_count, 3);
    assert_int_equal(s.skipped, 0);
    assert_true(s.has_credentials);
    assert_string_equal(s.credentials.username, "1732570000:@alice:example.org");
    assert_int_equal(s.credentials.expiry_unix, 1732570000);
    assert_int_equal(s.uris[0].transport, MXRTC_URI_TRANSPORT_UDP);
    assert_int_equal(s.uris[2].secure, 1);
    assert_true(mxrtc_turn_servers_has_turn(&s));
    assert_int_equal(s.ttl_s, 86400);
    /* refreshed before it expires: 80% of a day */
    assert_int_equal(s.refresh_at, 1000000 + 69120ull * 1000000);
    mxrtc_turn_servers_wipe(&s);
    assert_int_equal(s.credentials.password[0], 0);
}

static void empty_and_partial(void **state) {
    (void)state;
    mxrtc_turn_servers s;
    /* Synapse without TURN */
    assert_int_equal(parse(&s, "{}", 0, NULL), MXRTC_OK);
    assert_int_equal(s.uri_count, 0);
    assert_false(s.has_credentials);
    assert_false(mxrtc_turn_servers_has_turn(&s));
    assert_int_equal(s.refresh_at, MXRTC_TURN_SERVERS_DEFAULT_REFRESH_S * 1000000ull);
    /* URIs but no credentials: STUN usable, TURN not */
    assert_int_equal(parse(&s, "{\"uris\":[\"stun:stun.example.org\",\"turn:t.example.org\"]}", 0, NULL), MXRTC_OK);
    assert_int_equal(s.uri_count, 2);
    assert_false(mxrtc_turn_servers_has_turn(&s));
    /* credentials, no URIs */
    assert_int_equal(parse(&s, "{\"username\":\"u\",\"password\":\"p\"}", 0, NULL), MXRTC_OK);
    assert_true(s.has_credentials);
    assert_false(mxrtc_turn_servers_has_turn(&s));
    /* empty password: no credentials */
    assert_int_equal(parse(&s, "{\"username\":\"u\",\"password\":\"\",\"uris\":[\"turn:t.example.org\"]}", 0, NULL), MXRTC_OK);
    assert_false(s.has_credentials);
    /* a short ttl still refreshes before the end */
    assert_int_equal(parse(&s, "{\"ttl\":10}", 0, NULL), MXRTC_OK);
    assert_int_equal(s.refresh_at, 5 * 1000000ull);
    assert_int_equal(parse(&s, "{\"ttl\":1}", 0, NULL), MXRTC_OK);
    assert_int_equal(s.refresh_at, 1000000ull);
}

static void odd_uris_skipped(void **state) {
    (void)state;
    mxrtc_turn_servers s;
    const char *j =
        "{\"username\":\"u\",\"password\":\"p\",\"uris\":[\"http://x\",\"turn:\",\"turns:t.example.org?transport=udp\","
        "\"turn:ok.example.org\",\"turn:a\",\"turn:b\",\"turn:c\",\"turn:d\",\"turn:e\",\"turn:f\",\"turn:g\",\"turn:h\"]}";
    assert_int_equal(parse(&s, j, 0, NULL), MXRTC_OK);
    assert_int_equal(s.uri_count, MXRTC_TURN_SERVERS_MAX);
    assert_int_equal(s.skipped, 4);   /* 3 invalid/unsupported + 1 over the bound */
    assert_string_equal(s.uris[0].host, "ok.example.org");
}

static void malformed(void **state) {
    (void)state;
    struct { const char *j; int rc; const char *why; } cases[] = {
        {"", MXRTC_ERR_MALFORMED, "answer is not valid JSON"},
        {"[]", MXRTC_ERR_MALFORMED, "answer is not a JSON object"},
        {"{} x", MXRTC_ERR_MALFORMED, "trailing data after the JSON object"},
        {"{\"username\":1}", MXRTC_ERR_MALFORMED, "username is not a string"},
        {"{\"password\":[]}", MXRTC_ERR_MALFORMED, "password is not a string"},
        {"{\"uris\":\"turn:x\"}", MXRTC_ERR_MALFORMED, "uris is not an array"},
        {"{\"uris\":[1]}", MXRTC_ERR_MALFORMED, "a uri is not a string"},
        {"{\"ttl\":-1}", MXRTC_ERR_MALFORMED, "ttl is not a non-negative integer"},
        {"{\"ttl\":1.5}", MXRTC_ERR_MALFORMED, "ttl is not a non-negative integer"},
        {"{\"ttl\":\"60\"}", MXRTC_ERR_MALFORMED, "ttl is not a non-negative integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mxrtc_turn_servers s;
        const char *why = NULL;
        assert_int_equal(parse(&s, cases[i].j, 0, &why), cases[i].rc);
        assert_string_equal(why, cases[i].why);
        assert_int_equal(s.uri_count, 0);
    }
    mxrtc_turn_servers s;
    char *big = malloc(MXRTC_TURN_SERVERS_JSON_MAX + 2);
    memset(big, ' ', MXRTC_TURN_SERVERS_JSON_MAX + 1);
    big[0] = '{';
    big[MXRTC_TURN_SERVERS_JSON_MAX] = '}';
    big[MXRTC_TURN_SERVERS_JSON_MAX + 1] = 0;
    assert_int_equal(parse(&s, big, 0, NULL), MXRTC_ERR_LIMIT);
    free(big);
    assert_int_equal(mxrtc_turn_servers_parse(NULL, "{}", 2, 0, NULL), MXRTC_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(synapse_answer),
        cmocka_unit_test(empty_and_partial),
        cmocka_unit_test(odd_uris_skipped),
        cmocka_unit_test(malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

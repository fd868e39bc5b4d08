/* test_admit.c - the handshake pool: START:RATE:FULL parsing, each verdict,
 * eviction of the busiest address's oldest, the grace time, address keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ferry/admit.h"

static void
test_parse(void **state)
{
	struct ferry_admit_policy p = {0};
	static const char *bad[] = {"", ":", "10:30", "10:30:5", "0:30:60",
	    "10:101:60", "10:30:60:1", "10:30:1001", "-1:30:60", "+1:30:60",
	    "a", "10:30:60x", "10::60", "1001"};

	(void)state;
	assert_int_equal(ferry_admit_parse("10:30:60", &p), 0);
	assert_int_equal(p.start, 10);
	assert_int_equal(p.rate, 30);
	assert_int_equal(p.full, 60);
	assert_int_equal(ferry_admit_parse("5", &p), 0);
	assert_int_equal(p.start, 5);
	assert_int_equal(p.rate, 100);
	assert_int_equal(p.full, 5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.start = 7;
		assert_int_equal(ferry_admit_parse(bad[i], &p), FERRY_E_USAGE);
		assert_int_equal(p.start, 7); /* untouched */
	}
}

static void
test_defaults(void **state)
{
	struct ferry_admit_policy p = {0};
	struct ferry_admit *a = NULL;
	const struct ferry_admit_policy *q;

	(void)state;
	assert_int_equal(ferry_admit_new(&p, &a), 0);
	q = ferry_admit_policy(a);
	assert_int_equal(q->start, FERRY_ADMIT_START);
	assert_int_equal(q->rate, FERRY_ADMIT_RATE);
	assert_int_equal(q->full, FERRY_ADMIT_FULL);
	assert_int_equal(q->per_source, FERRY_ADMIT_PER_SOURCE);
	assert_int_equal(q->grace_s, FERRY_ADMIT_GRACE_S);
	ferry_admit_free(a);
	ferry_admit_free(NULL);
}

/* The attack of issue 10: one address fills the pool, another still gets in. */
static void
test_per_source_and_evict(void **state)
{
	struct ferry_admit_policy p = {
	    .start = 4, .rate = 100, .full = 6, .per_source = 4, .grace_s = 10};
	struct ferry_admit *a = NULL;
	uint64_t v, key = 1;

	(void)state;
	assert_int_equal(ferry_admit_new(&p, &a), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ferry_admit_decide(a, "10.0.0.1", 0.99, &v),
		    FERRY_ADMIT_YES);
		assert_int_equal(ferry_admit_add(a, key++, "10.0.0.1", i), 0);
	}
	assert_int_equal(ferry_admit_decide(a, "10.0.0.1", 0.99, &v),
	    FERRY_ADMIT_DROP_SOURCE);
	/* Past START, rate 100%: a second handshake from .2 is dropped early... */
	assert_int_equal(
	    ferry_admit_decide(a, "10.0.0.2", 0.0, &v), FERRY_ADMIT_YES);
	assert_int_equal(ferry_admit_add(a, key++, "10.0.0.2", 10), 0);
	assert_int_equal(ferry_admit_decide(a, "10.0.0.2", 0.99, &v),
	    FERRY_ADMIT_DROP_EARLY);
	/* ...but the first from a new address is never. */
	assert_int_equal(
	    ferry_admit_decide(a, "10.0.0.3", 0.0, &v), FERRY_ADMIT_YES);
	assert_int_equal(ferry_admit_add(a, key++, "10.0.0.3", 11), 0);
	assert_int_equal(ferry_admit_count(a, NULL), 6);
	/* Full: a new address evicts the oldest of the busiest (.1, key 1). */
	assert_int_equal(
	    ferry_admit_decide(a, "10.0.0.4", 0.0, &v), FERRY_ADMIT_EVICT);
	assert_int_equal(v, 1);
	assert_int_equal(ferry_admit_remove(a, v), 0);
	assert_int_equal(ferry_admit_remove(a, v), FERRY_E_NOENT);
	assert_int_equal(ferry_admit_add(a, key++, "10.0.0.4", 12), 0);
	/* .2 holds 1, .1 holds 3: .2 may evict (3 > 1 + 1) key 2. */
	assert_int_equal(
	    ferry_admit_decide(a, "10.0.0.2", 0.0, &v), FERRY_ADMIT_EVICT);
	assert_int_equal(v, 2);
	/* .1 itself may not (it is the busiest). */
	assert_int_equal(
	    ferry_admit_decide(a, "10.0.0.1", 0.0, &v), FERRY_ADMIT_DROP_FULL);
	assert_int_equal(v, 0);
	assert_int_equal(ferry_admit_count(a, "10.0.0.1"), 3);
	ferry_admit_free(a);
}

/* Every address holds one: a new address evicts the oldest entry. */
static void
test_evict_ties(void **state)
{
	struct ferry_admit_policy p = {.full = 3, .start = 3, .rate = 0};
	struct ferry_admit *a = NULL;
	uint64_t v;

	(void)state;
	assert_int_equal(ferry_admit_new(&p, &a), 0);
	assert_int_equal(ferry_admit_add(a, 7, "b", 5), 0);
	assert_int_equal(ferry_admit_add(a, 8, "a", 3), 0);
	assert_int_equal(ferry_admit_add(a, 9, "c", 4), 0);
	assert_int_equal(ferry_admit_add(a, 10, "d", 6), FERRY_E_BUSY);
	assert_int_equal(
	    ferry_admit_decide(a, "d", 0.5, &v), FERRY_ADMIT_EVICT);
	assert_int_equal(v, 8);
	/* One that holds one already may not take another's place. */
	assert_int_equal(
	    ferry_admit_decide(a, "a", 0.5, &v), FERRY_ADMIT_DROP_FULL);
	assert_int_equal(ferry_admit_add(a, 0, "e", 1), FERRY_E_INTERNAL);
	ferry_admit_free(a);
}

/* Random early drop rises from RATE at START towards 100% at FULL. */
static void
test_early_drop_rate(void **state)
{
	struct ferry_admit_policy p = {
	    .start = 2, .rate = 30, .full = 10, .per_source = 10};
	struct ferry_admit *a = NULL;
	uint64_t v;

	(void)state;
	assert_int_equal(ferry_admit_new(&p, &a), 0);
	assert_int_equal(ferry_admit_add(a, 1, "x", 0), 0);
	assert_int_equal(ferry_admit_add(a, 2, "x", 0), 0);
	assert_int_equal(
	    ferry_admit_decide(a, "x", 0.29, &v), FERRY_ADMIT_DROP_EARLY);
	assert_int_equal(ferry_admit_decide(a, "x", 0.31, &v), FERRY_ADMIT_YES);
	for (uint64_t k = 3; k <= 9; k++)
		assert_int_equal(ferry_admit_add(a, k, "x", 0), 0);
	/* 9 of 10: nearly every one dropped. */
	assert_int_equal(
	    ferry_admit_decide(a, "x", 0.9, &v), FERRY_ADMIT_DROP_EARLY);
	ferry_admit_free(a);
}

static void
test_expired(void **state)
{
	struct ferry_admit_policy p = {.grace_s = 10};
	struct ferry_admit *a = NULL;
	double next;

	(void)state;
	assert_int_equal(ferry_admit_new(&p, &a), 0);
	assert_int_equal(ferry_admit_expired(a, 100, &next), 0);
	assert_true(next < 0);
	assert_int_equal(ferry_admit_add(a, 5, "x", 100), 0);
	assert_int_equal(ferry_admit_add(a, 6, "y", 103), 0);
	assert_int_equal(ferry_admit_expired(a, 105, &next), 0);
	assert_true(next > 4.9 && next < 5.1);
	assert_int_equal(ferry_admit_expired(a, 110, &next), 5);
	assert_int_equal(ferry_admit_remove(a, 5), 0);
	assert_int_equal(ferry_admit_expired(a, 110, &next), 0);
	assert_true(next > 2.9 && next < 3.1);
	ferry_admit_free(a);
}

static void
test_host(void **state)
{
	char h[64];
	double r = ferry_admit_random();

	(void)state;
	ferry_admit_host("127.0.0.2:4433", h, sizeof(h));
	assert_string_equal(h, "127.0.0.2");
	ferry_admit_host("[::1]:4433", h, sizeof(h));
	assert_string_equal(h, "[::1]");
	ferry_admit_host("::1", h, sizeof(h));
	assert_string_equal(h, "::1");
	ferry_admit_host("10.1.2.3", h, sizeof(h));
	assert_string_equal(h, "10.1.2.3");
	assert_true(r >= 0 && r < 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_per_source_and_evict),
	    cmocka_unit_test(test_evict_ties),
	    cmocka_unit_test(test_early_drop_rate),
	    cmocka_unit_test(test_expired),
	    cmocka_unit_test(test_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
